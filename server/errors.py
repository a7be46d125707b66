"""The one place where errors become HTTP: the domain error tree by base class (walking the MRO),
Sanic's own exceptions by their status, an unreachable database or cache as 503 (unavailable_for),
a request cut short by the client or by shutdown quietly, anything else as a logged 500 that
reveals nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from types import TracebackType
from typing import Any

from sanic import Request
from sanic.exceptions import RequestCancelled, SanicException, ServerError
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


# Errors that say a connection to the database or the cache could not be made or was lost (an
# outage, a restart, a terminated backend): the request may succeed when asked again.
_SQLITE_BUSY = ("database is locked", "database table is locked", "unable to open database")


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _modules(tb: TracebackType | None) -> set[str]:
    names: set[str] = set()
    while tb is not None:
        names.add(str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0])
        tb = tb.tb_next
    return names


def unavailable_for(exc: BaseException) -> errors.Unavailable | None:
    """The 503 for an exception raised because the database or the cache is unreachable, or None."""
    import asyncpg
    import redis.exceptions
    from tortoise.exceptions import DBConnectionError

    for link in _chain(exc):
        if isinstance(link, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return errors.CacheUnavailable()
        if isinstance(
            link,
            asyncpg.PostgresConnectionError
            | asyncpg.InterfaceError  # "connection is closed", "pool is closing", ...
            | asyncpg.exceptions.OperatorInterventionError  # terminated, shutting down, starting up
            | asyncpg.exceptions.InsufficientResourcesError  # too many connections
            | asyncpg.InternalClientError  # a terminated connection caught between two states
            | DBConnectionError,
        ):
            return errors.DatabaseUnavailable()
        if isinstance(link, sqlite3.OperationalError) and str(link).startswith(_SQLITE_BUSY):
            return errors.DatabaseUnavailable()
        if isinstance(link, ConnectionError | TimeoutError | OSError) and not isinstance(
            link, FileNotFoundError | PermissionError
        ):
            # A socket error carries no name of its service: the code it came through says which.
            modules = _modules(link.__traceback__)
            if "redis" in modules:
                return errors.CacheUnavailable()
            if modules & {"asyncpg", "tortoise", "aiosqlite"}:
                return errors.DatabaseUnavailable()
    return None


def _field_validation_error(exc: BaseException) -> bool:
    from tortoise.exceptions import ValidationError

    return any(isinstance(link, ValidationError) for link in _chain(exc))


def _integrity_error(exc: BaseException) -> bool:
    from tortoise.exceptions import IntegrityError

    return any(isinstance(link, IntegrityError | sqlite3.IntegrityError) for link in _chain(exc))


def _retry_after(exc: errors.DomainError) -> int | None:
    value = getattr(exc, "retry_after", None)
    if value is None and isinstance(exc.details, dict):
        value = exc.details.get("retry_after") if isinstance(exc, errors.RateLimited) else None
    return None if value is None else max(1, int(value))


def error_response(request: Request | None, exc: BaseException) -> HTTPResponse:
    rid = request_id_of(request) if request is not None else "-"
    headers: dict[str, str] = {"X-Request-ID": rid}
    if not isinstance(exc, errors.DomainError | SanicException):
        outage = unavailable_for(exc)
        if outage is not None:
            log.warning("%s: %s: %s", outage.error_code, type(exc).__name__, exc, extra={"request_id": rid})
            exc = outage
        elif _field_validation_error(exc):
            # A value no column can hold (too long, out of range) reached a query: nothing can match it.
            log.warning("field validation: %s", exc, extra={"request_id": rid})
            exc = errors.Invalid("提交的内容超出允许的长度或范围", code="value_out_of_range")
        elif _integrity_error(exc):
            # A constraint said no (a duplicate, or an id naming nothing): the database kept its
            # invariant, so the request conflicts with the state; services should catch the ones they
            # expect and say more, but none of them is a server fault.
            log.warning("integrity: %s", exc, extra={"request_id": rid})
            exc = errors.Conflict(
                "提交的内容与现有数据冲突（重复或引用了不存在的对象）", code="integrity_conflict"
            )
        elif isinstance(exc, asyncio.CancelledError):
            # The client went away (nobody reads this answer) or the server is stopping.
            quiet = isinstance(exc, RequestCancelled)
            log.log(logging.DEBUG if quiet else logging.INFO, "request cancelled", extra={"request_id": rid})
            exc = errors.Unavailable("服务正在重启，请稍后再试", code="shutting_down")
    elif isinstance(exc, ServerError) and str(exc) == "Handler produced no response":
        # Sanic says so when shutdown cancelled a handler: nothing is wrong with the request.
        log.info("handler stopped by shutdown", extra={"request_id": rid})
        exc = errors.Unavailable("服务正在重启，请稍后再试", code="shutting_down")
    if isinstance(exc, errors.DomainError):
        status = status_for(exc)
        body = envelope(exc.error_code, exc.user_message, rid, exc.details)
        retry_after = _retry_after(exc)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if status >= 500 and not isinstance(exc, errors.Unavailable):
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
