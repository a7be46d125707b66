"""Paying for things of higher domains (maintenance-fund deposits, home-service bookings, ...)
through the same orders, WeChat Pay client, notification verification, ledger and refunds as bills.

payments never imports the domains that use this. A domain:
1. registers its purpose once, at import time of one of its modules (listed in
   server/pay.py PAYMENT_PURPOSE_MODULES so web and job workers both load it)::

       purposes.register("booking", on_paid=..., on_closed=..., on_refunded=..., on_refund_failed=...)

2. creates an order for one of its things (``create_order``: its own route checks who may pay),
   hands the answer's payment parameters to the mini-program for wx.requestPayment;
3. hears of the outcome in its handlers, called inside the transaction that records it, exactly once
   per order (paid, closed) or per refund (refunded, refund_failed), however often WeChat Pay notifies;
4. may close an unpaid order (``close``: a hold ending) or refund a paid one (``refund``).

A refund that fails (on_refund_failed, ``refund_state``) still owes the money back: a "closed" one
gave its amount back to what may be refunded, and the domain asks again (``refund``, or
``retry_refund`` for the same amount); an "abnormal" one keeps its amount held and waits for a person
at WeChat Pay (listed in the compound's unsettled refunds); on_refunded runs when it is paid back.

The order's payee is a Payee row (``payee_for``: a sub-merchant of ours per fund account or service
provider; ``payee_of_company``: a property company's, the one its fees go to), its amount explicit. One thing (purpose, reference) has at most one live order (created or
paid): asking again while it is pending returns the same order to the same payer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit.service import Actor
from core import clock
from payments import errors, orders, refunds
from payments.models import BILLS, Payee, PayeeKind, PaymentOrder, RefundRecord
from payments.orders import ORDER_TTL, Created
from payments.purpose_registry import (
    Handler,
    Purpose,
    PurposeEvent,
    PurposeNotRegistered,
    register,
    registered,
    unregister,
)
from payments.rules import OrderState
from wechat.pay.protocol import WeChatPayApi

__all__ = [
    "ORDER_TTL",
    "Created",
    "Handler",
    "Purpose",
    "PurposeEvent",
    "PurposeNotRegistered",
    "close",
    "create_order",
    "live_order",
    "order_of",
    "payee_for",
    "payee_of_company",
    "refresh",
    "refund",
    "register",
    "registered",
    "retry_refund",
    "unregister",
]

REFERENCE_MAX = 40
DESCRIPTION_MAX = 40  # WeChat Pay allows 127 bytes; 40 characters of Chinese stay within it
AMOUNT_MAX_FEN = 100_000_000  # one million yuan: far above any deposit or service
TTL_MIN, TTL_MAX = timedelta(minutes=1), timedelta(hours=2)


def _live_key(purpose: str, reference: str) -> str:
    return f"{purpose}:{reference}"


async def payee_for(kind: PayeeKind, *, name: str, sub_mchid: str) -> Payee:
    """The payee of a sub-merchant (created on first use). A sub_mchid belongs to one payee: asking
    for it with another kind is refused (the money must never reach the wrong hands)."""
    if kind is PayeeKind.PROPERTY_COMPANY:
        raise ValueError("a property company's payee comes with its fee contract (payments.setup)")
    found = await Payee.get_or_none(sub_mchid=sub_mchid)
    if found is None:
        try:
            found = await Payee.create(kind=kind, name=name[:100], sub_mchid=sub_mchid)
        except IntegrityError:
            found = await Payee.get(sub_mchid=sub_mchid)
    if found.kind is not kind:
        raise errors.OrderStateConflict("该商户号已属于另一类收款方", code="payee_kind_differs")
    return found


async def payee_of_company(company_id: int, *, name: str, sub_mchid: str | None) -> Payee:
    """The payee of a property company: the sub-merchant its fees go to (payments.setup), so a
    booking of a service the company provides is paid to the company, never to another account.
    Without a fee contract yet it is created from ``sub_mchid`` (a later fee contract must name the
    same). ``sub_mchid`` naming another account than the company's payee is refused, as is one
    that already belongs to another payee; no payee and no ``sub_mchid``: PayeeUnknown."""
    found = await Payee.get_or_none(company_id=company_id)
    if found is None and sub_mchid:
        taken = await Payee.get_or_none(sub_mchid=sub_mchid)
        if taken is not None and taken.company_id == company_id:
            found = taken  # made by a concurrent call since the first read
        elif taken is not None:
            raise errors.OrderStateConflict("该商户号已属于另一收款方", code="payee_kind_differs")
    if found is None and sub_mchid:
        try:
            found = await Payee.create(
                kind=PayeeKind.PROPERTY_COMPANY, name=name[:100], sub_mchid=sub_mchid, company_id=company_id
            )
        except IntegrityError:
            found = await Payee.get_or_none(company_id=company_id)
    if found is None:
        raise errors.PayeeUnknown()
    if sub_mchid and found.sub_mchid != sub_mchid:
        raise errors.OrderStateConflict(
            "该企业登记的子商户号与其收费合同的不一致，请先核对", code="payee_sub_mchid_mismatch"
        )
    return found


async def create_order(
    pay: WeChatPayApi,
    *,
    purpose: str,
    reference: str,
    payee_id: int,
    amount_fen: int,
    description: str,
    user_id: int,
    openid: str,
    compound_id: int,
    unit_id: int,
    ttl: timedelta = ORDER_TTL,
    now: datetime | None = None,
) -> Created:
    """An order paying ``amount_fen`` to ``payee_id`` for (``purpose``, ``reference``), and the
    wx.requestPayment parameters. The caller has checked that ``user_id`` may pay it; call it
    outside any transaction (it calls WeChat Pay). Pending for the same payer and amount: the same
    order again. Pending for another payer: PurposeOrderPending. Paid: PurposeAlreadyPaid. A pending
    order past its time is expired first (its on_closed runs), then a new one is made."""
    registered(purpose)
    if not reference or len(reference) > REFERENCE_MAX:
        raise ValueError(f"reference must be 1-{REFERENCE_MAX} characters")
    if not 0 < amount_fen <= AMOUNT_MAX_FEN:
        raise errors.RefundInvalid("支付金额不正确", code="amount_invalid")
    if not TTL_MIN <= ttl <= TTL_MAX:
        raise ValueError("ttl must be between 1 minute and 2 hours")
    moment = now or clock.now()
    payee = await Payee.get(id=payee_id)
    for _ in range(2):
        try:
            async with in_transaction():
                order = await PaymentOrder.create(
                    out_trade_no=orders.new_out_trade_no(moment),
                    payee_id=payee.id,
                    sub_mchid=payee.sub_mchid,
                    compound_id=compound_id,
                    unit_id=unit_id,
                    payer_id=user_id,
                    payer_openid=openid,
                    purpose=purpose,
                    reference=reference,
                    live_key=_live_key(purpose, reference),
                    description=description[:DESCRIPTION_MAX],
                    amount_fen=amount_fen,
                    expires_at=moment + ttl,
                )
            break
        except IntegrityError:
            again = await _live_again(pay, purpose, reference, user_id, amount_fen, moment)
            if again is not None:
                return again
    else:  # expired and closed, then taken again by a racing request
        raise errors.PurposeOrderPending()
    return await orders.prepay(pay, order)


async def _live_again(
    pay: WeChatPayApi, purpose: str, reference: str, user_id: int, amount_fen: int, now: datetime
) -> Created | None:
    held = await PaymentOrder.get_or_none(live_key=_live_key(purpose, reference))
    if held is None:
        return None  # closed meanwhile: try again
    if held.state is not OrderState.CREATED:
        raise errors.PurposeAlreadyPaid()
    if held.expires_at > now:
        if held.payer_id == user_id and held.amount_fen == amount_fen and held.prepay_id:
            return Created(held, pay.payment_params(held.prepay_id))
        raise errors.PurposeOrderPending()
    if await orders.expire(pay, held) == "paid":
        raise errors.PurposeAlreadyPaid()
    return None


async def live_order(purpose: str, reference: str) -> PaymentOrder | None:
    """The created or paid order of (purpose, reference), if any."""
    return await PaymentOrder.get_or_none(live_key=_live_key(purpose, reference))


async def order_of(purpose: str, order_id: int) -> PaymentOrder:
    order = await PaymentOrder.get_or_none(id=order_id, purpose=purpose)
    if order is None:
        raise errors.OrderNotFound()
    return order


async def refresh(pay: WeChatPayApi, order: PaymentOrder) -> PaymentOrder:
    """The order's state for a client: a pending one is queried at WeChat Pay and the answer applied
    (its on_paid may run here), an expired one closed (on_closed)."""
    return await orders.refresh(pay, order)


CloseOutcome = Literal["closed", "paid", "already_closed"]


async def close(pay: WeChatPayApi, order: PaymentOrder) -> CloseOutcome:
    """Close an unpaid order at WeChat Pay, then here (on_closed runs in that transaction). Paid
    meanwhile: the payment is taken instead (on_paid runs) and "paid" returned; the caller then holds
    a paid thing (a booking whose hold just ended: refund it or keep it)."""
    current = await PaymentOrder.get(id=order.id)
    if current.state is OrderState.CLOSED:
        return "already_closed"
    if current.state is not OrderState.CREATED:
        return "paid"
    outcome = await orders.expire(pay, current)
    if outcome == "paid":
        return "paid"
    after = await PaymentOrder.get(id=order.id)
    return "closed" if after.state is OrderState.CLOSED else "paid"


async def refund(
    pay: WeChatPayApi,
    actor: Actor,
    *,
    order: PaymentOrder,
    reason: str,
    user_id: int | None,
    amount_fen: int | None = None,
) -> RefundRecord:
    """Refund ``amount_fen`` of a paid order (None: everything still refundable), with a reason,
    audited with ``actor`` on the payee's stream. Returns the refund, usually "processing": its
    outcome arrives by notification (or the refund polling job) and on_refunded runs then, once."""
    current = await PaymentOrder.get(id=order.id)
    if current.purpose == BILLS:
        raise ValueError("bill orders are refunded through payments_admin")
    amount = current.amount_fen - current.refunded_fen if amount_fen is None else amount_fen
    return await refunds.request_refund(
        pay, actor, order=current, amount_fen=amount, reason=reason[:80], user_id=user_id
    )


async def retry_refund(
    pay: WeChatPayApi, actor: Actor, *, out_refund_no: str, user_id: int | None
) -> RefundRecord:
    """Request a closed refund of a purpose order again (same amount and reason), once."""
    found = await RefundRecord.get_or_none(out_refund_no=out_refund_no).prefetch_related("order")
    if found is None or found.order.purpose == BILLS:
        raise errors.RefundNotFound()
    return await refunds.retry(pay, actor, refund=found, user_id=user_id)
