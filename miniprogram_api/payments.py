"""Paying fees (residents) and WeChat Pay's notifications.

GET  /payments/units/<unit_id>/bills        my unit's bills with its arrears (owner or resident)
POST /payments/orders                        pay bills: an order and the wx.requestPayment parameters
GET  /payments/orders/<order_id>             order status (a pending order is queried at WeChat Pay)
GET  /payments/units/<unit_id>/receipts      my unit's receipts (电子收据)
GET  /payments/receipts/<receipt_id>         one receipt
POST /payments/wechatpay/notify              WeChat Pay's notifications (verified, then applied once)

The WeChat Pay client is ``app.ctx.wechat_pay`` (a wechat.pay.protocol.WeChatPayApi)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import service as accounts
from core import clock
from core.errors import Unavailable
from core.jsonutil import dumpb
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.bounds import Id
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from payments import billing, errors, notify, orders
from payments.models import PaymentOrder, Receipt
from payments.rules import BillStatus
from wechat.pay.protocol import WeChatPayApi, notify_fail

bp = Blueprint("payments", url_prefix="/payments")

MAX_LIMIT = 50
NOTIFY_MAX_BYTES = 16 * 1024  # a real notification is about 1 KiB
_CURSOR = Field(
    default=None,
    max_length=10,
    pattern=r"^[0-9]{1,10}$",
    description="上一页返回的 next_cursor；缺省为第一页",
)
_LIMIT = Field(default=20, ge=1, le=MAX_LIMIT, description=f"每页条数，最多 {MAX_LIMIT}")
_NEXT = Field(description="下一页的游标；为空表示没有更多")


def wechat_pay(request: Request) -> WeChatPayApi:
    pay: WeChatPayApi | None = getattr(request.app.ctx, "wechat_pay", None)
    if pay is None:
        raise Unavailable("微信支付暂未开通", code="wechat_pay_not_configured")
    return pay


def cursor_of(text: str | None) -> int | None:
    return int(text) if text else None


def next_cursor(ids: list[int], limit: int) -> str | None:
    return str(ids[-1]) if len(ids) == limit else None


class PageQuery(BaseModel):
    cursor: str | None = _CURSOR
    limit: int = _LIMIT


class BillsQuery(PageQuery):
    status: BillStatus | None = Field(default=None, description="unpaid 未缴 / paid 已缴；缺省为全部")


class BillOut(BaseModel):
    id: int
    item_id: int
    item: str = Field(description="收费项目")
    period: str = Field(description="账期 YYYY-MM")
    amount_fen: int
    status: str
    paid_at: datetime | None


class ArrearsOut(BaseModel):
    bills: int = Field(description="未缴账单数")
    owed_fen: int = Field(description="欠费合计（分）")


class UnitBillsOut(BaseModel):
    unit_id: int
    arrears: ArrearsOut
    items: list[BillOut]
    next_cursor: str | None = _NEXT


class PayIn(BaseModel):
    bill_ids: list[Id] = Field(
        min_length=1, max_length=orders.MAX_BILLS, description="同一房屋、同一收款方的账单"
    )


class OrderOut(BaseModel):
    id: int
    out_trade_no: str
    unit_id: int
    amount_fen: int
    refunded_fen: int
    state: str = Field(
        description="created 待支付 / paid 已支付 / closed 已关闭 / partially_refunded / refunded"
    )
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None


class PaymentParamsOut(BaseModel):
    appId: str
    timeStamp: str
    nonceStr: str
    package: str
    signType: str
    paySign: str


class PayOut(BaseModel):
    order: OrderOut
    payment: PaymentParamsOut = Field(description="原样传给 wx.requestPayment")


class ReceiptLineOut(BaseModel):
    bill_id: int | None = Field(description="所缴账单；维修资金、服务预约等非账单款项为空")
    item: str
    period: str | None = Field(description="账期 YYYY-MM；非账单款项为空")
    amount_fen: int


class ReceiptOut(BaseModel):
    id: int
    number: str = Field(description="收据编号（按收款方连续编号）")
    payee: str = Field(description="收款方")
    unit_id: int
    amount_fen: int
    issued_at: datetime
    out_trade_no: str
    lines: list[ReceiptLineOut]


class ReceiptListOut(BaseModel):
    items: list[ReceiptOut]
    next_cursor: str | None = _NEXT


def order_out(order: PaymentOrder) -> OrderOut:
    return OrderOut(**orders.order_view(order))


async def receipt_out(receipt: Receipt) -> ReceiptOut:
    payee = await receipt.payee
    order = await receipt.order
    return ReceiptOut(
        id=receipt.id,
        number=receipt.number,
        payee=payee.name,
        unit_id=receipt.unit_id,
        amount_fen=receipt.amount_fen,
        issued_at=receipt.issued_at,
        out_trade_no=order.out_trade_no,
        lines=[ReceiptLineOut(**line) for line in receipt.lines],
    )


async def _member(principal: Principal, unit_id: int) -> None:
    if not await accounts.acts_for_unit(principal.user.id, unit_id):
        raise errors.NotPayerOfUnit()


@endpoint(
    bp,
    "GET",
    "/units/<unit_id:int>/bills",
    summary="我的房屋的账单与欠费",
    access=AUTHENTICATED,
    query=BillsQuery,
    response=UnitBillsOut,
    description="限该房屋的业主或住户。",
)
async def unit_bills(request: Request, call: Call[None, BillsQuery], unit_id: int) -> UnitBillsOut:
    await _member(call.principal, unit_id)
    q = call.query
    rows = await billing.bills_of_unit(unit_id, status=q.status, limit=q.limit, before_id=cursor_of(q.cursor))
    count, owed = await billing.unit_arrears(unit_id)
    return UnitBillsOut(
        unit_id=unit_id,
        arrears=ArrearsOut(bills=count, owed_fen=owed),
        items=[
            BillOut(
                id=b.id,
                item_id=b.item_id,
                item=b.item_name,
                period=b.period,
                amount_fen=b.amount_fen,
                status=b.status,
                paid_at=b.paid_at,
            )
            for b in rows
        ],
        next_cursor=next_cursor([b.id for b in rows], q.limit),
    )


@endpoint(
    bp,
    "POST",
    "/orders",
    summary="缴费：创建订单并取得 wx.requestPayment 参数",
    access=AUTHENTICATED,
    body=PayIn,
    response=PayOut,
    status=201,
    description="账单须属于同一房屋、同一收款方且未缴；限该房屋的业主或住户。对同一组账单再次请求返回原待支付订单。",
)
async def pay(request: Request, call: Call[PayIn, None]) -> PayOut:
    principal: Principal = call.principal
    created = await orders.create_order(
        wechat_pay(request),
        user_id=principal.user.id,
        openid=principal.user.openid,
        bill_ids=call.body.bill_ids,
    )
    return PayOut(order=order_out(created.order), payment=PaymentParamsOut(**created.params.as_dict()))


@endpoint(
    bp,
    "GET",
    "/orders/<order_id:int>",
    summary="订单状态",
    access=AUTHENTICATED,
    response=OrderOut,
    description="待支付的订单会向微信支付查询（不以小程序端的支付结果为准）。",
)
async def order_status(request: Request, call: Call[None, None], order_id: int) -> OrderOut:
    order = await orders.order_of_user(call.principal.user.id, order_id)
    if order.state.value == "created":
        order = await orders.refresh(wechat_pay(request), order)
    return order_out(order)


@endpoint(
    bp,
    "GET",
    "/units/<unit_id:int>/receipts",
    summary="我的房屋的电子收据",
    access=AUTHENTICATED,
    query=PageQuery,
    response=ReceiptListOut,
)
async def unit_receipts(request: Request, call: Call[None, PageQuery], unit_id: int) -> ReceiptListOut:
    await _member(call.principal, unit_id)
    rows = await orders.receipts_of_unit(
        unit_id, limit=call.query.limit, before_id=cursor_of(call.query.cursor)
    )
    return ReceiptListOut(
        items=[await receipt_out(r) for r in rows],
        next_cursor=next_cursor([r.id for r in rows], call.query.limit),
    )


@endpoint(
    bp, "GET", "/receipts/<receipt_id:int>", summary="电子收据", access=AUTHENTICATED, response=ReceiptOut
)
async def one_receipt(request: Request, call: Call[None, None], receipt_id: int) -> ReceiptOut:
    receipt = await orders.receipt(receipt_id)
    if not await accounts.acts_for_unit(call.principal.user.id, receipt.unit_id):
        raise errors.ReceiptNotFound()
    return await receipt_out(receipt)


def _answer(status: int, body: Any) -> HTTPResponse:
    if body is None:
        return HTTPResponse(status=status)
    return HTTPResponse(dumpb(dict(body)), status=status, content_type="application/json; charset=utf-8")


@endpoint(
    bp,
    "POST",
    "/wechatpay/notify",
    summary="微信支付结果通知（支付、退款）",
    access=PUBLIC,
    status=204,
    description="验签（平台公钥）、拒绝过期时间戳与签名探测、解密后核对商户号、AppID、订单号与金额，幂等处理。"
    '成功：204 无内容；失败：4xx/5xx 与 {"code": "FAIL", "message": ...}，微信支付会重试。',
)
async def wechatpay_notify(request: Request, call: Call[None, None]) -> HTTPResponse:
    # Refusals answer WeChat Pay's way (4xx/5xx with {"code": "FAIL"}), so the body is checked here
    # rather than by the endpoint's generic raw-body check.
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _answer(415, notify_fail("通知内容须为 JSON", 415).body)
    if len(request.body or b"") > NOTIFY_MAX_BYTES:
        return _answer(413, notify_fail("通知内容过大", 413).body)
    try:
        pay_api = wechat_pay(request)
    except Unavailable as exc:
        return _answer(503, notify_fail(exc.user_message, 503).body)
    headers = {key.lower(): value for key, value in request.headers.items()}
    answer = await notify.take(pay_api, headers, request.body or b"", now=clock.now())
    return _answer(answer.status, answer.body)
