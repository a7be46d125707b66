"""Refunds: partial or whole, with a reason, their outcome from WeChat Pay (answer or notification).

What may still be refunded is held by a conditional UPDATE on the order (``refunded_fen`` grows only
while it stays within the amount), so two refunds racing cannot together exceed the payment. A
refund enters the ledger once, when WeChat Pay reports it SUCCESS. A refund that fails is recorded
with why (``failure``), the paying domain hears of it (on_refund_failed), and the money is still owed
back, so it stays in ``unsettled`` (listed for the company's finance and the committee) until dealt
with:
- CLOSED (nothing was paid back): its amount is given back to what may be refunded; ``retry``
  requests it again (same amount and reason), once; any new refund of the order settles it too;
- ABNORMAL (WeChat Pay could not pay it into the payer's account, e.g. a cancelled bank card): the
  amount stays held; a person handles it at WeChat Pay (商户平台 → 交易中心 → 退款异常处理), which
  then reports it SUCCESS (a notification, or ``recheck``): it enters the ledger and on_refunded runs.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Literal

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from audit import service as audit
from audit.service import Actor
from core import clock
from payments import claims, errors, ledger, purpose_registry, rules
from payments.models import LedgerKind, PaymentOrder, RefundRecord
from payments.orders import order_stream
from payments.rules import OrderState, RefundState
from wechat.pay.errors import WeChatPayRefundRefused
from wechat.pay.protocol import Refund, WeChatPayApi

log = logging.getLogger("wuye.payments")

REFUNDABLE = (OrderState.PAID, OrderState.PARTIALLY_REFUNDED)


async def request_refund(
    pay: WeChatPayApi,
    actor: Actor,
    *,
    order: PaymentOrder,
    amount_fen: int,
    reason: str,
    user_id: int | None,
    retrying: RefundRecord | None = None,
) -> RefundRecord:
    """Ask WeChat Pay to refund ``amount_fen`` of ``order`` (call it outside any transaction). The
    order's closed refunds not yet settled are settled by this one (the money owed back is asked
    again); ``retrying``: the closed refund this one retries, claimed exactly once."""
    if amount_fen <= 0:
        raise errors.RefundInvalid()
    out_refund_no = "RF" + order.out_trade_no[2:16] + secrets.token_hex(6)
    async with in_transaction():
        if retrying is not None:
            claimed = await RefundRecord.filter(
                id=retrying.id, state=RefundState.CLOSED, settled_at=None
            ).update(settled_at=clock.now(), retried_as=out_refund_no)
            if not claimed:
                raise errors.RefundNotRetryable()
        held = await PaymentOrder.filter(
            id=order.id, state__in=REFUNDABLE, refunded_fen__lte=order.amount_fen - amount_fen
        ).update(refunded_fen=F("refunded_fen") + amount_fen)
        if not held:
            raise errors.RefundInvalid(details={"refundable_fen": order.amount_fen - order.refunded_fen})
        await RefundRecord.filter(order_id=order.id, state=RefundState.CLOSED, settled_at=None).update(
            settled_at=clock.now(), retried_as=out_refund_no
        )
        refund = await RefundRecord.create(
            out_refund_no=out_refund_no,
            order_id=order.id,
            amount_fen=amount_fen,
            reason=reason,
            requested_by_id=user_id,
        )
        await audit.append(
            order_stream(order.payee_id),
            "payments.refund_requested",
            actor=actor,
            subject=f"order:{order.out_trade_no}",
            payload={
                "out_refund_no": refund.out_refund_no,
                "amount_fen": amount_fen,
                "reason": reason,
                "retries": retrying.out_refund_no if retrying is not None else None,
            },
        )
    try:
        answer = await pay.refund(
            sub_mchid=order.sub_mchid,
            out_trade_no=order.out_trade_no,
            out_refund_no=refund.out_refund_no,
            refund_fen=amount_fen,
            total_fen=order.amount_fen,
            reason=reason,
        )
    except WeChatPayRefundRefused as exc:
        await _finish(refund, RefundState.CLOSED, None, failure=f"微信支付拒绝退款：{exc.user_message}")
        raise
    if answer.status != "PROCESSING":
        await apply_refund_result(answer, sub_mchid=order.sub_mchid)
    elif answer.refund_id:
        await RefundRecord.filter(id=refund.id).update(refund_id=answer.refund_id)
    return await RefundRecord.get(id=refund.id)


async def retry(
    pay: WeChatPayApi, actor: Actor, *, refund: RefundRecord, user_id: int | None
) -> RefundRecord:
    """Request a closed refund again (same amount and reason): once, however many ask at a time."""
    current = await RefundRecord.get(id=refund.id)
    if current.state is not RefundState.CLOSED or current.settled_at is not None:
        raise errors.RefundNotRetryable()
    order = await PaymentOrder.get(id=current.order_id)
    return await request_refund(
        pay,
        actor,
        order=order,
        amount_fen=current.amount_fen,
        reason=current.reason,
        user_id=user_id,
        retrying=current,
    )


async def recheck(pay: WeChatPayApi, refund: RefundRecord) -> RefundRecord:
    """Ask WeChat Pay again about an abnormal refund (after a person handled it there); a success
    is applied as its notification would be."""
    current = await RefundRecord.get(id=refund.id).prefetch_related("order")
    if current.state is not RefundState.ABNORMAL or current.settled_at is not None:
        raise errors.RefundNotAbnormal()
    order: PaymentOrder = current.order
    answer = await pay.query_refund(sub_mchid=order.sub_mchid, out_refund_no=current.out_refund_no)
    await apply_refund_result(answer, sub_mchid=order.sub_mchid)
    return await RefundRecord.get(id=refund.id)


async def unsettled(*, compound_id: int, limit: int, before_id: int | None) -> list[RefundRecord]:
    """Failed refunds of the compound's orders whose money is still owed back, newest first."""
    query = RefundRecord.filter(
        state__in=(RefundState.CLOSED, RefundState.ABNORMAL), settled_at=None, order__compound_id=compound_id
    )
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit).prefetch_related("order")


async def refund_of_compound(
    compound_id: int, refund_id: int, *, payee_id: int | None = None
) -> RefundRecord:
    query = RefundRecord.filter(id=refund_id, order__compound_id=compound_id)
    if payee_id is not None:
        query = query.filter(order__payee_id=payee_id)
    found = await query.first()
    if found is None:
        raise errors.RefundNotFound()
    return found


FAILURES = {
    RefundState.CLOSED: "退款已关闭，款项未退回，可重新发起退款",
    RefundState.ABNORMAL: "退款入账异常（付款人的银行卡可能已注销或冻结），须到微信支付商户平台处理",
}


def failure_of(state: RefundState, result: Refund | None) -> str:
    text = FAILURES[state]
    if result is not None and result.user_received_account:
        text += f"；退回账户：{result.user_received_account}"
    return text[:120]


Outcome = Literal["applied", "already", "processing"]


async def apply_refund_result(result: Refund, *, sub_mchid: str | None = None) -> Outcome:
    """Take a refund's outcome (a verified REFUND.* notification, or an answer to our request)."""
    refund = await RefundRecord.get_or_none(out_refund_no=result.out_refund_no).prefetch_related("order")
    if refund is None:
        raise errors.RefundNotFound()
    order: PaymentOrder = refund.order
    wrong = []
    if result.out_trade_no != order.out_trade_no:
        wrong.append("out_trade_no")
    if result.refund_fen != refund.amount_fen or result.total_fen != order.amount_fen:
        wrong.append("amount")
    if (result.sub_mchid or sub_mchid or order.sub_mchid) != order.sub_mchid:
        wrong.append("sub_mchid")
    if wrong:
        raise errors.NotificationMismatch(details={"fields": wrong})
    if result.status == "PROCESSING":
        return "processing"
    if refund.state is not RefundState.PROCESSING and (
        refund.state is not RefundState.ABNORMAL or result.status != "SUCCESS"
    ):
        return "already"
    state = {"SUCCESS": RefundState.SUCCESS, "CLOSED": RefundState.CLOSED, "ABNORMAL": RefundState.ABNORMAL}[
        result.status
    ]
    return "applied" if await _finish(refund, state, result) else "already"


async def _finish(
    refund: RefundRecord, state: RefundState, result: Refund | None, *, failure: str | None = None
) -> bool:
    at = (result.success_time if result else None) or clock.now()
    purpose_registry.check_registered(await PaymentOrder.get(id=refund.order_id))
    refund_id = (result.refund_id if result else None) or refund.refund_id
    failed = state in (RefundState.CLOSED, RefundState.ABNORMAL)
    async with in_transaction():
        moved = await RefundRecord.filter(id=refund.id, state=RefundState.PROCESSING).update(
            state=state,
            finished_at=at,
            refund_id=refund_id,
            failure=(failure or failure_of(state, result)) if failed else "",
        )
        if not moved and state is RefundState.SUCCESS:
            # an abnormal refund a person handled at WeChat Pay, reported paid back at last
            moved = await RefundRecord.filter(
                id=refund.id, state=RefundState.ABNORMAL, settled_at=None
            ).update(state=state, finished_at=at, refund_id=refund_id, settled_at=at)
        if not moved:
            return False
        order = await PaymentOrder.get(id=refund.order_id)
        if state is RefundState.SUCCESS:
            amounts: list[Any] = list(
                await RefundRecord.filter(order_id=order.id, state=RefundState.SUCCESS).values_list(
                    "amount_fen", flat=True
                )
            )
            done = sum(int(a) for a in amounts)
            await PaymentOrder.filter(id=order.id, state__in=REFUNDABLE).update(
                state=rules.refunded_state(order.amount_fen, int(done))
            )
            await ledger.record(order, LedgerKind.REFUND, refund.amount_fen, at, refund=refund)
            await purpose_registry.dispatch(
                order,
                "refunded",
                at,
                transaction_id=order.transaction_id,
                out_refund_no=refund.out_refund_no,
                refund_fen=refund.amount_fen,
                refunded_fen=done,
                fully_refunded=done >= order.amount_fen,
                reason=refund.reason,
            )
        else:
            if state is RefundState.CLOSED:  # nothing left the payee: it may be refunded again
                await PaymentOrder.filter(id=order.id).update(
                    refunded_fen=F("refunded_fen") - refund.amount_fen
                )
            await purpose_registry.dispatch(
                order,
                "refund_failed",
                at,
                transaction_id=order.transaction_id,
                out_refund_no=refund.out_refund_no,
                refund_fen=refund.amount_fen,
                reason=refund.reason,
                refund_state=state.value,
                failure=failure or failure_of(state, result),
            )
        await audit.append(
            order_stream(order.payee_id),
            f"payments.refund_{state.value}",
            actor=audit.SYSTEM,
            subject=f"order:{order.out_trade_no}",
            payload={"out_refund_no": refund.out_refund_no, "amount_fen": refund.amount_fen},
        )
    return True


async def refunds_of_order(order_id: int) -> list[RefundRecord]:
    return await RefundRecord.filter(order_id=order_id).order_by("id")


POLL_AFTER = timedelta(minutes=2)  # WeChat Pay usually notifies within seconds; poll what it did not


async def poll_processing(pay: WeChatPayApi, *, limit: int = 50, now: datetime | None = None) -> int:
    """Refunds still processing a while after their request are queried at WeChat Pay and their
    outcome applied as a notification would be (the refund polling job), each claimed first, so
    runs at once query each refund once. Returns refunds finished."""
    cutoff = (now or clock.now()) - POLL_AFTER
    pending = (
        await RefundRecord.filter(state=RefundState.PROCESSING, created_at__lte=cutoff)
        .order_by("id")
        .limit(limit)
        .prefetch_related("order")
    )
    finished = 0
    for refund in pending:
        if not await claims.claim(RefundRecord, refund.id, state=RefundState.PROCESSING):
            continue  # another run has it
        order: PaymentOrder = refund.order
        try:
            answer = await pay.query_refund(sub_mchid=order.sub_mchid, out_refund_no=refund.out_refund_no)
            if await apply_refund_result(answer, sub_mchid=order.sub_mchid) == "applied":
                finished += 1
        except Exception:  # one refund WeChat Pay will not answer for now must not stop the others
            log.warning("polling refund %s failed; retried next time", refund.out_refund_no, exc_info=True)
    return finished
