"""Applying a payment result (a verified notification, or our own query) to our order.

The result is checked against our order (sp_mchid, sp_appid, sub_mchid, out_trade_no, amount) before
anything changes, and the order moves ``created → paid`` by one conditional UPDATE, so 50 identical
notifications, or a notification racing the client's own query, mark it paid exactly once: one UPDATE
matches, the others find it paid and change nothing. The paid transition, the bills, the one ledger
entry and the receipt are written in one transaction.

Payments of one payee that arrive together are settled in one transaction (payments.settle_batch:
the payee's chain head and receipt counter, which every payment of the payee locks until its
commit, are then taken once per batch instead of once per payment); when that transaction fails,
each of its payments is settled alone, so one bad payment never takes another down. Only when the
conditional UPDATE matches nothing is the order read, to say why (not ours, a mismatch, paid
already, closed).
"""

from __future__ import annotations

import logging
from typing import Literal

from core import clock
from payments import errors, settle_batch
from payments.models import PaymentOrder
from payments.rules import OrderState
from payments.settle_pg import receipt_number
from wechat.pay.protocol import Transaction

log = logging.getLogger("wuye.payments")

Outcome = Literal["applied", "already_paid", "not_paid"]

__all__ = ["Outcome", "apply_result", "mismatches", "receipt_number"]


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


async def apply_result(txn: Transaction, *, sp_mchid: str, sp_appid: str) -> Outcome:
    """Take a payment result (a verified notification, or our own query) for our order."""
    paid = txn.trade_state in ("SUCCESS", "REFUND")
    if paid and txn.sp_mchid == sp_mchid and txn.sp_appid == sp_appid and txn.currency == "CNY":
        paying = settle_batch.Paying(txn, txn.success_time or clock.now())
        try:
            moved = await settle_batch.settle(paying)
        except settle_batch.BatchFailed as failed:
            if failed.alone:
                raise failed.error from None
            # One of the batch (or the database) failed it: this one alone, in its own transaction.
            (moved,) = await settle_batch.settle_together([paying])
        if moved:
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
