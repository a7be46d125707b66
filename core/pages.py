"""Keyset pages for every list a service returns: ``{items, next_cursor}``, never an offset.

A page is ordered by id (ascending, or descending for "newest first"); ``next_cursor`` is the last id
of the page as an opaque string to the client, None on the last page. A page asks for one row more
than it returns, so a cursor never leads to an empty page. A cursor is client input: anything but
what a page wrote is refused (400 ``cursor_invalid``) before the database sees it.

    after = pages.after(cursor)
    rows = await Model.filter(..., id__gt=after).order_by("id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda r: r.id)

    before = pages.before(cursor)                     # newest first (None: no bound)
    query = Model.filter(...) if before is None else Model.filter(..., id__lt=before)

What a client holds is never that raw cursor: at the HTTP boundary every ``next_cursor`` is sealed
(``seal``: HMAC-SHA256 under a key derived from SECRET_KEY, bound to the route) and every ``cursor``
unsealed (``unseal``) before the query model or the service sees it, so a client can neither forge
a position nor carry one to another list; anything tampered is ``cursor_invalid`` (400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import Invalid

MAX_LIMIT = 50
MAX_ID = 2**31 - 1
# A sealed cursor: base64url (no padding) of a 12-byte tag and the raw cursor of at most RAW_MAX bytes.
CURSOR_MAX_LENGTH = 160
_TAG = 12
RAW_MAX = CURSOR_MAX_LENGTH * 3 // 4 - _TAG
_CURSOR = re.compile(r"[1-9][0-9]{0,9}")
_SEALED = re.compile(r"[A-Za-z0-9_-]+")

T = TypeVar("T")


class CursorInvalid(Invalid):
    code = "cursor_invalid"
    message = "分页参数无效，请从第一页重新加载"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _id_of(cursor: str) -> int:
    if not _CURSOR.fullmatch(cursor) or int(cursor) > MAX_ID:
        raise CursorInvalid()
    return int(cursor)


def after(cursor: str | None) -> int:
    """The id an ascending page continues after (0: from the start)."""
    return 0 if cursor is None else _id_of(cursor)


def before(cursor: str | None) -> int | None:
    """The id a descending page continues below (None: from the newest; no bound is compared, since
    one beyond every id would overflow PostgreSQL's 32-bit ids)."""
    return None if cursor is None else _id_of(cursor)


def page(rows: list[T], limit: int, key: Callable[[T], int]) -> Page[T]:
    """``rows`` were fetched with ``limit + 1``: a row beyond the limit says there is a next page."""
    kept = rows[:limit]
    return Page(kept, str(key(kept[-1])) if len(rows) > limit else None)


def cursor_key(secret: str) -> bytes:
    """The key cursors are sealed with, derived from the server's secret (never the secret itself)."""
    return hmac.new(secret.encode(), b"wuye/cursor/v1", hashlib.sha256).digest()


def _tag(key: bytes, scope: str, raw: bytes) -> bytes:
    return hmac.new(key, scope.encode() + b"\x00" + raw, hashlib.sha256).digest()[:_TAG]


def seal(raw: str, *, key: bytes, scope: str) -> str:
    """The opaque cursor a client is handed for ``raw`` (what a service's page wrote) on ``scope``
    (the route). A raw cursor too long to seal within CURSOR_MAX_LENGTH is a bug, not input."""
    data = raw.encode()
    if len(data) > RAW_MAX:
        raise ValueError(f"raw cursor of {len(data)} bytes exceeds {RAW_MAX}")
    return base64.urlsafe_b64encode(_tag(key, scope, data) + data).rstrip(b"=").decode()


def unseal(token: str, *, key: bytes, scope: str) -> str:
    """The raw cursor inside a sealed one; anything ``seal`` did not write for this key and scope
    (edited, truncated, forged, from another route, too long) is CursorInvalid."""
    if not 0 < len(token) <= CURSOR_MAX_LENGTH or not _SEALED.fullmatch(token):
        raise CursorInvalid()
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise CursorInvalid() from None
    if base64.urlsafe_b64encode(blob).rstrip(b"=").decode() != token:
        raise CursorInvalid()  # one text per cursor: no variant in the unused bits of the last character
    tag, data = blob[:_TAG], blob[_TAG:]
    if not data or not hmac.compare_digest(tag, _tag(key, scope, data)):
        raise CursorInvalid()
    try:
        return data.decode()
    except UnicodeDecodeError:  # pragma: no cover - only what seal wrote gets past the tag
        raise CursorInvalid() from None
