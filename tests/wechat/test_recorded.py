"""The real adapter offline, over its real HTTP code, against recorded WeChat answers (httpx MockTransport):
exact requests on the wire, and answers the fake never gives."""

from __future__ import annotations

import json

import httpx
import pytest

from core.cache import MemoryCache
from wechat.client import WeChatClient
from wechat.errors import WeChatBusy, WeChatError
from wechat.protocol import LoginSession, Scene

APP_ID = "wx0a1b2c3d4e5f6a7b"
SECRET = "0123456789abcdef0123456789abcdef"

# Recorded from api.weixin.qq.com (values replaced); note the text/plain content type.
JSCODE2SESSION = (
    200,
    {"Content-Type": "text/plain"},
    b'{"session_key":"tiihtNczf5v6AKRyjwEUhQ==","openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}',
)
STABLE_TOKEN = (
    200,
    {"Content-Type": "application/json; encoding=utf-8"},
    b'{"access_token":"86_Rec0rded-T0ken","expires_in":7200}',
)
MSG_SEC_CHECK = (
    200,
    {"Content-Type": "application/json; encoding=utf-8"},
    b'{"errcode":0,"errmsg":"ok","result":{"suggest":"risky","label":20001},"detail":[{"strategy":'
    b'"content_model","errcode":0,"suggest":"risky","label":20001,"prob":90}],'
    b'"trace_id":"60ae120f-371d5872-7941a05b"}',
)

Recorded = tuple[int, dict[str, str], bytes]


def _client(answers: dict[str, Recorded], seen: list[httpx.Request]) -> WeChatClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, headers, body = answers[request.url.path]
        return httpx.Response(status, headers=headers, content=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))  # holds no sockets: nothing to close
    return WeChatClient(APP_ID, SECRET, MemoryCache(), http=http)


async def test_jscode2session_sends_the_exact_query_and_reads_a_text_plain_answer() -> None:
    seen: list[httpx.Request] = []
    client = _client({"/sns/jscode2session": JSCODE2SESSION}, seen)

    session = await client.code2session("081Kq4Ga1Tcm3J0Tr2Ja1MkTfB3Kq4Gt")

    assert session == LoginSession("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "tiihtNczf5v6AKRyjwEUhQ==", None)
    [request] = seen  # no token fetched before login, unlike wechatpy
    assert request.method == "GET"
    assert (request.url.scheme, request.url.host, request.url.path) == (
        "https",
        "api.weixin.qq.com",
        "/sns/jscode2session",
    )
    assert dict(request.url.params) == {
        "appid": APP_ID,
        "secret": SECRET,
        "js_code": "081Kq4Ga1Tcm3J0Tr2Ja1MkTfB3Kq4Gt",
        "grant_type": "authorization_code",
    }


async def test_msg_sec_check_sends_v2_bodies_in_utf8_after_a_stable_token() -> None:
    seen: list[httpx.Request] = []
    client = _client({"/cgi-bin/stable_token": STABLE_TOKEN, "/wxa/msg_sec_check": MSG_SEC_CHECK}, seen)

    verdict = await client.msg_sec_check(openid="oUpF8u", content="业主大会", scene=Scene.COMMENT)

    assert (verdict.suggest, verdict.label, verdict.trace_id) == (
        "risky",
        20001,
        "60ae120f-371d5872-7941a05b",
    )
    token_request, check_request = seen
    assert token_request.method == "POST" and not token_request.url.query
    assert json.loads(token_request.content) == {
        "grant_type": "client_credential",
        "appid": APP_ID,
        "secret": SECRET,
        "force_refresh": False,
    }
    assert dict(check_request.url.params) == {"access_token": "86_Rec0rded-T0ken"}
    assert check_request.headers["content-type"] == "application/json"
    assert "业主大会".encode() in check_request.content  # raw UTF-8, not \\u escapes
    assert json.loads(check_request.content) == {
        "content": "业主大会",
        "version": 2,
        "scene": 2,
        "openid": "oUpF8u",
    }


@pytest.mark.parametrize(
    ("answer", "error_class", "details"),
    [
        ((502, {}, b"<html>Bad Gateway</html>"), WeChatBusy, {"api": "/sns/jscode2session", "status": 502}),
        ((404, {}, b"not found"), WeChatError, {"api": "/sns/jscode2session", "status": 404}),
        (
            (200, {}, b"<html>oops</html>"),
            WeChatError,
            {"api": "/sns/jscode2session", "reason": "answer is not a JSON object"},
        ),
    ],
)
async def test_gateway_answers_that_are_not_wechat_json(
    answer: Recorded, error_class: type[Exception], details: dict[str, object]
) -> None:
    client = _client({"/sns/jscode2session": answer}, [])

    with pytest.raises(error_class) as caught:
        await client.code2session("081Kq4Ga1Tcm3J0Tr2Ja1MkTfB3Kq4Gt")

    assert getattr(caught.value, "details", None) == details
