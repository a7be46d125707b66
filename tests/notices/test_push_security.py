"""WeChat's message push, attacked: a replay (same signature, timestamp and nonce) is refused, with
the same body or another; only a verdict for a check we asked for and have not decided is applied;
safe (encrypted) mode authenticates the body; a signed but malformed push is a 4xx, never a 500.
And the image URL handed to WeChat is on our configured address, whatever the Host header says."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from audit.models import AuditEvent
from config.settings import Settings
from core.jsonutil import dumpb
from miniprogram_api.notices import push_config, push_token
from notices.models import Notice, NoticeAttachment
from tests.notices.conftest import deliver, draft, manage, media_check_event, post_push, publish, titles
from tests.notices.test_content_security import attach, png
from wechat import SecurityVerdict, WeChatClient
from wechat.fake import FakeWeChat
from wechat.push import PushConfig, signed_push

BASE = "https://wuye.example.cn"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters, as in the console


@pytest.fixture
async def configured(
    serve, fake_wechat: FakeWeChat, cache, settings: Settings
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:  # type: ignore[no-untyped-def]
    """A server whose settings the test chooses (public address, push key)."""
    chosen: dict[str, Settings] = {}

    async def start(**changes: Any) -> httpx.AsyncClient:
        chosen["settings"] = dataclasses.replace(settings, **changes)

        def configure(app) -> None:  # type: ignore[no-untyped-def]
            app.ctx.settings = chosen["settings"]

        client = WeChatClient(
            "wx0000000000000000", "fake-wechat-secret", cache, base_url=fake_wechat.base_url
        )
        clients.append(client)
        server = await serve(configure, wechat=client)
        http = httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30)
        https.append(http)
        return http

    clients: list[WeChatClient] = []
    https: list[httpx.AsyncClient] = []
    yield start  # type: ignore[misc]
    for http in https:
        await http.aclose()
    for client in clients:
        await client.aclose()


async def checking_notice(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, **headers: str
) -> tuple[int, str]:
    """A notice with one image waiting for WeChat's verdict: (notice id, trace id)."""
    notice = await draft(api, world, title="维修现场")
    response = await api.post(
        f"{manage(world)}/notices/{notice}/attachments",
        params={"name": "现场照片"},
        headers={**world["auth"]["committee"], "content-type": "image/png", **headers},
        content=png(),
    )
    assert response.status_code == 201, response.text
    assert (await publish(api, world, notice))["state"] == "checking"
    return notice, fake_wechat.media_requests[-1].trace_id


async def state(notice: int) -> tuple[str, list[tuple[str, int | None]], int]:
    """What a push may change: the notice's status, its images' verdicts, its audit entries."""
    row = await Notice.get(id=notice)
    images = [(str(a.verdict), a.verdict_label) for a in await NoticeAttachment.filter(notice_id=notice)]
    return str(row.status), images, await AuditEvent.filter(subject=f"notice:{notice}").count()


async def test_a_notice_image_url_is_on_the_configured_address_whatever_the_host_header(
    configured, world: dict[str, Any], fake_wechat: FakeWeChat
) -> None:  # type: ignore[no-untyped-def]
    api = await configured(public_base_url=BASE)
    evil = {"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"}
    await checking_notice(api, world, fake_wechat, **evil)
    [request] = fake_wechat.media_requests
    assert request.media_url.startswith(f"{BASE}/api/v1/notice-media/public/display/")
    assert "evil" not in request.media_url
    # WeChat's fetch of that URL (on our address) answers the image
    fetched = await api.get(request.media_url.removeprefix(BASE + "/api/v1"))
    assert fetched.status_code == 200


async def test_a_replayed_push_is_refused_with_the_same_body_or_another(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, settings: Settings
) -> None:
    notice, trace_id = await checking_notice(api, world, fake_wechat)
    query, body = signed_push(
        push_config(settings), media_check_event(SecurityVerdict("pass", 100, trace_id))
    )
    first = await post_push(api, query, body)
    assert (first.status_code, first.text) == (200, "success")
    assert await titles(api, world) == ["维修现场"]
    before = await state(notice)
    assert before == ("published", [("pass", 100)], before[2])
    again = await post_push(api, query, body)
    assert (again.status_code, again.json()["code"]) == (403, "push_replayed")
    # the same signature, timestamp and nonce over another body: the plain-mode signature does not
    # cover the body, so only the nonce memory stops it
    risky = media_check_event(SecurityVerdict("risky", 20002, trace_id))
    _, other = signed_push(push_config(settings), risky, timestamp=query["timestamp"], nonce=query["nonce"])
    replayed = await post_push(api, query, other)
    assert (replayed.status_code, replayed.json()["code"]) == (403, "push_replayed")
    assert await state(notice) == before
    assert await titles(api, world) == ["维修现场"]


async def test_only_a_verdict_for_our_undecided_check_is_applied(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, settings: Settings
) -> None:
    notice, trace_id = await checking_notice(api, world, fake_wechat)
    unknown = await deliver(api, settings, SecurityVerdict("pass", 100, "a-check-we-never-asked-for"))
    assert (unknown.status_code, unknown.json()["code"]) == (409, "media_check_unknown")
    assert (await state(notice))[:2] == ("checking", [("pending", None)])
    decided = await deliver(api, settings, SecurityVerdict("pass", 100, trace_id))
    assert decided.status_code == 200
    before = await state(notice)
    # a fresh, correctly signed push (new nonce) with another verdict for the decided check
    overwrite = await deliver(api, settings, SecurityVerdict("risky", 20002, trace_id))
    assert (overwrite.status_code, overwrite.json()["code"]) == (409, "media_check_decided")
    assert await state(notice) == before == ("published", [("pass", 100)], before[2])


async def test_safe_mode_round_trip_with_the_fake(
    configured, world: dict[str, Any], fake_wechat: FakeWeChat, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    api = await configured(wechat_push_aes_key=AES_KEY)
    url = str(api.base_url).rstrip("/") + "/wechat/push"
    fake_wechat.deliver_verdicts_to(url, push_token(settings), delay=0.3, aes_key=AES_KEY)
    notice = await draft(api, world, title="维修现场")
    assert (await attach(api, world, notice, png(), "image/png")).status_code == 201
    await publish(api, world, notice)
    for _ in range(100):
        if fake_wechat.pushes:
            break
        await asyncio.sleep(0.05)
    assert [status for _, status in fake_wechat.pushes] == [200]
    assert (await NoticeAttachment.get(notice_id=notice)).verdict == "pass"
    assert await titles(api, world) == ["维修现场"]


async def test_safe_mode_refuses_plain_forged_and_foreign_pushes(
    configured, world: dict[str, Any], fake_wechat: FakeWeChat, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    api = await configured(wechat_push_aes_key=AES_KEY)
    settings = dataclasses.replace(settings, wechat_push_aes_key=AES_KEY)
    notice, trace_id = await checking_notice(api, world, fake_wechat)
    before = await state(notice)
    event = media_check_event(SecurityVerdict("pass", 100, trace_id))
    plain_config = dataclasses.replace(push_config(settings), aes_key="")
    plain = await post_push(api, *signed_push(plain_config, event))
    assert (plain.status_code, plain.json()["code"]) == (403, "push_encryption_required")
    query, body = signed_push(push_config(settings), event)
    forged = await post_push(api, {**query, "msg_signature": "0" * 40}, body)
    assert (forged.status_code, forged.json()["code"]) == (403, "push_signature_invalid")
    foreign = PushConfig(push_token(settings), "wx9999999999999999", AES_KEY)  # encrypted for another app
    other_app = await post_push(api, *signed_push(foreign, event))
    assert (other_app.status_code, other_app.json()["code"]) == (403, "push_appid_mismatch")
    assert await state(notice) == before
    good = await post_push(api, query, body)
    assert (good.status_code, good.text) == (200, "success")
    assert (await state(notice))[:2] == ("published", [("pass", 100)])
    assert (await post_push(api, query, body)).json()["code"] == "push_replayed"


async def test_in_safe_mode_a_push_that_overtook_its_check_may_be_retried(
    configured, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A verdict can arrive before we stored its trace id; the body is authenticated in safe mode,
    so the same push is not taken for a replay when WeChat retries it (in plain mode it is)."""
    event = media_check_event(SecurityVerdict("pass", 100, "not-stored-yet"))
    for aes_key, second in ((AES_KEY, "media_check_unknown"), ("", "push_replayed")):
        api = await configured(wechat_push_aes_key=aes_key)
        query, body = signed_push(
            push_config(dataclasses.replace(settings, wechat_push_aes_key=aes_key)), event
        )
        first = await post_push(api, query, body)
        assert (first.status_code, first.json()["code"]) == (409, "media_check_unknown")
        retried = await post_push(api, query, body)
        assert retried.json()["code"] == second


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", None),
        (b"[" * 5000 + b"]" * 5000, None),  # deeper than the parser goes
        (b'"a string"', "body"),
        (None, "result.label"),  # label of the wrong type
        ({"result": {"suggest": "pass", "label": {"x": 1}}}, "result.label"),
        ({"result": {"suggest": "maybe", "label": 100}}, "result.suggest"),
        ({"result": "pass"}, "result"),
        ({"trace_id": 12}, "trace_id"),
        ({"trace_id": "x" * 101}, "trace_id"),
    ],
)
async def test_a_signed_but_malformed_push_is_a_400(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat, settings: Settings,
    body: Any, field: str | None,
) -> None:  # fmt: skip
    notice, trace_id = await checking_notice(api, world, fake_wechat)
    before = await state(notice)
    event = media_check_event(SecurityVerdict("pass", 100, trace_id))
    query, _ = signed_push(push_config(settings), event)
    if body is None:
        event["result"]["label"] = "100"
        raw = dumpb(event)
    elif isinstance(body, dict):
        raw = dumpb(event | body)
    else:
        raw = body
    response = await post_push(api, query, raw)
    assert (response.status_code, response.json()["code"]) == (400, "push_body_invalid")
    if field is not None:
        assert response.json()["details"] == {"field": field}
    assert await state(notice) == before


async def test_another_event_is_acknowledged_and_a_stale_push_refused(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    query, body = signed_push(push_config(settings), {"MsgType": "event", "Event": "user_enter_tempsession"})
    acknowledged = await post_push(api, query, body)
    assert (acknowledged.status_code, acknowledged.text) == (200, "success")
    event = media_check_event(SecurityVerdict("pass", 100, "t"))
    stale = await post_push(api, *signed_push(push_config(settings), event, timestamp="1700000000"))
    assert (stale.status_code, stale.json()["code"]) == (403, "push_stale")
