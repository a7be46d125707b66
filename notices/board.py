"""The board as residents see it: pinned first then newest, cursor pages, unread marks, a category
filter; a notice, its visible history, and read receipts. Cached per compound (notices.cache)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from accounts.models import Compound
from accounts.roles import Role
from core import clock, pages
from core.cache import Cache
from core.jsonutil import dumpb, loads
from notices import cache as board_cache
from notices.errors import AudienceRestricted, NoticeInvalid, NoticeNotFound
from notices.models import Notice, NoticeAck, NoticeAttachment, NoticeRead, NoticeRevision
from notices.rules import CATEGORIES, Audience, Category, Scope, Status, audiences_for

MAX_LIMIT = 50
_ITEM_START = re.compile(rb'\{"unread":true,"id":(\d+),')


def in_board_of(compound_id: int, community_id: int) -> Q:
    """The notices a compound's board shows: its own, its community's, the county's."""
    return (
        Q(compound_id=compound_id)
        | Q(scope=Scope.COMMUNITY, community_id=community_id)
        | Q(scope=Scope.COUNTY)
    )


def encode_cursor(pinned: bool, publish_at: datetime, notice_id: int) -> str:
    raw = dumpb([int(pinned), clock.iso_utc(publish_at), notice_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_MAX_ID = 2**31 - 1


def decode_cursor(cursor: str) -> tuple[bool, datetime, int]:
    """A cursor is client input: anything but exactly what encode_cursor writes is refused."""
    invalid = NoticeInvalid("分页参数无效", code="cursor_invalid")
    try:
        decoded = loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        pinned, moment, notice_id = decoded
        if pinned not in (0, 1) or isinstance(pinned, bool) or not isinstance(moment, str):
            raise invalid
        if not isinstance(notice_id, int) or isinstance(notice_id, bool) or not 1 <= notice_id <= _MAX_ID:
            raise invalid
        at = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except (ValueError, TypeError) as exc:
        raise invalid from exc
    if at.tzinfo is None:
        raise invalid
    return bool(pinned), at, notice_id


def _after(cursor: str) -> Q:
    pinned, at, notice_id = decode_cursor(cursor)
    later_in_order = Q(publish_at__lt=at) | Q(publish_at=at, id__lt=notice_id)
    if pinned:
        return Q(pinned=False) | (Q(pinned=True) & later_in_order)
    return Q(pinned=False) & later_in_order


def item(notice: Notice) -> dict[str, Any]:
    assert notice.publish_at is not None
    return {
        "unread": True,  # first: board() flips it per person on the cached bytes
        "id": notice.id,
        "category": notice.category,
        "category_label": CATEGORIES[Category(notice.category)].label,
        "scope": notice.scope.value,
        "title": notice.title,
        "summary": notice.summary,
        "publisher": notice.publisher,
        "audience": notice.audience.value,
        "pinned": notice.pinned,
        "revision": notice.revision,
        "publish_at": clock.iso_utc(notice.publish_at),
        "expires_at": clock.iso_utc(notice.expires_at) if notice.expires_at else None,
    }


async def _community_of(compound_id: int) -> int:
    compound = await Compound.get_or_none(id=compound_id).only("id", "community_id")
    if compound is None:
        raise NoticeNotFound()
    return int(compound.community_id)  # type: ignore[attr-defined]


async def _build_page(
    compound_id: int, audiences: tuple[Audience, ...], category: str | None, cursor: str | None, limit: int
) -> tuple[dict[str, Any], float]:
    """One page from the database, and how long it may be cached."""
    now = clock.now()
    scope = in_board_of(compound_id, await _community_of(compound_id))
    visible = Q(status=Status.PUBLISHED, audience__in=list(audiences)) & scope
    query = Notice.filter(visible, publish_at__lte=now).filter(Q(expires_at=None) | Q(expires_at__gt=now))
    if category:
        query = query.filter(category=category)
    if cursor:
        query = query.filter(_after(cursor))
    rows = await query.order_by("-pinned", "-publish_at", "-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    page = {
        "items": [item(n) for n in rows],
        "next_cursor": encode_cursor(last.pinned, last.publish_at, last.id)
        if last and last.publish_at
        else None,
    }
    # The page changes by itself when a scheduled notice goes live or a live one expires.
    upcoming = await Notice.filter(visible, publish_at__gt=now).order_by("publish_at").first()
    ending = await Notice.filter(visible, expires_at__gt=now).order_by("expires_at").first()
    ttl = board_cache.BOARD_TTL
    for moment in (upcoming.publish_at if upcoming else None, ending.expires_at if ending else None):
        if moment is not None:
            ttl = min(ttl, (moment - now).total_seconds())
    return page, ttl


async def read_ids(cache: Cache, user_id: int) -> set[int]:
    key = board_cache.reads_key(user_id)
    cached = await board_cache.get_json(cache, key)
    if isinstance(cached, list):
        return set(cached)
    ids = await NoticeRead.filter(user_id=user_id).values_list("notice_id", flat=True)
    await board_cache.set_json(cache, key, sorted(ids), board_cache.READS_TTL)  # type: ignore[type-var]
    return set(ids)  # type: ignore[arg-type]


async def board(
    cache: Cache,
    *,
    compound_id: int,
    user_id: int,
    roles: Iterable[Role],
    category: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> bytes:
    """One page of the board as JSON, with this person's unread marks."""
    if category is not None and category not in CATEGORIES:
        raise NoticeInvalid("未知的公告类别", code="category_unknown")
    limit = max(1, min(limit, MAX_LIMIT))
    audiences = audiences_for(roles)
    level = "owners" if Audience.OWNERS in audiences else "everyone"
    token = await board_cache.version(cache, compound_id)
    key = board_cache.page_key(compound_id, token, level, category, cursor, limit)
    page = await cache.get(key)
    if page is None:
        built, ttl = await _build_page(compound_id, audiences, category, cursor, limit)
        page = dumpb(built)
        if ttl > 0:
            await cache.set(key, page, ttl=ttl)
    # The page is shared by everyone at this audience level and kept as bytes: decoding and
    # re-encoding it per request cost more than the rest of the request. Every item starts with
    # {"unread":true,"id":N, (see item()), so a person's marks are a byte replacement.
    seen = await read_ids(cache, user_id)
    for notice_id in seen.intersection(int(n) for n in _ITEM_START.findall(page)):
        page = page.replace(b'{"unread":true,"id":%d,' % notice_id, b'{"unread":false,"id":%d,' % notice_id)
    return page


async def visible_notice(compound_id: int, notice_id: int, roles: Iterable[Role]) -> Notice:
    """A live notice of this compound's board that these roles may read, or an error."""
    community_id = await _community_of(compound_id)
    notice = await Notice.filter(in_board_of(compound_id, community_id), id=notice_id).first()
    now = clock.now()
    if notice is None or notice.status is not Status.PUBLISHED or notice.publish_at is None:
        raise NoticeNotFound()
    if notice.publish_at > now or (notice.expires_at is not None and notice.expires_at <= now):
        raise NoticeNotFound()
    if notice.audience not in audiences_for(roles):
        raise AudienceRestricted()
    return notice


async def record_read(cache: Cache, notice: Notice, user_id: int) -> bool:
    """A read receipt, once per person; True when this was the first read."""
    try:
        await NoticeRead.create(notice_id=notice.id, user_id=user_id)
    except IntegrityError:
        return False
    await Notice.filter(id=notice.id).update(read_count=F("read_count") + 1)
    await cache.delete(board_cache.reads_key(user_id))
    return True


async def detail(
    cache: Cache, *, compound_id: int, notice_id: int, user_id: int, roles: Iterable[Role]
) -> dict[str, Any]:
    """The notice with its current text and attachments; opening it records the read receipt."""
    notice = await visible_notice(compound_id, notice_id, roles)
    revision = await NoticeRevision.get(notice_id=notice.id, number=notice.revision)
    attachments = await NoticeAttachment.filter(notice_id=notice.id).order_by("id")
    first_read = await record_read(cache, notice, user_id)
    history = await NoticeRevision.filter(notice_id=notice.id, published_at__not_isnull=True).count()
    ack = await NoticeAck.get_or_none(notice_id=notice.id, user_id=user_id) if notice.requires_ack else None
    return {
        **item(notice),
        "unread": False,
        "body_html": revision.body_html,
        "data": notice.data,
        "attachments": [attachment_out(a) for a in attachments],
        "published_revisions": history,
        "first_read": first_read,
        "requires_ack": notice.requires_ack,
        "acknowledged_at": ack.acknowledged_at if ack else None,
    }


def attachment_out(attachment: NoticeAttachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "kind": attachment.kind.value,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "byte_size": attachment.byte_size,
    }


async def history_page(
    *, compound_id: int, notice_id: int, roles: Iterable[Role], cursor: str | None = None, limit: int = 20
) -> pages.Page[dict[str, Any]]:
    """The revisions ever published, oldest first, as keyset pages by revision number."""
    notice = await visible_notice(compound_id, notice_id, roles)
    revisions = (
        await NoticeRevision.filter(
            notice_id=notice.id, published_at__not_isnull=True, number__gt=pages.after(cursor)
        )
        .order_by("number")
        .limit(limit + 1)
    )
    found = pages.page(revisions, limit, key=lambda r: r.number)
    return pages.Page([_revision_row(r) for r in found.items], found.next_cursor)


def _revision_row(r: NoticeRevision) -> dict[str, Any]:
    return {
        "number": r.number,
        "title": r.title,
        "body_html": r.body_html,
        "note": r.note,
        "editor": r.editor_name,
        "published_at": clock.iso_utc(r.published_at) if r.published_at else None,
    }


async def history(*, compound_id: int, notice_id: int, roles: Iterable[Role]) -> list[dict[str, Any]]:
    """Every revision that was ever published, oldest first: corrections stay visible."""
    notice = await visible_notice(compound_id, notice_id, roles)
    revisions = await NoticeRevision.filter(notice_id=notice.id, published_at__not_isnull=True).order_by(
        "number"
    )
    return [
        {
            "number": r.number,
            "title": r.title,
            "body_html": r.body_html,
            "note": r.note,
            "editor": r.editor_name,
            "published_at": clock.iso_utc(r.published_at) if r.published_at else None,
        }
        for r in revisions
    ]
