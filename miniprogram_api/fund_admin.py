"""The maintenance fund for the committee (and the community) of a compound.

GET  /admin/compounds/<c>/fund/report                      totals of the compound's sub-accounts
GET  /admin/compounds/<c>/fund/arrears                     units owing a first deposit or a top-up
GET  /admin/compounds/<c>/fund/ledger/verify               the compound's hash chain re-checked
POST /admin/compounds/<c>/fund/split-preview               a cost split with balances and shortfalls
POST /admin/compounds/<c>/fund/applications                an ordinary application (creates its motion)
POST /admin/compounds/<c>/fund/applications/emergency      an emergency application (no vote)
GET  /admin/compounds/<c>/fund/applications                the compound's applications
GET  /admin/compounds/<c>/fund/applications/<id>           one application with its cost split
POST /admin/compounds/<c>/fund/applications/<id>/vote-result   take the motion's final result
POST /admin/compounds/<c>/fund/applications/<id>/completion    works done: the final cost

The property company has no route here that moves money, nor any in fund_office.py: the fund is
held by the county office and never passes through it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role
from fund import applications, ledger, reports
from fund.models import UseApplication
from fund.rules import ApplicationStatus, EmergencyCategory
from miniprogram_api.auth import Allow
from miniprogram_api.bounds import Id, Moment, RequestModel
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery
from miniprogram_api.voting import min_announce_days

bp = Blueprint("fund_admin", url_prefix="/admin/compounds/<compound_id:int>/fund")

READERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.FUND_OFFICE, Role.SUPERVISOR, over="compound")
APPLICANTS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, over="compound")
COMMITTEE = Allow(Role.COMMITTEE, over="compound")

Budget = Annotated[int, Field(ge=1, le=applications.MAX_BUDGET_FEN, description="金额（分）")]


class ReportOut(BaseModel):
    compound_id: int
    accounts: int = Field(description="分户账数")
    first_deposit_assessed_fen: int
    deposits_fen: int
    interest_fen: int
    used_fen: int
    balance_fen: int
    first_unpaid: int = Field(description="首期未交户数")
    top_up_due: int = Field(description="须续交户数")
    due_fen: int


class ArrearsOut(BaseModel):
    unit_id: int
    room: str
    area: Decimal
    first_deposit_fen: int
    balance_fen: int
    due_kind: str | None
    due_fen: int


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    problems: list[str] = Field(max_length=10_000)


class ScopeIn(RequestModel):
    buildings: list[Id] = Field(default_factory=list, max_length=200, description="分摊的楼栋")
    units: list[Id] = Field(default_factory=list, max_length=5000, description="分摊的房屋")


class PreviewIn(RequestModel):
    scope: ScopeIn = Field(description="楼栋与房屋均为空表示全小区")
    total_fen: Budget


class ShareOut(BaseModel):
    unit_id: int
    room: str
    area: Decimal
    share_fen: int
    balance_fen: int | None = None


class PreviewOut(BaseModel):
    total_fen: int
    rule: str
    shares: list[ShareOut] = Field(max_length=100_000)
    short: list[ShareOut] = Field(max_length=100_000, description="余额不足以承担分摊的房屋")


SPLIT_RULE = (
    "按面积分摊：各户先舍去不足一分的部分，余下的分逐一计入舍去部分最大的房屋（相同时计入房屋编号较小者），"
    "分摊合计与总额分毫不差"
)


class ProposalIn(RequestModel):
    title: str = Field(min_length=1, max_length=100)
    works: str = Field(min_length=1, max_length=5000, description="维修工程内容")
    budget_fen: Budget
    scope: ScopeIn


class OrdinaryIn(ProposalIn):
    opens_at: Moment = Field(description="表决开始时间")
    closes_at: Moment = Field(description="表决截止时间")
    announce_days: int | None = Field(default=None, ge=0, le=60)


class EmergencyIn(ProposalIn):
    category: EmergencyCategory = Field(description="应急维修情形")


class CompletionIn(RequestModel):
    cost_fen: Budget = Field(description="决算金额（分），不超过预算")


class ApplicationOut(BaseModel):
    id: int
    compound_id: int
    kind: str = Field(description="ordinary 经业主表决 / emergency 应急维修")
    emergency: str | None
    title: str
    works: str
    budget_fen: int
    cost_fen: int | None
    status: str = Field(description="voting / rejected / approved / completed / paid")
    motion_id: int | None = Field(description="业主表决事项（第五项：使用维修资金）")
    vote_passed: bool | None
    shares: list[ShareOut] = Field(max_length=100_000)
    notice_id: int | None = Field(description="使用公示")
    created_at: datetime
    paid_at: datetime | None


class ApplicationsQuery(PageQuery):
    status: ApplicationStatus | None = None


def application_out(a: UseApplication) -> ApplicationOut:
    return ApplicationOut(
        id=a.id,
        compound_id=a.compound_id,
        kind=a.kind.value,
        emergency=a.emergency.value if a.emergency else None,
        title=a.title,
        works=a.works,
        budget_fen=a.budget_fen,
        cost_fen=a.cost_fen,
        status=a.status.value,
        motion_id=a.motion_id,
        vote_passed=(a.vote_result or {}).get("passed") if a.vote_result else None,
        shares=[ShareOut(**{k: s[k] for k in ("unit_id", "room", "area", "share_fen")}) for s in a.shares],
        notice_id=a.notice_id,
        created_at=a.created_at,
        paid_at=a.paid_at,
    )


def _scope(body: ScopeIn) -> applications.Scope:
    return applications.Scope(list(body.buildings), list(body.units))


def _proposal(body: ProposalIn) -> applications.Proposal:
    return applications.Proposal(body.title, body.works, body.budget_fen, _scope(body.scope))


@endpoint(bp, "GET", "/report", summary="本小区维修资金汇总", access=READERS, response=ReportOut)
async def report(request: Request, call: Call[None, None], compound_id: int) -> ReportOut:
    return ReportOut(**await reports.compound_report(compound_id))


@endpoint(
    bp, "GET", "/arrears", summary="首期未交或须续交的房屋", access=READERS, query=PageQuery,
    response=Page[ArrearsOut],
)  # fmt: skip
async def arrears(request: Request, call: Call[None, PageQuery], compound_id: int) -> Page[ArrearsOut]:
    found = await reports.arrears(compound_id, cursor=call.query.cursor, limit=call.query.limit)
    return Page[ArrearsOut].of(
        found,
        lambda line: ArrearsOut(
            unit_id=line.unit_id,
            room=line.room,
            area=Decimal(line.area),
            first_deposit_fen=line.first_deposit_fen,
            balance_fen=line.balance_fen,
            due_kind=line.due_kind,
            due_fen=line.due_fen,
        ),
    )


@endpoint(
    bp, "GET", "/ledger/verify", summary="核验本小区维修资金账簿哈希链", access=READERS, response=VerifyOut
)
async def verify(request: Request, call: Call[None, None], compound_id: int) -> VerifyOut:
    check = await ledger.verify(compound_id)
    return VerifyOut(ok=check.ok, entries=check.entries, problems=check.problems)


@endpoint(
    bp, "POST", "/split-preview", summary="费用分摊预览（按面积，含余额不足的房屋）", access=READERS,
    body=PreviewIn, response=PreviewOut,
)  # fmt: skip
async def split_preview(request: Request, call: Call[PreviewIn, None], compound_id: int) -> PreviewOut:
    found = await applications.preview(compound_id, _scope(call.body.scope), call.body.total_fen)
    rows = [ShareOut(**r) for r in found.rows()]
    short = {s["unit_id"] for s in found.short}
    return PreviewOut(
        total_fen=call.body.total_fen,
        rule=SPLIT_RULE,
        shares=rows,
        short=[r for r in rows if r.unit_id in short],
    )


@endpoint(
    bp, "POST", "/applications", summary="维修资金使用申请（创建业主表决事项）", access=COMMITTEE,
    body=OrdinaryIn, response=ApplicationOut, status=201,
    description="创建第五类事项（使用维修资金）的表决草稿，表决范围恰为分摊房屋；公告、投票、计票在表决接口进行。",
)  # fmt: skip
async def apply_ordinary(request: Request, call: Call[OrdinaryIn, None], compound_id: int) -> ApplicationOut:
    body = call.body
    created = await applications.apply_ordinary(
        call.principal.actor,
        compound_id=compound_id,
        user_id=call.principal.user.id,
        proposal=_proposal(body),
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        min_announce_days=min_announce_days(request),
        announce_days=body.announce_days,
    )
    return application_out(created)


@endpoint(
    bp, "POST", "/applications/emergency", summary="应急维修使用申请（无需表决，完成后公示）",
    access=APPLICANTS, body=EmergencyIn, response=ApplicationOut, status=201,
    description="业主委员会申请；未成立业主委员会的小区由社区申请。",
)  # fmt: skip
async def apply_emergency(
    request: Request, call: Call[EmergencyIn, None], compound_id: int
) -> ApplicationOut:
    created = await applications.apply_emergency(
        call.principal.actor,
        compound_id=compound_id,
        user_id=call.principal.user.id,
        proposal=_proposal(call.body),
        category=call.body.category,
        as_committee=Role.COMMITTEE in call.principal.roles,
    )
    return application_out(created)


@endpoint(
    bp, "GET", "/applications", summary="本小区维修资金使用申请", access=READERS, query=ApplicationsQuery,
    response=Page[ApplicationOut],
)  # fmt: skip
async def list_applications(
    request: Request, call: Call[None, ApplicationsQuery], compound_id: int
) -> Page[ApplicationOut]:
    q = call.query
    found = await applications.listing(compound_id, status=q.status, cursor=q.cursor, limit=q.limit)
    return Page[ApplicationOut].of(found, application_out)


@endpoint(
    bp, "GET", "/applications/<application_id:int>", summary="使用申请详情", access=READERS,
    response=ApplicationOut,
)  # fmt: skip
async def application_detail(
    request: Request, call: Call[None, None], compound_id: int, application_id: int
) -> ApplicationOut:
    return application_out(await applications.get(application_id, compound_id))


@endpoint(
    bp, "POST", "/applications/<application_id:int>/vote-result", summary="登记表决结果（结果确定后）",
    access=COMMITTEE, response=ApplicationOut,
)  # fmt: skip
async def vote_result(
    request: Request, call: Call[None, None], compound_id: int, application_id: int
) -> ApplicationOut:
    found = await applications.get(application_id, compound_id)
    return application_out(await applications.record_vote(call.principal.actor, found))


@endpoint(
    bp, "POST", "/applications/<application_id:int>/completion", summary="工程完成，登记决算金额",
    access=APPLICANTS, body=CompletionIn, response=ApplicationOut,
)  # fmt: skip
async def completion(
    request: Request, call: Call[CompletionIn, None], compound_id: int, application_id: int
) -> ApplicationOut:
    found = await applications.get(application_id, compound_id)
    return application_out(
        await applications.complete(call.principal.actor, found, cost_fen=call.body.cost_fen)
    )
