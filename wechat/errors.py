"""WeChat errors in the product's error tree (core/errors.py).

    Invalid
    └── WeChatCodeInvalid          wechat_code_invalid         40029 / 40163 / 41008: bad, used, missing code
    Forbidden
    └── WeChatUserBlocked          wechat_user_blocked         40226: risky account, login refused
    Conflict
    └── WeChatSubscribeRefused     wechat_subscribe_refused    43101: no subscribe authorization left
    RateLimited
    └── WeChatRateLimited          wechat_rate_limited         45011: too frequent
    Unavailable
    ├── WeChatBusy                 wechat_busy                 -1 or an HTTP 5xx: system busy
    └── WeChatUnreachable          wechat_unreachable          timeout or connection error
    UpstreamError
    └── WeChatError                wechat_error                any other errcode (in details)
        └── WeChatWatermarkMismatch  wechat_watermark_mismatch  phone data issued to another appid

``details`` carries the errcode, WeChat's errmsg and the API path, never a URL (its query holds the
secret or the access token).
"""

from __future__ import annotations

from core.errors import Conflict, DomainError, Forbidden, Invalid, RateLimited, Unavailable, UpstreamError


class WeChatCodeInvalid(Invalid):
    code = "wechat_code_invalid"
    message = "登录凭证无效或已过期，请重新进入小程序"


class WeChatUserBlocked(Forbidden):
    code = "wechat_user_blocked"
    message = "该微信账号存在风险，已被限制登录"


class WeChatSubscribeRefused(Conflict):
    code = "wechat_subscribe_refused"
    message = "用户未授权接收该订阅消息或授权次数已用完"


class WeChatRateLimited(RateLimited):
    code = "wechat_rate_limited"
    message = "微信接口调用过于频繁，请稍后再试"


class WeChatBusy(Unavailable):
    code = "wechat_busy"
    message = "微信服务繁忙，请稍后再试"


class WeChatUnreachable(Unavailable):
    code = "wechat_unreachable"
    message = "暂时无法连接微信服务，请稍后再试"


class WeChatError(UpstreamError):
    code = "wechat_error"
    message = "微信服务返回错误，请稍后再试"


class WeChatWatermarkMismatch(WeChatError):
    code = "wechat_watermark_mismatch"
    message = "手机号数据校验失败，请重新授权"


PHONE_CODE_INVALID_MESSAGE = "手机号授权凭证无效或已过期，请重新授权"

# Token errors the client recovers from by dropping its cached token and retrying once.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})

_BY_ERRCODE: dict[int, type[DomainError]] = {
    40029: WeChatCodeInvalid,
    40163: WeChatCodeInvalid,  # code already used (the real API's answer to a second use)
    41008: WeChatCodeInvalid,  # missing code
    40226: WeChatUserBlocked,
    43101: WeChatSubscribeRefused,
    45011: WeChatRateLimited,
    -1: WeChatBusy,
}


def error_for(errcode: int, errmsg: str, api: str) -> DomainError:
    """The error to raise for a non-zero WeChat errcode answered by ``api`` (a path, no query)."""
    cls = _BY_ERRCODE.get(errcode, WeChatError)
    return cls(details={"errcode": errcode, "errmsg": errmsg[:200], "api": api})
