"""Orders for bills: creation, status, expiry and receipts; payment results are applied by
payments.settle (re-exported here as ``apply_result``).

An order pays bills of one unit and one payee. Its state moves only by conditional UPDATEs:
``created → paid`` where state = created (payments.settle: 50 identical notifications, or a
notification racing the client's own query, mark it paid exactly once), ``created → closed`` the
same way. A payment result is applied only after its sp_mchid, sp_appid, sub_mchid, out_trade_no
and amount are checked against our order; a mismatch changes nothing.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from accounts import service as accounts
from core import clock
from payments import claims, errors, purpose_registry
from payments.models import Bill, OrderBill, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState
from payments.settle import Outcome, apply_result, mismatches
from wechat.pay.errors import WeChatPayOrderNotFound, WeChatPayOrderPaid
from wechat.pay.protocol import PaymentParams, WeChatPayApi

log = logging.getLogger("wuye.payments")

__all__ = ["Created", "Outcome", "apply_result", "create_order", "expire", "mismatches", "refresh"]

ORDER_TTL = timedelta(minutes=30)
MAX_BILLS = 36


def new_out_trade_no(now: datetime) -> str:
    """WY + local time to the second + 10 random hex: 26 characters, unique by constraint."""
    return "WY" + clock.to_local(now).strftime("%Y%m%d%H%M%S") + secrets.token_hex(5)


def order_stream(payee_id: int) -> str:
    return f"payments:payee:{payee_id}"


async def _release(order_id: int) -> None:
    await Bill.filter(pending_order_id=order_id, status=BillStatus.UNPAID).update(pending_order_id=None)


@dataclass(frozen=True, slots=True)
class Created:
    order: PaymentOrder
    params: PaymentParams


async def create_order(
    pay: WeChatPayApi,
    *,
    user_id: int,
    openid: str,
    bill_ids: list[int],
    now: datetime | None = None,
) -> Created:
    """An order for ``bill_ids`` (one unit, one payee, all unpaid), payable by the unit's owner or a
    resident; returns the wx.requestPayment parameters. Asking again for exactly the bills of one's
    own pending order returns that order again."""
    moment = now or clock.now()
    wanted = sorted(set(bill_ids))
    if not wanted or len(wanted) > MAX_BILLS:
        raise errors.BillsNotPayable(f"一次可缴 1–{MAX_BILLS} 笔账单", code="bill_count_invalid")
    bills = await Bill.filter(id__in=wanted).select_related("payee").order_by("id")
    if len(bills) != len(wanted):
        raise errors.BillNotFound()
    units = {b.unit_id for b in bills}
    if len(units) != 1:
        raise errors.BillsNotPayable("一笔订单只能缴同一房屋的账单", code="bills_of_several_units")
    unit_id = units.pop()
    if not await accounts.acts_for_unit(user_id, unit_id):
        raise errors.NotPayerOfUnit()
    if len({b.payee_id for b in bills}) != 1:
        raise errors.BillsNotPayable("一笔订单只能缴同一收款方的账单", code="bills_of_several_payees")
    if any(b.status is not BillStatus.UNPAID for b in bills):
        raise errors.BillsNotPayable("所选账单中有已缴清的", code="bills_paid")
    pending = {b.pending_order_id for b in bills}
    if pending != {None}:
        again = await _pending_again(pay, pending, wanted, user_id, moment)
        if again is not None:
            return again
    bill = bills[0]
    amount = sum(b.amount_fen for b in bills)
    out_trade_no, expires_at = new_out_trade_no(moment), moment + ORDER_TTL
    description = "物业费" if len(bills) == 1 else f"物业费等{len(bills)}笔"
    sub_mchid = bill.payee.sub_mchid
    # WeChat Pay first, then one transaction: the order (with its prepay id) and the bills held. A
    # failure before the commit leaves no order here; the WeChat Pay order nobody was given the
    # parameters of is closed (best effort: unpaid, it also ends at time_expire).
    prepay_id = await pay.jsapi_prepay(
        sub_mchid=sub_mchid,
        description=description,
        out_trade_no=out_trade_no,
        amount_fen=amount,
        payer_openid=openid,
        time_expire=expires_at,
    )
    try:
        async with in_transaction():
            order = await PaymentOrder.create(
                out_trade_no=out_trade_no,
                payee_id=bill.payee_id,
                sub_mchid=sub_mchid,
                compound_id=bill.compound_id,
                unit_id=unit_id,
                payer_id=user_id,
                payer_openid=openid,
                description=description,
                amount_fen=amount,
                prepay_id=prepay_id,
                expires_at=expires_at,
            )
            taken = await Bill.filter(id__in=wanted, status=BillStatus.UNPAID, pending_order_id=None).update(
                pending_order_id=order.id
            )
            if taken != len(wanted):
                raise errors.BillsNotPayable("所选账单正在另一笔订单中支付", code="bills_pending")
            await OrderBill.bulk_create(
                [OrderBill(order_id=order.id, bill_id=b.id, amount_fen=b.amount_fen) for b in bills]
            )
            # No audit event here: the order row is the record of a resident's order, and an event
            # per order on the payee's chain would make all orders of a payee queue behind its head
            # lock. The money is chained in the ledger; admin actions (refunds, ...) are audited.
    except BaseException:
        await _abandon(pay, sub_mchid, out_trade_no)
        raise
    return Created(order, pay.payment_params(prepay_id))


async def _abandon(pay: WeChatPayApi, sub_mchid: str, out_trade_no: str) -> None:
    try:
        await pay.close_order(sub_mchid=sub_mchid, out_trade_no=out_trade_no)
    except Exception:
        log.warning("closing abandoned order %s failed; it ends at its time_expire", out_trade_no)


async def prepay(pay: WeChatPayApi, order: PaymentOrder) -> Created:
    """Ask WeChat Pay for the order's prepay id (outside any transaction); the parameters for
    wx.requestPayment. A failure closes the order (nobody can pay it) and is raised."""
    try:
        prepay_id = await pay.jsapi_prepay(
            sub_mchid=order.sub_mchid,
            description=order.description,
            out_trade_no=order.out_trade_no,
            amount_fen=order.amount_fen,
            payer_openid=order.payer_openid,
            time_expire=order.expires_at,
        )
    except Exception:
        # No prepay id reached the client, so nobody can pay this order: close it and free the bills.
        await _close_locally(order)
        raise
    await PaymentOrder.filter(id=order.id).update(prepay_id=prepay_id)
    order.prepay_id = prepay_id
    return Created(order, pay.payment_params(prepay_id))


async def _pending_again(
    pay: WeChatPayApi, pending: set[int | None], wanted: list[int], user_id: int, now: datetime
) -> Created | None:
    """The bills are held by a pending order: the caller's own order for exactly these bills is
    returned again; an expired one is expired first (then the caller may create a new one)."""
    if len(pending) == 1 and None not in pending:
        order = await PaymentOrder.get(id=next(iter(pending - {None})))
        lines = sorted(await OrderBill.filter(order_id=order.id).values_list("bill_id", flat=True))
        if order.state is OrderState.CREATED and order.expires_at > now and order.prepay_id:
            if order.payer_id == user_id and lines == wanted:
                return Created(order, pay.payment_params(order.prepay_id))
            raise errors.BillsNotPayable("所选账单正在另一笔订单中支付", code="bills_pending")
    for order_id in pending - {None}:
        held = await PaymentOrder.get(id=order_id)
        if held.state is OrderState.CREATED and held.expires_at > now:
            raise errors.BillsNotPayable("所选账单正在另一笔订单中支付", code="bills_pending")
        await expire(pay, held)
    return None


# --- payment results (payments.settle) ----------------------------------------------------


async def refresh(pay: WeChatPayApi, order: PaymentOrder) -> PaymentOrder:
    """Order status for the client: a pending order is queried at WeChat Pay (never trusting the
    client's word that it paid) and the result applied; an expired one is closed."""
    if order.state is not OrderState.CREATED:
        return order
    try:
        txn = await pay.query_order(sub_mchid=order.sub_mchid, out_trade_no=order.out_trade_no)
    except WeChatPayOrderNotFound:
        txn = None
    if txn is not None:
        await apply_result(txn, sp_mchid=pay.sp_mchid, sp_appid=pay.sp_appid)
    unpaid = txn is None or txn.trade_state not in ("SUCCESS", "REFUND")
    if unpaid and order.expires_at <= clock.now():
        await expire(pay, order)
    return await PaymentOrder.get(id=order.id)


# --- expiry --------------------------------------------------------------------------------


async def _close_locally(order: PaymentOrder) -> bool:
    """created → closed where it is still created, freeing its bills (the order row records when).
    Closing is the system's (expiry, a failed prepay, a higher domain's hold ending), not an admin
    action: no audit event. A purpose order's handler hears of it in the same transaction."""
    purpose_registry.check_registered(order)
    at = clock.now()
    async with in_transaction():
        moved = await PaymentOrder.filter(id=order.id, state=OrderState.CREATED).update(
            state=OrderState.CLOSED, closed_at=at, live_key=None
        )
        if moved:
            await _release(order.id)
            await purpose_registry.dispatch(order, "closed", at)
    return bool(moved)


async def expire(pay: WeChatPayApi, order: PaymentOrder) -> str:
    """Close an unpaid order at WeChat Pay, then here. Paid meanwhile: the payment is taken instead."""
    if order.state is not OrderState.CREATED:
        return order.state.value
    try:
        await pay.close_order(sub_mchid=order.sub_mchid, out_trade_no=order.out_trade_no)
    except WeChatPayOrderPaid:
        txn = await pay.query_order(sub_mchid=order.sub_mchid, out_trade_no=order.out_trade_no)
        await apply_result(txn, sp_mchid=pay.sp_mchid, sp_appid=pay.sp_appid)
        return "paid"
    except WeChatPayOrderNotFound:
        pass  # never reached WeChat Pay: nothing to close there
    await _close_locally(order)
    return "closed"


async def expire_due(pay: WeChatPayApi, *, limit: int = 100) -> int:
    """Expire the unpaid orders past their time (the clock calls this); each claimed first, so
    runs at once close each order once."""
    due = (
        await PaymentOrder.filter(state=OrderState.CREATED, expires_at__lte=clock.now())
        .order_by("id")
        .limit(limit)
    )
    closed = 0
    for order in due:
        if not await claims.claim(PaymentOrder, order.id, state=OrderState.CREATED):
            continue  # another run has it
        try:
            if await expire(pay, order) == "closed":
                closed += 1
        except Exception:  # one order WeChat Pay will not close now must not stop the others
            log.warning("expiring order %s failed; retried next time", order.out_trade_no, exc_info=True)
    return closed


# --- reading -------------------------------------------------------------------------------


async def order_of_user(user_id: int, order_id: int) -> PaymentOrder:
    order = await PaymentOrder.get_or_none(id=order_id)
    if order is None or not (
        order.payer_id == user_id or await accounts.acts_for_unit(user_id, order.unit_id)
    ):
        raise errors.OrderNotFound()
    return order


async def receipts_of_unit(unit_id: int, *, limit: int, before_id: int | None) -> list[Receipt]:
    query = Receipt.filter(unit_id=unit_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)


async def receipt(receipt_id: int) -> Receipt:
    found = await Receipt.get_or_none(id=receipt_id).prefetch_related("payee")
    if found is None:
        raise errors.ReceiptNotFound()
    return found


async def receipt_of_order(order_id: int) -> Receipt:
    found = await Receipt.get_or_none(order_id=order_id).prefetch_related("payee")
    if found is None:
        raise errors.ReceiptNotFound()
    return found


async def order_of_payee(payee_id: int, *, compound_id: int, order_id: int) -> PaymentOrder:
    order = await PaymentOrder.get_or_none(id=order_id, compound_id=compound_id, payee_id=payee_id)
    if order is None:
        raise errors.OrderNotFound()
    return order


async def orders_of_payee(
    payee_id: int, *, compound_id: int, limit: int, before_id: int | None
) -> list[PaymentOrder]:
    query = PaymentOrder.filter(payee_id=payee_id, compound_id=compound_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)


def order_view(order: PaymentOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "out_trade_no": order.out_trade_no,
        "unit_id": order.unit_id,
        "amount_fen": order.amount_fen,
        "refunded_fen": order.refunded_fen,
        "state": order.state.value,
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
    }
