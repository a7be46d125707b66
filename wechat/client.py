"""Our async WeChat mini-program client, on httpx, against the official endpoints and JSON shapes.

wechatpy is synchronous, fetches a token before jscode2session, has no stable_token and sends the old v1
content-security bodies, so the few calls we need are written here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from core import jsonutil
from core.cache import Cache
from core.errors import DomainError, Unavailable, UpstreamError
from wechat.errors import (
    PHONE_CODE_INVALID_MESSAGE,
    TOKEN_ERRCODES,
    WeChatBusy,
    WeChatCodeInvalid,
    WeChatError,
    WeChatUnreachable,
    WeChatWatermarkMismatch,
    error_for,
)
from wechat.protocol import LoginSession, PhoneNumber, SecurityVerdict, Suggest, WeChatApi
from wechat.redact import install_httpx_redaction
from wechat.token import AccessTokenCache

DEFAULT_BASE_URL = "https://api.weixin.qq.com"
MAX_CODE_LENGTH = 256
_E = TypeVar("_E", bound=DomainError)

log = logging.getLogger("wechat.client")


class WeChatClient:
    """Implements ``wechat.protocol.WeChatApi``. One instance per worker; workers share the token through
    ``cache``. Pass ``http`` to share a connection pool (it is then not closed by ``aclose``)."""

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        cache: Cache,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        timeout: float = 5,
    ) -> None:
        if not app_id or not app_secret:
            raise ValueError("app_id and app_secret are required")
        self.app_id = app_id
        self._secret = app_secret
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        # Waiting longer than one token request may take, so a slow refresher elsewhere is not a failure.
        self._tokens = AccessTokenCache(
            cache, app_id, self._fetch_token, lock_wait=3 * timeout + 1, lock_ttl=4 * timeout + 5
        )
        install_httpx_redaction()

    def __repr__(self) -> str:
        return f"WeChatClient(app_id={self.app_id!r}, base_url={self._base_url!r})"

    async def code2session(self, code: str) -> LoginSession:
        _check_code(code)
        path = "/sns/jscode2session"
        params = {"appid": self.app_id, "secret": self._secret, "js_code": code}
        data = _checked(
            path, await self._send("GET", path, params={**params, "grant_type": "authorization_code"})
        )
        openid, session_key = data.get("openid"), data.get("session_key")
        if not isinstance(openid, str) or not openid or not isinstance(session_key, str) or not session_key:
            raise WeChatError(details={"api": path, "reason": "answer without openid or session_key"})
        unionid = data.get("unionid")
        return LoginSession(openid=openid, session_key=session_key, unionid=unionid or None)

    async def phone_number(self, code: str) -> PhoneNumber:
        _check_code(code, PHONE_CODE_INVALID_MESSAGE)
        path = "/wxa/business/getuserphonenumber"
        try:
            data = await self._with_token(path, {"code": code})
        except WeChatCodeInvalid as exc:
            raise WeChatCodeInvalid(PHONE_CODE_INVALID_MESSAGE, details=exc.details) from None
        info = data.get("phone_info")
        if not isinstance(info, dict):
            raise WeChatError(details={"api": path, "reason": "answer without phone_info"})
        watermark = info.get("watermark")
        appid = watermark.get("appid") if isinstance(watermark, dict) else None
        if appid != self.app_id:
            # The phone data must have been issued to this mini-program, not handed over from another.
            raise WeChatWatermarkMismatch(details={"api": path, "watermark_appid": appid})
        return PhoneNumber(
            phone=str(info.get("phoneNumber", "")),
            pure_phone=str(info.get("purePhoneNumber", "")),
            country_code=str(info.get("countryCode", "")),
        )

    async def access_token(self) -> str:
        return await self._tokens.get()

    async def msg_sec_check(self, *, openid: str, content: str, scene: int) -> SecurityVerdict:
        path = "/wxa/msg_sec_check"
        body = {"content": content, "version": 2, "scene": int(scene), "openid": openid}
        data = await self._with_token(path, body)
        result = data.get("result")
        result = result if isinstance(result, dict) else {}
        suggest = result.get("suggest")
        label = result.get("label")
        return SecurityVerdict(
            # An answer we do not understand goes to a person rather than straight out.
            suggest=_as_suggest(suggest),
            label=label if isinstance(label, int) else 0,
            trace_id=str(data.get("trace_id", "")),
        )

    async def media_check_async(self, *, openid: str, media_url: str, media_type: int, scene: int) -> str:
        path = "/wxa/media_check_async"
        body = {
            "media_url": media_url,
            "media_type": int(media_type),
            "version": 2,
            "scene": int(scene),
            "openid": openid,
        }
        data = await self._with_token(path, body)
        trace_id = data.get("trace_id")
        if not isinstance(trace_id, str) or not trace_id:
            raise WeChatError(details={"api": path, "reason": "answer without trace_id"})
        return trace_id

    async def send_subscribe(
        self, *, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None
    ) -> None:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
        }
        if page:
            body["page"] = page
        await self._with_token("/cgi-bin/message/subscribe/send", body)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _fetch_token(self) -> tuple[str, int]:
        path = "/cgi-bin/stable_token"
        body = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._secret,
            "force_refresh": False,
        }
        data = _checked(path, await self._send("POST", path, body=body))
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
            raise WeChatError(details={"api": path, "reason": "answer without access_token"})
        log.info("wechat access token refreshed, expires in %d s", expires_in)
        return token, expires_in

    async def _with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        token = await self._tokens.get()
        data = await self._send("POST", path, params={"access_token": token}, body=body)
        if _errcode(data) in TOKEN_ERRCODES:
            # Expired early or replaced by a forced refresh elsewhere: forget it and try once more.
            log.warning(
                "wechat refused the access token on %s (errcode %s), refreshing", path, data["errcode"]
            )
            await self._tokens.drop(token)
            token = await self._tokens.get()
            data = await self._send("POST", path, params={"access_token": token}, body=body)
        return _checked(path, data)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One HTTP exchange; errors never carry the URL, whose query holds the secret or the token."""
        content = None if body is None else jsonutil.dumpb(body)  # UTF-8, Chinese not \\u-escaped
        headers = None if body is None else {"Content-Type": "application/json"}
        try:
            response = await self._http.request(
                method, self._base_url + path, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException:
            raise _unreachable(path, "timeout") from None
        except httpx.TransportError as exc:
            raise _unreachable(path, type(exc).__name__) from None
        if response.status_code >= 500:
            raise _logged(WeChatBusy(details={"api": path, "status": response.status_code}))
        if response.status_code != 200:
            raise _logged(WeChatError(details={"api": path, "status": response.status_code}))
        try:
            # WeChat labels some JSON answers text/plain, so the content type is not trusted.
            data = jsonutil.loads(response.content)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _logged(WeChatError(details={"api": path, "reason": "answer is not a JSON object"}))
        return data


def _check_code(code: str, message: str | None = None) -> None:
    # Obviously bad codes are the caller's fault (a 4xx), not worth a round trip.
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE_LENGTH:
        raise WeChatCodeInvalid(message, details={"reason": "empty or oversized code"})


def _errcode(data: Mapping[str, Any]) -> int:
    errcode = data.get("errcode", 0)
    return errcode if isinstance(errcode, int) else -2  # not an int: unknown error, never success


def _checked(path: str, data: dict[str, Any]) -> dict[str, Any]:
    errcode = _errcode(data)
    if errcode != 0:
        raise _logged(error_for(errcode, str(data.get("errmsg", "")), path))
    return data


def _as_suggest(value: object) -> Suggest:
    if value == "pass":
        return "pass"
    if value == "risky":
        return "risky"
    return "review"


def _unreachable(path: str, reason: str) -> WeChatUnreachable:
    return _logged(WeChatUnreachable(details={"api": path, "reason": reason}))


def _logged(error: _E) -> _E:
    # A bad code or a refused subscription is the user's business; an outage or an odd answer is ours.
    level = logging.WARNING if isinstance(error, Unavailable | UpstreamError) else logging.INFO
    log.log(level, "wechat call failed: %s %s", error.error_code, error.details)
    return error


if TYPE_CHECKING:

    def _conforms(client: WeChatClient) -> WeChatApi:  # mypy holds the client to the protocol
        return client
