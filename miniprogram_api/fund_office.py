"""The maintenance fund for the county fund office (住建局维修资金管理机构), which holds the special
account: rates, sub-accounts, developer deposits, interest, payouts, corrections, disclosures, the
county report. Every route but the published rates is the fund office's alone.

GET  /admin/fund/rates                                  the published rates (anyone logged in)
PUT  /admin/fund/rates                                  publish a rate per m² for a building type
PUT  /admin/fund/special-account                        the special account's WeChat Pay sub-merchant
POST /admin/fund/compounds/<c>/accounts                 open the sub-accounts of buildings
POST /admin/fund/compounds/<c>/interest                 allocate a period's interest by balance
POST /admin/fund/compounds/<c>/disclosures              post a year's disclosure to the board
POST /admin/fund/units/<u>/developer-deposits           the developer's first deposit, with voucher
POST /admin/fund/units/<u>/transfers                    a sale: the balance stays with the unit
GET  /admin/fund/report                                 the county's compounds with their totals
GET  /admin/fund/applications                           applications of the county
POST /admin/fund/applications/<id>/payout               approve the payout: deductions, disclosure
GET  /admin/fund/corrections                            corrections
POST /admin/fund/corrections                            request a correction (with a reason)
POST /admin/fund/corrections/<id>/decision              a second person approves or rejects
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.models import Unit
from accounts.roles import Role
from core import pages
from fund import applications, corrections, disclosure, errors, interest, reports, subaccounts
from fund import payments as deposits
from fund.models import Correction, FundRate
from fund.rules import BUILDING_TYPE_NAMES, BuildingType, CorrectionStatus
from miniprogram_api.auth import AUTHENTICATED, Allow
from miniprogram_api.bounds import Id, RequestModel
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.fund_admin import ApplicationOut, ApplicationsQuery, ReportOut, application_out
from miniprogram_api.pagination import Page, PageQuery

bp = Blueprint("fund_office", url_prefix="/admin/fund")
OFFICE = Allow(Role.FUND_OFFICE, over="county")
WATCHERS = Allow(Role.FUND_OFFICE, Role.SUPERVISOR, over="county")

Rate = Annotated[Decimal, Field(gt=0, le=1_000_000, max_digits=12, decimal_places=4, description="分/㎡")]
Amount = Annotated[int, Field(ge=1, le=10**11, description="金额（分）")]


class RateIn(RequestModel):
    building_type: BuildingType
    fen_per_m2: Rate
    effective_from: date


class RateOut(BaseModel):
    id: int
    building_type: str
    building_type_name: str
    fen_per_m2: Decimal
    effective_from: date


def rate_out(r: FundRate) -> RateOut:
    return RateOut(
        id=r.id,
        building_type=r.building_type.value,
        building_type_name=BUILDING_TYPE_NAMES[r.building_type],
        fen_per_m2=Decimal(r.fen_per_m2),
        effective_from=r.effective_from,
    )


class SpecialAccountIn(RequestModel):
    name: str = Field(min_length=1, max_length=100, description="专户名称")
    sub_mchid: str = Field(pattern=r"^[0-9]{8,10}$", max_length=10, description="微信支付子商户号")


class SpecialAccountOut(BaseModel):
    name: str
    sub_mchid: str
    payee_id: int


@endpoint(
    bp, "PUT", "/special-account", summary="设定维修资金专户的微信支付子商户号（网上缴存收款方）",
    access=OFFICE, body=SpecialAccountIn, response=SpecialAccountOut,
)  # fmt: skip
async def set_special_account(request: Request, call: Call[SpecialAccountIn, None]) -> SpecialAccountOut:
    found = await deposits.set_special_account(
        call.principal.actor, name=call.body.name, sub_mchid=call.body.sub_mchid
    )
    return SpecialAccountOut(name=found.name, sub_mchid=found.sub_mchid, payee_id=found.payee_id)


class BuildingTypeIn(RequestModel):
    building_id: Id
    building_type: BuildingType


class OpenIn(RequestModel):
    buildings: list[BuildingTypeIn] = Field(min_length=1, max_length=200)
    on: date = Field(description="按该日适用的交存标准核定首期应交")


class OpenedOut(BaseModel):
    opened: int
    already: int


class InterestIn(RequestModel):
    period: str = Field(min_length=4, max_length=10, pattern=r"^[0-9]{4}(-[A-Z0-9]{1,5})?$")
    period_end: date
    total_fen: Amount


class InterestOut(BaseModel):
    id: int
    period: str
    total_fen: int
    accounts: int
    rule: str


INTEREST_RULE = (
    "按计息期末各户余额比例分配：各户先舍去不足一分的部分，余下的分逐一计入舍去部分最大的分户账"
    "（相同时计入分户账编号较小者），分配合计与利息总额一致"
)


class DisclosureIn(RequestModel):
    year: int = Field(ge=2000, le=2100)


class DisclosureOut(BaseModel):
    id: int
    year: int
    notice_id: int
    entries_through: int


class DeveloperDepositIn(RequestModel):
    voucher: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z-]+$", description="缴款凭证号")
    amount_fen: Amount
    photo_ids: list[Id] = Field(
        default_factory=list, max_length=4, description="缴款凭证照片（先上传，仅资金中心与本小区业委会可见）"
    )


class TransferIn(RequestModel):
    note: str = Field(min_length=1, max_length=200, description="如：2026-05-01 办理转移登记")


class EntryCreatedOut(BaseModel):
    id: int
    seq: int
    amount_fen: int


class CountyRowOut(ReportOut):
    pass


class CorrectionIn(RequestModel):
    unit_id: Id
    amount_fen: Annotated[int, Field(ge=-(10**11), le=10**11, description="正数调增，负数调减")]
    reason: str = Field(min_length=1, max_length=200)


class DecisionIn(RequestModel):
    approve: bool


class CorrectionOut(BaseModel):
    id: int
    compound_id: int
    room: str
    amount_fen: int
    reason: str
    status: str
    requested_by_id: int
    decided_by_id: int | None
    decided_at: datetime | None
    created_at: datetime


class CorrectionsQuery(PageQuery):
    status: CorrectionStatus | None = None


async def correction_out(c: Correction) -> CorrectionOut:
    return CorrectionOut(
        id=c.id,
        compound_id=c.compound_id,
        room=await corrections.room_of(c),
        amount_fen=c.amount_fen,
        reason=c.reason,
        status=c.status.value,
        requested_by_id=c.requested_by_id,
        decided_by_id=c.decided_by_id,
        decided_at=c.decided_at,
        created_at=c.created_at,
    )


@endpoint(
    bp, "GET", "/rates", summary="维修资金首期交存标准", access=AUTHENTICATED, query=PageQuery,
    response=Page[RateOut],
)  # fmt: skip
async def list_rates(request: Request, call: Call[None, PageQuery]) -> Page[RateOut]:
    after = pages.after(call.query.cursor)
    rows = await FundRate.filter(id__gt=after).order_by("id").limit(call.query.limit + 1)
    return Page[RateOut].of(pages.page(rows, call.query.limit, key=lambda r: r.id), rate_out)


@endpoint(
    bp,
    "PUT",
    "/rates",
    summary="公布某类房屋的交存标准（自某日起）",
    access=OFFICE,
    body=RateIn,
    response=RateOut,
)
async def set_rate(request: Request, call: Call[RateIn, None]) -> RateOut:
    b = call.body
    row = await subaccounts.set_rate(
        call.principal.actor,
        building_type=b.building_type,
        fen_per_m2=b.fen_per_m2,
        effective_from=b.effective_from,
        user_id=call.principal.user.id,
    )
    return rate_out(row)


@endpoint(
    bp, "POST", "/compounds/<compound_id:int>/accounts", summary="为楼栋内各房屋建立分户账并核定首期应交",
    access=OFFICE, body=OpenIn, response=OpenedOut, status=201,
)  # fmt: skip
async def open_accounts(request: Request, call: Call[OpenIn, None], compound_id: int) -> OpenedOut:
    b = call.body
    opened = await subaccounts.open_accounts(
        call.principal.actor,
        compound_id=compound_id,
        buildings={row.building_id: row.building_type for row in b.buildings},
        on=b.on,
    )
    return OpenedOut(opened=opened.opened, already=opened.already)


@endpoint(
    bp, "POST", "/compounds/<compound_id:int>/interest", summary="按余额分配一个计息期的利息",
    access=OFFICE, body=InterestIn, response=InterestOut, status=201,
)  # fmt: skip
async def allocate_interest(request: Request, call: Call[InterestIn, None], compound_id: int) -> InterestOut:
    b = call.body
    run = await interest.allocate(
        call.principal.actor,
        compound_id=compound_id,
        period=b.period,
        period_end=b.period_end,
        total_fen=b.total_fen,
        user_id=call.principal.user.id,
    )
    return InterestOut(
        id=run.id, period=run.period, total_fen=run.total_fen, accounts=run.accounts, rule=INTEREST_RULE
    )


@endpoint(
    bp, "POST", "/compounds/<compound_id:int>/disclosures", summary="发布年度维修资金公示（公示栏）",
    access=OFFICE, body=DisclosureIn, response=DisclosureOut, status=201,
)  # fmt: skip
async def post_disclosure(
    request: Request, call: Call[DisclosureIn, None], compound_id: int
) -> DisclosureOut:
    posted = await disclosure.post_annual(call.principal.actor, compound_id=compound_id, year=call.body.year)
    return DisclosureOut(
        id=posted.id, year=posted.year, notice_id=posted.notice_id, entries_through=posted.entries_through
    )


async def _unit(unit_id: int) -> None:
    if not await Unit.exists(id=unit_id):
        raise errors.AccountNotFound()


@endpoint(
    bp, "POST", "/units/<unit_id:int>/developer-deposits", summary="登记开发建设单位交存的首期维修资金（凭证）",
    access=OFFICE, body=DeveloperDepositIn, response=EntryCreatedOut, status=201,
)  # fmt: skip
async def developer_deposit(
    request: Request, call: Call[DeveloperDepositIn, None], unit_id: int
) -> EntryCreatedOut:
    await _unit(unit_id)
    entry = await subaccounts.record_developer_deposit(
        call.principal.actor,
        unit_id=unit_id,
        voucher=call.body.voucher,
        amount_fen=call.body.amount_fen,
        photo_ids=call.body.photo_ids,
        uploader_id=call.principal.user.id,
    )
    return EntryCreatedOut(id=entry.id, seq=entry.seq, amount_fen=entry.amount_fen)


@endpoint(
    bp, "POST", "/units/<unit_id:int>/transfers", summary="登记房屋转让（余额随房屋转移）",
    access=OFFICE, body=TransferIn, response=EntryCreatedOut, status=201,
)  # fmt: skip
async def transfer(request: Request, call: Call[TransferIn, None], unit_id: int) -> EntryCreatedOut:
    await _unit(unit_id)
    entry = await subaccounts.record_transfer(call.principal.actor, unit_id=unit_id, note=call.body.note)
    return EntryCreatedOut(id=entry.id, seq=entry.seq, amount_fen=entry.amount_fen)


@endpoint(
    bp, "GET", "/report", summary="全县各小区维修资金汇总", access=WATCHERS, query=PageQuery,
    response=Page[CountyRowOut],
)  # fmt: skip
async def county_report(request: Request, call: Call[None, PageQuery]) -> Page[CountyRowOut]:
    found = await reports.county(cursor=call.query.cursor, limit=call.query.limit)
    return Page[CountyRowOut].of(found, lambda row: CountyRowOut(**row))


@endpoint(
    bp, "GET", "/applications", summary="全县维修资金使用申请", access=WATCHERS, query=ApplicationsQuery,
    response=Page[ApplicationOut],
)  # fmt: skip
async def county_applications(request: Request, call: Call[None, ApplicationsQuery]) -> Page[ApplicationOut]:
    q = call.query
    found = await applications.listing(None, status=q.status, cursor=q.cursor, limit=q.limit)
    return Page[ApplicationOut].of(found, application_out)


@endpoint(
    bp, "POST", "/applications/<application_id:int>/payout", summary="审核拨付：扣减分摊户余额并公示",
    access=OFFICE, response=ApplicationOut,
)  # fmt: skip
async def payout(request: Request, call: Call[None, None], application_id: int) -> ApplicationOut:
    found = await applications.get(application_id)
    paid = await applications.pay_out(call.principal.actor, found, user_id=call.principal.user.id)
    return application_out(paid)


@endpoint(
    bp, "GET", "/corrections", summary="分户账更正申请", access=OFFICE, query=CorrectionsQuery,
    response=Page[CorrectionOut],
)  # fmt: skip
async def list_corrections(request: Request, call: Call[None, CorrectionsQuery]) -> Page[CorrectionOut]:
    q = call.query
    found = await corrections.listing(status=q.status, cursor=q.cursor, limit=q.limit)
    return Page[CorrectionOut](
        items=[await correction_out(c) for c in found.items], next_cursor=found.next_cursor
    )


@endpoint(
    bp, "POST", "/corrections", summary="申请更正分户账（须另一人审核）", access=OFFICE, body=CorrectionIn,
    response=CorrectionOut, status=201,
)  # fmt: skip
async def request_correction(request: Request, call: Call[CorrectionIn, None]) -> CorrectionOut:
    b = call.body
    await _unit(b.unit_id)
    created = await corrections.request(
        call.principal.actor, unit_id=b.unit_id, amount_fen=b.amount_fen, reason=b.reason,
        user_id=call.principal.user.id,
    )  # fmt: skip
    return await correction_out(created)


@endpoint(
    bp, "POST", "/corrections/<correction_id:int>/decision", summary="审核更正（不得为申请人本人）",
    access=OFFICE, body=DecisionIn, response=CorrectionOut,
)  # fmt: skip
async def decide_correction(
    request: Request, call: Call[DecisionIn, None], correction_id: int
) -> CorrectionOut:
    decided = await corrections.decide(
        call.principal.actor,
        correction_id=correction_id,
        approve=call.body.approve,
        user_id=call.principal.user.id,
    )
    return await correction_out(decided)
