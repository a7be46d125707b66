"""Owners' assembly voting for the mini-program: my motions, detail with my ballot, cast, receipts,
results, and the public pieces anyone may check (chain head, receipt, roll, export)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import roles, sessions
from accounts.errors import RoleMissing
from accounts.roles import Role
from audit.service import head as audit_head
from core.errors import Conflict
from miniprogram_api.auth import AUTHENTICATED, Principal, authenticate, bearer_token
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from voting import ballots, lifecycle, service
from voting.models import Channel, Motion, MotionStatus

bp = Blueprint("voting", url_prefix="/motions")
PUBLISHED = (MotionStatus.COUNTED, MotionStatus.OBJECTION, MotionStatus.FINAL)


class MotionReaders:
    """Owners, residents and the committee of the motion's compound (and the community above it)."""

    public = False
    description = "本小区业主、住户、业委会委员及社区管理员"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        motion = await lifecycle.get_motion(int(params["motion_id"]))
        held = await roles.compound_roles(principal.user.id, motion.compound_id)  # type: ignore[attr-defined]
        if not held & {Role.OWNER, Role.RESIDENT, Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.SUPERVISOR}:
            raise RoleMissing()
        request.ctx.motion = motion
        return principal


READERS = MotionReaders()


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


class MotionOut(BaseModel):
    id: int
    compound_id: int
    title: str
    text: str
    status: str
    opens_at: datetime
    closes_at: datetime
    allow_change: bool
    secret: bool
    scope_buildings: list[int]
    extension_reason: str | None
    objection_until: datetime | None
    items: list[ItemOut]
    my_voter_id: int | None = None
    my_choices: dict[str, Any] | None = Field(default=None, description="我当前有效的选票")


class MotionListOut(BaseModel):
    items: list[MotionOut]


class CastIn(BaseModel):
    choices: dict[str, Any] = Field(
        description='{"表决项编号": "agree|oppose|abstain"} 或选举项 {"编号": [候选人编号]}'
    )
    for_voter: int | None = Field(
        default=None, description="代为投票时：委托人的名单编号（须已获业委会批准）"
    )


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


class ProxyIn(BaseModel):
    proxy_user_id: int
    document_ref: str = Field(min_length=1, max_length=100, description="已上传的书面委托书（照片编号）")


class CreatedOut(BaseModel):
    id: int


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
        scope_buildings=motion.scope_buildings,
        extension_reason=motion.extension_reason,
        objection_until=motion.objection_until,
        items=items,
    )
    if user_id is not None:
        voter, ballot = await ballots.my_ballot(motion, user_id)
        out.my_voter_id = voter.id if voter else None
        out.my_choices = ballot.choices if ballot else None
    return out


@endpoint(bp, "GET", "/mine", summary="我可参与的表决事项", access=AUTHENTICATED, response=MotionListOut)
async def my_motions(request: Request, call: Call[None, None]) -> MotionListOut:
    user_id = call.principal.user.id
    return MotionListOut(
        items=[await motion_out(m, user_id) for m in await service.motions_for_user(user_id)]
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
    bp,
    "POST",
    "/<motion_id:int>/proxies",
    summary="提交书面委托（待业委会审核）",
    access=READERS,
    body=ProxyIn,
    response=CreatedOut,
    status=201,
)
async def request_proxy(request: Request, call: Call[ProxyIn, None], motion_id: int) -> CreatedOut:
    assert call.body is not None
    principal: Principal = call.principal
    proxy = await service.request_proxy(
        request.ctx.motion,
        principal.user.id,
        call.body.proxy_user_id,
        call.body.document_ref,
        principal.actor,
    )
    return CreatedOut(id=proxy.id)


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/receipts/<code:str>",
    summary="核验回执码：选票是否在链中、是否计入",
    access=PUBLIC,
    response=InclusionOut,
)
async def check_receipt(request: Request, call: Call[None, None], motion_id: int, code: str) -> InclusionOut:
    motion = await lifecycle.get_motion(motion_id)
    return InclusionOut.model_validate(await service.receipt(motion, code), from_attributes=True)


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
    bp,
    "GET",
    "/<motion_id:int>/roll",
    summary="表决名单（房号与面积，不含姓名）",
    access=PUBLIC,
    response={"type": "array", "items": {"type": "object"}},
)
async def roll(request: Request, call: Call[None, None], motion_id: int) -> list[dict[str, Any]]:
    return await service.public_roll(await lifecycle.get_motion(motion_id))


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/results",
    summary="表决结果（计票后公开）",
    access=PUBLIC,
    response={"type": "object"},
)
async def results(request: Request, call: Call[None, None], motion_id: int) -> dict[str, Any]:
    motion = await lifecycle.get_motion(motion_id)
    if motion.status not in PUBLISHED or motion.result is None:
        raise Conflict("计票完成后公布结果", code="results_not_ready")
    return {"status": motion.status.value, "objection_until": motion.objection_until, **motion.result}


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/ballot-list",
    summary="逐票明细（房号、面积、选择；无记名事项不公布）",
    access=PUBLIC,
    response={"type": "array", "items": {"type": "object"}},
)
async def ballot_list(request: Request, call: Call[None, None], motion_id: int) -> list[dict[str, Any]]:
    return await service.ballot_list(await lifecycle.get_motion(motion_id))


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/export",
    summary="完整导出（可用 python -m server audit verify --file 离线核验）",
    access=PUBLIC,
    response={"type": "object"},
)
async def export(request: Request, call: Call[None, None], motion_id: int) -> dict[str, Any]:
    motion = await lifecycle.get_motion(motion_id)
    if motion.status in (MotionStatus.DRAFT, MotionStatus.ANNOUNCED):
        raise Conflict("投票开始后方可导出", code="export_not_ready")
    return await service.export(motion)
