"""Billing runs, arrears and the committee's late-payment list.

A billing run creates one bill per unit and posted item for a compound and a period. It is
idempotent: bills are unique per (compound, period, item, unit) and inserted with ON CONFLICT DO
NOTHING, so a repeated or concurrent run creates nothing new. Units delivered mid-period are billed
pro rata by days (payments.rules). An item whose standard is not posted on the board is not billed.

Nothing here, or anywhere in the product, cuts water, power, heat or gas over arrears: the law
forbids it, and no such action exists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from accounts.models import Building, Unit
from audit import service as audit
from audit.service import Actor
from notices import service as notices
from payments import errors, reminders, rules
from payments.models import Bill, BillingRun, BillingStart, FeeItem
from payments.rules import BillStatus, ItemKind, Period
from payments.setup import FEE_STANDARD, contract_covering

BATCH = 1000


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise errors.PeriodInvalid(details={"period": text[:20]}) from exc


@dataclass(slots=True)
class RunResult:
    period: str
    created: int = 0
    total_fen: int = 0  # everything billed for the period (this run and earlier ones)
    units: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # items not billed, and why


@dataclass(frozen=True, slots=True)
class _UnitRow:
    id: int
    area: Decimal
    kind: str
    starts_on: date | None


def _amounts(
    item: FeeItem, price: Decimal, units: list[_UnitRow], period: Period, metered: int | None
) -> list[int]:
    if item.kind is ItemKind.BY_AREA:
        return [rules.pro_rata_fen(u.area, price, period, u.starts_on) for u in units]
    if item.kind is ItemKind.FIXED_MONTHLY:
        return [rules.fixed_pro_rata_fen(int(item.monthly_fen or 0), period, u.starts_on) for u in units]
    # metered: the period's total split by area, each unit weighted by the share of the period billed
    weights = [u.area * rules.billed_fraction(period, u.starts_on) for u in units]
    return rules.split_by_area(int(metered or 0), weights)


async def run_billing(
    actor: Actor, *, compound_id: int, period_text: str, metered_fen: dict[int, int], user_id: int | None
) -> RunResult:
    period = parse_period(period_text)
    result = RunResult(period=str(period))
    contract = await contract_covering(compound_id, period.first_day, period.last_day)
    if contract is None:
        raise errors.NoFeeContract("该小区在此账期没有有效的物业服务收费合同")
    items = await FeeItem.filter(compound_id=compound_id, contract_id=contract.id, active=True).order_by("id")
    rows = (
        await Unit.filter(compound_id=compound_id, delivered=True)
        .order_by("id")
        .values_list("id", "area", "kind")
    )
    starts = dict(
        await BillingStart.filter(unit__compound_id=compound_id).values_list("unit_id", "starts_on")  # type: ignore[arg-type]
    )
    all_units = [_UnitRow(int(i), Decimal(a), str(k), starts.get(i)) for i, a, k in rows]
    existing: dict[int, set[int]] = defaultdict(set)
    for item_id, unit_id in await Bill.filter(compound_id=compound_id, period=str(period)).values_list(
        "item_id", "unit_id"
    ):
        existing[int(item_id)].add(int(unit_id))
    new: list[Bill] = []
    for item in items:
        if not await notices.is_posted(
            compound_id=compound_id, notice_id=item.notice_id, category=FEE_STANDARD
        ):
            result.skipped.append({"item_id": item.id, "name": item.name, "reason": "收费标准未公示"})
            continue
        metered = metered_fen.get(item.id)
        if item.kind is ItemKind.METERED_BY_AREA and metered is None:
            result.skipped.append({"item_id": item.id, "name": item.name, "reason": "未填写本期计量总额"})
            continue
        units = [u for u in all_units if item.unit_kind is None or u.kind == item.unit_kind]
        price = Decimal(item.price_fen) if item.price_fen is not None else Decimal(contract.price_fen)
        for unit, amount in zip(units, _amounts(item, price, units, period, metered), strict=True):
            if amount <= 0 or unit.id in existing[item.id]:
                continue
            new.append(
                Bill(
                    compound_id=compound_id,
                    unit_id=unit.id,
                    item_id=item.id,
                    payee_id=contract.payee_id,  # type: ignore[attr-defined]
                    period=str(period),
                    amount_fen=amount,
                )
            )
    result.units = len(all_units)
    async with in_transaction():
        this_period = Bill.filter(compound_id=compound_id, period=str(period))
        before = await this_period.count()
        last_id = (await this_period.order_by("-id").first().values_list("id", flat=True)) or 0
        for start in range(0, len(new), BATCH):
            await Bill.bulk_create(new[start : start + BATCH], ignore_conflicts=True)
        after = await this_period.count()
        result.created = after - before
        if result.created:  # the payers hear of their new bills exactly when the bills exist
            await reminders.notify_issued(compound_id, str(period), since_id=int(last_id))  # type: ignore[arg-type]
        result.total_fen = await _sum(Bill.filter(compound_id=compound_id, period=str(period)))
        await BillingRun.create(
            compound_id=compound_id,
            period=str(period),
            created_bills=result.created,
            total_fen=result.total_fen,
            by_id=user_id,
        )
        await audit.append(
            audit.compound_stream(compound_id),
            "payments.billing_run",
            actor=actor,
            subject=f"period:{period}",
            payload={"created": result.created, "skipped": [s["item_id"] for s in result.skipped]},
        )
    return result


async def _sum(query: Any) -> int:
    rows = await query.annotate(total=Sum("amount_fen")).values("total")
    return int(rows[0]["total"] or 0) if rows else 0


async def runs(compound_id: int, *, limit: int, before_id: int | None) -> list[BillingRun]:
    query = BillingRun.filter(compound_id=compound_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)


@dataclass(frozen=True, slots=True)
class BillView:
    id: int
    unit_id: int
    item_id: int
    item_name: str
    period: str
    amount_fen: int
    status: str
    payee_id: int
    paid_at: Any


async def bills_of_unit(
    unit_id: int, *, status: BillStatus | None, limit: int, before_id: int | None
) -> list[BillView]:
    query = Bill.filter(unit_id=unit_id)
    if status is not None:
        query = query.filter(status=status)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    rows = await query.order_by("-id").limit(limit).prefetch_related("item")
    return [
        BillView(
            b.id,
            b.unit_id,
            b.item_id,
            b.item.name,
            b.period,
            b.amount_fen,
            b.status.value,
            b.payee_id,
            b.paid_at,
        )  # type: ignore[attr-defined]
        for b in rows
    ]


async def unit_arrears(unit_id: int) -> tuple[int, int]:
    """(unpaid bills, fen owed) of one unit."""
    query = Bill.filter(unit_id=unit_id, status=BillStatus.UNPAID)
    return await query.count(), await _sum(query)


@dataclass(frozen=True, slots=True)
class UnitArrears:
    unit_id: int
    building: str
    number: str
    bills: int
    owed_fen: int
    oldest_period: str


async def compound_arrears(
    compound_id: int, *, limit: int, after_unit_id: int | None, before_period: str | None = None
) -> tuple[int, int, list[UnitArrears]]:
    """(units in arrears, fen owed, one page of units by id). ``before_period`` keeps only bills of
    earlier periods (the late-payment list: what is overdue, not what was just issued)."""
    base = Bill.filter(compound_id=compound_id, status=BillStatus.UNPAID)
    if before_period is not None:
        base = base.filter(period__lt=str(parse_period(before_period)))
    total = await _sum(base)
    unit_count = len(await base.distinct().values_list("unit_id", flat=True))
    page = base
    if after_unit_id is not None:
        page = page.filter(unit_id__gt=after_unit_id)
    grouped = (
        await page.annotate(bills=Count("id"), owed=Sum("amount_fen"))
        .group_by("unit_id")
        .order_by("unit_id")
        .limit(limit)
        .values("unit_id", "bills", "owed")
    )
    ids = [int(g["unit_id"]) for g in grouped]
    oldest: dict[int, str] = {}
    for unit_id, period in (
        await base.filter(unit_id__in=ids).order_by("period").values_list("unit_id", "period")
    ):
        oldest.setdefault(int(unit_id), str(period))
    units = {u.id: u for u in await Unit.filter(id__in=ids)}
    building_ids = {u.building_id for u in units.values()}  # type: ignore[attr-defined]
    buildings: dict[int, str] = dict(await Building.filter(id__in=building_ids).values_list("id", "name"))
    out = [
        UnitArrears(
            uid,
            str(buildings.get(units[uid].building_id, "")),  # type: ignore[attr-defined]
            units[uid].number,
            int(g["bills"]),
            int(g["owed"] or 0),
            oldest.get(uid, ""),
        )
        for g, uid in zip(grouped, ids, strict=True)
    ]
    return unit_count, total, out
