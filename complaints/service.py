"""The use cases of complaints, in one place for the HTTP layer and other domains.

Importing this module registers complaints as the owner of photos attached to "complaint:<id>", so
the photo endpoints ask ``can_view`` who may see them.
"""

from __future__ import annotations

from typing import Any

from complaints.filing import NewComplaint, file_complaint, similar_open, support
from complaints.media import PhotoCheck
from complaints.models import Category
from complaints.permissions import can_view, load, staff_roles
from complaints.stats import statistics_by_party
from complaints.views import detail, mine, queue, queue_page
from complaints.workflow import Step, act, close_unanswered, escalate, escalate_overdue, moderate
from photos import records
from photos.access import register_viewer

register_viewer("complaint", can_view)


async def categories() -> list[dict[str, Any]]:
    rows = await Category.all().order_by("sort").prefetch_related("department")
    return [
        {
            "code": c.code,
            "name": c.name,
            "party": str(c.party),
            "department": c.department.name if c.department else None,
            "resolve_hours": c.resolve_hours,
        }
        for c in rows
    ]


async def record_media_verdict(trace_id: str, suggest: str) -> bool | None:
    """WeChat's asynchronous verdict on a complaint photo (what the message-push handler calls):
    "pass" shows it to staff, "review" holds it for the community, "risky" withholds it for good.
    True applied; False the photo had its verdict already (nothing changed); None no such check."""
    return await records.record_verdict(trace_id, suggest)


async def run_periodic() -> dict[str, int]:
    """What a timer (or the staff queue, at most once a minute) runs: escalate overdue stages and close
    resolved complaints left unanswered past the reopen window. Idempotent."""
    return {"escalated": await escalate_overdue(), "closed": await close_unanswered()}


__all__ = [
    "NewComplaint",
    "PhotoCheck",
    "Step",
    "act",
    "can_view",
    "categories",
    "close_unanswered",
    "detail",
    "escalate",
    "escalate_overdue",
    "file_complaint",
    "load",
    "mine",
    "moderate",
    "queue",
    "queue_page",
    "record_media_verdict",
    "run_periodic",
    "similar_open",
    "staff_roles",
    "statistics_by_party",
    "support",
]
