"""The one shape of every list route: ``Page[T]`` = ``{items, next_cursor}`` with a bounded ``limit``
and an opaque keyset ``cursor`` (core.pages); tests/server/test_conventions.py holds every route whose
answer is a list to it.

    class MotionsQuery(PageQuery):
        status: MotionStatus | None = None

    @endpoint(bp, "GET", "/mine", ..., query=MotionsQuery, response=Page[MotionOut])
    async def mine(request, call):
        page = await service.mine(user, cursor=call.query.cursor, limit=call.query.limit)
        return Page[MotionOut].of(page, MotionOut.from_row)

A list that is an enumeration bounded by construction (the complaint categories, a notice's
revisions) may instead declare ``Field(max_length=...)`` on its ``items``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from core import pages

T = TypeVar("T")

CURSOR = Field(
    default=None,
    min_length=1,
    max_length=pages.CURSOR_MAX_LENGTH,
    description="上一页返回的 next_cursor（原样传回）；缺省为第一页",
)
LIMIT = Field(default=20, ge=1, le=pages.MAX_LIMIT, description=f"每页条数，最多 {pages.MAX_LIMIT}")


class PageQuery(BaseModel):
    cursor: str | None = CURSOR
    limit: int = LIMIT


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")

    @classmethod
    def of(cls, found: pages.Page[Any], shape: Callable[[Any], T]) -> Page[T]:
        return cls(items=[shape(item) for item in found.items], next_cursor=found.next_cursor)


def page_of_list(rows: Sequence[T], cursor: str | None, limit: int) -> pages.Page[T]:
    """A page over a list its service returns whole and in its own order (small lists bounded by the
    domain: a compound's fee items, an order's refunds), for a route whose service does not page: the
    cursor is the position reached. An item added meanwhile may shift the next page by one."""
    start = pages.after(cursor)
    chunk = list(rows[start : start + limit + 1])
    found = pages.page(list(enumerate(chunk, start + 1)), limit, key=lambda pair: pair[0])
    return pages.Page([row for _, row in found.items], found.next_cursor)
