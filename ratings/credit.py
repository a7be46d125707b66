"""Company credit (信用评价): records from every source, and the score at any date that explains
itself (rules.credit over the records valid that day).

Reproducible for a past date: the score on d uses the records whose one-year validity covers d AND
that were recorded by the end of d (Asia/Shanghai), so a record entered later, even one dated back,
never changes what an earlier day's score was. "Recomputed when a record arrives": the score is
computed from the records on every read, and ``add_record`` answers the score the new record makes.

Sources: contract performance (base 80 for a company holding a current service contract, granted by
``grant_base``; breaches or good performance entered by the supervisor), complaint handling of a
quarter (``record_complaint_handling``, from complaints.stats, with the residents' booking ratings
from bookings.reviews), finished inspections
(``record_inspection``), sanctions and commendations (entered by the supervisor).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import PropertyCompany, ServiceContract
from accounts.roles import today
from audit import service as audit
from bookings import reviews as booking_reviews
from complaints import stats as complaint_stats
from core import clock
from ratings.errors import CompanyNotFound, CreditRecordInvalid
from ratings.models import CreditRecord, Inspection
from ratings.rules import (
    BASE_CAP,
    Credit,
    CreditPart,
    CreditSource,
    Handling,
    InspectionKind,
    Record,
    booking_records,
    complaint_records,
    credit,
    inspection_record,
    parse_quarter,
    quarter_last_day,
    valid_on,
    valid_until,
)

# What a person may enter, by source: the parts allowed and the most points one record may carry.
MANUAL: dict[CreditSource, tuple[frozenset[CreditPart], Decimal]] = {
    CreditSource.CONTRACT: (frozenset({CreditPart.GOOD, CreditPart.BAD}), Decimal(20)),
    CreditSource.SANCTION: (frozenset({CreditPart.BAD}), Decimal(40)),
    CreditSource.COMMENDATION: (frozenset({CreditPart.GOOD}), Decimal(20)),
}
BASE_REASON = "持有有效物业服务合同，合同履约基础分"


def company_stream(company_id: int) -> str:
    return f"company:{company_id}"


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=clock.SHANGHAI)


def _record(row: CreditRecord) -> Record:
    return Record(row.id, CreditPart(row.part), Decimal(row.points), row.valid_from)


async def _rows(
    company_ids: Iterable[int], on: date, known_by: datetime | None = None
) -> dict[int, list[CreditRecord]]:
    ids = list(company_ids)
    rows = await CreditRecord.filter(
        company_id__in=ids,
        valid_from__lte=on,
        valid_from__gt=on - timedelta(days=366),
        recorded_at__lt=known_by or _end_of(on),
    ).order_by("valid_from", "id")
    out: dict[int, list[CreditRecord]] = defaultdict(list)
    for row in rows:
        if valid_on(row.valid_from, on):
            out[row.company_id].append(row)
    return out


async def scores(
    company_ids: Iterable[int], on: date, *, known_by: datetime | None = None
) -> dict[int, Credit | None]:
    """The credit of each company on ``on``; None for a company without any record valid that day.
    ``known_by``: count the records recorded before this moment (default: by the end of ``on``; the
    quarterly list, computed after its quarter, counts what is known when it is computed)."""
    ids = list(company_ids)
    rows = await _rows(ids, on, known_by)
    return {i: credit([_record(r) for r in rows[i]], on) if rows.get(i) else None for i in ids}


@dataclass(frozen=True, slots=True)
class Explanation:
    company_id: int
    company_name: str
    on: date
    credit: Credit | None
    records: list[dict[str, Any]]


def record_view(row: CreditRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "source": str(row.source),
        "part": str(row.part),
        "points": Decimal(row.points),
        "reason": row.reason,
        "valid_from": row.valid_from,
        "valid_until": valid_until(row.valid_from),
        "inspection_id": row.inspection_id,
    }


async def explain(company_id: int, on: date | None = None) -> Explanation:
    """The score on ``on`` with every record that makes it up."""
    company = await PropertyCompany.get_or_none(id=company_id)
    if company is None:
        raise CompanyNotFound()
    day = on or today()
    rows = (await _rows([company_id], day)).get(company_id, [])
    return Explanation(
        company_id=company_id,
        company_name=company.name,
        on=day,
        credit=credit([_record(r) for r in rows], day) if rows else None,
        records=[record_view(r) for r in rows],
    )


async def _create(
    *,
    actor: audit.Actor,
    company_id: int,
    source: CreditSource,
    part: CreditPart,
    points: Decimal,
    reason: str,
    valid_from: date,
    key: str | None = None,
    inspection_id: int | None = None,
    by_id: int | None = None,
) -> CreditRecord | None:
    """Insert one record (None when ``key`` exists already: automatic records are idempotent)."""
    try:
        async with in_transaction():
            row = await CreditRecord.create(
                company_id=company_id,
                source=source,
                part=part,
                points=points,
                reason=reason[:500],
                valid_from=valid_from,
                key=key,
                inspection_id=inspection_id,
                by_id=by_id,
            )
            await audit.append(
                company_stream(company_id),
                "rating.credit_recorded",
                actor=actor,
                subject=f"credit_record:{row.id}",
                payload={
                    "source": source.value,
                    "part": part.value,
                    "points": str(points),
                    "reason": reason[:500],
                    "valid_from": valid_from.isoformat(),
                    "key": key,
                },
            )
    except IntegrityError:
        if key is None:
            raise
        return None
    return row


async def add_record(
    actor: audit.Actor,
    *,
    user_id: int,
    company_id: int,
    source: CreditSource,
    part: CreditPart,
    points: Decimal,
    reason: str,
    valid_from: date,
) -> tuple[CreditRecord, Credit | None]:
    """A record entered by the supervisor (contract performance, sanction, commendation) and the
    company's credit today once it counts."""
    allowed = MANUAL.get(source)
    if allowed is None or part not in allowed[0] or not (Decimal(0) < points <= allowed[1]):
        raise CreditRecordInvalid(
            details={
                "source": source.value,
                "part": part.value,
                "max_points": str(allowed[1]) if allowed else None,
            }
        )
    if valid_from > today():
        raise CreditRecordInvalid(
            "信用记录的日期不能晚于今天", details={"valid_from": valid_from.isoformat()}
        )
    if not await PropertyCompany.exists(id=company_id):
        raise CompanyNotFound()
    row = await _create(
        actor=actor,
        company_id=company_id,
        source=source,
        part=part,
        points=points,
        reason=reason,
        valid_from=valid_from,
        by_id=user_id,
    )
    assert row is not None
    return row, (await scores([company_id], today()))[company_id]


async def record_inspection(inspection: Inspection, *, actor: audit.Actor, on: date) -> CreditRecord | None:
    """The scheme's record for a finished inspection, if its score earns one."""
    earned = inspection_record(InspectionKind(inspection.kind), Decimal(inspection.total or 0))
    if earned is None:
        return None
    part, points, why = earned
    return await _create(
        actor=actor,
        company_id=inspection.company_id,
        source=CreditSource.INSPECTION,
        part=part,
        points=points,
        reason=f"{why}（考核 {inspection.id}，得分 {inspection.total}）",
        valid_from=on,
        key=f"inspection:{inspection.id}",
        inspection_id=inspection.id,
    )


async def grant_base(on: date, *, actor: audit.Actor = audit.SYSTEM) -> int:
    """A base record (80) for every company holding a service contract current on ``on`` that has no
    base record valid that day. Returns how many were granted."""
    holders = set(
        await ServiceContract.filter(starts_on__lte=on, ends_on__gte=on).values_list("company_id", flat=True)
    )
    covered = {
        int(company_id)  # type: ignore[call-overload]
        for company_id, valid_from in await CreditRecord.filter(
            company_id__in=list(holders),
            part=CreditPart.BASE,
            valid_from__lte=on,
            valid_from__gt=on - timedelta(days=366),
        ).values_list("company_id", "valid_from")
        if valid_on(valid_from, on)  # type: ignore[arg-type]
    }
    granted = 0
    for company_id in sorted(int(i) for i in holders if int(i) not in covered):  # type: ignore[call-overload]
        created = await _create(
            actor=actor,
            company_id=company_id,
            source=CreditSource.CONTRACT,
            part=CreditPart.BASE,
            points=BASE_CAP,
            reason=BASE_REASON,
            valid_from=on,
            key=f"base:{on.isoformat()}",
        )
        granted += created is not None
    return granted


async def record_complaint_handling(quarter: str, *, actor: audit.Actor = audit.SYSTEM) -> int:
    """The complaint-handling records of every company with complaints filed in ``quarter``; dated the
    quarter's last day. Idempotent per company and quarter. Returns how many records were made."""
    year, q = parse_quarter(quarter)
    first = datetime(year, 3 * q - 2, 1, tzinfo=clock.SHANGHAI)
    last_day = quarter_last_day(quarter)
    companies = [int(i) for i in await PropertyCompany.all().values_list("id", flat=True)]  # type: ignore[call-overload]
    figures = await complaint_stats.handling_by_company(companies, since=first, until=_end_of(last_day))
    made = 0
    for company_id, f in sorted(figures.items()):
        rows = complaint_records(Handling(**f))
        for n, (part, points, why) in enumerate(rows):
            created = await _create(
                actor=actor,
                company_id=company_id,
                source=CreditSource.COMPLAINTS,
                part=part,
                points=points,
                reason=f"{quarter} {why}（投诉 {f['complaints']} 件）",
                valid_from=last_day,
                key=f"complaints:{quarter}:{n}",
            )
            made += created is not None
    # residents' ratings of the company's life services, rated since the quarter began (computed on
    # the first run after it ended, so a few ratings of the new quarter's first hours may join)
    booked = await booking_reviews.company_ratings(companies, since=first)
    for company_id, score in sorted(booked.items()):
        for part, points, why in booking_records(score.ratings, score.average):
            created = await _create(
                actor=actor,
                company_id=company_id,
                source=CreditSource.COMPLAINTS,
                part=part,
                points=points,
                reason=f"{quarter} {why}",
                valid_from=last_day,
                key=f"bookings:{quarter}",
            )
            made += created is not None
    return made


async def records_of(company_id: int, *, cursor: str | None, limit: int) -> Any:
    from ratings.paging import newest_first

    if not await PropertyCompany.exists(id=company_id):
        raise CompanyNotFound()
    return await newest_first(CreditRecord.filter(company_id=company_id), cursor=cursor, limit=limit)
