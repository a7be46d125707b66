"""Consent, the outbox and the sender against the fake WeChat over real HTTP."""

from __future__ import annotations

import asyncio

import httpx

from notify import catalogue, rules, sender, service
from notify.models import Consent, Notification, State
from notify.rules import Kind
from tests.notify.conftest import People
from wechat import WeChatClient
from wechat.fake import FakeWeChat

OPENING = catalogue.BY_EVENT["motion.opening"].template_id
RESULT = catalogue.BY_EVENT["motion.result"].template_id
PROGRESS = catalogue.BY_EVENT["complaint.accepted"].template_id
SEND = "/cgi-bin/message/subscribe/send"


async def consent(
    api: httpx.AsyncClient, people: People, who: str, *results: tuple[str, str], always: bool = False
):  # type: ignore[no-untyped-def]
    body = {"results": [{"template_id": t, "result": r, "always": always} for t, r in results]}
    return await api.post("/notify/consents", json=body, headers=people.headers(who))


async def opening(user_ids: list[int], motion_id: int = 7) -> None:
    from datetime import UTC, datetime

    params = {
        "motion_id": motion_id,
        "title": "关于更换小区电梯的表决（第一批）共三部电梯",
        "closes_at": datetime(2026, 12, 20, 8, 0, tzinfo=UTC),
    }
    await service.enqueue("motion.opening", subject=f"motion:{motion_id}", user_ids=user_ids, params=params)


async def test_no_send_without_consent_and_the_inbox_says_so(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    await opening([people.users["alice"].id])
    result = await sender.relay(wechat)
    assert (result.sent, result.no_consent) == (0, 1)
    assert fake_wechat.calls[SEND] == 0
    inbox = await api.get("/notify/inbox", headers=people.headers("alice"))
    assert inbox.status_code == 200, inbox.text
    (item,) = inbox.json()["items"]
    assert (item["state"], item["delivered"], item["event"]) == ("no_consent", False, "motion.opening")
    assert item["reason"] == "未订阅该类消息，仅在消息中心显示"
    assert inbox.json()["unread"] == 1 and inbox.json()["next_cursor"] is None
    assert (await api.get("/notify/inbox", headers=people.headers("bob"))).json()["items"] == []


async def test_each_accept_is_one_send_and_the_count_decreases(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    for _ in range(2):
        assert (await consent(api, people, "alice", (OPENING, "accept"))).status_code == 200
    shown = await api.get("/notify/templates", headers=people.headers("alice"))
    (row,) = [t for t in shown.json()["items"] if t["template_id"] == OPENING]
    assert (row["status"], row["remaining"], row["always"]) == ("accept", 2, False)
    await opening([alice.id], 1)
    assert (await sender.relay(wechat)).sent == 1
    assert (await Consent.get(user_id=alice.id, template_id=OPENING)).remaining == 1
    await opening([alice.id], 2)
    await opening([alice.id], 3)
    result = await sender.relay(wechat)
    assert (result.sent, result.no_consent) == (1, 1)
    assert (await Consent.get(user_id=alice.id, template_id=OPENING)).remaining == 0
    assert [m.openid for m in fake_wechat.sent_messages] == ["openid-alice"] * 2
    first = fake_wechat.sent_messages[0]
    assert first.template_id == OPENING
    assert first.page == "pages/voting/motion?id=1"
    assert first.data == {"thing1": "关于更换小区电梯的表决（第一批）共三部…", "time2": "2026-12-20 16:00"}
    assert len(first.data["thing1"]) == 20


async def test_a_rejected_template_is_never_used(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    await consent(api, people, "alice", (OPENING, "accept"), (RESULT, "accept"))
    await consent(api, people, "alice", (OPENING, "reject"))  # accepted once, then rejected
    await opening([alice.id])
    result = await sender.relay(wechat)
    assert (result.sent, result.no_consent) == (0, 1)
    assert fake_wechat.calls[SEND] == 0
    row = await Consent.get(user_id=alice.id, template_id=OPENING)
    assert (row.status, row.remaining) == ("reject", 0)
    assert (await Consent.get(user_id=alice.id, template_id=RESULT)).remaining == 1  # the other kept


async def test_43101_marks_the_authorisation_used_up(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    await consent(api, people, "alice", (OPENING, "accept"), always=True)
    fake_wechat.unauthorized_openids.add("openid-alice")
    await opening([alice.id])
    result = await sender.relay(wechat)
    assert (result.sent, result.no_consent) == (0, 1)
    assert fake_wechat.calls[SEND] == 1 and fake_wechat.sent_messages == []
    row = await Consent.get(user_id=alice.id, template_id=OPENING)
    assert (row.remaining, row.always) == (0, False)
    (note,) = await Notification.all()
    assert (note.state, note.last_error) == (State.NO_CONSENT, "43101 授权次数已用完")
    await opening([alice.id], 8)  # nothing left: not even tried
    assert (await sender.relay(wechat)).no_consent == 1
    assert fake_wechat.calls[SEND] == 1


async def test_always_sends_without_spending(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    await consent(api, people, "alice", (OPENING, "accept"), always=True)
    for motion in (1, 2, 3):
        await opening([alice.id], motion)
    assert (await sender.relay(wechat)).sent == 3
    assert (await Consent.get(user_id=alice.id, template_id=OPENING)).remaining == 1


async def test_transient_errors_retry_with_backoff_and_give_back_the_consent(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    await consent(api, people, "alice", (OPENING, "accept"))
    fake_wechat.fail_next(SEND, -1)
    await opening([alice.id])
    result = await sender.relay(wechat)
    assert (result.sent, result.retry) == (1, 0) or (result.sent, result.retry) == (0, 1)
    note = await Notification.get()
    if result.retry:  # the client did not retry by itself: the outbox did
        assert (
            note.state is State.PENDING and note.attempts == 1 and note.last_error.startswith("wechat_busy")
        )
        assert (await Consent.get(user_id=alice.id, template_id=OPENING)).remaining == 1
        assert (await sender.relay(wechat)).sent == 0  # not due yet (5 s backoff)
        await Notification.filter(id=note.id).update(next_attempt_at=note.created_at)
        assert (await sender.relay(wechat)).sent == 1
    assert len(fake_wechat.sent_messages) == 1
    assert (await Consent.get(user_id=alice.id, template_id=OPENING)).remaining == 0


async def test_a_permanent_error_gives_up_with_the_reason(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    await consent(api, people, "alice", (OPENING, "accept"))
    fake_wechat.fail_next(SEND, 47003)
    await opening([alice.id])
    assert (await sender.relay(wechat)).failed == 1
    note = await Notification.get()
    assert note.state is State.FAILED and "47003" in note.last_error
    assert (await sender.relay(wechat)).total() == 0  # never again
    assert (await Consent.get(user_id=alice.id, template_id=OPENING)).remaining == 1


async def test_one_event_is_one_row_per_user_and_concurrent_senders_send_each_once(
    api, people: People, wechat: WeChatClient, fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = people.users["alice"], people.users["bob"]
    await consent(api, people, "alice", (OPENING, "accept"), always=True)
    await consent(api, people, "bob", (OPENING, "accept"), always=True)
    for motion in range(30):
        await opening([alice.id, bob.id], motion)
        await opening([alice.id, bob.id, alice.id], motion)  # the same event again: no new rows
    assert await Notification.all().count() == 60
    results = await asyncio.gather(*(sender.relay(wechat) for _ in range(4)))
    assert sum(r.sent for r in results) == 60
    keys = [(m.openid, m.page) for m in fake_wechat.sent_messages]
    assert len(keys) == len(set(keys)) == 60


async def test_a_sender_that_died_before_calling_wechat_is_resumed_and_one_that_died_mid_send_is_not_resent(
    people: People, wechat: WeChatClient, fake_wechat: FakeWeChat, clean_db: None
) -> None:  # type: ignore[no-untyped-def]
    alice = people.users["alice"]
    await service.record_consent(alice.id, {OPENING: "accept"}, [OPENING])
    await opening([alice.id], 1)
    await opening([alice.id], 2)
    claimed = await sender.claim()
    assert len(claimed) == 2
    # the dead sender had moved the second one to SENDING (WeChat may have it) when it died
    await Notification.filter(id=claimed[1]["id"]).update(state=State.SENDING)
    await Notification.all().update(
        claimed_until=claimed and (await Notification.get(id=claimed[0]["id"])).created_at
    )
    result = await sender.relay(wechat)
    assert (result.reclaimed, result.interrupted, result.sent) == (1, 1, 1)
    second = await Notification.get(id=claimed[1]["id"])
    assert second.state is State.FAILED and second.last_error == sender.INTERRUPTED
    assert len(fake_wechat.sent_messages) == 1


def test_field_limits() -> None:
    assert (
        rules.fit(Kind.THING, "一二三四五六七八九十一二三四五六七八九十")
        == "一二三四五六七八九十一二三四五六七八九十"
    )
    assert (
        rules.fit(Kind.THING, "一二三四五六七八九十一二三四五六七八九十一")
        == "一二三四五六七八九十一二三四五六七八九…"
    )
    assert rules.fit(Kind.THING, "多行\n  文本") == "多行 文本"
    assert rules.fit(Kind.PHRASE, "已受理ok完成了") == "已受理完成"
    assert rules.fit(Kind.CHARACTER_STRING, "单号A-123") == "A-123"
    assert rules.fit(Kind.AMOUNT, 123456) == "1234.56元"
    assert rules.fit(Kind.NAME, "欧阳" * 6) == "欧阳欧阳欧阳欧阳欧…"
    assert [rules.backoff(n).total_seconds() for n in (1, 2, 3, 20)] == [5, 10, 20, 3600]


def test_every_template_fills_its_fields_within_limits() -> None:
    for template in catalogue.BY_EVENT.values():
        assert template.page.startswith("pages/")
        assert len(template.title) <= 40
        for key, kind, _ in template.fields:
            assert key.startswith(kind.value), (template.event, key)
