"""Failed refunds whose money is still owed back (routes on payments_admin's blueprint).

/admin/compounds/<compound_id>/fees/refunds/unsettled          the company, the committee, the community
/admin/compounds/<compound_id>/fees/refunds/<id>/retry         the company: a closed refund asked again
/admin/compounds/<compound_id>/fees/refunds/<id>/recheck       the company: an abnormal one, after a
                                                               person handled it at WeChat Pay

Retry and recheck act on the company's own orders (its fee contract's payee); the list shows every
failed refund of the compound's orders (bookings, deposits too), read-only for the others."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sanic import Request

from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.payments import _NEXT, PageQuery, cursor_of, next_cursor, wechat_pay
from miniprogram_api.payments_admin import READERS, STAFF, RefundOut, _own_contract, _refund_out, bp
from payments import refunds
from payments.models import PaymentOrder, RefundRecord


class UnsettledOut(BaseModel):
    id: int
    out_refund_no: str
    out_trade_no: str
    purpose: str
    unit_id: int
    amount_fen: int
    reason: str
    state: str
    failure: str
    action: str
    created_at: datetime
    finished_at: datetime | None


class UnsettledListOut(BaseModel):
    items: list[UnsettledOut]
    next_cursor: str | None = _NEXT


def _unsettled_out(r: RefundRecord) -> UnsettledOut:
    order: PaymentOrder = r.order
    return UnsettledOut(
        id=r.id,
        out_refund_no=r.out_refund_no,
        out_trade_no=order.out_trade_no,
        purpose=order.purpose,
        unit_id=order.unit_id,
        amount_fen=r.amount_fen,
        reason=r.reason,
        state=r.state.value,
        failure=r.failure,
        action="retry" if r.state.value == "closed" else "handle_at_wechat_pay",
        created_at=r.created_at,
        finished_at=r.finished_at,
    )


@endpoint(
    bp,
    "GET",
    "/refunds/unsettled",
    summary="未退回的失败退款（关闭的可重新发起，异常的须人工到微信支付处理）",
    access=READERS,
    query=PageQuery,
    response=UnsettledListOut,
)
async def unsettled_refunds(
    request: Request, call: Call[None, PageQuery], compound_id: int
) -> UnsettledListOut:
    rows = await refunds.unsettled(
        compound_id=compound_id, limit=call.query.limit, before_id=cursor_of(call.query.cursor)
    )
    return UnsettledListOut(
        items=[_unsettled_out(r) for r in rows],
        next_cursor=next_cursor([r.id for r in rows], call.query.limit),
    )


async def _own_refund(
    request: Request, call: Call[None, None], compound_id: int, refund_id: int
) -> RefundRecord:
    contract = await _own_contract(call.principal, compound_id)
    return await refunds.refund_of_compound(compound_id, refund_id, payee_id=contract.payee_id)


@endpoint(
    bp,
    "POST",
    "/refunds/<refund_id:int>/retry",
    summary="重新发起已关闭的退款（原金额、原因）",
    access=STAFF,
    response=RefundOut,
    status=201,
)
async def retry_refund(
    request: Request, call: Call[None, None], compound_id: int, refund_id: int
) -> RefundOut:
    found = await _own_refund(request, call, compound_id, refund_id)
    record = await refunds.retry(
        wechat_pay(request), call.principal.actor, refund=found, user_id=call.principal.user.id
    )
    return _refund_out(record)


@endpoint(
    bp,
    "POST",
    "/refunds/<refund_id:int>/recheck",
    summary="向微信支付重新查询退款异常的处理结果",
    access=STAFF,
    response=RefundOut,
)
async def recheck_refund(
    request: Request, call: Call[None, None], compound_id: int, refund_id: int
) -> RefundOut:
    found = await _own_refund(request, call, compound_id, refund_id)
    return _refund_out(await refunds.recheck(wechat_pay(request), found))
