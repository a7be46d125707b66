"""Numbers per property company and per department (the ratings feature reads these): complaints
handled, median hours from filing to resolution, share overdue, average rating."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from accounts.models import Department, PropertyCompany
from complaints.models import Complaint


def _figures(rows: list[Complaint]) -> dict[str, Any]:
    hours = [(c.resolved_at - c.created_at).total_seconds() / 3600 for c in rows if c.resolved_at is not None]
    ratings = [c.rating for c in rows if c.rating is not None]
    return {
        "count": len(rows),
        "resolved": len(hours),
        "median_hours_to_resolve": round(statistics.median(hours), 1) if hours else None,
        "overdue_share": round(sum(c.overdue for c in rows) / len(rows), 4) if rows else 0.0,
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "ratings": len(ratings),
    }


async def statistics_by_party(
    *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Complaints filed in [since, until) grouped by the company or department they were dispatched to."""
    query = Complaint.filter(moderation="passed")
    if since is not None:
        query = query.filter(created_at__gte=since.astimezone(UTC))  # SQLite compares the text: UTC
    if until is not None:
        query = query.filter(created_at__lt=until.astimezone(UTC))
    by_company: dict[int, list[Complaint]] = defaultdict(list)
    by_department: dict[int, list[Complaint]] = defaultdict(list)
    for c in await query:
        if c.company_id is not None:  # type: ignore[attr-defined]
            by_company[c.company_id].append(c)  # type: ignore[attr-defined]
        elif c.department_id is not None:  # type: ignore[attr-defined]
            by_department[c.department_id].append(c)  # type: ignore[attr-defined]
    companies = dict(await PropertyCompany.filter(id__in=list(by_company)).values_list("id", "name"))
    departments = dict(await Department.filter(id__in=list(by_department)).values_list("id", "name"))
    return {
        "companies": [
            {"id": i, "name": companies.get(i, ""), **_figures(rows)}
            for i, rows in sorted(by_company.items())
        ],
        "departments": [
            {"id": i, "name": departments.get(i, ""), **_figures(rows)}
            for i, rows in sorted(by_department.items())
        ],
    }


async def handling_by_company(
    company_ids: list[int], *, since: datetime, until: datetime
) -> dict[int, dict[str, int]]:
    """For each company, the complaints dispatched to it filed in [since, until) (moderation passed):
    how many, how many ever overdue, how many reopened at least once, and the residents' ratings
    (count and sum). Companies without complaints are present with zeros. Read by ratings' credit."""
    out = {
        i: {"complaints": 0, "overdue": 0, "reopened": 0, "ratings": 0, "rating_sum": 0} for i in company_ids
    }
    rows = await Complaint.filter(
        moderation="passed",
        company_id__in=company_ids,
        created_at__gte=since.astimezone(UTC),
        created_at__lt=until.astimezone(UTC),
    ).values_list("company_id", "overdue", "reopen_count", "rating")
    for company_id, overdue, reopen_count, rating in rows:
        figures = out[company_id]
        figures["complaints"] += 1
        figures["overdue"] += bool(overdue)
        figures["reopened"] += reopen_count > 0
        if rating is not None:
            figures["ratings"] += 1
            figures["rating_sum"] += rating
    return out


async def ratings_of_compound(compound_id: int, *, since: datetime, until: datetime) -> dict[str, Any]:
    """Residents' ratings of complaints of one compound closed in [since, until): count and average
    (1–5), the residents' satisfaction an inspection shows."""
    ratings: list[int] = await Complaint.filter(  # type: ignore[assignment]
        compound_id=compound_id,
        rating__isnull=False,
        closed_at__gte=since.astimezone(UTC),
        closed_at__lt=until.astimezone(UTC),
    ).values_list("rating", flat=True)
    return {
        "ratings": len(ratings),
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }
