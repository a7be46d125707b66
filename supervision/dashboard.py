"""The county dashboards (plan task 9): per community and compound, owners' committees formed and
filed against the plan's targets, professional property service against its share, grid patrol
coverage, and complaints (count, overdue share, median hours to resolve, rating) month by month.

Everything is computed from a handful of whole-set queries (no query per compound; supervision.reads):
the database counts the patrolled weeks, each complaint is tallied once into its compound and month and
the tallies are merged upwards, so the full county (216 compounds, a year of complaints) is one pass;
answers are cached until an input changes (supervision.cache_keys).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from core import clock
from core.cache import Cache
from ratings.grades import Grades
from supervision import cache_keys, targets
from supervision.errors import PeriodInvalid
from supervision.facts import Facts, Filters, Tally, gather_facts
from supervision.patrols import weeks_between

MAX_PERIOD_DAYS = 731


def filters(
    *,
    since: date | None = None,
    until: date | None = None,
    community_id: int | None = None,
    compound_id: int | None = None,
    company_id: int | None = None,
) -> Filters:
    """The filters with the period defaulted to this calendar year up to today (Beijing)."""
    today = clock.to_local(clock.now()).date()
    end = until or today
    start = since or date(end.year, 1, 1)
    if start > end or (end - start).days > MAX_PERIOD_DAYS:
        raise PeriodInvalid(details={"since": start, "until": end})
    return Filters(start, end, community_id, compound_id, company_id)


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _formed(terms: list[tuple[date, date, bool, date | None]], on: date) -> tuple[bool, bool]:
    """(a committee in office on ``on``, and that committee filed by then)."""
    current = [t for t in terms if t[0] <= on <= t[1]]
    return bool(current), any(t[2] and t[3] is not None and t[3] <= on for t in current)


def _compound_rows(facts: Facts, f: Filters) -> list[dict[str, Any]]:
    weeks = weeks_between(f.since, f.until)
    rows = []
    for compound_id, name, community_id, standalone in facts.compounds:
        formed, filed = _formed(facts.committees.get(compound_id, []), f.until)
        company_id = facts.company.get(compound_id)
        patrolled = facts.patrol_weeks.get(compound_id, (0, None))
        rows.append(
            {
                "compound_id": compound_id,
                "name": name,
                "community_id": community_id,
                "community": facts.communities.get(community_id, ""),
                "standalone": standalone,
                "company_id": company_id,
                "company": facts.companies.get(company_id) if company_id is not None else None,
                "committee_formed": formed,
                "committee_filed": filed,
                "professional_service": company_id is not None,
                "weeks": len(weeks),
                "weeks_patrolled": patrolled[0],
                "patrolled_last_week": patrolled[1] == weeks[-1],
                "last_patrol_at": facts.last_patrol.get(compound_id),
                "complaints": facts.complaints.get(compound_id, Tally()).figures(),
                **_grade_columns(facts.grades.get(compound_id)),
            }
        )
    return rows


def _grade_columns(grades: Grades | None) -> dict[str, Any]:
    star = grades.star if grades else None
    credit = grades.credit if grades else None
    return {
        "star_grade": star.stars if star else None,
        "star_score": star.score if star else None,
        "credit_grade": credit.grade if credit else None,
        "credit_score": credit.score if credit else None,
    }


def _counts(values: Iterable[Any]) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for value in values:
        if value is not None:
            found[str(value)] += 1
    return dict(sorted(found.items()))


def _summary(rows: list[dict[str, Any]], facts: Facts, f: Filters, goal: targets.Targets) -> dict[str, Any]:
    n = len(rows)
    formed = sum(r["committee_formed"] for r in rows)
    professional = sum(r["professional_service"] for r in rows)
    weeks = rows[0]["weeks"] if rows else len(weeks_between(f.since, f.until))
    patrolled_weeks = sum(r["weeks_patrolled"] for r in rows)
    last_week = sum(r["patrolled_last_week"] for r in rows)
    return {
        "compounds": n,
        "committees_formed": formed,
        "committees_filed": sum(r["committee_filed"] for r in rows),
        "committee_share": _share(formed, n),
        "committee_share_met": n > 0 and formed >= goal.committee_share * n,
        "professional_service": professional,
        "professional_service_share": _share(professional, n),
        "professional_service_met": n > 0 and professional >= goal.professional_service_share * n,
        "patrol_coverage": _share(patrolled_weeks, n * weeks),
        "patrolled_last_week": last_week,
        "patrolled_last_week_share": _share(last_week, n),
        "complaints": _merged(facts.complaints.get(r["compound_id"]) for r in rows).figures(),
        "star_grades": _counts(r["star_grade"] for r in rows),
        "credit_grades": _counts(r["credit_grade"] for r in rows),
    }


def _committee_targets(
    name: str, ids: list[int], facts: Facts, f: Filters, goal: targets.Targets
) -> list[dict[str, Any]]:
    out = []
    for target in goal.for_community(name):
        on = min(target.deadline, f.until)
        counts = [_formed(facts.committees.get(i, []), on) for i in ids]
        formed = sum(1 for a, _ in counts if a)
        out.append(
            {
                "deadline": target.deadline,
                "target": target.committees,
                "as_of": on,
                "formed": formed,
                "filed": sum(1 for _, b in counts if b),
                "met": formed >= target.committees,
                "due": target.deadline <= f.until,
            }
        )
    return out


def _merged(tallies: Iterable[Tally | None]) -> Tally:
    out = Tally()
    for tally in tallies:
        if tally is not None:
            out.merge(tally)
    return out


def _months(facts: Facts, f: Filters) -> list[dict[str, Any]]:
    """Month by month over the period; the complaints read are those of the filtered compounds."""
    months, day = [], f.since.replace(day=1)
    while day <= f.until:
        tally = facts.months.get((day.year, day.month), Tally())
        months.append({"month": day.strftime("%Y-%m"), **tally.figures()})
        day = (day + timedelta(days=32)).replace(day=1)
    return months


async def compute(f: Filters) -> dict[str, Any]:
    goal = targets.load()
    facts = await gather_facts(f)
    rows = _compound_rows(facts, f)
    by_community: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_community[r["community_id"]].append(r)
    return {
        "period": {"since": f.since, "until": f.until},
        "filters": {k: v for k, v in asdict(f).items() if k not in ("since", "until")},
        "targets": {
            "committee_share": goal.committee_share,
            "professional_service_share": goal.professional_service_share,
            "patrol_share": goal.patrol_share,
        },
        "county": _summary(rows, facts, f, goal),
        "communities": [
            {
                "community_id": cid,
                "name": facts.communities.get(cid, ""),
                **_summary(members, facts, f, goal),
                "committee_targets": _committee_targets(
                    facts.communities.get(cid, ""), [m["compound_id"] for m in members], facts, f, goal
                ),
            }
            for cid, members in sorted(by_community.items())
        ],
        "months": _months(facts, f),
        "compounds": rows,
    }


def filter_params(f: Filters) -> dict[str, str]:
    return {k: str(v) for k, v in asdict(f).items()}


async def dashboard(cache: Cache, f: Filters, *, mark: str | None = None) -> dict[str, Any]:
    """The dashboard for ``f``, from the cache when it is there and no input changed since (see
    supervision.cache_keys; ``mark``: a watermark this request took already)."""
    return dict(await cache_keys.cached(cache, "dashboard", filter_params(f), lambda: compute(f), mark=mark))
