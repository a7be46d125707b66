"""What the county dashboards are computed from (supervision.dashboard): a handful of whole-set reads
(no query per compound; supervision.reads), run concurrently, with each complaint tallied once into its
compound and Beijing month (by PostgreSQL itself; on SQLite in Python); the tallies are merged upwards
(compound → community → county)."""

from __future__ import annotations

import statistics
from asyncio import gather
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from accounts.models import Committee, Community, Compound, FilingStatus, PropertyCompany, ServiceContract
from complaints.models import Moderation
from core import clock
from ratings.grades import Grades, current_grades
from supervision import reads
from supervision.patrols import local_range


@dataclass(frozen=True, slots=True)
class Filters:
    since: date
    until: date
    community_id: int | None = None
    compound_id: int | None = None
    company_id: int | None = None


@dataclass(slots=True)
class Tally:
    """The complaint figures of a set of complaints, built in one pass over them and merged upwards
    (compound → community → county) instead of recounting the rows for every level."""

    count: int = 0
    overdue: int = 0
    hours: list[float] = field(default_factory=list)
    rating_sum: int = 0
    ratings: int = 0

    def add(self, hours: float | None, overdue: bool, rating: int | None) -> None:
        self.count += 1
        self.overdue += overdue
        if hours is not None:
            self.hours.append(hours)
        if rating is not None:
            self.rating_sum += rating
            self.ratings += 1

    def merge(self, other: Tally) -> None:
        self.count += other.count
        self.overdue += other.overdue
        self.hours += other.hours
        self.rating_sum += other.rating_sum
        self.ratings += other.ratings

    def figures(self) -> dict[str, Any]:
        n, hours = self.count, self.hours
        return {
            "count": n,
            "resolved": len(hours),
            "overdue_share": round(self.overdue / n, 4) if n else 0.0,
            "median_hours_to_resolve": round(statistics.median(hours), 1) if hours else None,
            "average_rating": round(self.rating_sum / self.ratings, 2) if self.ratings else None,
            "ratings": self.ratings,
        }


def complaint_figures(rows: Iterable[tuple[datetime, datetime | None, bool, int | None]]) -> dict[str, Any]:
    """(created_at, resolved_at, overdue, rating) of complaints → their figures."""
    tally = Tally()
    for created, resolved, overdue, rating in rows:
        tally.add(_hours(created, resolved), overdue, rating)
    return tally.figures()


def _hours(created: datetime, resolved: datetime | None) -> float | None:
    return None if resolved is None else (resolved - created).total_seconds() / 3600


def _local_day(moment: datetime | None) -> date | None:
    return None if moment is None else clock.to_local(moment).date()


@dataclass(slots=True)
class Facts:
    """What the queries found, per compound id."""

    compounds: list[tuple[int, str, int, bool]]  # id, name, community_id, standalone
    communities: dict[int, str]
    company: dict[int, int]  # compound → company with a contract current on the last day
    companies: dict[int, str]
    committees: dict[int, list[tuple[date, date, bool, date | None]]]  # starts, ends, filed, filed on
    patrol_weeks: dict[int, tuple[int, date]]  # weeks with a patrol in the period, the latest of them
    last_patrol: dict[int, datetime]
    complaints: dict[int, Tally]
    months: dict[tuple[int, int], Tally]  # (year, month) in Beijing → all compounds' complaints
    grades: dict[int, Grades]


async def gather_facts(f: Filters) -> Facts:
    query = Compound.all()
    if f.community_id is not None:
        query = query.filter(community_id=f.community_id)
    if f.compound_id is not None:
        query = query.filter(id=f.compound_id)
    if f.company_id is not None:  # compounds the company served at some time in the period
        served = await ServiceContract.filter(
            company_id=f.company_id, starts_on__lte=f.until, ends_on__gte=f.since
        ).values_list("compound_id", flat=True)
        query = query.filter(id__in=list(served))
    compounds = [
        (i, n, c, bool(s))
        for i, n, c, s in await query.order_by("id").values_list("id", "name", "community_id", "standalone")
    ]
    ids = [c[0] for c in compounds]
    start, end = local_range(f.since, f.until)
    whole = f.community_id is None and f.compound_id is None and f.company_id is None
    # independent reads, overlapped: the database works on one while Python tallies another
    (
        (communities, company, companies),
        committees,
        (patrol_weeks, last_patrol),
        tallies,
        grades,
    ) = await gather(
        # the whole county needs no list of its 216 ids in the statements (and none to build them)
        _companies(None if whole else ids, [c[2] for c in compounds], f.until),
        _committees(None if whole else ids),
        _patrols(start, end, None if whole else ids),
        _complaints(f, None if whole else ids),
        # star grade (latest finished inspection within the year) and the serving company's credit
        # grade, both as ratings computes them for the period's last day
        current_grades(compound_ids=ids, at=f.until) if ids else _nothing(),
    )
    complaints: dict[int, Tally] = defaultdict(Tally)
    months: dict[tuple[int, int], Tally] = defaultdict(Tally)
    for (compound_id, year, month), tally in tallies.items():
        complaints[compound_id].merge(tally)
        months[year, month].merge(tally)
    return Facts(
        compounds, communities, company, companies, committees, patrol_weeks, last_patrol, complaints, months,
        grades,
    )  # fmt: skip


async def _nothing() -> dict[int, Grades]:
    return {}


async def _companies(
    ids: list[int] | None, community_ids: list[int], on: date
) -> tuple[dict[int, str], dict[int, int], dict[int, str]]:
    communities = dict(await Community.filter(id__in=list(set(community_ids))).values_list("id", "name"))
    company: dict[int, int] = {}
    current = ServiceContract.filter(starts_on__lte=on, ends_on__gte=on)
    for compound_id, company_id in (
        await (current if ids is None else current.filter(compound_id__in=ids))
        .order_by("starts_on", "id")
        .values_list("compound_id", "company_id")
    ):
        company[compound_id] = company_id  # the latest-starting current contract wins
    companies = dict(
        await PropertyCompany.filter(id__in=list(set(company.values()))).values_list("id", "name")
    )
    return communities, company, companies


async def _committees(ids: list[int] | None) -> dict[int, list[tuple[date, date, bool, date | None]]]:
    committees: dict[int, list[tuple[date, date, bool, date | None]]] = defaultdict(list)
    rows = Committee.all() if ids is None else Committee.filter(compound_id__in=ids)
    for compound_id, starts, ends, status, filed_at in await rows.values_list(
        "compound_id", "term_starts_on", "term_ends_on", "filing_status", "filed_at"
    ):
        filed = status == FilingStatus.FILED
        committees[compound_id].append((starts, ends, filed, _local_day(filed_at) if filed else None))
    return committees


async def _patrols(
    start: datetime, end: datetime, ids: list[int] | None
) -> tuple[dict[int, tuple[int, date]], dict[int, datetime]]:
    patrol_weeks: dict[int, tuple[int, date]] = {}
    last_patrol: dict[int, datetime] = {}
    for compound_id, weeks, latest_week, last in await reads.patrol_weeks(start, end, ids):
        patrol_weeks[compound_id] = (int(weeks), reads.day_of(latest_week))
        last_patrol[compound_id] = reads.instant(last)
    return patrol_weeks, last_patrol


async def _complaints(f: Filters, ids: list[int] | None) -> dict[tuple[int, int, int], Tally]:
    """Each staff-visible complaint of the period tallied once, into its compound and Beijing month:
    by PostgreSQL itself (a row per compound and month instead of one per complaint), by Python on
    SQLite (whose text timestamps give no exact spans in SQL)."""
    start, end = local_range(f.since, f.until)
    tallies: dict[tuple[int, int, int], Tally] = defaultdict(Tally)
    if reads.postgres():
        months = _months_of(f.since, f.until)
        bounds = [local_range(day, day)[0] for day in months] + [end]
        for compound_id, i, count, overdue, rating_sum, ratings, spans in await reads.complaint_tallies(
            bounds, str(Moderation.PASSED), ids
        ):
            month = months[i - 1]
            tallies[compound_id, month.year, month.month] = Tally(
                count, overdue, [us / 10**6 / 3600 for us in spans], rating_sum, ratings
            )
        return tallies
    for compound_id, created, resolved, overdue, rating in await reads.rows(
        "SELECT compound_id, created_at, resolved_at, overdue, rating FROM complaint"
        " WHERE moderation = {} AND created_at >= {} AND created_at < {}",
        [str(Moderation.PASSED), start, end], ids,
    ):  # fmt: skip
        day = reads.beijing_date(created)
        tallies[compound_id, day.year, day.month].add(_hours(created, resolved), bool(overdue), rating)
    return tallies


def _months_of(since: date, until: date) -> list[date]:
    """The first day of each Beijing month [since, until] touches, the first one ``since`` itself."""
    months, day = [since], since.replace(day=1)
    while True:
        day = (day + timedelta(days=32)).replace(day=1)
        if day > until:
            return months
        months.append(day)
