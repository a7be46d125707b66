"""Login and phone number: the real WeChatClient against the fake WeChat over real HTTP."""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import AsyncIterator

import pytest

from core.cache import MemoryCache
from core.errors import DomainError, Forbidden, Invalid, RateLimited, Unavailable, UpstreamError
from wechat.client import WeChatClient
from wechat.errors import (
    WeChatBusy,
    WeChatCodeInvalid,
    WeChatError,
    WeChatRateLimited,
    WeChatUnreachable,
    WeChatUserBlocked,
    WeChatWatermarkMismatch,
)
from wechat.fake import FakeWeChat
from wechat.protocol import LoginSession, PhoneNumber

APP_ID = "wx1234567890abcdef"
SECRET = "s3cret-login-tests"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    server = FakeWeChat(APP_ID, SECRET)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeWeChat) -> AsyncIterator[WeChatClient]:
    assert fake.base_url is not None
    wechat = WeChatClient(APP_ID, SECRET, MemoryCache(), base_url=fake.base_url)
    yield wechat
    await wechat.aclose()


async def test_issued_code_logs_in_once(fake: FakeWeChat, client: WeChatClient) -> None:
    code = fake.issue_code("o-alice", unionid="u-alice")

    session = await client.code2session(code)

    assert session == LoginSession(
        openid="o-alice", session_key=fake.session_key_for("o-alice"), unionid="u-alice"
    )
    with pytest.raises(WeChatCodeInvalid) as second:
        await client.code2session(code)
    assert isinstance(second.value, Invalid)
    assert second.value.error_code == "wechat_code_invalid"
    assert second.value.user_message == "登录凭证无效或已过期，请重新进入小程序"
    assert second.value.details["errcode"] == 40029


async def test_issued_code_looks_real_and_logs_in_without_a_token(
    fake: FakeWeChat, client: WeChatClient
) -> None:
    code = fake.issue_code("o-bob")

    session = await client.code2session(code)

    assert len(code) == 32 and code.isalnum()
    assert session.unionid is None
    assert fake.token_requests == 0


async def test_test_code_logs_in_as_that_openid_repeatedly(fake: FakeWeChat, client: WeChatClient) -> None:
    first = await client.code2session("test:o-dev")
    second = await client.code2session("test:o-dev")

    assert first == second == LoginSession("o-dev", fake.session_key_for("o-dev"), None)
    assert len(base64.b64decode(first.session_key)) == 16
    assert fake.session_key_for("o-dev") != fake.session_key_for("o-other")


@pytest.mark.parametrize(
    ("errcode", "error_class", "base", "code", "message"),
    [
        (40029, WeChatCodeInvalid, Invalid, "wechat_code_invalid", "登录凭证无效或已过期，请重新进入小程序"),
        (45011, WeChatRateLimited, RateLimited, "wechat_rate_limited", WeChatRateLimited.message),
        (40226, WeChatUserBlocked, Forbidden, "wechat_user_blocked", "该微信账号存在风险，已被限制登录"),
        (-1, WeChatBusy, Unavailable, "wechat_busy", "微信服务繁忙，请稍后再试"),
    ],
)
async def test_login_errcodes_map_to_the_error_tree(
    client: WeChatClient,
    errcode: int,
    error_class: type[DomainError],
    base: type[DomainError],
    code: str,
    message: str,
) -> None:
    with pytest.raises(error_class) as caught:
        await client.code2session(f"err:{errcode}")

    assert isinstance(caught.value, base)
    assert caught.value.error_code == code
    assert caught.value.user_message == message
    assert caught.value.details["errcode"] == errcode
    assert caught.value.details["api"] == "/sns/jscode2session"


async def test_other_errcode_is_upstream_error_without_the_secret(fake: FakeWeChat) -> None:
    assert fake.base_url is not None
    wrong = WeChatClient(APP_ID, "not-the-secret", MemoryCache(), base_url=fake.base_url)
    try:
        with pytest.raises(WeChatError) as caught:
            await wrong.code2session("test:o-alice")
    finally:
        await wrong.aclose()

    assert isinstance(caught.value, UpstreamError)
    assert caught.value.error_code == "wechat_error"
    assert caught.value.details["errcode"] == 40125
    shown = f"{caught.value!r} {caught.value} {caught.value.details} {caught.value.__cause__!r}"
    assert "not-the-secret" not in shown


async def test_blank_code_is_refused_without_calling_wechat(fake: FakeWeChat, client: WeChatClient) -> None:
    with pytest.raises(WeChatCodeInvalid):
        await client.code2session("  ")

    assert fake.calls["/sns/jscode2session"] == 0


async def test_session_key_and_secret_stay_out_of_reprs(fake: FakeWeChat, client: WeChatClient) -> None:
    session = await client.code2session("test:o-alice")

    key = fake.session_key_for("o-alice")
    assert key not in repr(session) and key not in str(session)
    assert "o-alice" in repr(session)
    assert SECRET not in repr(client)


async def test_httpx_request_log_hides_secret_and_code(
    client: WeChatClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        await client.code2session("test:o-alice")

    assert "jscode2session" in caplog.text
    assert SECRET not in caplog.text
    assert "test%3Ao-alice" not in caplog.text and "test:o-alice" not in caplog.text
    assert "secret=***" in caplog.text


async def test_phone_code_gives_the_number_once(fake: FakeWeChat, client: WeChatClient) -> None:
    code = fake.issue_phone_code("13800138000")

    phone = await client.phone_number(code)

    assert phone == PhoneNumber(phone="13800138000", pure_phone="13800138000", country_code="86")
    with pytest.raises(WeChatCodeInvalid) as second:
        await client.phone_number(code)
    assert second.value.error_code == "wechat_code_invalid"
    assert second.value.user_message == "手机号授权凭证无效或已过期，请重新授权"


async def test_reusable_phone_code_for_development(client: WeChatClient) -> None:
    first = await client.phone_number("phone:13900139000")
    second = await client.phone_number("phone:13900139000")

    assert first == second == PhoneNumber("13900139000", "13900139000", "86")


async def test_phone_data_issued_to_another_app_is_refused(fake: FakeWeChat, client: WeChatClient) -> None:
    fake.phone_watermark_appid = "wx-someone-else"

    with pytest.raises(WeChatWatermarkMismatch) as caught:
        await client.phone_number("phone:13900139000")

    assert caught.value.error_code == "wechat_watermark_mismatch"
    assert isinstance(caught.value, UpstreamError)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_unreachable_server_is_wechat_unreachable() -> None:
    wechat = WeChatClient(APP_ID, SECRET, MemoryCache(), base_url=f"http://127.0.0.1:{_closed_port()}")
    try:
        with pytest.raises(WeChatUnreachable) as login:
            await wechat.code2session("test:o-alice")
        with pytest.raises(WeChatUnreachable) as check:
            await wechat.msg_sec_check(openid="o-alice", content="你好", scene=2)
    finally:
        await wechat.aclose()

    assert isinstance(login.value, Unavailable)
    assert login.value.error_code == check.value.error_code == "wechat_unreachable"
    assert check.value.details["api"] == "/cgi-bin/stable_token"
    assert login.value.__cause__ is None  # the httpx error (and its URL with the secret) is not chained


async def test_slow_server_is_wechat_unreachable(fake: FakeWeChat) -> None:
    assert fake.base_url is not None
    wechat = WeChatClient(APP_ID, SECRET, MemoryCache(), base_url=fake.base_url, timeout=0.2)
    fake.stall_next("/sns/jscode2session", 1.0)
    try:
        with pytest.raises(WeChatUnreachable) as caught:
            await wechat.code2session("test:o-alice")
    finally:
        await wechat.aclose()

    assert caught.value.details == {"api": "/sns/jscode2session", "reason": "timeout"}
