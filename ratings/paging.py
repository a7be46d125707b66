"""Newest-first keyset pages over a query (core.pages)."""

from __future__ import annotations

from typing import Any

from core import pages


async def newest_first(query: Any, *, cursor: str | None, limit: int) -> pages.Page[Any]:
    before = pages.before(cursor)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda r: r.id)
