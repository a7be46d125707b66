"""Fees and payments for the property company (set-up, billing, payments, refunds, reconciliation),
the supervisor (price bands), and read-only views for the committee and the community (arrears,
late payments, income).

/admin/payments/price-bands                                    supervisor sets; everyone logged in reads
/admin/compounds/<compound_id>/fees/...                        per compound; who may call is on each route

Property staff hold their role over a compound only through a current service contract; billing,
payments and refunds further need the company's own fee contract with the compound (NoFeeContract)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role, Scope, grants_of, today
from core import clock
from miniprogram_api.auth import AUTHENTICATED, Allow, Principal
from miniprogram_api.bounds import Id
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import page_of_list
from miniprogram_api.payments import (
    _LIMIT,
    _NEXT,
    OrderOut,
    PageQuery,
    ReceiptOut,
    cursor_of,
    next_cursor,
    order_out,
    receipt_out,
    wechat_pay,
)
from payments import billing, errors, ledger, orders, reconcile, refunds, setup
from payments.models import FeeContract, FeeItem, PaymentOrder, PriceBand, RefundRecord
from payments.rules import Band, ItemKind

bands_bp = Blueprint("payments_bands", url_prefix="/admin/payments")
bp = Blueprint("payments_admin", url_prefix="/admin/compounds/<compound_id:int>/fees")

SUPERVISOR = Allow(Role.SUPERVISOR, over="county")
STAFF = Allow(Role.PROPERTY_STAFF, over="compound")
READERS = Allow(Role.PROPERTY_STAFF, Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="compound")

Price = Annotated[Decimal, Field(gt=0, le=100_000, max_digits=12, decimal_places=4, description="分/㎡·月")]
Percent = Annotated[
    Decimal, Field(ge=0, lt=100, max_digits=5, decimal_places=2, description="上下浮动百分比")
]
Grade = Annotated[int, Field(ge=1, le=5, description="服务等级 1–5（一级至五级）")]
SubMchid = Annotated[str, Field(pattern=r"^[0-9]{8,10}$", max_length=10, description="微信支付子商户号")]


async def _companies(principal: Principal) -> list[int]:
    return [
        i
        for role, scope, i in await grants_of(principal.user.id)
        if role is Role.PROPERTY_STAFF and scope is Scope.COMPANY
    ]


async def _own_contract(principal: Principal, compound_id: int) -> FeeContract:
    return await setup.company_contract(compound_id, await _companies(principal), today())


# --- price bands ---------------------------------------------------------------------------


class BandIn(BaseModel):
    grade: Grade
    base_fen: Price = Field(description="基准价（分/㎡·月，可含小数）")
    float_percent: Percent
    effective_from: date


class BandOut(BaseModel):
    id: int
    grade: int
    base_fen: Decimal
    float_percent: Decimal
    low_fen: Decimal
    high_fen: Decimal
    effective_from: date


class BandListOut(BaseModel):
    items: list[BandOut]
    next_cursor: str | None = _NEXT


def _band_out(row: PriceBand) -> BandOut:
    band = Band(row.grade, Decimal(row.base_fen), Decimal(row.float_percent))
    return BandOut(
        id=row.id,
        grade=band.grade,
        base_fen=band.base_fen,
        float_percent=band.float_percent,
        low_fen=band.low,
        high_fen=band.high,
        effective_from=row.effective_from,
    )


@endpoint(
    bands_bp,
    "GET",
    "/price-bands",
    summary="物业服务政府指导价（各服务等级）",
    access=AUTHENTICATED,
    query=PageQuery,
    response=BandListOut,
)
async def list_bands(request: Request, call: Call[None, PageQuery]) -> BandListOut:
    page = page_of_list(await setup.price_bands(), call.query.cursor, call.query.limit)
    return BandListOut(items=[_band_out(b) for b in page.items], next_cursor=page.next_cursor)


@endpoint(
    bands_bp,
    "PUT",
    "/price-bands",
    summary="设定某服务等级的基准价与浮动幅度（自某日起）",
    access=SUPERVISOR,
    body=BandIn,
    response=BandOut,
)
async def set_band(request: Request, call: Call[BandIn, None]) -> BandOut:
    b = call.body
    row = await setup.set_price_band(
        call.principal.actor,
        grade=b.grade,
        base_fen=b.base_fen,
        float_percent=b.float_percent,
        effective_from=b.effective_from,
        user_id=call.principal.user.id,
    )
    return _band_out(row)


# --- contract and items --------------------------------------------------------------------


class ContractIn(BaseModel):
    grade: Grade
    price_fen: Price = Field(description="合同单价（分/㎡·月），须在该等级的指导价区间内（含两端）")
    starts_on: date
    ends_on: date
    sub_mchid: SubMchid


class ContractOut(BaseModel):
    id: int
    company_id: int
    grade: int
    price_fen: Decimal
    starts_on: date
    ends_on: date
    payee: str


def _contract_out(c: FeeContract, payee: str) -> ContractOut:
    return ContractOut(
        id=c.id,
        company_id=c.company_id,
        grade=c.grade,
        price_fen=Decimal(c.price_fen),
        starts_on=c.starts_on,
        ends_on=c.ends_on,
        payee=payee,
    )


@endpoint(
    bp, "GET", "/contract", summary="本小区现行的物业服务收费合同", access=READERS, response=ContractOut
)
async def get_contract(request: Request, call: Call[None, None], compound_id: int) -> ContractOut:
    contract = await setup.current_contract(compound_id, today())
    if contract is None:
        raise errors.NoFeeContract("该小区没有现行的物业服务收费合同")
    return _contract_out(contract, (await contract.payee).name)


@endpoint(
    bp,
    "PUT",
    "/contract",
    summary="登记本公司与本小区的收费合同（单价须在指导价区间内）",
    access=STAFF,
    body=ContractIn,
    response=ContractOut,
    status=201,
)
async def put_contract(request: Request, call: Call[ContractIn, None], compound_id: int) -> ContractOut:
    b = call.body
    company = await setup.acting_company(await _companies(call.principal), compound_id, today())
    contract = await setup.set_fee_contract(
        call.principal.actor,
        setup.ContractTerms(compound_id, company, b.grade, b.price_fen, b.starts_on, b.ends_on, b.sub_mchid),
    )
    return _contract_out(contract, (await contract.payee).name)


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    kind: ItemKind
    notice_id: Id = Field(description="公示栏中该项收费标准的公告（类别 fee_standard）")
    price_fen: Price | None = Field(default=None, description="按面积：单价；缺省为合同单价")
    monthly_fen: Annotated[int, Field(ge=1, le=10_000_000)] | None = Field(
        default=None, description="按月定额（分）"
    )
    unit_kind: str | None = Field(default=None, pattern="^(flat|shop|parking)$", max_length=10)


class ItemOut(BaseModel):
    id: int
    name: str
    kind: str
    notice_id: int
    price_fen: Decimal | None
    monthly_fen: int | None
    unit_kind: str | None
    active: bool


class ItemListOut(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None = _NEXT


def _item_out(i: FeeItem) -> ItemOut:
    return ItemOut(
        id=i.id,
        name=i.name,
        kind=i.kind.value,
        notice_id=i.notice_id,
        price_fen=None if i.price_fen is None else Decimal(i.price_fen),
        monthly_fen=i.monthly_fen,
        unit_kind=i.unit_kind,
        active=i.active,
    )


@endpoint(
    bp, "GET", "/items", summary="本小区的收费项目", access=READERS, query=PageQuery, response=ItemListOut
)
async def list_items(request: Request, call: Call[None, PageQuery], compound_id: int) -> ItemListOut:
    page = page_of_list(await setup.fee_items(compound_id), call.query.cursor, call.query.limit)
    return ItemListOut(items=[_item_out(i) for i in page.items], next_cursor=page.next_cursor)


@endpoint(
    bp,
    "POST",
    "/items",
    summary="新增收费项目（其收费标准须已在公示栏公示）",
    access=STAFF,
    body=ItemIn,
    response=ItemOut,
    status=201,
)
async def add_item(request: Request, call: Call[ItemIn, None], compound_id: int) -> ItemOut:
    b = call.body
    contract = await _own_contract(call.principal, compound_id)
    item = await setup.add_fee_item(
        call.principal.actor,
        contract,
        setup.ItemTerms(b.name, b.kind, b.notice_id, b.price_fen, b.monthly_fen, b.unit_kind),
    )
    return _item_out(item)


@endpoint(bp, "DELETE", "/items/<item_id:int>", summary="停用收费项目", access=STAFF, status=204)
async def remove_item(request: Request, call: Call[None, None], compound_id: int, item_id: int) -> None:
    await _own_contract(call.principal, compound_id)
    await setup.deactivate_item(call.principal.actor, compound_id, item_id)


# --- billing runs --------------------------------------------------------------------------


class MeteredIn(BaseModel):
    item_id: Id
    total_fen: Annotated[int, Field(ge=0, le=10**11)]


class RunIn(BaseModel):
    period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", max_length=7, description="账期 YYYY-MM")
    metered: list[MeteredIn] = Field(
        default_factory=list, max_length=20, description="计量分摊项目的本期总额"
    )


class SkippedOut(BaseModel):
    item_id: int
    name: str
    reason: str


class RunOut(BaseModel):
    period: str
    created: int = Field(description="本次新建的账单数（重复计费为 0）")
    total_fen: int = Field(description="该账期的应收合计")
    units: int
    skipped: list[SkippedOut]


class RunItemOut(BaseModel):
    id: int
    period: str
    created_bills: int
    total_fen: int
    at: datetime


class RunListOut(BaseModel):
    items: list[RunItemOut]
    next_cursor: str | None = _NEXT


@endpoint(
    bp,
    "POST",
    "/billing-runs",
    summary="按账期计费（幂等：重复执行不会重复出账）",
    access=STAFF,
    body=RunIn,
    response=RunOut,
    description="只对已在公示栏公示收费标准的项目出账；期中交付的房屋按天折算。欠费不得以停水停电等方式催缴。",
)
async def billing_run(request: Request, call: Call[RunIn, None], compound_id: int) -> RunOut:
    await _own_contract(call.principal, compound_id)
    result = await billing.run_billing(
        call.principal.actor,
        compound_id=compound_id,
        period_text=call.body.period,
        metered_fen={m.item_id: m.total_fen for m in call.body.metered},
        user_id=call.principal.user.id,
    )
    return RunOut(
        period=result.period,
        created=result.created,
        total_fen=result.total_fen,
        units=result.units,
        skipped=[SkippedOut(**s) for s in result.skipped],
    )


@endpoint(
    bp, "GET", "/billing-runs", summary="计费记录", access=READERS, query=PageQuery, response=RunListOut
)
async def list_runs(request: Request, call: Call[None, PageQuery], compound_id: int) -> RunListOut:
    rows = await billing.runs(compound_id, limit=call.query.limit, before_id=cursor_of(call.query.cursor))
    return RunListOut(
        items=[
            RunItemOut(
                id=r.id, period=r.period, created_bills=r.created_bills, total_fen=r.total_fen, at=r.at
            )
            for r in rows
        ],
        next_cursor=next_cursor([r.id for r in rows], call.query.limit),
    )


# --- arrears (read-only for the committee and the community) ------------------------------


class ArrearsQuery(BaseModel):
    cursor: str | None = Field(
        default=None, max_length=10, pattern=r"^[0-9]{1,10}$", description="上一页返回的 next_cursor"
    )
    limit: int = _LIMIT


class UnitArrearsOut(BaseModel):
    unit_id: int
    building: str
    number: str
    bills: int
    owed_fen: int
    oldest_period: str


class ArrearsPageOut(BaseModel):
    units_in_arrears: int
    owed_fen: int
    items: list[UnitArrearsOut]
    next_cursor: str | None = _NEXT


async def _arrears(compound_id: int, q: ArrearsQuery, before_period: str | None) -> ArrearsPageOut:
    count, owed, page = await billing.compound_arrears(
        compound_id, limit=q.limit, after_unit_id=cursor_of(q.cursor), before_period=before_period
    )
    return ArrearsPageOut(
        units_in_arrears=count,
        owed_fen=owed,
        items=[UnitArrearsOut(**asdict(u)) for u in page],
        next_cursor=next_cursor([u.unit_id for u in page], q.limit),
    )


@endpoint(
    bp,
    "GET",
    "/arrears",
    summary="本小区欠费（按房屋）",
    access=READERS,
    query=ArrearsQuery,
    response=ArrearsPageOut,
    description="只读。房号而非姓名；催缴只能依管理规约的方式，不得停水、停电、停气、停暖。",
)
async def arrears(request: Request, call: Call[None, ArrearsQuery], compound_id: int) -> ArrearsPageOut:
    return await _arrears(compound_id, call.query, None)


@endpoint(
    bp,
    "GET",
    "/late-payments",
    summary="逾期未缴清单（本账期以前）",
    access=READERS,
    query=ArrearsQuery,
    response=ArrearsPageOut,
    description="供业主委员会了解情况；本系统不提供任何停止服务的操作。",
)
async def late_payments(request: Request, call: Call[None, ArrearsQuery], compound_id: int) -> ArrearsPageOut:
    return await _arrears(compound_id, call.query, clock.to_local(clock.now()).strftime("%Y-%m"))


# --- income --------------------------------------------------------------------------------


class IncomeQuery(PageQuery):
    year: int = Field(ge=2000, le=2100, description="自然年（北京时间）")


class MonthIncomeOut(BaseModel):
    payee_id: int
    month: str
    received_fen: int
    refunded_fen: int
    net_fen: int
    payments: int


class IncomeOut(BaseModel):
    year: int
    items: list[MonthIncomeOut]
    next_cursor: str | None = _NEXT


@endpoint(
    bp,
    "GET",
    "/income",
    summary="本小区收费收入（按收款方、按月，由账本计算）",
    access=READERS,
    query=IncomeQuery,
    response=IncomeOut,
)
async def income(request: Request, call: Call[None, IncomeQuery], compound_id: int) -> IncomeOut:
    year = call.query.year
    since = datetime(year, 1, 1, tzinfo=clock.SHANGHAI)
    until = datetime(year + 1, 1, 1, tzinfo=clock.SHANGHAI)
    rows = await ledger.income(compound_ids=[compound_id], payee_ids=None, since=since, until=until)
    page = page_of_list(rows, call.query.cursor, call.query.limit)
    return IncomeOut(
        year=year,
        next_cursor=page.next_cursor,
        items=[
            MonthIncomeOut(
                payee_id=r.payee_id,
                month=r.month,
                received_fen=r.received_fen,
                refunded_fen=r.refunded_fen,
                net_fen=r.net_fen,
                payments=r.payments,
            )
            for r in page.items
        ],
    )


# --- payments, refunds, receipts, reconciliation (the company) -----------------------------


class OrderListOut(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None = _NEXT


@endpoint(
    bp,
    "GET",
    "/orders",
    summary="本公司在本小区的收款订单",
    access=STAFF,
    query=PageQuery,
    response=OrderListOut,
)
async def list_orders(request: Request, call: Call[None, PageQuery], compound_id: int) -> OrderListOut:
    contract = await _own_contract(call.principal, compound_id)
    rows = await orders.orders_of_payee(
        contract.payee_id,
        compound_id=compound_id,
        limit=call.query.limit,
        before_id=cursor_of(call.query.cursor),
    )
    return OrderListOut(
        items=[order_out(o) for o in rows], next_cursor=next_cursor([o.id for o in rows], call.query.limit)
    )


async def _own_order(principal: Principal, compound_id: int, order_id: int) -> PaymentOrder:
    contract = await _own_contract(principal, compound_id)
    return await orders.order_of_payee(contract.payee_id, compound_id=compound_id, order_id=order_id)


class RefundIn(BaseModel):
    amount_fen: Annotated[int, Field(ge=1, le=10**10)]
    reason: str = Field(min_length=1, max_length=80, description="退款原因（会显示给付款人）")


class RefundOut(BaseModel):
    id: int
    out_refund_no: str
    amount_fen: int
    reason: str
    state: str
    created_at: datetime
    finished_at: datetime | None
    failure: str = Field(default="", description="失败原因（关闭或异常时）")


class RefundListOut(BaseModel):
    items: list[RefundOut]
    next_cursor: str | None = _NEXT


def _refund_out(r: RefundRecord) -> RefundOut:
    return RefundOut(
        id=r.id,
        out_refund_no=r.out_refund_no,
        amount_fen=r.amount_fen,
        reason=r.reason,
        state=r.state.value,
        created_at=r.created_at,
        finished_at=r.finished_at,
        failure=r.failure,
    )


@endpoint(
    bp,
    "POST",
    "/orders/<order_id:int>/refunds",
    summary="退款（可部分退款，须写明原因）",
    access=STAFF,
    body=RefundIn,
    response=RefundOut,
    status=201,
)
async def refund(request: Request, call: Call[RefundIn, None], compound_id: int, order_id: int) -> RefundOut:
    order = await _own_order(call.principal, compound_id, order_id)
    record = await refunds.request_refund(
        wechat_pay(request),
        call.principal.actor,
        order=order,
        amount_fen=call.body.amount_fen,
        reason=call.body.reason,
        user_id=call.principal.user.id,
    )
    return _refund_out(record)


@endpoint(
    bp, "GET", "/orders/<order_id:int>/refunds", summary="订单的退款", access=STAFF, query=PageQuery,
    response=RefundListOut,
)  # fmt: skip
async def order_refunds(
    request: Request, call: Call[None, PageQuery], compound_id: int, order_id: int
) -> RefundListOut:
    order = await _own_order(call.principal, compound_id, order_id)
    page = page_of_list(await refunds.refunds_of_order(order.id), call.query.cursor, call.query.limit)
    return RefundListOut(items=[_refund_out(r) for r in page.items], next_cursor=page.next_cursor)


@endpoint(
    bp, "GET", "/orders/<order_id:int>/receipt", summary="打印电子收据", access=STAFF, response=ReceiptOut
)
async def order_receipt(
    request: Request, call: Call[None, None], compound_id: int, order_id: int
) -> ReceiptOut:
    order = await _own_order(call.principal, compound_id, order_id)
    found = await orders.receipt_of_order(order.id)
    return await receipt_out(found)


class ReconcileIn(BaseModel):
    bill_date: date = Field(description="对账日（北京时间）")


class DifferenceOut(BaseModel):
    kind: str = Field(description="payment 收款 / refund 退款")
    key: str
    out_trade_no: str
    difference: str = Field(
        description="missing_here 本方账本缺失 / missing_there 微信账单缺失 / amount_differs 金额不符 / payee_differs 收款方不符"
    )
    bill_fen: int | None
    ledger_fen: int | None


class ReconcileOut(BaseModel):
    id: int
    bill_date: date
    matched: int
    differences: list[DifferenceOut] = Field(description="每一处差异，留待人工核对，系统不自动更正")


@endpoint(
    bp,
    "POST",
    "/reconciliations",
    summary="下载微信支付交易账单并与账本对账",
    access=STAFF,
    body=ReconcileIn,
    response=ReconcileOut,
    status=201,
)
async def reconcile_day(request: Request, call: Call[ReconcileIn, None], compound_id: int) -> ReconcileOut:
    contract = await _own_contract(call.principal, compound_id)
    if call.body.bill_date >= today() + timedelta(days=1):
        raise errors.PeriodInvalid("对账日不能晚于今天", code="bill_date_invalid")
    report = await reconcile.reconcile(
        wechat_pay(request),
        call.principal.actor,
        day=call.body.bill_date,
        payee=await contract.payee,
        user_id=call.principal.user.id,
    )
    return ReconcileOut(
        id=report.id,
        bill_date=report.bill_date,
        matched=report.matched,
        differences=[DifferenceOut(**d) for d in report.differences],
    )


class LedgerCheckOut(BaseModel):
    ok: bool
    entries: int
    problems: list[str]


@endpoint(
    bp, "GET", "/ledger/verify", summary="核验本公司收款账本的哈希链", access=STAFF, response=LedgerCheckOut
)
async def verify_ledger(request: Request, call: Call[None, None], compound_id: int) -> LedgerCheckOut:
    contract = await _own_contract(call.principal, compound_id)
    check = await ledger.verify(contract.payee_id)
    return LedgerCheckOut(ok=check.ok, entries=check.entries, problems=check.problems)


# the failed refunds' and the reconciliation reports' routes, on this blueprint (in their own modules)
from miniprogram_api import payments_reconciliations, payments_refunds  # noqa: E402, F401
