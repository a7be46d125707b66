"""Fees of a compound for the property company and its readers (committee, community, county): the
contract and fee items, the billing runs (a run started here, with its result), the arrears and the
late-payment list by unit (no names; the system offers no way to cut any service), and the company's
orders with refunds. Access objects and services are those of miniprogram_api.payments_admin."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from console.committee import compound
from console.web import PREFIX, cursor_in, cursor_out, form_model, form_text, page, render, see_other
from core import clock
from miniprogram_api import payments_admin as api
from miniprogram_api.auth import Principal
from miniprogram_api.pagination import page_of_list
from miniprogram_api.payments import cursor_of, next_cursor, order_out, wechat_pay
from notices import service as notices
from payments import billing, orders, refunds, setup
from payments.errors import NoFeeContract
from payments.rules import GRADE_NAMES

bp = Blueprint("console_payments")
PAGE = 50
RUNS = 12
KIND_NAMES = {"by_area": "按面积", "fixed_monthly": "按月定额", "metered_by_area": "计量分摊"}
ORDER_STATES = {
    "created": "待支付",
    "paid": "已支付",
    "closed": "已关闭",
    "partially_refunded": "部分退款",
    "refunded": "已退款",
}


async def _fees(request: Request, who: Principal, compound_id: int, **extra: Any) -> HTTPResponse:
    late = request.args.get("list") == "late"
    scope = f"fees-{'late' if late else 'arrears'}:{compound_id}"
    cursor = cursor_in(request, scope) if request.method == "GET" else None
    query = form_model(request, api.ArrearsQuery, {"cursor": cursor, "limit": PAGE})
    before = clock.to_local(clock.now()).strftime("%Y-%m") if late else None
    count, owed, rows = await billing.compound_arrears(
        compound_id, limit=query.limit, after_unit_id=cursor_of(query.cursor), before_period=before
    )
    contract = await setup.current_contract(compound_id, api.today())
    payee = await contract.payee if contract else None
    items_scope = f"fee-items:{compound_id}"
    items_query = form_model(
        request,
        api.PageQuery,
        {"cursor": cursor_in(request, items_scope, "items_cursor") if request.method == "GET" else None,
         "limit": PAGE},
    )  # fmt: skip
    items = page_of_list(await setup.fee_items(compound_id), items_query.cursor, items_query.limit)
    staff = Role.PROPERTY_STAFF in who.roles
    return render(
        request,
        "fees.html",
        compound=await compound(compound_id),
        contract=contract,
        payee=payee.name if payee else "",
        sub_mchid=payee.sub_mchid if payee and staff else "",
        items=items.items,
        items_cursor=cursor_out(request, items.next_cursor, items_scope),
        notices=await notices.live_notice_ids(compound_id=compound_id, category=setup.FEE_STANDARD)
        if staff
        else [],
        bands=[api._band_out(b) for b in await setup.price_bands()] if staff else [],
        GRADE_NAMES=GRADE_NAMES,
        KIND_NAMES=KIND_NAMES,
        runs=await billing.runs(compound_id, limit=RUNS, before_id=None),
        late=late,
        units_in_arrears=count,
        owed_fen=owed,
        arrears=rows,
        next_cursor=cursor_out(request, next_cursor([u.unit_id for u in rows], query.limit), scope),
        staff=staff,
        period=clock.to_local(clock.now()).strftime("%Y-%m"),
        result=extra.get("result"),
    )


@page(bp, "GET", "/compounds/<compound_id:int>/fees", access=api.READERS)
async def fees(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    return await _fees(request, who, compound_id)


@page(bp, "POST", "/compounds/<compound_id:int>/fees/billing-runs", access=api.STAFF)
async def billing_run(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    body = form_model(request, api.RunIn, {"period": form_text(request, "period")})
    await api._own_contract(who, compound_id)
    result = await billing.run_billing(
        who.actor, compound_id=compound_id, period_text=body.period, metered_fen={}, user_id=who.user.id
    )
    return await _fees(request, who, compound_id, result=result)


@page(bp, "GET", "/compounds/<compound_id:int>/fees/orders", access=api.STAFF)
async def order_list(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    scope = f"fee-orders:{compound_id}"
    query = form_model(request, api.PageQuery, {"cursor": cursor_in(request, scope), "limit": PAGE})
    try:
        contract = await api._own_contract(who, compound_id)
    except NoFeeContract:
        contract = None
    rows = (
        await orders.orders_of_payee(
            contract.payee_id, compound_id=compound_id, limit=query.limit, before_id=cursor_of(query.cursor)
        )
        if contract
        else []
    )
    return render(
        request,
        "fee_orders.html",
        compound=await compound(compound_id),
        has_contract=contract is not None,
        orders=[order_out(o) for o in rows],
        next_cursor=cursor_out(request, next_cursor([o.id for o in rows], query.limit), scope),
        ORDER_STATES=ORDER_STATES,
    )


@page(bp, "GET", "/compounds/<compound_id:int>/fees/orders/<order_id:int>", access=api.STAFF)
async def order_detail(request: Request, who: Principal, compound_id: int, order_id: int) -> HTTPResponse:
    order = await api._own_order(who, compound_id, order_id)
    return render(
        request,
        "fee_order.html",
        compound=await compound(compound_id),
        order=order_out(order),
        refunds=await refunds.refunds_of_order(order.id),
        ORDER_STATES=ORDER_STATES,
    )


@page(bp, "POST", "/compounds/<compound_id:int>/fees/orders/<order_id:int>/refunds", access=api.STAFF)
async def refund(request: Request, who: Principal, compound_id: int, order_id: int) -> HTTPResponse:
    amount = form_text(request, "amount_fen")
    body = form_model(
        request, api.RefundIn, {"amount_fen": amount or None, "reason": form_text(request, "reason")}
    )
    order = await api._own_order(who, compound_id, order_id)
    await refunds.request_refund(
        wechat_pay(request),
        who.actor,
        order=order,
        amount_fen=body.amount_fen,
        reason=body.reason,
        user_id=who.user.id,
    )
    return see_other(f"{PREFIX}/compounds/{compound_id}/fees/orders/{order_id}")
