"""Star and credit grades for other domains (documented in /work/helpers/ratings_api.md): a few
queries for a whole batch, reproducible for any past date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from accounts.models import ServiceContract
from accounts.roles import today
from core import clock
from core.errors import Invalid
from ratings import credit, templates
from ratings.models import Inspection, Template
from ratings.rules import InspectionKind, InspectionStatus, stars_of


@dataclass(frozen=True, slots=True)
class StarGrade:
    stars: int
    score: Decimal
    inspection_id: int | None
    kind: str
    finished_on: date
    template_version: int


@dataclass(frozen=True, slots=True)
class CreditGrade:
    score: Decimal
    grade: str


@dataclass(frozen=True, slots=True)
class Grades:
    star: StarGrade | None
    credit: CreditGrade | None
    company_id: int | None


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=clock.SHANGHAI)


async def _latest_stars(compound_ids: list[int], on: date) -> dict[int, tuple[Inspection, Template]]:
    """The latest inspection of each compound finished within the year before ``on`` (annual before
    daily when both finished the same day)."""
    until = _end_of(on)
    rows = await Inspection.filter(
        compound_id__in=compound_ids,
        status=InspectionStatus.FINISHED,
        finished_at__lt=until,
        finished_at__gte=until - timedelta(days=365),
    )
    best: dict[int, Inspection] = {}
    for row in rows:
        assert row.finished_at is not None
        key = (clock.to_local(row.finished_at).date(), row.kind == InspectionKind.ANNUAL, row.id)
        held = best.get(row.compound_id)
        if held is None or key > (
            clock.to_local(held.finished_at).date(),  # type: ignore[arg-type]
            held.kind == InspectionKind.ANNUAL,
            held.id,
        ):
            best[row.compound_id] = row
    used = {t.id: t for t in await Template.filter(id__in={r.template_id for r in best.values()})}
    return {c: (r, used[r.template_id]) for c, r in best.items()}


def _star(row: Inspection, template: Template) -> StarGrade:
    assert row.finished_at is not None and row.total is not None and row.stars is not None
    return StarGrade(
        stars=int(row.stars),
        score=Decimal(row.total),
        inspection_id=row.id,
        kind=str(row.kind),
        finished_on=clock.to_local(row.finished_at).date(),
        template_version=template.version,
    )


async def current_grades(
    *,
    company_ids: Iterable[int] | None = None,
    compound_ids: Iterable[int] | None = None,
    at: date | None = None,
) -> dict[int, Grades]:
    if (company_ids is None) == (compound_ids is None):
        raise Invalid("company_ids 与 compound_ids 须且只须给出一个")
    on = at or today()
    if compound_ids is not None:
        compounds = list(compound_ids)
        contracts = await ServiceContract.filter(
            compound_id__in=compounds, starts_on__lte=on, ends_on__gte=on
        ).order_by("starts_on", "id")
        company_of = {c.compound_id: c.company_id for c in contracts}  # type: ignore[attr-defined]
        credits = await credit.scores(set(company_of.values()), on)
        stars = await _latest_stars(compounds, on)
        out: dict[int, Grades] = {}
        for compound_id in compounds:
            company_id = company_of.get(compound_id)
            c = credits.get(company_id) if company_id is not None else None
            found = stars.get(compound_id)
            out[compound_id] = Grades(
                star=_star(*found) if found else None,
                credit=CreditGrade(c.score, c.grade) if c else None,
                company_id=company_id,
            )
        return out
    companies = list(company_ids or [])
    credits = await credit.scores(companies, on)
    until = _end_of(on)
    inspected = await Inspection.filter(
        company_id__in=companies,
        status=InspectionStatus.FINISHED,
        finished_at__lt=until,
        finished_at__gte=until - timedelta(days=365),
    ).values_list("company_id", "compound_id")
    compounds_of: dict[int, set[int]] = {}
    for company_id, compound_id in inspected:
        compounds_of.setdefault(int(company_id), set()).add(int(compound_id))
    latest = await _latest_stars(sorted({c for s in compounds_of.values() for c in s}), on)
    result: dict[int, Grades] = {}
    for company_id in companies:
        theirs = [
            latest[c]
            for c in compounds_of.get(company_id, ())
            if c in latest and latest[c][0].company_id == company_id
        ]
        star = None
        if theirs:
            total = sum((Decimal(r.total or 0) for r, _ in theirs), Decimal(0))
            mean = (total / len(theirs)).quantize(Decimal("0.01"))
            newest_row, newest_template = max(theirs, key=lambda x: (x[0].finished_at, x[0].id))
            _, thresholds = templates.specs_of(newest_template)
            assert newest_row.finished_at is not None
            star = StarGrade(
                stars=stars_of(mean, thresholds),
                score=mean,
                inspection_id=None,
                kind=str(newest_row.kind),
                finished_on=clock.to_local(newest_row.finished_at).date(),
                template_version=newest_template.version,
            )
        c = credits.get(company_id)
        result[company_id] = Grades(
            star=star, credit=CreditGrade(c.score, c.grade) if c else None, company_id=company_id
        )
    return result
