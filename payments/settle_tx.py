"""Payments settled in one transaction, the general way (payments.settle_batch's batches when they
cannot go in one statement, and each payment alone when its batch failed).

One transaction per batch, each step one statement for the whole batch on PostgreSQL: the orders
still created, ours (sub_mchid, amount) are locked in id order and moved ``created → paid`` by one
conditional UPDATE (so a payment is taken exactly once, whatever else runs: a result naming an order
twice moves it once, and one whose order did not move is told so and goes the general way, which
says why), their lines read, their bills marked paid, the purposes' handlers called (in the
transaction, as for one payment), the ledger entries chained in the batch's order as consecutive
events of the payee's stream (its head locked and read once), the entries inserted, the receipt
counter counted up by the batch's size and the receipts numbered from it in the same order.

On PostgreSQL that is two statements between BEGIN and COMMIT: the first locks and moves the
orders, pays their bills, reads their lines and locks and reads the payee's chain head (after the
orders: the order in which every payment and refund locks them); the second writes the chained
events, moves the head, inserts the entries, counts the receipt counter up and writes the receipts
(audit.append_many with the caller's writes).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from payments import ledger, purpose_registry, settle_pg
from payments.models import Bill, LedgerEntry, OrderBill, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState
from wechat.pay.protocol import Transaction


@dataclass(frozen=True, slots=True)
class Paying:
    """A verified paid result of ours (sp_mchid, sp_appid, currency checked) and its paid time."""

    txn: Transaction
    paid_at: datetime


async def settle_together(batch: list[Paying]) -> list[bool]:
    """Settle ``batch`` in one transaction (also used for one payment alone); for each, whether it
    moved its order. A result naming an order already named earlier in the batch moves nothing."""
    firsts: dict[str, Paying] = {}
    for paying in batch:
        firsts.setdefault(paying.txn.out_trade_no, paying)
    async with in_transaction() as conn:
        heads: dict[int, tuple[int, str]] = {}
        marked, lines = await _mark_paid(conn, list(firsts.values()), heads)
        # in the batch's order: the chain's, the receipts' and the handlers'
        settled = [(marked[no], p) for no, p in firsts.items() if no in marked]
        if settled:
            # A purpose nobody registered raises here: the transaction (its bills paid) is rolled back.
            for order, _ in settled:
                purpose_registry.check_registered(order)
            for order, p in settled:
                await purpose_registry.dispatch(order, "paid", p.paid_at, transaction_id=p.txn.transaction_id)
            # Last, as they lock per-payee rows (the payee's chain head, its receipt counter) until
            # the commit: payments of one payee queue there, and only there.
            by_payee: dict[int, list[tuple[PaymentOrder, Paying]]] = defaultdict(list)
            for order, p in settled:
                by_payee[order.payee_id].append((order, p))
            for payee_id in sorted(by_payee):
                await _chain_and_write(conn, payee_id, by_payee[payee_id], lines, heads.get(payee_id))
    return [
        paying is firsts[paying.txn.out_trade_no] and paying.txn.out_trade_no in marked for paying in batch
    ]


def _db(field: str, value: Any) -> Any:
    """``value`` as Tortoise stores it in PaymentOrder's ``field`` (the same text on SQLite)."""
    return PaymentOrder._meta.fields_map[field].to_db_value(value, PaymentOrder)


# The orders locked in id order (two batches naming the same orders never wait for each other
# crosswise), then moved where they are still created and their sub_mchid and amount are the
# result's; their bills marked paid and their lines (what the receipt shows) read in the same
# statement (the lines' columns are not among those it changes).
_MARK_PAID_PG = """WITH i AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[])
    AS i(out_trade_no, sub_mchid, amount_fen, transaction_id, paid_at)
), locked AS (
  SELECT o.id FROM pay_order o WHERE o.out_trade_no = ANY($1::text[]) AND o.state = $7 ORDER BY o.id FOR UPDATE
), m AS (
  UPDATE pay_order o SET state = $6, paid_at = i.paid_at, transaction_id = i.transaction_id
  FROM i WHERE o.id IN (SELECT id FROM locked) AND o.out_trade_no = i.out_trade_no
    AND o.state = $7 AND o.sub_mchid = i.sub_mchid AND o.amount_fen = i.amount_fen
  RETURNING o.*
), b AS (
  UPDATE pay_bill b SET status = $8, paid_order_id = m.id, pending_order_id = NULL, paid_at = m.paid_at
  FROM pay_order_bill ob JOIN m ON m.id = ob.order_id WHERE b.id = ob.bill_id
), h AS (
  -- the payee's chain head (ledger.stream), locked once the orders are (the order every payment
  -- locks them in), so that no round trip of its own is spent under that lock
  SELECT seq, hash FROM audit_head WHERE stream = 'ledger:payee:' || (SELECT min(payee_id) FROM m) FOR UPDATE
)
SELECT m.*, (
  SELECT coalesce(json_agg(json_build_object('bill_id', ob.bill_id, 'item', it.name, 'period', bl.period,
                                             'amount_fen', ob.amount_fen) ORDER BY ob.id), '[]')::text
  FROM pay_order_bill ob JOIN pay_bill bl ON bl.id = ob.bill_id JOIN pay_fee_item it ON it.id = bl.item_id
  WHERE ob.order_id = m.id
) AS bill_lines__, (SELECT seq FROM h) AS head_seq__, (SELECT hash FROM h) AS head_hash__ FROM m"""
_MARK_PAID_SQLITE = (
    'UPDATE "pay_order" SET "state"=?,"paid_at"=?,"transaction_id"=? '
    'WHERE "out_trade_no"=? AND "state"=? AND "sub_mchid"=? AND "amount_fen"=? RETURNING *'
)

Lines = dict[int, list[dict[str, Any]]]  # an order's lines with what the receipt shows, by order id


async def _mark_paid(
    conn: Any, batch: list[Paying], heads: dict[int, tuple[int, str]]
) -> tuple[dict[str, PaymentOrder], Lines]:
    """created → paid for the orders the results name (distinct), where still created and their
    sub_mchid and amount are the result's, and their bills paid: the orders moved, as they now are,
    by out_trade_no, and their lines."""
    paid, created = _db("state", OrderState.PAID), _db("state", OrderState.CREATED)
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            _MARK_PAID_PG,
            [
                [p.txn.out_trade_no for p in batch],
                [p.txn.sub_mchid for p in batch],
                [p.txn.amount_total for p in batch],
                [p.txn.transaction_id for p in batch],
                [p.paid_at for p in batch],
                paid,
                created,
                Bill._meta.fields_map["status"].to_db_value(BillStatus.PAID, Bill),
            ],
        )
        lines: Lines = {}
        orders = {}
        for row in rows:
            found = json.loads(row.pop("bill_lines__"))
            head = row.pop("head_seq__"), row.pop("head_hash__")
            order = PaymentOrder._init_from_db(**row)
            if head[1] is not None and not heads:  # the head of the lowest payee's stream, locked
                heads[min(r["payee_id"] for r in rows)] = (int(head[0]), str(head[1]))
            orders[order.out_trade_no], lines[order.id] = order, found
        return orders, lines
    # SQLite: one connection, statements cheap: one by one
    rows = []
    for p in batch:
        values = [paid, _db("paid_at", p.paid_at), p.txn.transaction_id, p.txn.out_trade_no, created]
        rows += await conn.execute_query_dict(
            _MARK_PAID_SQLITE, [*values, p.txn.sub_mchid, p.txn.amount_total]
        )
    orders = {o.out_trade_no: o for o in (PaymentOrder._init_from_db(**row) for row in rows)}
    at = {p.txn.out_trade_no: p.paid_at for p in batch}
    lines = await _lines([o.id for o in orders.values()])
    for order in orders.values():
        if lines[order.id]:
            await Bill.filter(id__in=[line["bill_id"] for line in lines[order.id]]).update(
                status=BillStatus.PAID,
                paid_order_id=order.id,
                pending_order_id=None,
                paid_at=at[order.out_trade_no],
            )
    return orders, lines


async def _lines(order_ids: list[int]) -> Lines:
    """Each order's lines, in one query (joined)."""
    found: Lines = {order_id: [] for order_id in order_ids}
    for order_id, bill_id, amount, period, name in (
        await OrderBill.filter(order_id__in=order_ids)
        .order_by("id")
        .values_list("order_id", "bill_id", "amount_fen", "bill__period", "bill__item__name")
    ):
        found[int(order_id)].append(
            {"bill_id": int(bill_id), "item": str(name), "period": str(period), "amount_fen": int(amount)}
        )
    return found


_NEXT_SEQ_SQLITE = "UPDATE pay_payee SET receipt_seq = receipt_seq + ? WHERE id = ? RETURNING receipt_seq"


async def _chain_and_write(
    conn: Any,
    payee_id: int,
    paid: list[tuple[PaymentOrder, Paying]],
    bill_lines: Lines,
    head: tuple[int, str] | None,
) -> None:
    """The entries chained (ledger.chain_payments) and written, and the orders' receipts, numbered
    by the payee's counter (counted up by the batch's size; the row stays locked until the commit,
    so numbers are gapless and never repeat), in the batch's order."""
    n = len(paid)
    lines = [settle_pg.receipt_lines(order, bill_lines[order.id]) for order, _ in paid]
    chained = [(order, p.paid_at, [line["bill_id"] for line in bill_lines[order.id]]) for order, p in paid]
    if conn.capabilities.dialect == "postgres":
        writes = settle_pg.entries_and_receipts(payee_id, [(order, p.paid_at) for order, p in paid], lines)
        await ledger.chain_payments(payee_id, chained, then=writes, head=head)
        return
    entries = await ledger.chain_payments(payee_id, chained)
    await LedgerEntry.bulk_create([LedgerEntry(**entry) for entry in entries], using_db=conn)
    rows = await conn.execute_query_dict(_NEXT_SEQ_SQLITE, [n, payee_id])
    first = int(rows[0]["receipt_seq"]) - n + 1
    await Receipt.bulk_create(
        [
            Receipt(
                payee_id=payee_id,
                seq=first + k,
                number=settle_pg.receipt_number(payee_id, p.paid_at, first + k),
                order_id=order.id,
                unit_id=order.unit_id,
                amount_fen=order.amount_fen,
                lines=x,
                issued_at=p.paid_at,
            )
            for k, ((order, p), x) in enumerate(zip(paid, lines, strict=True))
        ],
        using_db=conn,
    )
