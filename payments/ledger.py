"""The ledger: append-only, double-entry, hash-chained per payee through audit/.

Every entry is also an event of the payee's audit stream ``ledger:payee:<id>`` (audit.service.append,
which locks the stream's head so concurrent entries queue instead of forking the chain); the entry
keeps that event's hash. ``verify`` re-checks the chain (audit.chain) and that every entry is the
event it claims to be, so an edited, deleted or inserted entry is detected. Balances and income
summaries are computed from the entries, never stored beside them.

Accounts: ``unit:<id>`` (the payer's unit), ``payee:<id>``. A payment debits the unit and credits
the payee; a refund the other way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit import service as audit
from audit.service import SYSTEM
from core import clock
from payments.models import LedgerEntry, LedgerKind, OrderBill, PaymentOrder, RefundRecord


def stream(payee_id: int) -> str:
    return f"ledger:payee:{payee_id}"


def _payload(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        k: entry[k]
        for k in ("key", "kind", "debit", "credit", "amount_fen", "order_id", "bill_id", "refund_id")
    }


async def chain(
    order: PaymentOrder,
    kind: LedgerKind,
    amount_fen: int,
    at: datetime,
    refund: RefundRecord | None = None,
    *,
    bill_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Chain one entry as the next event of the payee's stream (call inside the transaction that
    changes the order or refund; outside one it is refused) and return the entry's columns, its
    ``chain_hash`` included, for the caller to insert in that transaction (``record`` does both).
    ``bill_ids``: the order's bills when the caller has them already (else they are read)."""
    bills: list[Any] = (
        bill_ids
        if bill_ids is not None
        else list(await OrderBill.filter(order_id=order.id).values_list("bill_id", flat=True))
    )
    entry = _entry(order, kind, amount_fen, refund, bills)
    event = await audit.append(
        stream(order.payee_id),
        f"ledger.{kind.value}",
        actor=SYSTEM,
        subject=entry["key"],
        payload=entry,
        at=at,
        # The caller's transaction holds the head's lock until its commit and fails as a whole:
        # a savepoint around the append would only add two statements inside that lock.
        savepoint=False,
    )
    return _columns(order, entry, at, event["hash"])


def _entry(
    order: PaymentOrder, kind: LedgerKind, amount_fen: int, refund: RefundRecord | None, bills: list[Any]
) -> dict[str, Any]:
    """The entry's chained fields (the event's payload)."""
    unit, payee = f"unit:{order.unit_id}", f"payee:{order.payee_id}"
    return {
        "key": f"payment:{order.id}" if refund is None else f"refund:{refund.id}",
        "kind": kind.value,
        "debit": unit if kind is LedgerKind.PAYMENT else payee,
        "credit": payee if kind is LedgerKind.PAYMENT else unit,
        "amount_fen": amount_fen,
        "order_id": order.id,
        "bill_id": int(bills[0]) if len(bills) == 1 else None,
        "refund_id": refund.id if refund is not None else None,
    }


def _columns(order: PaymentOrder, entry: dict[str, Any], at: datetime, chain_hash: str) -> dict[str, Any]:
    return {
        **entry,
        "payee_id": order.payee_id,
        "compound_id": order.compound_id,
        "at": at,
        "chain_hash": chain_hash,
    }


Paid = list[tuple[PaymentOrder, datetime, list[int]]]  # orders of one payee, each its paid time and bills


def payment_entries(payee_id: int, paid: Paid) -> tuple[list[dict[str, Any]], list[audit.Entry]]:
    """The ledger entries of these payments (chained fields) and the events that chain them."""
    entries = []
    for order, _, bills in paid:
        if order.payee_id != payee_id:
            raise ValueError(f"order {order.id} is not of payee {payee_id}")
        entries.append(_entry(order, LedgerKind.PAYMENT, order.amount_fen, None, bills))
    events = [
        audit.Entry(f"ledger.{LedgerKind.PAYMENT.value}", entry["key"], entry, at)
        for entry, (_, at, _) in zip(entries, paid, strict=True)
    ]
    return entries, events


def payment_columns(
    paid: Paid, entries: list[dict[str, Any]], events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each entry's columns, its event's hash as its ``chain_hash``."""
    return [
        _columns(order, entry, at, event["hash"])
        for entry, (order, at, _), event in zip(entries, paid, events, strict=True)
    ]


async def chain_payments(
    payee_id: int,
    paid: Paid,
    *,
    then: Callable[[list[dict[str, Any]]], tuple[str, list[Any]]] | None = None,
    head: tuple[int, str] | None = None,
) -> list[dict[str, Any]]:
    """``chain`` for the payments of several orders of one payee (each with its paid time and its
    bills), chained in this order as consecutive events of the payee's stream: its head is locked and
    read once, the events are one insert (audit.append_many). Inside the transaction that marks
    them paid; returns each entry's columns, as ``chain`` does. ``then`` (PostgreSQL): the caller's
    writes made from those columns, in the statement that writes the events; ``head``: the stream's head
    as the caller read it under its lock (audit.append_many)."""
    entries, chained = payment_entries(payee_id, paid)
    events = await audit.append_many(
        stream(payee_id),
        chained,
        actor=SYSTEM,
        then=None if then is None else (lambda events: then(payment_columns(paid, entries, events))),
        head=head,
    )
    return payment_columns(paid, entries, events)


async def record(
    order: PaymentOrder,
    kind: LedgerKind,
    amount_fen: int,
    at: datetime,
    refund: RefundRecord | None = None,
    *,
    bill_ids: list[int] | None = None,
) -> LedgerEntry:
    """Append one entry (``chain``, then the row). The unique ``key`` makes a second entry for the
    same payment or refund impossible."""
    return await LedgerEntry.create(**await chain(order, kind, amount_fen, at, refund, bill_ids=bill_ids))


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    ok: bool
    entries: int
    problems: list[str]


async def verify(payee_id: int) -> LedgerCheck:
    """The payee's chain is intact, and the entries are exactly its events."""
    async with audit.snapshot():
        report = await audit.verify_database([stream(payee_id)])
        events = await audit.events(stream(payee_id))
        entries = await LedgerEntry.filter(payee_id=payee_id).order_by("id")
    problems = [f"chain: {p.reason} (seq {p.seq})" for p in report.problems]
    by_hash = {e["hash"]: e for e in events}
    for entry in entries:
        event = by_hash.pop(entry.chain_hash, None)
        row = {
            "key": entry.key,
            "kind": entry.kind.value,
            "debit": entry.debit,
            "credit": entry.credit,
            "amount_fen": entry.amount_fen,
            "order_id": entry.order_id,
            "bill_id": entry.bill_id,
            "refund_id": entry.refund_id,
        }
        if event is None or event["payload"] != row:
            problems.append(f"entry {entry.id} ({entry.key}) does not match its chained event")
    problems += [f"chained event {e['subject']} has no ledger entry" for e in by_hash.values()]
    return LedgerCheck(not problems, len(entries), problems)


@dataclass(frozen=True, slots=True)
class MonthIncome:
    payee_id: int
    month: str  # YYYY-MM, Asia/Shanghai
    received_fen: int
    refunded_fen: int
    payments: int

    @property
    def net_fen(self) -> int:
        return self.received_fen - self.refunded_fen


async def income(
    *, compound_ids: list[int] | None, payee_ids: list[int] | None, since: datetime, until: datetime
) -> list[MonthIncome]:
    """Income per payee and local month, computed from the ledger (read-only)."""
    query = LedgerEntry.filter(at__gte=since, at__lt=until)
    if compound_ids is not None:
        query = query.filter(compound_id__in=compound_ids)
    if payee_ids is not None:
        query = query.filter(payee_id__in=payee_ids)
    sums: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for payee_id, kind, amount, at in await query.values_list("payee_id", "kind", "amount_fen", "at"):
        month = clock.to_local(at).strftime("%Y-%m")
        cell = sums[(int(payee_id), month)]
        if kind == LedgerKind.PAYMENT:
            cell[0] += int(amount)
            cell[2] += 1
        else:
            cell[1] += int(amount)
    return [MonthIncome(p, m, c[0], c[1], c[2]) for (p, m), c in sorted(sums.items())]
