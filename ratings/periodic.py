"""The ratings work that runs by itself (server/jobs.py "ratings"): each step idempotent, so a run
repeated after a crash, or by two schedulers, does no harm.

- inspections whose objection period ended without an objection are finished (and their credit
  records written);
- companies holding a current service contract get their base record when none is valid today;
- on the first run after a quarter is over: its complaint-handling records, and a draft of its red and black lists for
  the supervisor to review (never replacing a draft or a published list that exists)."""

from __future__ import annotations

from datetime import datetime

from audit import service as audit
from core import clock
from ratings import credit, inspections, lists
from ratings.models import QuarterList, Template
from ratings.rules import previous_quarter


async def run_periodic(*, now: datetime | None = None) -> dict[str, int | str]:
    """Nothing at all until the county has published a star-rating template: ratings is not in use
    before that (and the job then adds no rows to a database that does not rate)."""
    at = now or clock.now()
    if not await Template.exists():
        return {"finished": 0, "base_records": 0, "complaint_records": 0, "quarter": "", "drafted": 0}
    today = clock.to_local(at).date()
    finished = await inspections.finish_due(now=at)
    based = await credit.grant_base(today)
    quarter = previous_quarter(today)
    handled = drafted = 0
    if not await QuarterList.exists(quarter=quarter):  # the first run after the quarter ended
        handled = await credit.record_complaint_handling(quarter)
        await lists.compute_draft(audit.SYSTEM, quarter)
        drafted = 1
    return {
        "finished": finished,
        "base_records": based,
        "complaint_records": handled,
        "quarter": quarter,
        "drafted": drafted,
    }
