"""The notify routes (permissions, the inbox's pages, bad consent answers) and the in-process jobs:
the web worker's clock delivers the outbox, and a failing job is visible to supervisors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from core import clock
from notify import catalogue, sender, service
from notify.models import Consent, JobState, Notification, State
from server import jobs
from tests.matrix import API, covered, declared
from tests.notify.conftest import People
from wechat import WeChatClient
from wechat.fake import FakeWeChat

OPENING = catalogue.BY_EVENT["motion.opening"].template_id
ROUTES = [
    ("GET", "/notify/templates", None),
    ("POST", "/notify/consents", {"results": [{"template_id": OPENING, "result": "accept"}]}),
    ("GET", "/notify/inbox", None),
    ("GET", "/admin/jobs", None),
    ("GET", "/admin/jobs/notifications/failed", None),
]
READ = ("POST", "/notify/inbox/<>/read", None)  # per message: test_reading_someone_elses_message_...


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize(("who", "expected"), [(None, 401), ("alice", 200), ("supervisor", 200)])
async def test_permissions(
    api: httpx.AsyncClient, people: People, method: str, path: str, body, who, expected
) -> None:  # type: ignore[no-untyped-def]
    if path.startswith("/admin") and who == "alice":
        expected = 403
    headers = people.headers(who) if who else {}
    response = await api.request(method, path, json=body, headers=headers)
    assert response.status_code == expected, response.text
    if expected != 200:
        assert await Consent.all().count() == 0


async def test_reading_someone_elses_message_is_404_and_changes_nothing(
    api: httpx.AsyncClient, people: People
) -> None:
    await service.enqueue("notice.acknowledge", subject="notice:1", user_ids=[people.users["alice"].id],
                          params={"notice_id": 1, "title": "停水通知", "published_at": clock.now()})  # fmt: skip
    (row,) = await Notification.all()
    assert (await api.post(f"/notify/inbox/{row.id}/read")).status_code == 401
    assert (await api.post(f"/notify/inbox/{row.id}/read", headers=people.headers("bob"))).status_code == 404
    assert (await Notification.get(id=row.id)).read_at is None
    assert (await api.post(f"/notify/inbox/{row.id}/read", headers=people.headers("alice"))).json() == {
        "id": row.id,
        "read": True,
    }
    assert (await Notification.get(id=row.id)).read_at is not None
    assert (await api.get("/notify/inbox", headers=people.headers("alice"))).json()["unread"] == 0


async def test_inbox_pages(api: httpx.AsyncClient, people: People) -> None:
    for n in range(25):
        await service.enqueue("notice.acknowledge", subject=f"notice:{n}", user_ids=[people.users["alice"].id],
                              params={"notice_id": n, "title": f"公告{n}", "published_at": clock.now()})  # fmt: skip
    first = (await api.get("/notify/inbox", params={"limit": 20}, headers=people.headers("alice"))).json()
    assert len(first["items"]) == 20 and first["next_cursor"] is not None
    assert first["items"][0]["page"] == "pages/notices/detail?id=24"
    second = await api.get(
        "/notify/inbox", params={"limit": 20, "cursor": first["next_cursor"]}, headers=people.headers("alice")
    )
    assert [i["page"] for i in second.json()["items"]] == [
        f"pages/notices/detail?id={n}" for n in range(4, -1, -1)
    ]
    assert second.json()["next_cursor"] is None
    bad = await api.get("/notify/inbox", params={"cursor": "x1"}, headers=people.headers("alice"))
    assert bad.status_code == 400


async def test_an_unknown_template_is_refused_and_nothing_recorded(
    api: httpx.AsyncClient, people: People
) -> None:
    body = {
        "results": [
            {"template_id": OPENING, "result": "accept"},
            {"template_id": "someone-elses", "result": "accept"},
        ]
    }
    response = await api.post("/notify/consents", json=body, headers=people.headers("alice"))
    assert response.status_code == 400 and response.json()["code"] == "notify_template_unknown"
    assert await Consent.all().count() == 0
    four = {"results": [{"template_id": OPENING, "result": "accept"}] * 4}  # WeChat asks at most 3 at once
    assert (await api.post("/notify/consents", json=four, headers=people.headers("alice"))).status_code == 400


async def test_the_web_workers_clock_delivers_the_outbox_and_a_failing_job_is_shown_to_supervisors(
    serve, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from server import app as server_app
    from voting import lifecycle

    async def broken_tick() -> None:
        raise RuntimeError("motions table is on fire")

    monkeypatch.setattr(server_app, "CLOCK_SECONDS", 0.1)
    monkeypatch.setattr(lifecycle, "tick", broken_tick)
    await service.record_consent(people.users["alice"].id, {OPENING: "accept"})
    from datetime import UTC, datetime

    await service.enqueue("motion.opening", subject="motion:1", user_ids=[people.users["alice"].id],
                          params={"motion_id": 1, "title": "表决", "closes_at": datetime(2026, 12, 20, tzinfo=UTC)})  # fmt: skip
    servers = [await serve(wechat=wechat) for _ in range(2)]  # two web workers, one database
    for _ in range(100):
        state = await JobState.get_or_none(name="motions")
        if fake_wechat.sent_messages and state is not None and state.failures >= jobs.ALERT_FAILURES:
            break
        await asyncio.sleep(0.1)
    assert len(fake_wechat.sent_messages) == 1
    async with httpx.AsyncClient(base_url=servers[0].url + "/api/v1", timeout=30) as http:
        shown = (await http.get("/admin/jobs", headers=people.headers("supervisor"))).json()
    by_name = {j["name"]: j for j in shown["jobs"]}
    assert set(by_name) == {j.name for j in jobs.PERIODIC}
    assert by_name["motions"]["failing"] is True
    assert by_name["motions"]["last_error"] == "RuntimeError: motions table is on fire"
    assert by_name["outbox"]["failures"] == 0 and by_name["outbox"]["runs"] >= 1
    assert shown["outbox"] == {"pending": 0, "claimed": 0, "sending": 0, "failed": 0}
    for server in servers:
        await server.stop()


async def test_every_notify_route_is_in_the_matrix(serve, wechat: WeChatClient) -> None:  # type: ignore[no-untyped-def]
    server = await serve(wechat=wechat, background=False)
    assert declared(server.app, API + "/notify", API + "/admin/jobs") == covered(
        (method, API + path) for method, path, _ in [*ROUTES, READ]
    )


async def test_supervisors_see_the_deliveries_given_up_with_their_reason_and_nothing_else(
    api: httpx.AsyncClient, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:
    alice, bob = people.users["alice"].id, people.users["bob"].id
    for uid in (alice, bob):
        await service.record_consent(uid, {OPENING: "accept"}, [OPENING])
    for motion in range(1, 4):
        await service.enqueue("motion.opening", subject=f"motion:{motion}", user_ids=[alice, bob],
                              params={"motion_id": motion, "title": "表决", "closes_at": clock.now()})  # fmt: skip
    fake_wechat.fail_next("/cgi-bin/message/subscribe/send", 47003)  # the first send: a permanent error
    first = (await sender.claim(limit=1))[0]
    await sender.deliver_one(wechat, first, sender.RelayResult())
    # a sender that died in the middle of its WeChat call
    (dead,) = await sender.claim(limit=1)
    await Notification.filter(id=dead["id"]).update(state=State.SENDING, claimed_until=clock.now())
    await sender.relay(wechat)
    assert await Notification.filter(state=State.SENT).count() == 4

    page = await api.get(
        "/admin/jobs/notifications/failed", params={"limit": 1}, headers=people.headers("supervisor")
    )
    assert page.status_code == 200, page.text
    (newest,) = page.json()["items"]
    assert (newest["id"], newest["interrupted"], newest["last_error"]) == (
        dead["id"],
        True,
        sender.INTERRUPTED,
    )
    rest = await api.get(
        "/admin/jobs/notifications/failed",
        params={"cursor": page.json()["next_cursor"]},
        headers=people.headers("supervisor"),
    )
    (oldest,) = rest.json()["items"]
    assert oldest["id"] == first["id"] and not oldest["interrupted"] and "47003" in oldest["last_error"]
    assert oldest["user_id"] == first["user_id"] and oldest["event"] == "motion.opening"
    assert set(oldest) == {"id", "event", "template_id", "user_id", "attempts", "last_error", "interrupted",
                           "created_at"}  # fmt: skip
    assert rest.json()["next_cursor"] is None
    denied = await api.get("/admin/jobs/notifications/failed", headers=people.headers("alice"))
    assert denied.status_code == 403
