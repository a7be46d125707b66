"""Owners' assembly voting for the mini-program: my motions, detail with my ballot, cast, receipts,
results, roll, ballot list and export.

Who reads what (voting.disclosure says what each read shows, and when):
- anyone, without logging in: a receipt (is my ballot in the chain, did it count), the chain head, and
  the rules in force (the shortest announcement period);
- the compound's owners and residents, its committee, the community admin and the supervisor
  (MotionReaders): the motion, its roll, results, ballot list and the offline-verifiable export;
- nobody else: not anonymous callers, not users of other compounds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import roles, sessions
from accounts.errors import RoleMissing
from accounts.roles import Role
from audit.service import head as audit_head
from core.cache import hit, spent
from core.errors import Conflict, NotFound, RateLimited
from miniprogram_api.auth import AUTHENTICATED, Principal, authenticate, bearer_token
from miniprogram_api.bounds import Id, Key, RequestModel
from miniprogram_api.discovery import PageQuery
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from miniprogram_api.origin import client_address
from miniprogram_api.voting_results import BallotPageOut, ExportOut, ResultsOut, RollPageOut
from voting import actions as motion_actions
from voting import ballots, lifecycle, listing, proxies, service
from voting.actions import ACTIONS
from voting.models import Channel, Motion, MotionStatus
from voting.rules import FOLLOW_MAJORITY_RULE, LEGAL_MIN_ANNOUNCE_DAYS

bp = Blueprint("voting", url_prefix="/motions")
PUBLISHED = (MotionStatus.COUNTED, MotionStatus.OBJECTION, MotionStatus.FINAL)
READER_ROLES = frozenset({Role.OWNER, Role.RESIDENT, Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.SUPERVISOR})


class MotionReaders:
    """Owners, residents and the committee of the motion's compound (and the community above it)."""

    public = False
    description = "本小区业主、住户、业委会委员及社区管理员，以及本事项的业主代理人"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        motion = await lifecycle.get_motion(int(params["motion_id"]))
        held = await roles.compound_roles(principal.user.id, motion.compound_id)  # type: ignore[attr-defined]
        if not held & READER_ROLES and not await proxies.is_proxy(motion.id, principal.user.id):
            raise RoleMissing(details={"required": sorted(READER_ROLES)})
        request.ctx.motion = motion
        return principal


READERS = MotionReaders()
# Receipt codes naming no ballot, per client address and minute: a typo or two; guessing needs millions
RECEIPT_MISSES_PER_MINUTE = 20


class _Voters:
    """Casting checks the person against the frozen roll itself (or an approved proxy), which is
    stricter than any role: the session alone identifies the caller, so the hot path makes no user or
    role queries. Returns the user id."""

    public = False
    description = "表决名单上已认证的业主，或经业委会批准的代理人"

    async def authorize(self, request: Request, params: dict[str, Any]) -> int:
        return await sessions.user_of(request.app.ctx.cache, bearer_token(request))


VOTERS = _Voters()


class ItemOut(BaseModel):
    id: int
    position: int
    title: str
    matter: str
    seats: int | None
    candidates: list[dict[str, Any]]


class ProxyForOut(BaseModel):
    proxy_id: int
    voter_id: int = Field(description="代为投票时作为 for_voter 提交")
    status: str = Field(description="pending 待业委会审核 / approved 已批准，可代为投票")
    owner_name: str = Field(description="委托人（业主）")
    rooms: list[str]
    voted: bool = Field(description="该业主已有有效选票（不论由谁投出；不显示选择）")


class MotionOut(BaseModel):
    id: int
    compound_id: int
    title: str
    text: str
    status: str
    opens_at: datetime
    closes_at: datetime
    allow_change: bool
    secret: bool = Field(description="无记名表决：计票后只公布总数，不公布逐票明细")
    announce_days: int = Field(description="公告天数（开始投票前须已公告的天数）")
    objection_days: int
    scope_buildings: list[int]
    extension_reason: str | None
    objection_until: datetime | None
    items: list[ItemOut]
    my_voter_id: int | None = None
    my_choices: dict[str, Any] | None = Field(default=None, description="我当前有效的选票")
    allowed_actions: list[Literal[ACTIONS]] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="当前用户现在可执行的操作（用于显示按钮），与各操作的校验同源：cast 投票（含允许时改票）、"
        "cast_as_proxy 代为投票、invite_proxy 委托他人代为投票、view_results 查看结果",
    )
    proxy_for: list[ProxyForOut] = Field(
        default_factory=list, description="我作为代理人可代为投票的业主（经业委会批准后方可投票）"
    )


class MotionListOut(BaseModel):
    items: list[MotionOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class MineQuery(PageQuery):
    status: MotionStatus | None = Field(
        default=None, description="只列出该状态的事项；缺省为除已取消（cancelled）外的全部"
    )


class CastIn(BaseModel):
    choices: dict[Key, Any] = Field(
        max_length=100, description='{"表决项编号": "agree|oppose|abstain"} 或选举项 {"编号": [候选人编号]}'
    )
    for_voter: Id | None = Field(default=None, description="代为投票时：委托人的名单编号（须已获业委会批准）")


class ReceiptOut(BaseModel):
    ballot_id: int
    receipt_code: str = Field(description="回执码：可随时核验选票是否已计入链中")
    ballot_hash: str
    nonce: str = Field(description="与选票内容一起可自行重算 ballot_hash")
    cast_at: datetime
    channel: str
    counted: bool


class InclusionOut(BaseModel):
    ballot_hash: str
    sealed: bool
    batch_seq: int | None
    root: str | None
    event_hash: str | None
    proof: list[tuple[str, str]]
    counted: bool


class HeadOut(BaseModel):
    stream: str
    seq: int
    hash: str


class ProxyInviteIn(RequestModel):
    document_photo_ids: list[Id] = Field(
        min_length=1, max_length=proxies.MAX_DOCUMENTS,
        description="业主签字的书面委托书照片（先经 POST /photos 上传），供业主委员会审核",
    )  # fmt: skip
    invitee_phone: str | None = Field(
        default=None, max_length=11, pattern=r"^1\d{10}$",
        description="按手机号邀请已注册的用户；不填则返回一次性邀请码，由业主交给代理人",
    )  # fmt: skip


class ProxyInvitationOut(BaseModel):
    id: int
    code: str | None = Field(description="一次性邀请码（按手机号邀请时为空）；只显示这一次")
    expires_at: datetime
    voter_id: int


class ProxyAcceptIn(RequestModel):
    code: str | None = Field(default=None, min_length=6, max_length=20, description="业主给出的邀请码")
    invitation_id: Id | None = Field(default=None, description="按手机号收到的邀请编号（与邀请码二选一）")


class ProxyAcceptedOut(BaseModel):
    proxy_id: int
    motion_id: int
    voter_id: int
    status: str = Field(description="pending：待业主委员会审核委托书")


class ProxyInvitationItemOut(BaseModel):
    id: int
    motion_id: int
    motion_title: str
    owner_name: str
    rooms: list[str]
    expires_at: datetime


class ProxyInvitationPageOut(BaseModel):
    items: list[ProxyInvitationItemOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class CreatedOut(BaseModel):
    id: int


class RulesOut(BaseModel):
    min_announce_days: int = Field(
        description="新建表决事项时公告天数的最小值（本服务当前执行的值；正式环境即法定的 15 天）"
    )
    legal_min_announce_days: int = Field(description="物业管理条例第十四条规定的最短公告天数")


def min_announce_days(request: Request) -> int:
    """The shortest announcement period in force: the law's, lowered only by a development or test
    configuration (config.settings refuses a lower one in production)."""
    return int(request.app.ctx.settings.min_announce_days)


async def motion_out(motion: Motion, user_id: int | None = None) -> MotionOut:
    items = [ItemOut.model_validate(i, from_attributes=True) for i in await ballots.items_of(motion)]
    out = MotionOut(
        id=motion.id,
        compound_id=motion.compound_id,  # type: ignore[attr-defined]
        title=motion.title,
        text=motion.text,
        status=motion.status.value,
        opens_at=motion.opens_at,
        closes_at=motion.closes_at,
        allow_change=motion.allow_change,
        secret=motion.secret,
        announce_days=motion.announce_days,
        objection_days=motion.objection_days,
        scope_buildings=motion.scope_buildings,
        extension_reason=motion.extension_reason,
        objection_until=motion.objection_until,
        items=items,
    )
    if user_id is not None:
        voter, ballot = await ballots.my_ballot(motion, user_id)
        out.my_voter_id = voter.id if voter else None
        out.my_choices = ballot.choices if ballot else None
        out.allowed_actions = await motion_actions.allowed_actions(motion, user_id)  # type: ignore[assignment]
        out.proxy_for = [
            ProxyForOut.model_validate(p, from_attributes=True)
            for p in await proxies.proxy_for(motion.id, user_id)
        ]
    return out


@endpoint(
    bp, "GET", "/mine", summary="我可参与的表决事项（含我作为代理人的事项；分页，可按状态筛选）",
    access=AUTHENTICATED, query=MineQuery, response=MotionListOut,
    description="本人为业主的小区的表决事项，以及本人为业主代理人的事项（proxy_for 列出代理的业主），"
    "新建的在前。缺省不含已取消的事项；status=cancelled 可查看已取消的。",
)  # fmt: skip
async def my_motions(request: Request, call: Call[None, MineQuery]) -> MotionListOut:
    user_id, q = call.principal.user.id, call.query
    page = await service.motions_for_user(
        user_id, statuses=[q.status] if q.status else None, cursor=q.cursor, limit=q.limit
    )
    return MotionListOut(
        items=[await motion_out(m, user_id) for m in page.items], next_cursor=page.next_cursor
    )


@endpoint(
    bp, "GET", "/<motion_id:int>", summary="表决事项详情（含我的选票）", access=READERS, response=MotionOut
)
async def detail(request: Request, call: Call[None, None], motion_id: int) -> MotionOut:
    motion: Motion = request.ctx.motion
    if motion.status is MotionStatus.DRAFT:
        raise Conflict("表决事项尚未公告", code="motion_not_announced")
    return await motion_out(motion, call.principal.user.id)


@endpoint(
    bp, "POST", "/<motion_id:int>/ballots", summary="投票（已认证业主；或经批准的代理人）", access=VOTERS,
    body=CastIn, response=ReceiptOut, status=201,
    description="在投票期内每位业主只有一张有效选票；允许改票的事项以最后一次为准，每次投票均保留。",
)  # fmt: skip
async def cast(request: Request, call: Call[CastIn, None], motion_id: int) -> ReceiptOut:
    assert call.body is not None
    channel = Channel.PROXY if call.body.for_voter is not None else Channel.ELECTRONIC
    receipt = await ballots.cast_by_id(
        motion_id,
        call.principal,
        call.body.choices,
        channel=channel,
        for_voter=call.body.for_voter,
    )
    return ReceiptOut.model_validate(receipt, from_attributes=True)


@endpoint(
    bp, "POST", "/<motion_id:int>/proxies", summary="委托他人代为投票（上传书面委托书，邀请代理人）",
    access=READERS, body=ProxyInviteIn, response=ProxyInvitationOut, status=201,
    description="仅限本事项表决名单上的业主、投票期内。按手机号邀请已注册用户，或取得一次性邀请码交给代理人；"
    "代理人接受后由业主委员会查看委托书并审核，批准后代理人以 for_voter 代为投票。"
    "业主本人与代理人的选票同属一名投票人，只计一张：以投票时间最晚的一张为准（纸质选票不优先于电子或委托选票）。",
)  # fmt: skip
async def invite_proxy(
    request: Request, call: Call[ProxyInviteIn, None], motion_id: int
) -> ProxyInvitationOut:
    assert call.body is not None
    principal: Principal = call.principal
    invitation, code = await proxies.invite(
        request.ctx.motion, principal.user.id, call.body.document_photo_ids, call.body.invitee_phone,
        principal.actor,
    )  # fmt: skip
    return ProxyInvitationOut(
        id=invitation.id,
        code=code,
        expires_at=invitation.expires_at,
        voter_id=invitation.voter_id,  # type: ignore[attr-defined]
    )


class ProxyRevokedOut(BaseModel):
    invitation_id: int
    revoked: Literal["invitation", "authorization"] = Field(
        description="invitation：邀请尚未被接受，已作废；authorization：已接受（待审或已批准）的委托已撤销"
    )


@endpoint(
    bp, "POST", "/<motion_id:int>/proxy-invitations/<invitation_id:int>/revoke",
    summary="撤销委托（代理人代为投票之前）", access=READERS, response=ProxyRevokedOut,
    description="业主本人在投票期内撤销自己发出的委托：邀请未被接受则作废，已接受的委托（待审核或已批准）即告终止，"
    "代理人不能再代为投票。代理人已代为投票的，拒绝撤销（proxy_already_voted）；业主本人仍可在允许改票的事项中重新投票。",
)  # fmt: skip
async def revoke_proxy(
    request: Request, call: Call[None, None], motion_id: int, invitation_id: int
) -> ProxyRevokedOut:
    principal: Principal = call.principal
    what = await proxies.revoke(request.ctx.motion, principal.user.id, invitation_id, principal.actor)
    return ProxyRevokedOut(invitation_id=invitation_id, revoked=what)  # type: ignore[arg-type]


@endpoint(
    bp, "GET", "/proxy-invitations", summary="邀请我代为投票的委托（按手机号邀请，分页）",
    access=AUTHENTICATED, query=PageQuery, response=ProxyInvitationPageOut,
)  # fmt: skip
async def my_proxy_invitations(request: Request, call: Call[None, PageQuery]) -> ProxyInvitationPageOut:
    page = await proxies.invitations_for(
        call.principal.user.id, cursor=call.query.cursor, limit=call.query.limit
    )
    return ProxyInvitationPageOut(
        items=[ProxyInvitationItemOut.model_validate(i, from_attributes=True) for i in page.items],
        next_cursor=page.next_cursor,
    )


@endpoint(
    bp, "POST", "/proxy-invitations/accept", summary="接受代为投票的委托（邀请码或邀请编号）",
    access=AUTHENTICATED, body=ProxyAcceptIn, response=ProxyAcceptedOut, status=201,
    description="接受后等待业主委员会审核委托书；批准后该事项出现在 /motions/mine，proxy_for 列出委托人。",
)  # fmt: skip
async def accept_proxy(request: Request, call: Call[ProxyAcceptIn, None]) -> ProxyAcceptedOut:
    assert call.body is not None
    principal: Principal = call.principal
    p = await proxies.accept(
        principal.user.id, principal.actor, code=call.body.code, invitation_id=call.body.invitation_id
    )
    return ProxyAcceptedOut(proxy_id=p.id, motion_id=p.motion_id, voter_id=p.voter_id, status=p.status.value)  # type: ignore[attr-defined]


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/receipts/<code:str>",
    summary="核验回执码：选票是否在链中、是否计入",
    description="公开接口；同一来源地址每分钟核验失败（回执码不存在）超过 20 次后，该分钟内的核验一律返回 429 rate_limited（details.retry_after 为秒数）。",
    access=PUBLIC,
    response=InclusionOut,
)
async def check_receipt(request: Request, call: Call[None, None], motion_id: int, code: str) -> InclusionOut:
    # Public, and a first check seals the ballot (a write): codes that name no ballot are counted per
    # client address and, past the limit, every check from it is refused for the rest of the minute,
    # before any query. Successful checks are not counted: many owners may share one NAT address.
    misses = f"receipt-misses:{client_address(request)}"
    decision = await spent(request.app.ctx.cache, misses, limit=RECEIPT_MISSES_PER_MINUTE)
    if not decision.allowed:
        raise RateLimited("核验失败次数过多，请稍后再试", details={"retry_after": decision.retry_after})
    try:
        motion = await lifecycle.get_motion(motion_id)
        inclusion = await service.receipt(motion, code)
    except NotFound:
        await hit(request.app.ctx.cache, misses, limit=RECEIPT_MISSES_PER_MINUTE, window=60)
        raise
    return InclusionOut.model_validate(inclusion, from_attributes=True)


@endpoint(
    bp, "GET", "/<motion_id:int>/chain", summary="表决审计链的链头（公开）", access=PUBLIC, response=HeadOut
)
async def chain_head(request: Request, call: Call[None, None], motion_id: int) -> HeadOut:
    await lifecycle.get_motion(motion_id)
    head = await audit_head(lifecycle.motion_stream(motion_id))
    if head is None:
        raise Conflict("尚无审计记录", code="chain_empty")
    return HeadOut(**head)


@endpoint(
    bp, "GET", "/<motion_id:int>/roll", summary="表决名单（房号与面积，不含姓名；分页）", access=READERS,
    query=PageQuery, response=RollPageOut,
)  # fmt: skip
async def roll(request: Request, call: Call[None, PageQuery], motion_id: int) -> RollPageOut:
    page = await listing.roll_page(request.ctx.motion, cursor=call.query.cursor, limit=call.query.limit)
    return RollPageOut.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/results",
    summary="表决结果（计票后公布总数）",
    access=READERS,
    response=ResultsOut,
    description="每个表决项给出面积与人数的参与比例和同意比例：ratio 为精确分数（判断是否达到 2/3、3/4、过半以它为准），"
    "percent 为四舍五入的两位小数，仅供显示；follow_majority 表示本事项是否适用从多，"
    "follow_majority_applied 与 non_voters_counted 说明未参与表决者是否、以多少面积和人数计入了哪一方。"
    "从多的计票规则：" + FOLLOW_MAJORITY_RULE,
)
async def results(request: Request, call: Call[None, None], motion_id: int) -> dict[str, Any]:
    motion: Motion = request.ctx.motion
    if not motion_actions.results_published(motion):  # the detail's "view_results" is listed by it
        raise Conflict("计票完成后公布结果", code="results_not_ready")
    return {"status": motion.status.value, "objection_until": motion.objection_until, **motion.result}


@endpoint(
    bp, "GET", "/<motion_id:int>/ballot-list", summary="逐票明细（计票后公布房号、面积、选择；无记名事项不公布；分页）",
    access=READERS, query=PageQuery, response=BallotPageOut,
)  # fmt: skip
async def ballot_list(request: Request, call: Call[None, PageQuery], motion_id: int) -> BallotPageOut:
    page = await listing.ballot_page(request.ctx.motion, cursor=call.query.cursor, limit=call.query.limit)
    return BallotPageOut.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/export",
    summary="完整导出（可用 python -m server audit verify --file 离线核验）",
    access=READERS,
    response=ExportOut,
    description="审计链、表决名单与每张选票的哈希及封存批次；计票后另含结果总数与是否计入。"
    "记名事项计票后含每张选票的内容（可重算哈希与总数）；计票前及无记名事项不含任何人的选择。"
    "这是一份供离线核验的完整文件（不分页），其中的时间为参与哈希计算的 UTC 原文。",
)
async def export(request: Request, call: Call[None, None], motion_id: int) -> dict[str, Any]:
    motion: Motion = request.ctx.motion
    if motion.status in (MotionStatus.DRAFT, MotionStatus.ANNOUNCED):
        raise Conflict("投票开始后方可导出", code="export_not_ready")
    return await service.export(motion)


@endpoint(
    bp, "GET", "/rules", summary="表决规则（最短公告天数）", access=PUBLIC, response=RulesOut,
    description="新建表决事项时 announce_days 不得小于 min_announce_days；不填即取该值。",
)  # fmt: skip
async def rules(request: Request, call: Call[None, None]) -> RulesOut:
    return RulesOut(
        min_announce_days=min_announce_days(request), legal_min_announce_days=LEGAL_MIN_ANNOUNCE_DAYS
    )
