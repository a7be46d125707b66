"""Keep the app secret, access tokens and login codes out of httpx's request log.

httpx logs every request URL at INFO ("HTTP Request: GET https://…?secret=…"), and WeChat's
jscode2session takes the secret in the query, so any deployment logging at INFO would leak it.
"""

from __future__ import annotations

import logging
import re

import httpx

_SENSITIVE = re.compile(r"((?:^|[?&])(?:secret|access_token|js_code)=)[^&#\s\"]*")


def redact(text: str) -> str:
    return _SENSITIVE.sub(r"\1***", text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def _redact_arg(arg: object) -> object:
    if isinstance(arg, str | bytes | httpx.URL):
        text = arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)
        cleaned = redact(text)
        return cleaned if cleaned != text else arg
    return arg


def install_httpx_redaction() -> None:
    """Idempotent: add the filter to the ``httpx`` logger once per process."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactFilter) for existing in logger.filters):
        logger.addFilter(RedactFilter())
