"""Receipts, and on PostgreSQL bill payments of one payee settled in one statement.

``receipt_number`` and ``receipt_lines`` say what a receipt shows, whichever way it is written;
``ENTRIES_AND_RECEIPTS_PG`` writes a batch's ledger entries, counts the payee's receipt counter up
and numbers its receipts (items of the WITH that appends the entries' events, audit.EVENTS_PG).

The one statement (``write``): a batch of bill orders, read beforehand (``read``: the orders and
their lines, outside any lock, as a payment result is taken only if its order is still created,
and what else it checks never changes) and chained in this process from the payee's
chain head as this process last left it (or as read just before). Then one autocommit statement,
one round trip, is the whole transaction: it locks the orders in id order and moves them
``created → paid`` where they still are, pays their bills, then (only then: the head's move waits
for the orders' as every payment's and refund's lock order has it) moves the head from where the
chaining began, writes the events, the entries, the counter and the receipts. Its last part
divides by zero unless every order moved and the head was where the chaining began, so that the
statement, and everything it wrote, is undone unless it all holds; ``write`` then answers None and
the caller tries again from the head as it is now, or the general way (payments.settle_batch)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tortoise import connections

from audit import service as audit
from audit.service import SYSTEM
from core import clock
from core.jsonutil import loads
from payments import ledger
from payments.models import BILLS, Bill, LedgerEntry, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState

if TYPE_CHECKING:
    from payments.settle_tx import Paying


def receipt_number(payee_id: int, at: datetime, seq: int) -> str:
    return f"{payee_id:04d}-{clock.to_local(at).year}-{seq:07d}"


def receipt_lines(order: PaymentOrder, bill_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the receipt of ``order`` lists: its bills' lines, after its own for any other purpose."""
    lines: list[dict[str, Any]] = []
    if order.purpose != BILLS:
        lines.append(
            {"bill_id": None, "item": order.description, "period": None, "amount_fen": order.amount_fen}
        )
    return lines + bill_lines


# The ledger entries, the counter counted up by the batch's size and the receipts numbered from it in
# the batch's order, written in the statement that chains the entries (audit.append_many's ``then``:
# more items of its WITH, which run once, referenced or not; parameters from $16); a number is its
# prefix and its sequence number padded to at least 7 digits, as receipt_number() writes it. The
# entries are written and the counter counted up once the head has moved (the lock order of every
# payment; two statements chained from the same head then wait at the head, not crosswise on rows).
ENTRIES_AND_RECEIPTS_PG = re.sub(
    r"\$(\d+)",
    lambda m: f"${int(m[1]) + audit.APPEND_MANY_PARAMS}",
    """, pay_l AS (
  INSERT INTO pay_ledger_entry ("payee_id", "key", "kind", "debit", "credit", "amount_fen", "order_id",
                                "bill_id", "refund_id", "compound_id", "at", "chain_hash")
  SELECT $1, v.* FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::int[], $9::int[],
                             $10::int[], $11::int[], $12::timestamptz[], $13::text[]) AS v
  WHERE EXISTS (SELECT 1 FROM h)
), pay_s AS (
  UPDATE pay_payee SET receipt_seq = receipt_seq + $2 WHERE id = $1 AND EXISTS (SELECT 1 FROM h)
  RETURNING receipt_seq
), pay_r AS (
  INSERT INTO pay_receipt (payee_id, seq, number, order_id, unit_id, amount_fen, lines, issued_at)
  SELECT $1, n.seq, r.prefix || lpad(n.seq::text, greatest(7, length(n.seq::text)), '0'),
         r.order_id, r.unit_id, r.amount_fen, r.lines::jsonb, r.issued_at
  FROM unnest($14::int[], $15::text[], $8::int[], $16::int[], $7::bigint[], $17::text[], $12::timestamptz[])
         AS r(ord, prefix, order_id, unit_id, amount_fen, lines, issued_at)
  CROSS JOIN pay_s CROSS JOIN LATERAL (SELECT pay_s.receipt_seq - $2 + r.ord AS seq) n
)""",
)
ENTRIES_AND_RECEIPTS_PARAMS = 17


def entries_and_receipts(
    payee_id: int, paid: list[tuple[PaymentOrder, datetime]], lines: list[list[dict[str, Any]]]
) -> Any:
    """audit.append_many's ``then`` for ENTRIES_AND_RECEIPTS_PG: its parameters from the entries'
    columns (ledger.payment_columns) of ``paid``, whose receipts list ``lines``."""
    kept, receipt = LedgerEntry._meta.fields_map, Receipt._meta.fields_map

    def writes(entries: list[dict[str, Any]]) -> tuple[str, list[Any]]:
        return ENTRIES_AND_RECEIPTS_PG, [
            payee_id,
            len(paid),
            *([e[k] for e in entries] for k in ("key", "kind", "debit", "credit", "amount_fen", "order_id")),
            [e["bill_id"] for e in entries],
            [e["refund_id"] for e in entries],
            [e["compound_id"] for e in entries],
            [kept["at"].to_db_value(e["at"], LedgerEntry) for e in entries],
            [e["chain_hash"] for e in entries],
            list(range(1, len(paid) + 1)),
            [receipt_number(payee_id, at, 0)[: -len("0000000")] for _, at in paid],
            [order.unit_id for order, _ in paid],
            [receipt["lines"].to_db_value(x, Receipt) for x in lines],
        ]

    return writes


# --- one statement (PostgreSQL) --------------------------------------------------------------------

_READ = """SELECT o.*, (
  SELECT coalesce(json_agg(json_build_object('bill_id', ob.bill_id, 'item', it.name, 'period', bl.period,
                                             'amount_fen', ob.amount_fen) ORDER BY ob.id), '[]')::text
  FROM pay_order_bill ob JOIN pay_bill bl ON bl.id = ob.bill_id JOIN pay_fee_item it ON it.id = bl.item_id
  WHERE ob.order_id = o.id
) AS bill_lines__ FROM pay_order o WHERE o.out_trade_no = ANY($1::text[])"""


@dataclass(frozen=True, slots=True)
class Read:
    """An order as its payment result's caller read it, and its lines (what the receipt shows)."""

    order: PaymentOrder
    lines: list[dict[str, Any]]

    def moves(self, paying: Paying) -> bool:
        """Whether ``paying`` would move this order (still created, the result's sub_mchid and
        amount): an order that is not created now never will be again."""
        o, txn = self.order, paying.txn
        return o.state is OrderState.CREATED and (o.sub_mchid, o.amount_fen) == (
            txn.sub_mchid,
            txn.amount_total,
        )


async def read(out_trade_nos: list[str]) -> dict[str, Read]:
    """The orders of these numbers (those that exist) with their lines, by out_trade_no; one query."""
    found = {}
    for row in await connections.get("default").execute_query_dict(_READ, [out_trade_nos]):
        lines = loads(row.pop("bill_lines__"))
        order = PaymentOrder._init_from_db(**row)
        found[order.out_trade_no] = Read(order, lines)
    return found


async def head(payee_id: int) -> tuple[int, str] | None:
    """The payee's chain head as it is now (unlocked); None before its first entry."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT seq, hash FROM audit_head WHERE stream = $1", [ledger.stream(payee_id)]
    )
    return (int(rows[0]["seq"]), str(rows[0]["hash"])) if rows else None


_FIRST = audit.APPEND_MANY_PARAMS + ENTRIES_AND_RECEIPTS_PARAMS + 1  # this statement's own parameters
_MOVE = re.sub(
    r"\$(\d+)",
    lambda m: f"${int(m[1]) + _FIRST - 1}",
    """i AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[])
    AS i(out_trade_no, sub_mchid, amount_fen, transaction_id, paid_at)
), pay_locked AS (
  SELECT o.id FROM unnest($1::text[]) AS x(out_trade_no) JOIN pay_order o ON o.out_trade_no = x.out_trade_no
  WHERE o.state = $7 ORDER BY o.id FOR UPDATE OF o
), pay_m AS (
  UPDATE pay_order o SET state = $6, paid_at = i.paid_at, transaction_id = i.transaction_id
  FROM i WHERE o.id IN (SELECT id FROM pay_locked) AND o.out_trade_no = i.out_trade_no
    AND o.state = $7 AND o.sub_mchid = i.sub_mchid AND o.amount_fen = i.amount_fen
  RETURNING o.id, o.paid_at
), pay_b AS (
  UPDATE pay_bill b SET status = $8, paid_order_id = pay_m.id, pending_order_id = NULL, paid_at = pay_m.paid_at
  FROM pay_order_bill ob JOIN pay_m ON pay_m.id = ob.order_id WHERE b.id = ob.bill_id
), """,
)
_N = f"${_FIRST + 8}"  # the batch's size
# our own CTEs and parameter numbers only, no value in the text
_STATEMENT = (
    "WITH "  # noqa: S608
    + _MOVE
    + audit.EVENTS_PG.replace("{after}", f" AND (SELECT count(*) FROM pay_m) = {_N}")  # noqa: S608
    + ENTRIES_AND_RECEIPTS_PG
    # Undone unless every order moved and the head was where the chaining began (22012).
    + f"\nSELECT 1 / ((SELECT count(*) FROM pay_m) = {_N} AND (SELECT count(*) FROM h) = 1)::int"  # noqa: S608
)


async def write(payee_id: int, batch: list[tuple[Read, Paying]], start: tuple[int, str]) -> tuple[int, str]:
    """Settle ``batch`` (distinct bill orders of the payee, each read by ``read`` and moved by its
    result) in one statement, chained from ``start``: the head it leaves. Raises when it was undone
    (an order had moved meanwhile, the head was elsewhere) or failed: nothing of it stays."""
    paid = [(r.order, p.paid_at, [int(line["bill_id"]) for line in r.lines]) for r, p in batch]
    entries, chained = ledger.payment_entries(payee_id, paid)
    events = audit.chained(ledger.stream(payee_id), chained, actor=SYSTEM, head=start)
    columns = ledger.payment_columns(paid, entries, events)
    lines = [receipt_lines(r.order, r.lines) for r, _ in batch]
    _, then = entries_and_receipts(payee_id, [(r.order, p.paid_at) for r, p in batch], lines)(columns)
    states = PaymentOrder._meta.fields_map["state"]
    args = [
        *audit.events_pg_args(start, events, chained, SYSTEM),
        *then,
        [p.txn.out_trade_no for _, p in batch],
        [p.txn.sub_mchid for _, p in batch],
        [p.txn.amount_total for _, p in batch],
        [p.txn.transaction_id for _, p in batch],
        [p.paid_at for _, p in batch],
        states.to_db_value(OrderState.PAID, PaymentOrder),
        states.to_db_value(OrderState.CREATED, PaymentOrder),
        Bill._meta.fields_map["status"].to_db_value(BillStatus.PAID, Bill),
        len(batch),
    ]
    await connections.get("default").execute_query(_STATEMENT, args)
    return events[-1]["seq"], events[-1]["hash"]
