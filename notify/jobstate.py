"""Bookkeeping of periodic jobs: one run per job and period across every scheduler (a conditional
UPDATE on the period last claimed), how many runs, consecutive failures and the last error."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from core import clock
from notify.models import JobState


async def claim_period(name: str, period: int) -> bool:
    """True for exactly one caller per (job, period): the one whose UPDATE moved the period forward."""
    now = clock.now()
    for _ in range(2):
        moved = await JobState.filter(name=name, period__lt=period).update(
            period=period, runs=F("runs") + 1, last_started_at=now
        )
        if moved:
            return True
        if await JobState.exists(name=name):
            return False
        with contextlib.suppress(IntegrityError):
            await JobState.create(name=name, period=-1)
    return False


async def finished(name: str, error: str | None) -> None:
    now = clock.now()
    if error is None:
        await JobState.filter(name=name).update(failures=0, last_finished_at=now)
    else:
        await JobState.filter(name=name).update(
            failures=F("failures") + 1,
            total_failures=F("total_failures") + 1,
            last_error=error[:500],
            last_finished_at=now,
        )


@dataclass(frozen=True, slots=True)
class JobView:
    name: str
    runs: int
    failures: int
    total_failures: int
    last_error: str
    last_started_at: datetime | None
    last_finished_at: datetime | None


async def states(min_failures: int = 0) -> list[JobView]:
    rows = await JobState.filter(failures__gte=min_failures).order_by("name")
    return [
        JobView(
            r.name, r.runs, r.failures, r.total_failures, r.last_error, r.last_started_at, r.last_finished_at
        )
        for r in rows
    ]
