"""The maintenance fund for owners: my units' sub-accounts, balances, entries, and paying a deposit.

GET  /fund/units                          my units with a sub-account: balance and what is due
GET  /fund/units/<unit_id>                one unit's sub-account
GET  /fund/units/<unit_id>/entries        its ledger entries, newest first
POST /fund/units/<unit_id>/deposits       pay what is due (first deposit or top-up) through WeChat Pay
GET  /fund/units/<unit_id>/deposits/<id>  the order's state (a pending one is asked of WeChat Pay)

Only the unit's verified owners: the fund is the owners' money (residents and tenants see nothing)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import service as accounts
from fund import errors, subaccounts
from fund import payments as deposits
from fund.models import FundEntry, SubAccount
from fund.rules import BUILDING_TYPE_NAMES, ENTRY_NAMES, TOP_UP_PERCENT
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery
from miniprogram_api.payments import OrderOut, PaymentParamsOut, order_out, wechat_pay
from payments import errors as pay_errors
from payments import purposes

bp = Blueprint("fund", url_prefix="/fund")


class DueOut(BaseModel):
    kind: str | None = Field(description="first_deposit 首期交存 / top_up 续交；为空表示无需交存")
    amount_fen: int


class UnitFundOut(BaseModel):
    unit_id: int
    room: str = Field(description="楼栋-房号")
    area: Decimal = Field(description="计缴面积（㎡）")
    building_type: str
    building_type_name: str
    rate_fen_per_m2: Decimal = Field(description="首期交存标准（分/㎡）")
    first_deposit_fen: int = Field(description="首期应交（面积×标准，四舍五入到分）")
    first_paid: bool
    balance_fen: int = Field(description="余额：该分户账全部记账之和")
    top_up_threshold_fen: int = Field(description=f"余额低于首期的 {TOP_UP_PERCENT}% 时须续交")
    due: DueOut


class EntryOut(BaseModel):
    id: int
    seq: int = Field(description="本小区账簿中的序号（哈希链）")
    kind: str
    kind_name: str
    amount_fen: int = Field(description="正数记入，负数支出")
    note: str
    at: datetime
    hash: str


async def unit_out(account: SubAccount) -> UnitFundOut:
    v = await subaccounts.view(account)
    return UnitFundOut(
        unit_id=account.unit_id,
        room=account.room,
        area=Decimal(account.area),
        building_type=account.building_type.value,
        building_type_name=BUILDING_TYPE_NAMES[account.building_type],
        rate_fen_per_m2=Decimal(account.rate_fen_per_m2),
        first_deposit_fen=account.first_deposit_fen,
        first_paid=v.first_paid,
        balance_fen=v.balance_fen,
        top_up_threshold_fen=-(-account.first_deposit_fen * TOP_UP_PERCENT // 100),
        due=DueOut(kind=v.due.kind.value if v.due.kind else None, amount_fen=v.due.amount_fen),
    )


def entry_out(entry: FundEntry) -> EntryOut:
    return EntryOut(
        id=entry.id,
        seq=entry.seq,
        kind=entry.kind.value,
        kind_name=ENTRY_NAMES[entry.kind],
        amount_fen=entry.amount_fen,
        note=entry.note,
        at=entry.at,
        hash=entry.hash,
    )


async def owned_account(principal: Principal, unit_id: int) -> SubAccount:
    if not await accounts.is_verified_owner(principal.user.id, unit_id):
        raise errors.NotOwnerOfUnit()
    return await subaccounts.account_of_unit(unit_id)


@endpoint(
    bp,
    "GET",
    "/units",
    summary="我的房屋的维修资金（余额与应交）",
    access=AUTHENTICATED,
    query=PageQuery,
    response=Page[UnitFundOut],
)
async def my_units(request: Request, call: Call[None, PageQuery]) -> Page[UnitFundOut]:
    found = await subaccounts.accounts_of_owner(
        call.principal.user.id, cursor=call.query.cursor, limit=call.query.limit
    )
    return Page[UnitFundOut](items=[await unit_out(a) for a in found.items], next_cursor=found.next_cursor)


@endpoint(
    bp,
    "GET",
    "/units/<unit_id:int>",
    summary="房屋维修资金分户账",
    access=AUTHENTICATED,
    response=UnitFundOut,
    description="限该房屋的业主。",
)
async def unit_detail(request: Request, call: Call[None, None], unit_id: int) -> UnitFundOut:
    return await unit_out(await owned_account(call.principal, unit_id))


@endpoint(
    bp,
    "GET",
    "/units/<unit_id:int>/entries",
    summary="分户账明细（最新在前）",
    access=AUTHENTICATED,
    query=PageQuery,
    response=Page[EntryOut],
    description="限该房屋的业主。",
)
async def unit_entries(request: Request, call: Call[None, PageQuery], unit_id: int) -> Page[EntryOut]:
    account = await owned_account(call.principal, unit_id)
    found = await subaccounts.entries(account.id, cursor=call.query.cursor, limit=call.query.limit)
    return Page[EntryOut].of(found, entry_out)


class DepositOut(BaseModel):
    order: OrderOut
    kind: str = Field(description="first_deposit 首期交存 / top_up 续交")
    payment: PaymentParamsOut = Field(description="原样传给 wx.requestPayment")


@endpoint(
    bp,
    "POST",
    "/units/<unit_id:int>/deposits",
    summary="网上交存维修资金（首期或续交），付至维修资金专户",
    access=AUTHENTICATED,
    response=DepositOut,
    status=201,
    description="限该房屋的业主；金额为当前应交金额。支付结果以微信支付通知为准。",
)
async def pay_deposit(request: Request, call: Call[None, None], unit_id: int) -> DepositOut:
    await owned_account(call.principal, unit_id)
    created = await deposits.create_deposit_order(
        wechat_pay(request),
        unit_id=unit_id,
        user_id=call.principal.user.id,
        openid=call.principal.user.openid,
    )
    kind = "first_deposit" if (created.order.reference or "").startswith("first:") else "top_up"
    return DepositOut(
        order=order_out(created.order), kind=kind, payment=PaymentParamsOut(**created.params.as_dict())
    )


@endpoint(
    bp,
    "GET",
    "/units/<unit_id:int>/deposits/<order_id:int>",
    summary="维修资金交存订单状态（待支付的向微信支付查询）",
    access=AUTHENTICATED,
    response=OrderOut,
    description="限该房屋的业主。",
)
async def deposit_status(request: Request, call: Call[None, None], unit_id: int, order_id: int) -> OrderOut:
    await owned_account(call.principal, unit_id)
    order = await purposes.order_of(deposits.PURPOSE, order_id)
    if order.unit_id != unit_id:
        raise pay_errors.OrderNotFound()
    return order_out(await purposes.refresh(wechat_pay(request), order))
