"""The one place where errors become HTTP: the domain error tree by base class (walking the MRO),
Sanic's own exceptions by their status, anything else as a logged 500 that reveals nothing."""

from __future__ import annotations

import logging
from typing import Any

from sanic import Request
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse

from core import errors
from core.jsonutil import dumpb
from miniprogram_api.context import request_id_of

log = logging.getLogger("wuye.errors")

STATUS: dict[type[errors.DomainError], int] = {
    errors.UnsupportedMedia: 415,
    errors.PayloadTooLarge: 413,
    errors.Invalid: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.MethodNotAllowed: 405,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.UpstreamError: 502,
    errors.Unavailable: 503,
    errors.DomainError: 500,
}

# Sanic raises these before a handler runs (routing, body limits, malformed requests).
SANIC_STATUS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    408: ("request_timeout", "请求超时"),
    413: ("payload_too_large", "提交的内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    416: ("range_not_satisfiable", "请求的范围无效"),
    417: ("expectation_failed", "无法满足请求的期望"),
    429: ("rate_limited", "操作过于频繁，请稍后再试"),
    503: ("unavailable", "服务暂时不可用，请稍后再试"),
}


def status_for(exc: errors.DomainError) -> int:
    for klass in type(exc).__mro__:
        if klass in STATUS:
            return STATUS[klass]  # type: ignore[index]
    return 500


def envelope(code: str, message: str, request_id: str, details: Any = None) -> bytes:
    return dumpb({"code": code, "message": message, "request_id": request_id, "details": details})


def error_response(request: Request | None, exc: BaseException) -> HTTPResponse:
    rid = request_id_of(request) if request is not None else "-"
    headers: dict[str, str] = {"X-Request-ID": rid}
    if isinstance(exc, errors.DomainError):
        status = status_for(exc)
        body = envelope(exc.error_code, exc.user_message, rid, exc.details)
        if (
            isinstance(exc, errors.RateLimited)
            and isinstance(exc.details, dict)
            and "retry_after" in exc.details
        ):
            headers["Retry-After"] = str(exc.details["retry_after"])
        if status >= 500:
            log.error("domain error %s: %s", exc.error_code, exc, extra={"request_id": rid})
    elif isinstance(exc, SanicException) and exc.status_code in SANIC_STATUS:
        status = exc.status_code
        code, message = SANIC_STATUS[status]
        body = envelope(code, message, rid)
        if status == 405 and getattr(exc, "headers", None):
            headers.update({k: v for k, v in exc.headers.items() if k.lower() == "allow"})
    elif isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
        status = exc.status_code
        body = envelope("bad_request", "请求格式不正确", rid)
    else:
        status = 500
        log.exception("unhandled error", exc_info=exc, extra={"request_id": rid})
        body = envelope("internal_error", "服务器内部错误，请稍后再试", rid)
    return HTTPResponse(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


class EnvelopeErrorHandler(ErrorHandler):
    """Every error, including those Sanic raises before routing, comes back as the JSON envelope."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:  # type: ignore[override]
        return error_response(request, exception)
