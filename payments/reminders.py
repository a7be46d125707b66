"""Telling payers about their bills through notify's outbox: "bill.issued" when a billing run creates
a bill (in the run's transaction), "bill.overdue" once per bill after its due date (a periodic job).

The payers of a unit are its verified owners with an account and its residents. A bill is due on the
last day of its period (Asia/Shanghai); overdue from the day after. A reminder is a notice, never a
sanction: nothing anywhere cuts a service over arrears (the law forbids it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from tortoise.transactions import in_transaction

from accounts.models import Ownership, Resident
from core import clock
from notify import service as notify
from payments.models import Bill, FeeItem
from payments.rules import BillStatus, Period

OVERDUE_BATCH = 500


def due_date(period: str) -> date:
    return Period.parse(period).last_day


async def payers_of_units(unit_ids: Iterable[int]) -> dict[int, set[int]]:
    """unit id → the user ids who may pay its bills (owners with an account, residents)."""
    ids = sorted(set(unit_ids))
    payers: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for unit_id, user_id in await Ownership.filter(
            unit_id__in=chunk, owner__user_id__isnull=False
        ).values_list("unit_id", "owner__user_id"):
            payers[int(unit_id)].add(int(user_id))
        for unit_id, user_id in await Resident.filter(unit_id__in=chunk).values_list("unit_id", "user_id"):
            payers[int(unit_id)].add(int(user_id))
    return payers


async def _enqueue(event: str, bills: list[tuple[int, int, int, int, str]]) -> int:
    """One outbox row per bill and payer; ``bills`` are (id, unit_id, item_id, amount_fen, period)."""
    if not bills:
        return 0
    payers = await payers_of_units(b[1] for b in bills)
    names = dict(await FeeItem.filter(id__in={b[2] for b in bills}).values_list("id", "name"))
    items = [
        (
            f"bill:{bill_id}",
            payers[unit_id],
            {
                "item": f"{period} {names.get(item_id, '')}".strip(),
                "amount_fen": amount_fen,
                "due": due_date(period),
                "bill_id": bill_id,
            },
        )
        for bill_id, unit_id, item_id, amount_fen, period in bills
        if payers.get(unit_id)
    ]
    return await notify.enqueue_many(event, items)


async def notify_issued(compound_id: int, period: str, *, since_id: int) -> int:
    """Inside the billing run's transaction: tell the payers of the bills it created (ids above
    ``since_id`` of that compound and period). Returns the rows asked for."""
    rows = await Bill.filter(compound_id=compound_id, period=period, id__gt=since_id).values_list(
        "id", "unit_id", "item_id", "amount_fen", "period"
    )
    return await _enqueue("bill.issued", [(int(a), int(b), int(c), int(d), str(e)) for a, b, c, d, e in rows])


async def notify_overdue(*, today: date | None = None, limit: int = OVERDUE_BATCH) -> int:
    """Unpaid bills past their due date whose payers were not told yet: told once, marked in the same
    transaction (a run repeated, or two racing, tell nobody twice: the mark is conditional and the
    outbox key unique). On PostgreSQL the batch's rows are locked, skipping those another run holds,
    so runs at once share the bills instead of queueing behind each other. Returns the bills marked."""
    local = today or clock.to_local(clock.now()).date()
    current = f"{local.year:04d}-{local.month:02d}"  # bills of earlier periods are past their due date
    async with in_transaction():
        bills = (
            await Bill.filter(status=BillStatus.UNPAID, period__lt=current, overdue_notified_at__isnull=True)
            .select_for_update(skip_locked=True)
            .order_by("id")
            .limit(limit)
            .only("id", "unit_id", "item_id", "amount_fen", "period")
        )
        if not bills:
            return 0
        marked = await Bill.filter(id__in=[b.id for b in bills], overdue_notified_at__isnull=True).update(
            overdue_notified_at=clock.now()
        )
        await _enqueue("bill.overdue", [(b.id, b.unit_id, b.item_id, b.amount_fen, b.period) for b in bills])
    return marked
