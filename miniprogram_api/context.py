"""Per-request context: the request id (on every response and log line)."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

_REQUEST_ID = contextvars.ContextVar("request_id", default="-")
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_of(request: Any) -> str:
    """The id of this request: the caller's X-Request-ID when it is sane, else a new one. Assigned
    lazily so that errors raised before middleware (routing, body limits) still carry one."""
    ctx = getattr(request, "ctx", None)
    rid = getattr(ctx, "request_id", None) if ctx is not None else None
    if rid:
        return str(rid)
    given = request.headers.get("x-request-id", "") if getattr(request, "headers", None) else ""
    rid = given if _VALID.match(given) else uuid.uuid4().hex
    if ctx is not None:
        ctx.request_id = rid
    _REQUEST_ID.set(rid)
    return rid


def current_request_id() -> str:
    return _REQUEST_ID.get()


class RequestIdFilter(logging.Filter):
    """Adds request_id to every log record so the format can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _REQUEST_ID.get()
        return True
