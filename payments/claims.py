"""A periodic job's claim on one row before it calls WeChat Pay about it (order expiry, refund
polling): a conditional UPDATE of ``claimed_at`` that one caller wins, so two job runs at once (two
workers, or a run overlapping the next) never both close one order or query one refund. A claim
lapses after ``CLAIM_FOR``: work a crashed run left is taken by a later one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tortoise.expressions import Q

from core import clock

CLAIM_FOR = timedelta(seconds=55)  # under the jobs' one-minute period: the next run may retry


async def claim(model: Any, row_id: int, **still: Any) -> bool:
    """Claim row ``row_id`` of ``model`` while it still matches ``still`` (e.g. state=created)."""
    now = clock.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lte=now - CLAIM_FOR)
    return bool(await model.filter(free, id=row_id, **still).update(claimed_at=now))
