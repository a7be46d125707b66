"""Publishing on the board: the committee, the property company serving the compound and the
community post to a compound; the community and the supervisor post official notices to a community
or the whole county. The route says where (/manage/<compound|community|county>/<id>, the county's id
is 0); which category each role may post there is declared once in notices.rules.CATEGORIES and
checked by the service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import roles as account_roles
from accounts.errors import RoleMissing
from accounts.roles import Role
from core.errors import NotFound
from miniprogram_api.auth import ROLE_NAMES, Principal, authenticate
from miniprogram_api.bounds import MAX_FEN, Fen, Key, Moment
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import PageQuery
from notices import acknowledgement, disclosures, lifecycle, service
from notices.models import DisclosureKind
from notices.rules import POSTERS, REVIEWERS, Audience, Scope, Status
from notices.scoping import Caller, Where

bp = Blueprint("notices_admin", url_prefix="/manage/<scope:str>/<target:int>")


class OverScope:
    """Logged in and holding one of the roles over the compound, community or county of the route."""

    public = False

    def __init__(self, allowed: dict[Scope, frozenset[Role]]) -> None:
        self.allowed = allowed
        self.description = "；".join(
            f"{scope.value}：{'、'.join(ROLE_NAMES[r] for r in sorted(roles))}"
            for scope, roles in allowed.items()
        )

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        try:
            scope = Scope(params["scope"])
        except ValueError:
            raise NotFound() from None
        uid, scope_id = principal.user.id, int(params["target"])
        if scope is Scope.COMPOUND:
            held = await account_roles.compound_roles(uid, scope_id)
        elif scope is Scope.COMMUNITY:
            held = await account_roles.community_roles(uid, scope_id)
        elif scope_id == 0:
            held = await account_roles.county_roles(uid)
        else:
            raise NotFound()
        granted = held & self.allowed.get(scope, frozenset())
        if not granted:
            raise RoleMissing(details={"required": sorted(self.allowed.get(scope, ()))})
        return Principal(principal.user, principal.token, frozenset(granted), principal.request_id)


MANAGERS = OverScope({scope: POSTERS[scope] | REVIEWERS for scope in Scope})
POSTING = OverScope({scope: POSTERS[scope] for scope in Scope if POSTERS[scope]})
REVIEWING = OverScope({scope: REVIEWERS for scope in Scope})


def caller_of(call: Call) -> Caller:  # type: ignore[type-arg]
    p: Principal = call.principal
    return Caller(user_id=p.user.id, openid=p.user.openid, actor=p.actor, roles=p.roles)


def where(scope: str, target: int) -> Where:
    return Where(Scope(scope), target)


class NoticeIn(BaseModel):
    category: str = Field(max_length=30)
    title: str = Field(min_length=1, max_length=100)
    body_markdown: str = Field(min_length=1, max_length=20_000, description="Markdown；原始 HTML 不会生效")
    audience: Audience = Audience.EVERYONE
    pinned: bool = False
    requires_ack: bool = Field(
        default=False, description="需要业主、住户阅知确认（仅小区公告）；发布时逐人通知"
    )


class EditIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body_markdown: str = Field(min_length=1, max_length=20_000)
    note: str = Field(default="", max_length=200, description="修改说明，显示在历史版本中")
    audience: Audience | None = None
    requires_ack: bool | None = Field(default=None, description="改为需要/不需要阅知确认；为空则不变")


class PublishIn(BaseModel):
    publish_at: Moment | None = Field(default=None, description="定时发布；为空则审核通过后立即发布")
    expires_at: Moment | None = Field(default=None, description="到期自动下架")


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class PinIn(BaseModel):
    pinned: bool


class ReviewIn(BaseModel):
    approve: bool
    reason: str = Field(default="", max_length=200)


class LineIn(BaseModel):
    item: str = Field(min_length=1, max_length=50, description="项目，如 广告、停车、场地租赁")
    amount_fen: int = Field(ge=0, le=10**13, description="金额（分）")
    voucher: str = Field(default="", max_length=50, description="凭证编号")


class SectionIn(BaseModel):
    lines: list[LineIn] = Field(default_factory=list, max_length=200)
    stated_total_fen: int | None = Field(
        default=None, ge=-MAX_FEN, le=MAX_FEN, description="填报的合计（分）；与明细之和不符则拒绝"
    )


class DisclosureIn(BaseModel):
    kind: DisclosureKind
    period_start: date
    period_end: date
    sections: dict[Key, SectionIn] = Field(max_length=20)
    stated_balances: dict[Key, Fen] = Field(default_factory=dict, max_length=20)
    note: str = Field(default="", max_length=5000)
    title: str | None = Field(default=None, max_length=100)
    audience: Audience = Audience.EVERYONE


class DisclosureEditIn(BaseModel):
    period_start: date
    period_end: date
    sections: dict[Key, SectionIn] = Field(max_length=20)
    stated_balances: dict[Key, Fen] = Field(default_factory=dict, max_length=20)
    note: str = Field(default="", max_length=5000)
    change_note: str = Field(default="", max_length=200)


class ManagedOut(BaseModel):
    id: int
    category: str
    title: str
    status: str
    state: str = Field(description="draft/checking/review/held/withdrawn，或 scheduled/live/expired")
    audience: str
    pinned: bool
    revision: int
    publish_at: datetime | None
    expires_at: datetime | None
    hold_reason: str | None
    withdraw_reason: str | None
    read_count: int
    system: bool
    requires_ack: bool


class ManagedListOut(BaseModel):
    items: list[ManagedOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class ListQuery(PageQuery):
    status: Status | None = Field(default=None, description="按状态筛选")


class AttachmentOut(BaseModel):
    id: int
    kind: str
    verdict: str


class ManagedAttachmentOut(AttachmentOut):
    name: str


class ManagedDetailOut(ManagedOut):
    body_markdown: str
    body_html: str
    data: Any
    attachments: list[ManagedAttachmentOut]


class ReadsOut(BaseModel):
    notice_id: int
    read_count: int
    audience_size: int | None = Field(description="应读人数（小区内有房屋的账号）；社区、全县公告为空")


class AcksQuery(PageQuery):
    acknowledged: bool | None = Field(default=None, description="true 只列已确认的，false 只列未确认的")


class AckPersonOut(BaseModel):
    name: str = Field(description="业主名册上的姓名，否则为微信昵称；不含电话")
    rooms: list[str] = Field(description="本小区的房号，如 1号楼-101")
    acknowledged_at: datetime | None


class AcksOut(BaseModel):
    notice_id: int
    requires_ack: bool
    addressed: int = Field(description="应确认人数（发布时本小区有房屋的业主、住户账号，及此后确认的）")
    acknowledged: int
    pending: int
    items: list[AckPersonOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


async def _one(where_: Where, notice_id: int) -> ManagedOut:
    return ManagedOut.model_validate(await lifecycle.manage_row(where_, notice_id))


@endpoint(bp, "GET", "/notices", summary="管理：本范围的全部公告（含草稿、待审、已撤回；新的在前，分页）", access=MANAGERS,
          query=ListQuery, response=ManagedListOut)  # fmt: skip
async def manage_notices(
    request: Request, call: Call[None, ListQuery], scope: str, target: int
) -> ManagedListOut:
    assert call.query is not None
    q = call.query
    page = await lifecycle.manage_page(where(scope, target), status=q.status, cursor=q.cursor, limit=q.limit)
    return ManagedListOut(
        items=[ManagedOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@endpoint(bp, "POST", "/notices", summary="起草公告", access=POSTING, body=NoticeIn, response=ManagedOut,
          status=201)  # fmt: skip
async def create_notice(request: Request, call: Call[NoticeIn, None], scope: str, target: int) -> ManagedOut:
    assert call.body is not None
    b = call.body
    w = where(scope, target)
    notice = await service.create(
        caller_of(call), w, category=b.category, title=b.title, body_markdown=b.body_markdown,
        audience=b.audience, pinned=b.pinned, requires_ack=b.requires_ack,
    )  # fmt: skip
    return await _one(w, notice.id)


@endpoint(bp, "PUT", "/notices/<notice_id:int>", summary="修改公告（生成新版本，已发布的重新审核）",
          access=POSTING, body=EditIn, response=ManagedOut)  # fmt: skip
async def edit_notice(
    request: Request, call: Call[EditIn, None], scope: str, target: int, notice_id: int
) -> ManagedOut:
    assert call.body is not None
    b = call.body
    w = where(scope, target)
    await service.edit(
        request.app.ctx.cache, request.app.ctx.wechat, caller_of(call), w, notice_id,
        title=b.title, body_markdown=b.body_markdown, note=b.note, audience=b.audience,
        requires_ack=b.requires_ack,
    )  # fmt: skip
    return await _one(w, notice_id)


@endpoint(bp, "GET", "/notices/<notice_id:int>", summary="管理：公告详情（最新版本的原文与附件审核状态）",
          access=MANAGERS, response=ManagedDetailOut)  # fmt: skip
async def managed_notice(
    request: Request, call: Call[None, None], scope: str, target: int, notice_id: int
) -> ManagedDetailOut:
    return ManagedDetailOut.model_validate(await lifecycle.manage_detail(where(scope, target), notice_id))


@endpoint(bp, "POST", "/notices/<notice_id:int>/publish", summary="发布或定时发布（先经内容安全检测）",
          access=POSTING, body=PublishIn, response=ManagedOut)  # fmt: skip
async def publish_notice(
    request: Request, call: Call[PublishIn, None], scope: str, target: int, notice_id: int
) -> ManagedOut:
    assert call.body is not None
    w = where(scope, target)
    await service.publish(
        request.app.ctx.cache, request.app.ctx.wechat, caller_of(call), w, notice_id,
        publish_at=call.body.publish_at, expires_at=call.body.expires_at,
    )  # fmt: skip
    return await _one(w, notice_id)


@endpoint(bp, "POST", "/notices/<notice_id:int>/withdraw", summary="撤回公告（须说明原因）",
          access=POSTING, body=WithdrawIn, response=ManagedOut)  # fmt: skip
async def withdraw_notice(
    request: Request, call: Call[WithdrawIn, None], scope: str, target: int, notice_id: int
) -> ManagedOut:
    assert call.body is not None
    w = where(scope, target)
    await lifecycle.withdraw(request.app.ctx.cache, caller_of(call), w, notice_id, call.body.reason)
    return await _one(w, notice_id)


@endpoint(bp, "POST", "/notices/<notice_id:int>/pin", summary="置顶或取消置顶", access=POSTING, body=PinIn,
          response=ManagedOut)  # fmt: skip
async def pin_notice(
    request: Request, call: Call[PinIn, None], scope: str, target: int, notice_id: int
) -> ManagedOut:
    assert call.body is not None
    w = where(scope, target)
    await lifecycle.set_pinned(request.app.ctx.cache, caller_of(call), w, notice_id, call.body.pinned)
    return await _one(w, notice_id)


@endpoint(bp, "POST", "/notices/<notice_id:int>/review", summary="人工审核（内容安全检测结果为“需复核”的公告）",
          access=REVIEWING, body=ReviewIn, response=ManagedOut)  # fmt: skip
async def review_notice(
    request: Request, call: Call[ReviewIn, None], scope: str, target: int, notice_id: int
) -> ManagedOut:
    assert call.body is not None
    w = where(scope, target)
    await lifecycle.review(
        request.app.ctx.cache,
        caller_of(call),
        w,
        notice_id,
        approve=call.body.approve,
        reason=call.body.reason,
    )
    return await _one(w, notice_id)


@endpoint(bp, "GET", "/notices/<notice_id:int>/reads", summary="阅读统计", access=MANAGERS, response=ReadsOut)
async def notice_reads(
    request: Request, call: Call[None, None], scope: str, target: int, notice_id: int
) -> ReadsOut:
    return ReadsOut.model_validate(await lifecycle.read_report(where(scope, target), notice_id))


@endpoint(bp, "GET", "/notices/<notice_id:int>/acknowledgements", summary="阅知确认情况（人数与分页名单）",
          access=MANAGERS, query=AcksQuery, response=AcksOut)  # fmt: skip
async def notice_acks(
    request: Request, call: Call[None, AcksQuery], scope: str, target: int, notice_id: int
) -> AcksOut:
    assert call.query is not None
    q = call.query
    shown = await acknowledgement.report(
        where(scope, target), notice_id, acknowledged=q.acknowledged, cursor=q.cursor, limit=q.limit
    )
    return AcksOut.model_validate(shown)


@endpoint(bp, "POST", "/disclosures", summary="起草结构化公示（金额以分为单位，服务器计算合计）",
          access=POSTING, body=DisclosureIn, response=ManagedOut, status=201)  # fmt: skip
async def create_disclosure(
    request: Request, call: Call[DisclosureIn, None], scope: str, target: int
) -> ManagedOut:
    assert call.body is not None
    b = call.body
    w = where(scope, target)
    notice = await disclosures.draft(
        caller_of(call), w, kind=b.kind, period_start=b.period_start, period_end=b.period_end,
        sections={k: v.model_dump() for k, v in b.sections.items()}, stated_balances=b.stated_balances,
        note=b.note, title=b.title, audience=b.audience,
    )  # fmt: skip
    return await _one(w, notice.id)


@endpoint(bp, "PUT", "/disclosures/<notice_id:int>", summary="更正结构化公示（生成新版本）", access=POSTING,
          body=DisclosureEditIn, response=ManagedOut)  # fmt: skip
async def revise_disclosure(
    request: Request, call: Call[DisclosureEditIn, None], scope: str, target: int, notice_id: int
) -> ManagedOut:
    assert call.body is not None
    b = call.body
    w = where(scope, target)
    await disclosures.revise(
        request.app.ctx.cache, request.app.ctx.wechat, caller_of(call), w, notice_id,
        period_start=b.period_start, period_end=b.period_end,
        sections={k: v.model_dump() for k, v in b.sections.items()}, stated_balances=b.stated_balances,
        note=b.note, change_note=b.change_note,
    )  # fmt: skip
    return await _one(w, notice_id)


# The attachment routes register on this blueprint from their own module
from miniprogram_api import notices_attachments  # noqa: E402, F401
