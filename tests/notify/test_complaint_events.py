"""A complaint's resident is told when it is accepted, dispatched and resolved (and asked to rate)."""

# ruff: noqa: F811 (the complaint fixtures are imported by name for pytest and taken as arguments)
from __future__ import annotations

import httpx

from complaints.models import Category, Status
from notify import catalogue, sender
from notify.models import Consent, Notification, State
from notify.rules import LIMITS, Kind
from tests.complaints.conftest import World, api, fake_wechat, make_complaint, wechat, world  # noqa: F401
from wechat import WeChatClient
from wechat.fake import FakeWeChat


async def test_accepting_notifies_the_complainant_once(api: httpx.AsyncClient, world: World) -> None:
    complaint = await make_complaint(world, status=Status.SUBMITTED)
    denied = await api.post(
        f"/staff/complaints/{complaint.id}/accept", json={}, headers=world.headers("outsider")
    )
    assert denied.status_code == 403
    assert await Notification.all().count() == 0  # a refused step tells nobody
    done = await api.post(
        f"/staff/complaints/{complaint.id}/accept", json={}, headers=world.headers("property_staff")
    )
    assert done.status_code == 200, done.text
    (row,) = await Notification.all()
    assert row.user_id == world.users["resident"].id  # type: ignore[attr-defined]
    assert (row.event, row.data["phrase3"], row.page) == (
        "complaint.accepted", "已受理", f"pages/complaints/detail?id={complaint.id}",
    )  # fmt: skip


# --- dispatch, resolution and the rating request, then delivery to the fake WeChat ---------------------

PROGRESS = catalogue.BY_EVENT["complaint.accepted"].template_id
RATE = catalogue.BY_EVENT["complaint.rate"].template_id


async def consent(api: httpx.AsyncClient, world: World, who: str, template_id: str, times: int) -> None:
    for _ in range(times):  # one accept per wx.requestSubscribeMessage answer, one send each
        answer = await api.post(
            "/notify/consents", json={"results": [{"template_id": template_id, "result": "accept"}]},
            headers=world.headers(who),
        )  # fmt: skip
        assert answer.status_code == 200, answer.text


def within_wechat_limits(row: Notification) -> None:
    """Every field of the row's template is present and within what WeChat accepts for its kind."""
    template = catalogue.BY_EVENT[row.event]
    assert set(row.data) == {key for key, _, _ in template.fields}, row.data
    for key, kind, _ in template.fields:
        value = row.data[key]
        assert 0 < len(value) <= LIMITS[kind], (key, value)
        if kind is Kind.PHRASE:
            assert all("\u4e00" <= c <= "\u9fff" for c in value), (key, value)
        if kind is Kind.CHARACTER_STRING:
            assert value.isascii() and value.isprintable(), (key, value)


def message(openid: str, template_id: str, page: str | None, data: dict[str, str]) -> tuple[str, ...]:
    return (openid, template_id, page or "", *sorted(f"{k}={v}" for k, v in data.items()))


async def rows_of(complaint_id: int) -> list[Notification]:
    return await Notification.filter(key__contains=f":complaint:{complaint_id}:").order_by("id")


async def test_a_complaint_filed_for_a_resident_tells_the_resident_of_dispatch_resolution_and_asks_for_a_rating(
    api: httpx.AsyncClient,
    world: World,
    fake_wechat: FakeWeChat,
    wechat: WeChatClient,
) -> None:
    # given: a grid worker files for the resident; the resident authorised three progress messages
    # and one rating request
    await consent(api, world, "resident", PROGRESS, 3)
    await consent(api, world, "resident", RATE, 1)
    filed = await api.post(
        "/complaints",
        json={"compound_id": world.compound.id, "category": "illegal_construction", "text": "楼顶有人违章搭建彩钢棚",
              "place_kind": "unit", "unit_id": world.units[0].id, "for_user_id": world.uid("resident")},
        headers=world.headers("grid_worker"),
    )  # fmt: skip
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    assert await rows_of(cid) == []  # filing tells nobody (the filer knows)

    # when: the community accepts and dispatches (to the department of the responsibility table),
    # the department resolves, the resident rates
    steps = [("community_admin", "accept", {}), ("community_admin", "dispatch", {}),
             ("department_staff", "resolve", {"note": "已拆除"})]  # fmt: skip
    for who, action, payload in steps:
        done = await api.post(f"/staff/complaints/{cid}/{action}", json=payload, headers=world.headers(who))
        assert done.status_code == 200, (action, done.text)
    refused = await api.post(
        f"/staff/complaints/{cid}/resolve", json={}, headers=world.headers("department_staff")
    )
    assert refused.status_code == 409, refused.text  # resolved already: a refused step tells nobody
    rated = await api.post(f"/complaints/{cid}/rate", json={"rating": 5}, headers=world.headers("resident"))
    assert rated.status_code == 200, rated.text

    # then: four rows, all to the resident (not the grid worker who filed, nor staff), one per event
    rows = await rows_of(cid)
    resident = world.uid("resident")
    assert [(r.event, r.user_id, r.template_id) for r in rows] == [  # type: ignore[attr-defined]
        ("complaint.accepted", resident, PROGRESS), ("complaint.dispatched", resident, PROGRESS),
        ("complaint.resolved", resident, PROGRESS), ("complaint.rate", resident, RATE),
    ]  # fmt: skip
    assert [r.key for r in rows] == [
        f"complaint.accepted:complaint:{cid}:1:{resident}", f"complaint.dispatched:complaint:{cid}:2:{resident}",
        f"complaint.resolved:complaint:{cid}:3:{resident}", f"complaint.rate:complaint:{cid}:3:{resident}",
    ]  # fmt: skip
    for row in rows:
        within_wechat_limits(row)
    assert [r.data.get("phrase3") for r in rows] == ["已受理", "已派单", "已办结", None]
    assert {r.data["thing2"] for r in rows} == {"违法建筑（违章搭建）"}
    assert {r.data["character_string1"] for r in rows} == {str(cid)}
    assert rows[1].summary == "您的投诉（违法建筑（违章搭建））已派给职能部门处理"
    assert rows[3].page == f"pages/complaints/detail?id={cid}&rate=1"

    # and: the sender delivers each once to the resident's openid, with the row's data and page
    result = await sender.relay(wechat)
    assert (result.sent, result.no_consent, result.failed) == (4, 0, 0)
    # (a batch is sent concurrently: in any order)
    assert sorted(
        message(m.openid, m.template_id, m.page, m.data) for m in fake_wechat.sent_messages
    ) == sorted(message("openid-resident", r.template_id, r.page, r.data) for r in rows)
    assert {r.state for r in await rows_of(cid)} == {State.SENT}
    assert await Consent.filter(user_id=resident).order_by("template_id").values_list("template_id", "remaining") == [
        (PROGRESS, 0), (RATE, 0)
    ]  # fmt: skip
    again = await sender.relay(wechat)
    assert again.total() == 0 and len(fake_wechat.sent_messages) == 4


async def test_resolved_again_after_a_reopening_asks_again_and_long_names_fit(
    api: httpx.AsyncClient,
    world: World,
    fake_wechat: FakeWeChat,
    wechat: WeChatClient,
) -> None:
    # given: the county renamed the category past WeChat's 20 characters for a thing; the resident
    # authorised progress messages (plenty) but never the rating request
    long_name = "公共部位设施设备报修（含电梯门禁照明及消防设施）"
    assert len(long_name) > 20
    await Category.filter(code="repair").update(name=long_name)
    await consent(api, world, "resident", PROGRESS, 5)
    complaint = await make_complaint(world, status=Status.SUBMITTED)
    cid = complaint.id
    staff, community, resident = (world.headers(w) for w in ("property_staff", "community_admin", "resident"))

    # when: the company accepts (its own: no dispatch) and resolves; the resident reopens; the community
    # dispatches it back to the company, which resolves it again
    for headers, path, payload in [
        (staff, f"/staff/complaints/{cid}/accept", {}), (staff, f"/staff/complaints/{cid}/resolve", {}),
        (resident, f"/complaints/{cid}/reopen", {"note": "灯还是不亮"}),
    ]:  # fmt: skip
        done = await api.post(path, json=payload, headers=headers)
        assert done.status_code == 200, (path, done.text)
    before = await Notification.all().count()
    denied = await api.post(
        f"/staff/complaints/{cid}/dispatch", json={}, headers=staff
    )  # the community's step
    assert denied.status_code == 403, denied.text
    assert await Notification.all().count() == before
    for headers, path in [
        (community, f"/staff/complaints/{cid}/dispatch"),
        (staff, f"/staff/complaints/{cid}/resolve"),
    ]:
        done = await api.post(path, json={}, headers=headers)
        assert done.status_code == 200, (path, done.text)

    # then: each resolution has its own resolved and rate rows (keyed by the version it moved from)
    rows = await rows_of(cid)
    uid = world.uid("resident")
    assert [(r.event, r.key) for r in rows] == [
        ("complaint.accepted", f"complaint.accepted:complaint:{cid}:1:{uid}"),
        ("complaint.resolved", f"complaint.resolved:complaint:{cid}:2:{uid}"),
        ("complaint.rate", f"complaint.rate:complaint:{cid}:2:{uid}"),
        ("complaint.dispatched", f"complaint.dispatched:complaint:{cid}:4:{uid}"),
        ("complaint.resolved", f"complaint.resolved:complaint:{cid}:5:{uid}"),
        ("complaint.rate", f"complaint.rate:complaint:{cid}:5:{uid}"),
    ]
    assert {r.user_id for r in rows} == {uid}  # type: ignore[attr-defined]
    for row in rows:
        within_wechat_limits(row)
    assert {r.data["thing2"] for r in rows} == {long_name[:19] + "…"}
    assert (
        rows[3].summary == f"您的投诉（{long_name}）已派给物业服务企业处理"
    )  # the inbox keeps the whole name

    # and: progress messages reach WeChat; the rating requests, never authorised, stay in the inbox
    result = await sender.relay(wechat)
    assert (result.sent, result.no_consent) == (4, 2)
    assert sorted((m.template_id, m.data["phrase3"]) for m in fake_wechat.sent_messages) == [
        (PROGRESS, "已办结"), (PROGRESS, "已办结"), (PROGRESS, "已受理"), (PROGRESS, "已派单")
    ]  # fmt: skip
    assert {m.openid for m in fake_wechat.sent_messages} == {"openid-resident"}
    states = {(r.event, r.state) for r in await rows_of(cid)}
    assert ("complaint.rate", State.NO_CONSENT) in states and ("complaint.rate", State.SENT) not in states
