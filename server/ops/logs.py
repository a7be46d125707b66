"""Logs: one JSON object per line (LOG_FORMAT=json, production's default) or text for people, and one
access line per request (route name, method, status, duration, request id, user id).

No personal numbers or tokens reach a log line: every message, argument and traceback passes through
``scrub``, which applies wechat.redact (secrets and login codes in URLs) and masks mainland mobile
numbers and resident ID numbers wherever they appear; the access line names the route, never the path
or the query string, which could carry them.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import time
from typing import Any

import orjson
from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from config.settings import Settings
from miniprogram_api.context import RequestIdFilter
from wechat.redact import redact

ACCESS = logging.getLogger("wuye.access")
# 18-digit resident ID (last character a digit or X) and 11-digit mobile numbers, not inside longer
# runs of digits (hashes, ids, timestamps are left alone) nor of hex (sha256 values in the audit log)
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}\d{7}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d{9}(?![0-9A-Za-z])")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# Fields of the access line a record may carry (set with extra={...}); anything else is not emitted
FIELDS = ("route", "method", "status", "duration_ms", "user_id")


def scrub(text: str) -> str:
    text = redact(text)
    text = _ID_NUMBER.sub("[id-number]", text)
    text = _PHONE.sub("[phone]", text)
    return _BEARER.sub(r"\1***", text)


class ScrubFilter(logging.Filter):
    """Renders the message once, scrubbed, so neither formatter can print a raw argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = str(record.msg)
        record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_text:
            line["exception"] = record.exc_text
        return orjson.dumps(line).decode()


TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record is emitted (as logging's last-resort handler
    does), so a stream swapped after start-up (a test's capture, a supervisor's redirect) is followed."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure(settings: Settings, level: int = logging.INFO) -> None:
    """The "wuye" loggers (and Sanic's, which report server errors) on one scrubbed handler."""
    handler = StderrHandler()
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ScrubFilter())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    for name in ("wuye", "sanic.error", "sanic.root"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def _user_id(request: Request) -> int | None:
    # set by the authentication of a route that needs a session (miniprogram_api.auth)
    for name in ("user_id", "user"):
        value = getattr(request.ctx, name, None)
        if isinstance(value, int):
            return value
        if value is not None and isinstance(getattr(value, "id", None), int):
            return int(value.id)
    return None


def install(app: Sanic, settings: Settings) -> None:
    """JSON or text logging when the server starts, and the access line of every request."""

    @app.before_server_start
    async def _configure(app: Sanic) -> None:
        configure(settings)

    async def _start(request: Request) -> None:
        request.ctx.log_started = time.perf_counter()

    async def _access(request: Request, response: BaseHTTPResponse) -> None:
        started = getattr(request.ctx, "log_started", None)
        if started is None:
            return
        route = "unmatched" if request.route is None else str(request.route.name).removeprefix(f"{app.name}.")
        ACCESS.info(
            "%s %s %s",
            request.method,
            route,
            response.status,
            extra={
                "route": route,
                "method": request.method,
                "status": response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": _user_id(request),
            },
        )

    app.register_middleware(_start, "request", priority=99)
    app.register_middleware(_access, "response", priority=-99)
