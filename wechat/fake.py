"""A fake WeChat API server: real HTTP on loopback, the official paths and JSON shapes.

Tests run the real ``WeChatClient`` against it, and fake mode (``make run`` without WeChat credentials)
points the client at it. Knobs:

- login codes: ``issue_code(openid)`` is single-use and expires after five minutes; ``test:<openid>`` is
  reusable; ``err:<errcode>`` answers that errcode (40029, 45011, 40226, -1, ...)
- phone codes: ``issue_phone_code(phone)`` single-use; ``phone:<11 digits>`` reusable
- tokens: stable_token semantics (the same token until five minutes before expiry); ``token_requests``
  counts stable_token calls; ``advance(seconds)`` moves the fake's clock; ``revoke_tokens()`` makes
  every issued token unknown (40001)
- content security: ``risky_words`` / ``review_words``; ``media_requests`` and ``verdict_for(trace_id)``
- verdict push: ``deliver_verdicts_to(url, token, aes_key=...)`` makes the fake POST each media check's
  verdict to that message-push URL a moment later, signed and shaped as WeChat does, in plain JSON mode
  or, given the EncodingAESKey, in safe (encrypted) mode (fake mode does this, so notice images and
  complaint photos are checked under ``make run`` too); a push answered 409 (the check not yet
  committed on our side), 5xx or not at all is retried three times; ``pushes`` records the final HTTP
  status of each delivery, ``push_event(trace_id)`` is the event it sends
- subscribe messages: ``sent_messages``; openids in ``unauthorized_openids`` get 43101
- ``fail_next(path, errcode)`` and ``stall_next(path, seconds)`` disturb the next call to an endpoint;
  ``calls`` counts calls per path
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import secrets
import string
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from wechat.fake_http import JsonHttpServer, Request
from wechat.protocol import SecurityVerdict
from wechat.push import PushConfig, signed_push

TOKEN_LIFETIME = 7200
TOKEN_RENEW_BEFORE = 300
CODE_LIFETIME = 300

ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40226: "high risk user",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    45011: "api minute-quota reach limit mustslower retry next minute",
    47001: "data format error",
    47003: "argument invalid!",
}

_PHONE_CODE = re.compile(r"phone:(\d{11})")
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class MediaRequest:
    trace_id: str
    openid: str
    media_url: str
    media_type: int
    scene: int


@dataclass(frozen=True, slots=True)
class SentMessage:
    openid: str
    template_id: str
    page: str | None
    data: dict[str, str]


class _Fail(Exception):
    def __init__(self, errcode: int) -> None:
        self.errcode = errcode


PUSH_RETRIES = 3  # WeChat retries a push three times
PUSH_RETRY_WAIT = 0.5  # seconds before the first retry, doubling


class FakeWeChat:
    def __init__(
        self,
        app_id: str = "wxfake0000000000",
        app_secret: str = "fake-app-secret",  # noqa: S107 - the fake's own, not a real secret
        *,
        risky_words: Iterable[str] = ("违禁",),
        review_words: Iterable[str] = ("待审",),
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.risky_words = set(risky_words)
        self.review_words = set(review_words)
        self.unauthorized_openids: set[str] = set()
        self.phone_watermark_appid: str | None = None  # set to test the client's watermark check
        self.token_requests = 0
        self.calls: Counter[str] = Counter()
        self.media_requests: list[MediaRequest] = []
        self.sent_messages: list[SentMessage] = []
        self.pushes: list[tuple[str, int]] = []  # (trace_id, HTTP status of the delivery)
        self.base_url: str | None = None
        self._push: tuple[str, PushConfig, float] | None = None
        self._push_tasks: set[asyncio.Task[None]] = set()
        self._codes: dict[str, tuple[str, str | None, float]] = {}
        self._phone_codes: dict[str, tuple[str, str, float]] = {}
        self._tokens: dict[str, float] = {}
        self._current_token: str | None = None
        self._failures: dict[str, deque[int]] = {}
        self._stalls: dict[str, deque[float]] = {}
        self._offset = 0.0
        self._routes: dict[str, Callable[[Request], dict[str, Any]]] = {
            "/sns/jscode2session": self._jscode2session,
            "/cgi-bin/stable_token": self._stable_token,
            "/wxa/business/getuserphonenumber": self._phone_number,
            "/wxa/msg_sec_check": self._msg_sec_check,
            "/wxa/media_check_async": self._media_check_async,
            "/cgi-bin/message/subscribe/send": self._subscribe_send,
        }
        self._http = JsonHttpServer(self._handle)

    def __repr__(self) -> str:
        return f"FakeWeChat(app_id={self.app_id!r}, base_url={self.base_url!r})"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self.base_url = await self._http.start(host, port)
        return self.base_url

    async def stop(self) -> None:
        for task in list(self._push_tasks):
            task.cancel()
        await asyncio.gather(*self._push_tasks, return_exceptions=True)
        await self._http.stop()

    async def __aenter__(self) -> FakeWeChat:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- knobs -------------------------------------------------------------------------------------

    def issue_code(self, openid: str, unionid: str | None = None) -> str:
        code = "".join(secrets.choice(_ALNUM) for _ in range(32))
        self._codes[code] = (openid, unionid, self._now() + CODE_LIFETIME)
        return code

    def issue_phone_code(self, phone: str, country_code: str = "86") -> str:
        code = secrets.token_hex(32)
        self._phone_codes[code] = (phone, country_code, self._now() + CODE_LIFETIME)
        return code

    @staticmethod
    def session_key_for(openid: str) -> str:
        digest = hashlib.sha256(b"fake-wechat-session-key\0" + openid.encode()).digest()
        return base64.b64encode(digest[:16]).decode()

    def fail_next(self, path: str, errcode: int) -> None:
        self._failures.setdefault(path, deque()).append(errcode)

    def stall_next(self, path: str, seconds: float) -> None:
        self._stalls.setdefault(path, deque()).append(seconds)

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def revoke_tokens(self) -> None:
        self._tokens.clear()
        self._current_token = None

    def deliver_verdicts_to(self, url: str, token: str, *, delay: float = 0.5, aes_key: str = "") -> None:
        """Push each media check's verdict to the message-push URL ``delay`` seconds after the check
        was asked for, as WeChat does: signed with the token configured there, in plain JSON mode, or
        in safe mode when the console's EncodingAESKey is given."""
        self._push = (url, PushConfig(token, self.app_id, aes_key), delay)

    def verdict_for(self, trace_id: str) -> SecurityVerdict:
        """The verdict the push URL would receive later, from the media URL: "risky" or "review" in it."""
        request = next((r for r in self.media_requests if r.trace_id == trace_id), None)
        if request is None:
            raise KeyError(trace_id)
        if "risky" in request.media_url:
            return SecurityVerdict(suggest="risky", label=20002, trace_id=trace_id)
        if "review" in request.media_url:
            return SecurityVerdict(suggest="review", label=21000, trace_id=trace_id)
        return SecurityVerdict(suggest="pass", label=100, trace_id=trace_id)

    # --- HTTP ----------------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> tuple[int, Any]:
        route = self._routes.get(request.path)
        if route is None:
            return 404, {"errcode": 404, "errmsg": "not found"}
        self.calls[request.path] += 1
        stalls = self._stalls.get(request.path)
        if stalls:
            await asyncio.sleep(stalls.popleft())
        try:
            failures = self._failures.get(request.path)
            if failures:
                raise _Fail(failures.popleft())
            return 200, route(request)
        except _Fail as fail:
            return 200, {"errcode": fail.errcode, "errmsg": f"{ERRMSGS.get(fail.errcode, 'error')}{_rid()}"}

    def _jscode2session(self, request: Request) -> dict[str, Any]:
        query = request.query
        self._check_app(query.get("appid"), query.get("secret"))
        if query.get("grant_type") != "authorization_code":
            raise _Fail(40002)
        openid, unionid = self._redeem_login_code(query.get("js_code", ""))
        answer: dict[str, Any] = {"session_key": self.session_key_for(openid), "openid": openid}
        if unionid:
            answer["unionid"] = unionid
        return answer

    def _stable_token(self, request: Request) -> dict[str, Any]:
        self.token_requests += 1
        body = _json_body(request)
        if body.get("grant_type") != "client_credential":
            raise _Fail(40002)
        self._check_app(body.get("appid"), body.get("secret"))
        now = self._now()
        current = self._current_token
        if body.get("force_refresh") is True and current is not None:
            del self._tokens[current]
            current = None
        if current is None or self._tokens[current] - now <= TOKEN_RENEW_BEFORE:
            # The previous token stays valid until its own expiry, as with the real stable_token.
            current = secrets.token_urlsafe(96)
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[current] = now + TOKEN_LIFETIME
            self._current_token = current
        return {"access_token": current, "expires_in": round(self._tokens[current] - now)}

    def _phone_number(self, request: Request) -> dict[str, Any]:
        self._check_token(request)
        code = _json_body(request).get("code")
        if not isinstance(code, str) or not code:
            raise _Fail(41008)
        phone, country_code = self._redeem_phone_code(code)
        watermark = {"timestamp": int(time.time()), "appid": self.phone_watermark_appid or self.app_id}
        shown = phone if country_code == "86" else f"+{country_code} {phone}"
        info = {"phoneNumber": shown, "purePhoneNumber": phone, "countryCode": country_code}
        return {"errcode": 0, "errmsg": "ok", "phone_info": {**info, "watermark": watermark}}

    def _msg_sec_check(self, request: Request) -> dict[str, Any]:
        self._check_token(request)
        body = _json_body(request)
        content = body.get("content")
        if body.get("version") != 2 or not isinstance(content, str) or not _valid_v2(body):
            raise _Fail(47001)
        suggest, label, keyword = "pass", 100, ""
        if hit := next((w for w in self.risky_words if w in content), None):
            suggest, label, keyword = "risky", 20001, hit
        elif hit := next((w for w in self.review_words if w in content), None):
            suggest, label, keyword = "review", 21000, hit
        detail = {"strategy": "keyword", "errcode": 0, "suggest": suggest, "label": label}
        if keyword:
            detail |= {"level": 90, "keyword": keyword}
        return {
            "errcode": 0,
            "errmsg": "ok",
            "result": {"suggest": suggest, "label": label},
            "detail": [detail],
            "trace_id": _trace_id(),
        }

    def _media_check_async(self, request: Request) -> dict[str, Any]:
        self._check_token(request)
        body = _json_body(request)
        url, media_type = body.get("media_url"), body.get("media_type")
        if (
            body.get("version") != 2
            or not isinstance(url, str)
            or media_type not in (1, 2)
            or not _valid_v2(body)
        ):
            raise _Fail(47001)
        trace_id = _trace_id()
        self.media_requests.append(MediaRequest(trace_id, body["openid"], url, media_type, body["scene"]))
        if self._push is not None:
            task = asyncio.get_running_loop().create_task(self._deliver(trace_id, *self._push))
            self._push_tasks.add(task)
            task.add_done_callback(self._push_tasks.discard)
        return {"errcode": 0, "errmsg": "ok", "trace_id": trace_id}

    def push_event(self, trace_id: str) -> dict[str, Any]:
        """The wxa_media_check event WeChat pushes for ``trace_id`` (JSON data format)."""
        verdict = self.verdict_for(trace_id)
        request = next(r for r in self.media_requests if r.trace_id == trace_id)
        return {
            "ToUserName": "gh_" + self.app_id[-12:], "FromUserName": request.openid, "CreateTime": int(time.time()),
            "MsgType": "event", "Event": "wxa_media_check", "appid": self.app_id, "trace_id": trace_id,
            "version": 2, "errcode": 0, "errmsg": "ok",
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": verdict.suggest, "label": verdict.label}],
            "result": {"suggest": verdict.suggest, "label": verdict.label},
        }  # fmt: skip

    async def _deliver(self, trace_id: str, url: str, config: PushConfig, delay: float) -> None:
        """One push, retried as WeChat retries an unanswered or failed push (three more tries): a push
        can arrive before the check it answers is committed on our side, which then answers 409."""
        await asyncio.sleep(delay)
        status = 0
        for attempt in range(1 + PUSH_RETRIES):
            if attempt:
                await asyncio.sleep(PUSH_RETRY_WAIT * 2 ** (attempt - 1))
            query, body = signed_push(config, self.push_event(trace_id))
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    response = await client.post(
                        url, params=query, content=body, headers={"content-type": "application/json"}
                    )
                status = response.status_code
            except httpx.HTTPError as exc:
                logging.getLogger("wuye.fake_wechat").warning("verdict push to %s failed: %s", url, exc)
                status = 0
            if status < 500 and status not in (0, 409):
                break  # answered: accepted, or refused for a reason a retry does not change (403)
        self.pushes.append((trace_id, status))

    def _subscribe_send(self, request: Request) -> dict[str, Any]:
        self._check_token(request)
        body = _json_body(request)
        openid, template_id, data = body.get("touser"), body.get("template_id"), body.get("data")
        if not isinstance(openid, str) or not openid or not isinstance(template_id, str) or not template_id:
            raise _Fail(47003)
        if not isinstance(data, dict) or not all(
            isinstance(item, dict) and isinstance(item.get("value"), str) for item in data.values()
        ):
            raise _Fail(47003)
        if openid in self.unauthorized_openids:
            raise _Fail(43101)
        page = body.get("page")
        values = {key: item["value"] for key, item in data.items()}
        self.sent_messages.append(
            SentMessage(openid, template_id, page if isinstance(page, str) else None, values)
        )
        return {"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**18)}

    # --- rules ---------------------------------------------------------------------------------------

    def _now(self) -> float:
        return time.monotonic() + self._offset

    def _check_app(self, appid: object, secret: object) -> None:
        if appid != self.app_id:
            raise _Fail(40013)
        if secret != self.app_secret:
            raise _Fail(40125)

    def _check_token(self, request: Request) -> None:
        token = request.query.get("access_token")
        if not token:
            raise _Fail(41001)
        expires_at = self._tokens.get(token)
        if expires_at is None:
            raise _Fail(40001)
        if expires_at <= self._now():
            raise _Fail(42001)

    def _redeem_login_code(self, code: str) -> tuple[str, str | None]:
        if not code:
            raise _Fail(41008)
        if code.startswith("err:"):
            try:
                errcode = int(code[4:])
            except ValueError:
                raise _Fail(40029) from None
            raise _Fail(errcode)
        if code.startswith("test:") and len(code) > 5:
            return code[5:], None
        entry = self._codes.pop(code, None)
        if entry is None or entry[2] <= self._now():
            raise _Fail(40029)
        return entry[0], entry[1]

    def _redeem_phone_code(self, code: str) -> tuple[str, str]:
        if match := _PHONE_CODE.fullmatch(code):
            return match.group(1), "86"
        entry = self._phone_codes.pop(code, None)
        if entry is None or entry[2] <= self._now():
            raise _Fail(40029)
        return entry[0], entry[1]


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise _Fail(47001) from None
    if not isinstance(body, dict):
        raise _Fail(47001)
    return body


def _valid_v2(body: dict[str, Any]) -> bool:
    openid = body.get("openid")
    return isinstance(openid, str) and bool(openid) and body.get("scene") in (1, 2, 3, 4)


def _trace_id() -> str:
    return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def _rid() -> str:
    return f" rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
