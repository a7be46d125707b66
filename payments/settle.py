"""Applying a payment result (a verified notification, or our own query) to our order.

The result is checked against our order (sp_mchid, sp_appid, sub_mchid, out_trade_no, amount) before
anything changes, and the order moves ``created → paid`` by one conditional UPDATE, so 50 identical
notifications, or a notification racing the client's own query, mark it paid exactly once: one UPDATE
matches, the others find it paid and change nothing. The paid transition, the bills, the one ledger
entry and the receipt are written in one transaction.

The common case costs few statements, because payments of one payee queue behind its ledger chain
head and receipt counter (held until the commit): the order is found and moved by one
``UPDATE … WHERE <ours and still created> RETURNING *`` (both backends), the ledger's audit event
is appended without a savepoint, and on PostgreSQL the ledger entry, the receipt counter and the
receipt are one statement. Only when that UPDATE matches nothing is the order read, to say why
(not ours, a mismatch, paid already, closed).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, Literal

from tortoise.transactions import in_transaction

from core import clock
from payments import errors, ledger, purpose_registry
from payments.models import BILLS, Bill, LedgerEntry, LedgerKind, OrderBill, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState
from wechat.pay.protocol import Transaction

log = logging.getLogger("wuye.payments")

Outcome = Literal["applied", "already_paid", "not_paid"]


def mismatches(order: PaymentOrder, txn: Transaction, *, sp_mchid: str, sp_appid: str) -> list[str]:
    """The fields in which a payment result disagrees with our order (empty: it is ours)."""
    found = []
    if txn.sp_mchid != sp_mchid:
        found.append("sp_mchid")
    if txn.sub_mchid != order.sub_mchid:
        found.append("sub_mchid")
    if txn.sp_appid != sp_appid:
        found.append("sp_appid")
    if txn.out_trade_no != order.out_trade_no:
        found.append("out_trade_no")
    if txn.amount_total != order.amount_fen or txn.currency != "CNY":
        found.append("amount")
    return found


def _db(field: str, value: Any) -> Any:
    """``value`` as Tortoise stores it in PaymentOrder's ``field`` (the same text on SQLite)."""
    return PaymentOrder._meta.fields_map[field].to_db_value(value, PaymentOrder)


_MARK_PAID_PG = (
    'UPDATE "pay_order" SET "state"=$1,"paid_at"=$2,"transaction_id"=$3 '
    'WHERE "out_trade_no"=$4 AND "state"=$5 AND "sub_mchid"=$6 AND "amount_fen"=$7 RETURNING *'
)
_MARK_PAID_SQLITE = re.sub(r"\$\d", "?", _MARK_PAID_PG)


async def _mark_paid(conn: Any, txn: Transaction, paid_at: datetime) -> PaymentOrder | None:
    """created → paid for the order ``txn`` names, where it is still created and its sub_mchid and
    amount are the result's; the order as it now is, or None when nothing matched."""
    sql = _MARK_PAID_PG if conn.capabilities.dialect == "postgres" else _MARK_PAID_SQLITE
    values = [
        _db("state", OrderState.PAID),
        _db("paid_at", paid_at),
        txn.transaction_id,
        txn.out_trade_no,
        _db("state", OrderState.CREATED),
        txn.sub_mchid,
        txn.amount_total,
    ]
    rows = await conn.execute_query_dict(sql, values)
    return PaymentOrder._init_from_db(**rows[0]) if rows else None


async def apply_result(txn: Transaction, *, sp_mchid: str, sp_appid: str) -> Outcome:
    """Take a payment result (a verified notification, or our own query) for our order."""
    paid = txn.trade_state in ("SUCCESS", "REFUND")
    if paid and txn.sp_mchid == sp_mchid and txn.sp_appid == sp_appid and txn.currency == "CNY":
        paid_at = txn.success_time or clock.now()
        async with in_transaction() as conn:
            order = await _mark_paid(conn, txn, paid_at)
            if order is not None:
                # A purpose nobody registered raises here: the transition is rolled back.
                purpose_registry.check_registered(order)
                await _settle(conn, order, txn, paid_at)
                return "applied"
    return await _not_moved(txn, sp_mchid=sp_mchid, sp_appid=sp_appid)


async def _not_moved(txn: Transaction, *, sp_mchid: str, sp_appid: str) -> Outcome:
    """Why a result moved nothing: refused (not ours, a mismatch, paid after we closed) or taken
    (not paid, or paid already)."""
    order = await PaymentOrder.get_or_none(out_trade_no=txn.out_trade_no)
    if order is None:
        raise errors.OrderNotFound(details={"out_trade_no": txn.out_trade_no[:32]})
    wrong = mismatches(order, txn, sp_mchid=sp_mchid, sp_appid=sp_appid)
    if wrong:
        log.warning("payment result for %s refused: %s differ", order.out_trade_no, ",".join(wrong))
        raise errors.NotificationMismatch(details={"fields": wrong})
    if txn.trade_state not in ("SUCCESS", "REFUND"):
        return "not_paid"
    if order.state is OrderState.CLOSED:
        # WeChat Pay took money for an order we had closed: not ours to decide here; the
        # notification is refused (retried) and reconciliation lists it for a person.
        raise errors.OrderStateConflict("订单已关闭但微信支付报告已付款，请人工核对", code="paid_after_close")
    if order.state is OrderState.CREATED:
        # Still created, ours, yet the UPDATE matched nothing: it changed in between (a concurrent
        # close rolled back); refused, so that WeChat Pay retries.
        raise errors.OrderStateConflict("订单状态正在变化，请稍后重试", code="order_state_changing")
    return "already_paid"


async def _settle(conn: Any, order: PaymentOrder, txn: Transaction, paid_at: datetime) -> None:
    """What the paid transition brings, in its transaction: the bills, the purpose's handler, the
    ledger entry and the receipt."""
    # The order's lines with what the receipt shows, in one query (joined).
    lines: list[dict[str, Any]] = [
        {"bill_id": int(b), "item": str(name), "period": str(period), "amount_fen": int(amount)}
        for b, amount, period, name in await OrderBill.filter(order_id=order.id)
        .order_by("id")
        .values_list("bill_id", "amount_fen", "bill__period", "bill__item__name")
    ]
    bill_ids = [line["bill_id"] for line in lines]
    if bill_ids:
        await Bill.filter(id__in=bill_ids).update(
            status=BillStatus.PAID, paid_order_id=order.id, pending_order_id=None, paid_at=paid_at
        )
    await purpose_registry.dispatch(order, "paid", paid_at, transaction_id=txn.transaction_id)
    # Last, as they lock per-payee rows (the payee's ledger chain head, its receipt counter)
    # until the commit: payments of one payee queue there, and only there.
    entry = await ledger.chain(order, LedgerKind.PAYMENT, order.amount_fen, paid_at, bill_ids=bill_ids)
    await write_entry_and_receipt(conn, order, entry, paid_at, lines)


_NEXT_SEQ_SQLITE = "UPDATE pay_payee SET receipt_seq = receipt_seq + 1 WHERE id = ? RETURNING receipt_seq"
# The ledger entry, the counter and the receipt in one statement (a data-modifying WITH runs once,
# referenced or not); the number is the prefix and the sequence number padded to at least 7
# digits, as receipt_number() writes it.
_ENTRY_AND_RECEIPT_PG = """WITH l AS (
  INSERT INTO pay_ledger_entry ("payee_id", "key", "kind", "debit", "credit", "amount_fen", "order_id",
                                "bill_id", "refund_id", "compound_id", "at", "chain_hash")
  VALUES ($1, $8, $9, $10, $11, $12, $3, $13, $14, $15, $16, $17)
), s AS (
  UPDATE pay_payee SET receipt_seq = receipt_seq + 1 WHERE id = $1 RETURNING receipt_seq
)
INSERT INTO pay_receipt (payee_id, seq, number, order_id, unit_id, amount_fen, lines, issued_at)
SELECT $1, s.receipt_seq, $2 || lpad(s.receipt_seq::text, greatest(7, length(s.receipt_seq::text)), '0'),
       $3, $4, $5, $6, $7
FROM s RETURNING seq"""


def receipt_number(payee_id: int, at: datetime, seq: int) -> str:
    return f"{payee_id:04d}-{clock.to_local(at).year}-{seq:07d}"


async def write_entry_and_receipt(
    conn: Any, order: PaymentOrder, entry: dict[str, Any], at: datetime, bill_lines: list[dict[str, Any]]
) -> int:
    """The ledger entry chained by ledger.chain and the order's receipt, numbered by the payee's
    counter (counted up by one; the row stays locked until the commit, so numbers are gapless and
    never repeat); returns the receipt's sequence number."""
    lines: list[dict[str, Any]] = []
    if order.purpose != BILLS:
        lines.append(
            {"bill_id": None, "item": order.description, "period": None, "amount_fen": order.amount_fen}
        )
    lines += bill_lines
    if conn.capabilities.dialect == "postgres":
        receipt, kept = Receipt._meta.fields_map, LedgerEntry._meta.fields_map
        prefix = receipt_number(order.payee_id, at, 0)[: -len("0000000")]
        rows = await conn.execute_query_dict(
            _ENTRY_AND_RECEIPT_PG,
            [
                order.payee_id,
                prefix,
                order.id,
                order.unit_id,
                order.amount_fen,
                receipt["lines"].to_db_value(lines, Receipt),
                receipt["issued_at"].to_db_value(at, Receipt),
                entry["key"],
                entry["kind"],
                entry["debit"],
                entry["credit"],
                entry["amount_fen"],
                entry["bill_id"],
                entry["refund_id"],
                entry["compound_id"],
                kept["at"].to_db_value(entry["at"], LedgerEntry),
                entry["chain_hash"],
            ],
        )
        return int(rows[0]["seq"])
    await LedgerEntry.create(**entry, using_db=conn)
    rows = await conn.execute_query_dict(_NEXT_SEQ_SQLITE, [order.payee_id])
    seq = int(rows[0]["receipt_seq"])
    await Receipt.create(
        payee_id=order.payee_id,
        seq=seq,
        number=receipt_number(order.payee_id, at, seq),
        order_id=order.id,
        unit_id=order.unit_id,
        amount_fen=order.amount_fen,
        lines=lines,
        issued_at=at,
        using_db=conn,
    )
    return seq
