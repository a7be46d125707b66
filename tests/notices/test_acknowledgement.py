"""Notices requiring acknowledgement, over HTTP: the flag on the draft and the revision, one outbox row
per addressed owner or resident written with the publication, an idempotent audited acknowledgement,
and the manager's counts and paged list (names and rooms, never phones)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from accounts.models import User
from audit.models import AuditEvent
from core import clock
from core.cache import Cache
from notices.models import NoticeAck
from notify import catalogue, sender
from notify.models import Notification
from tests.notices.conftest import draft, manage, publish
from wechat import WeChatClient
from wechat.fake import FakeWeChat

ACK = catalogue.BY_EVENT["notice.acknowledge"].template_id


def ack_path(world: dict[str, Any], notice_id: int) -> str:
    return f"/compounds/{world['compound']}/notices/{notice_id}/acknowledge"


async def acks(api: httpx.AsyncClient, world: dict[str, Any], notice_id: int, **query: Any) -> Any:
    response = await api.get(
        f"{manage(world)}/notices/{notice_id}/acknowledgements",
        headers=world["auth"]["committee"],
        params=query,
    )
    assert response.status_code == 200, response.text
    return response.json()


def wechat_client(fake: FakeWeChat, cache: Cache) -> WeChatClient:
    assert fake.base_url is not None
    return WeChatClient("wx0000000000000000", "fake-wechat-secret", cache, base_url=fake.base_url)


def ids(world: dict[str, Any], *roles: str) -> set[int]:
    return {world["users"][r].id for r in roles}


async def test_publishing_addresses_the_owners_and_residents_in_the_same_transaction(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice_id = await draft(api, world, requires_ack=True)
    shown = await api.get(f"{manage(world)}/notices/{notice_id}", headers=world["auth"]["committee"])
    assert shown.json()["requires_ack"] is True
    assert await Notification.filter(event="notice.acknowledge").count() == 0  # a draft tells nobody
    assert await NoticeAck.all().count() == 0
    await publish(api, world, notice_id)
    rows = await Notification.filter(event="notice.acknowledge")
    # owner and committee own units, the resident rents one; staff and officials are not addressed
    assert {r.user_id for r in rows} == ids(world, "owner", "committee", "resident")  # type: ignore[attr-defined]
    assert {r.key for r in rows} == {
        f"notice.acknowledge:notice:{notice_id}:{u}" for u in ids(world, "owner", "committee", "resident")
    }
    assert {r.page for r in rows} == {f"pages/notices/detail?id={notice_id}"}
    assert {r.data["thing1"] for r in rows} == {"停水通知"}
    assert {a.user_id for a in await NoticeAck.filter(notice_id=notice_id)} == {r.user_id for r in rows}  # type: ignore[attr-defined]

    # a revision republishes it: nobody is told twice, nobody dropped
    edited = await api.put(
        f"{manage(world)}/notices/{notice_id}",
        headers=world["auth"]["committee"],
        json={"title": "停水通知（更正）", "body_markdown": "后天 9:00 停水。"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["state"] == "live" and edited.json()["requires_ack"] is True
    assert await Notification.filter(event="notice.acknowledge").count() == 3


async def test_an_owners_only_notice_addresses_owners_and_a_plain_one_nobody(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    owners_only = await draft(api, world, requires_ack=True, audience="owners")
    await publish(api, world, owners_only)
    plain = await draft(api, world)
    await publish(api, world, plain)
    rows = await Notification.filter(event="notice.acknowledge")
    assert {r.user_id for r in rows} == ids(world, "owner", "committee")  # type: ignore[attr-defined]
    refused = await api.post(ack_path(world, plain), headers=world["auth"]["owner"])
    assert (refused.status_code, refused.json()["code"]) == (409, "ack_not_required")


async def test_only_a_compound_notice_may_ask_for_acknowledgement(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    response = await api.post(
        f"{manage(world, 'community')}/notices",
        headers=world["auth"]["community_admin"],
        json={"category": "official", "title": "通知", "body_markdown": "内容", "requires_ack": True},
    )
    assert (response.status_code, response.json()["code"]) == (400, "ack_compound_only")


async def test_acknowledging_is_idempotent_audited_and_reported(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice_id = await draft(api, world, requires_ack=True)
    await publish(api, world, notice_id)
    before = await acks(api, world, notice_id)
    assert (before["addressed"], before["acknowledged"], before["pending"]) == (3, 0, 3)

    first = await api.post(ack_path(world, notice_id), headers=world["auth"]["owner"])
    assert first.status_code == 200, first.text
    assert first.json()["first"] is True
    again = await api.post(ack_path(world, notice_id), headers=world["auth"]["owner"])
    assert again.status_code == 200 and again.json()["first"] is False
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    events = await AuditEvent.filter(action="notice.acknowledged")
    assert len(events) == 1 and events[0].subject == f"notice:{notice_id}"
    assert events[0].actor == f"user:{world['users']['owner'].id}"

    detail = await api.get(
        f"/compounds/{world['compound']}/notices/{notice_id}", headers=world["auth"]["owner"]
    )
    assert detail.json()["requires_ack"] is True and detail.json()["acknowledged_at"] is not None
    other = await api.get(
        f"/compounds/{world['compound']}/notices/{notice_id}", headers=world["auth"]["resident"]
    )
    assert other.json()["acknowledged_at"] is None

    after = await acks(api, world, notice_id)
    assert (after["addressed"], after["acknowledged"], after["pending"]) == (3, 1, 2)
    by_name = {p["name"]: p for p in after["items"]}
    assert set(by_name) == {"业主甲", "主任乙", "resident"}  # the roster's name, else the nickname
    assert by_name["业主甲"]["rooms"] == ["1号楼-101"] and by_name["业主甲"]["acknowledged_at"]
    assert by_name["resident"]["rooms"] == ["1号楼-101"]
    assert by_name["主任乙"]["rooms"] == ["1号楼-102"] and by_name["主任乙"]["acknowledged_at"] is None
    assert all(set(p) == {"name", "rooms", "acknowledged_at"} for p in after["items"])  # no phones

    done = await acks(api, world, notice_id, acknowledged="true")
    assert [p["name"] for p in done["items"]] == ["业主甲"]
    waiting = await acks(api, world, notice_id, acknowledged="false")
    assert {p["name"] for p in waiting["items"]} == {"主任乙", "resident"}
    # paged: one at a time, the cursor reaching all three once
    seen, cursor = [], None
    while True:
        page = await acks(api, world, notice_id, limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(by_name)


async def test_who_is_not_an_owner_or_resident_cannot_acknowledge(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice_id = await draft(api, world, requires_ack=True)
    await publish(api, world, notice_id)
    for role in ("property_staff", "community_admin", "grid_worker", "nobody"):
        response = await api.post(ack_path(world, notice_id), headers=world["auth"][role])
        assert (role, response.status_code) == (role, 403)
    assert (await api.post(ack_path(world, notice_id))).status_code == 401
    assert await NoticeAck.filter(acknowledged_at__not_isnull=True).count() == 0
    assert await AuditEvent.filter(action="notice.acknowledged").count() == 0
    # the owner of another compound's board cannot reach this one
    faraway = await api.post(
        f"/compounds/{world['faraway']}/notices/{notice_id}/acknowledge", headers=world["auth"]["owner"]
    )
    assert faraway.status_code == 403


async def test_a_scheduled_notice_tells_nobody_before_it_goes_live(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, cache: Cache
) -> None:
    at = clock.now() + timedelta(hours=2)
    notice_id = await draft(api, world, requires_ack=True)
    assert (await publish(api, world, notice_id, publish_at=at.isoformat()))["state"] == "scheduled"
    rows = await Notification.filter(event="notice.acknowledge")
    assert len(rows) == 3 and all(r.next_attempt_at >= at - timedelta(seconds=1) for r in rows)
    inbox = await api.get("/notify/inbox", headers=world["auth"]["owner"])
    assert inbox.json()["items"] == [] and inbox.json()["unread"] == 0
    early = await api.post(ack_path(world, notice_id), headers=world["auth"]["owner"])
    assert early.status_code == 404  # not on the board yet
    client = wechat_client(fake_wechat, cache)
    try:
        assert (await sender.relay(client)).sent == 0
    finally:
        await client.aclose()


async def test_the_owner_who_consented_gets_the_subscribe_message(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, cache: Cache
) -> None:
    consent = await api.post(
        "/notify/consents",
        headers=world["auth"]["owner"],
        json={"results": [{"template_id": ACK, "result": "accept"}]},
    )
    assert consent.status_code == 200, consent.text
    notice_id = await draft(api, world, requires_ack=True)
    await publish(api, world, notice_id)
    client = wechat_client(fake_wechat, cache)
    try:
        result = await sender.relay(client)
    finally:
        await client.aclose()
    assert (result.sent, result.no_consent) == (1, 2)
    [message] = [m for m in fake_wechat.sent_messages if m.template_id == ACK]
    owner = await User.get(id=world["users"]["owner"].id)
    assert message.openid == owner.openid
    assert message.page == f"pages/notices/detail?id={notice_id}"
    assert message.data["thing1"] == "停水通知"


async def test_a_scheduled_notice_withdrawn_before_it_goes_live_tells_nobody_ever(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, cache: Cache
) -> None:
    at = clock.now() + timedelta(hours=2)
    notice_id = await draft(api, world, requires_ack=True)
    assert (await publish(api, world, notice_id, publish_at=at.isoformat()))["state"] == "scheduled"
    assert await Notification.filter(event="notice.acknowledge").count() == 3
    withdrawn = await api.post(
        f"{manage(world)}/notices/{notice_id}/withdraw",
        headers=world["auth"]["committee"],
        json={"reason": "时间有变"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert await Notification.filter(event="notice.acknowledge").count() == 0  # the held rows are gone
    # even once its time has come, nothing is left to send
    await Notification.all().update(next_attempt_at=clock.now(), created_at=clock.now())
    client = wechat_client(fake_wechat, cache)
    try:
        assert (await sender.relay(client)).sent == 0
    finally:
        await client.aclose()
    assert [m for m in fake_wechat.sent_messages if m.template_id == ACK] == []
