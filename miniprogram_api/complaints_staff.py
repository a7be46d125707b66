"""Complaint handling for staff: queue, accept, dispatch, progress, resolve, escalate, reject,
moderation of held complaints, the periodic sweep, and statistics. Who may call each is declared on
it; complaints.guards checks the finer rule (e.g. property staff only for their own company), the
same rule that lists the detail's allowed_actions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.errors import RoleMissing
from accounts.roles import Role, grants_of
from complaints import service
from complaints.models import Party, Status
from complaints.rules import Action
from miniprogram_api.auth import ROLE_NAMES, Principal, authenticate
from miniprogram_api.bounds import Id, Moment
from miniprogram_api.complaints import ComplaintListOut, ComplaintOut, DetailOut, detail_out, photo_check
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import PageQuery

bp = Blueprint("complaints_staff", url_prefix="/staff/complaints")
SWEEP_EVERY = 60  # seconds: the queue runs the periodic sweep at most this often


class OnComplaint:
    """Logged in and holding one of ``allowed`` over the complaint in the path (department staff:
    only for the department it is dispatched to)."""

    public = False

    def __init__(self, *allowed: Role) -> None:
        self.allowed = frozenset(allowed)
        self.description = "、".join(ROLE_NAMES[r] for r in allowed) + "（限该投诉所在小区或承办单位）"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        complaint = await service.load(int(params["complaint_id"]))
        granted = await service.staff_roles(principal.user.id, complaint) & self.allowed
        if not granted:
            raise RoleMissing(details={"required": sorted(self.allowed)})
        return Principal(principal.user, principal.token, frozenset(granted), principal.request_id)


class HoldsGrant:
    """Logged in and granted one of ``allowed`` somewhere (the service scopes what they see)."""

    public = False

    def __init__(self, *allowed: Role) -> None:
        self.allowed = frozenset(allowed)
        self.description = "、".join(ROLE_NAMES[r] for r in allowed)

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        granted = {role for role, _, _ in await grants_of(principal.user.id)} & self.allowed
        if not granted:
            raise RoleMissing(details={"required": sorted(self.allowed)})
        return Principal(principal.user, principal.token, frozenset(granted), principal.request_id)


STAFF = HoldsGrant(
    Role.PROPERTY_STAFF, Role.COMMUNITY_ADMIN, Role.DEPARTMENT_STAFF, Role.GRID_WORKER, Role.SUPERVISOR
)
OVERSIGHT = HoldsGrant(Role.COMMUNITY_ADMIN, Role.SUPERVISOR)
INTAKE = OnComplaint(Role.COMMUNITY_ADMIN, Role.PROPERTY_STAFF)
ASSIGNEE = OnComplaint(Role.PROPERTY_STAFF, Role.DEPARTMENT_STAFF)
WHISTLE = OnComplaint(Role.PROPERTY_STAFF, Role.DEPARTMENT_STAFF, Role.GRID_WORKER)
COMMUNITY = OnComplaint(Role.COMMUNITY_ADMIN)
MODERATORS = OnComplaint(Role.COMMUNITY_ADMIN, Role.SUPERVISOR)


class QueueQuery(BaseModel):
    """The web console's queue form (numbered pages, console/complaints.py); the API takes QueuePageQuery."""

    status: Status | None = None
    overdue: bool | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class QueuePageQuery(PageQuery):
    status: Status | None = None
    overdue: bool | None = None


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=500)
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)


class DispatchIn(BaseModel):
    party: Party | None = Field(default=None, description="缺省按责任清单：property 物业 / department 部门")
    department_id: Id | None = Field(default=None, description="派给部门时的部门编号；缺省按责任清单")
    note: str = Field(default="", max_length=500)


class ModerationIn(BaseModel):
    passed: bool
    reason: str = Field(default="", max_length=200)


class SweepOut(BaseModel):
    escalated: int
    closed: int


class PartyFigures(BaseModel):
    id: int
    name: str
    count: int
    resolved: int
    median_hours_to_resolve: float | None
    overdue_share: float
    average_rating: float | None
    ratings: int


class StatisticsOut(BaseModel):
    companies: list[PartyFigures]
    departments: list[PartyFigures]


class StatisticsQuery(BaseModel):
    since: Moment | None = Field(default=None, description="含时区，如 2026-01-01T00:00:00+08:00")
    until: Moment | None = None


def _who(call: Call) -> Principal:  # type: ignore[type-arg]
    return call.principal  # type: ignore[no-any-return]


@endpoint(
    bp,
    "GET",
    "",
    summary="待办投诉队列（阶段时限最近的在前，分页）",
    access=STAFF,
    query=QueuePageQuery,
    response=ComplaintListOut,
)
async def complaint_queue(request: Request, call: Call[None, QueuePageQuery]) -> ComplaintListOut:
    if await request.app.ctx.cache.add("complaints:sweep", b"1", ttl=SWEEP_EVERY):
        await service.run_periodic()
    q = call.query
    page = await service.queue_page(
        user_id=_who(call).user.id, status=q.status, overdue=q.overdue, cursor=q.cursor, limit=q.limit
    )
    return ComplaintListOut(items=[ComplaintOut(**r) for r in page.items], next_cursor=page.next_cursor)


@endpoint(bp, "GET", "/statistics", summary="按物业服务企业和部门的投诉统计", access=OVERSIGHT,
          query=StatisticsQuery, response=StatisticsOut)  # fmt: skip
async def complaint_statistics(request: Request, call: Call[None, StatisticsQuery]) -> StatisticsOut:
    return StatisticsOut(**await service.statistics_by_party(since=call.query.since, until=call.query.until))


@endpoint(
    bp,
    "POST",
    "/sweep",
    summary="超时升级与逾期办结（定时任务也会执行）",
    access=OVERSIGHT,
    response=SweepOut,
)
async def sweep(request: Request, call: Call[None, None]) -> SweepOut:
    return SweepOut(**await service.run_periodic())


async def _step(request: Request, call: Call, complaint_id: int, step: service.Step) -> DetailOut:  # type: ignore[type-arg]
    who = _who(call)
    await service.act(
        complaint_id, step, user_id=who.user.id, actor=who.actor, photo_check=photo_check(request, who)
    )
    return await detail_out(request, complaint_id, who.user.id)


@endpoint(bp, "POST", "/<complaint_id:int>/accept", summary="受理",
          description="物业服务企业受理即由本企业处理（无须再派单），可直接开始处理或处理完毕；"
          "社区受理后再派给物业服务企业或部门。详情中的 allowed_actions 列出当前可执行的操作。",
          access=INTAKE, body=NoteIn, response=DetailOut)  # fmt: skip
async def accept(request: Request, call: Call[NoteIn, None], complaint_id: int) -> DetailOut:
    return await _step(request, call, complaint_id, service.Step(Action.ACCEPT, note=call.body.note))


@endpoint(bp, "POST", "/<complaint_id:int>/dispatch", summary="社区派单（派给物业服务企业或部门）",
          access=COMMUNITY, body=DispatchIn, response=DetailOut)  # fmt: skip
async def dispatch(request: Request, call: Call[DispatchIn, None], complaint_id: int) -> DetailOut:
    b = call.body
    step = service.Step(Action.DISPATCH, note=b.note, party=b.party, department_id=b.department_id)
    return await _step(request, call, complaint_id, step)


@endpoint(bp, "POST", "/<complaint_id:int>/progress", summary="开始处理（可省略：受理或派单后可直接处理完毕）",
          access=ASSIGNEE, body=NoteIn,
          response=DetailOut)  # fmt: skip
async def progress(request: Request, call: Call[NoteIn, None], complaint_id: int) -> DetailOut:
    step = service.Step(Action.START, note=call.body.note, photo_ids=call.body.photo_ids)
    return await _step(request, call, complaint_id, step)


@endpoint(bp, "POST", "/<complaint_id:int>/resolve", summary="处理完毕（可附处理后照片）", access=ASSIGNEE,
          body=NoteIn, response=DetailOut)  # fmt: skip
async def resolve(request: Request, call: Call[NoteIn, None], complaint_id: int) -> DetailOut:
    step = service.Step(Action.RESOLVE, note=call.body.note, photo_ids=call.body.photo_ids)
    return await _step(request, call, complaint_id, step)


@endpoint(bp, "POST", "/<complaint_id:int>/reject", summary="不予受理（须说明原因）", access=COMMUNITY,
          body=NoteIn, response=DetailOut)  # fmt: skip
async def reject(request: Request, call: Call[NoteIn, None], complaint_id: int) -> DetailOut:
    return await _step(request, call, complaint_id, service.Step(Action.REJECT, note=call.body.note))


@endpoint(bp, "POST", "/<complaint_id:int>/escalate", summary="提请社区协调（吹哨）", access=WHISTLE,
          body=NoteIn, response=DetailOut)  # fmt: skip
async def escalate(request: Request, call: Call[NoteIn, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    await service.escalate(complaint_id, user_id=who.user.id, actor=who.actor, note=call.body.note)
    return await detail_out(request, complaint_id, who.user.id)


@endpoint(bp, "POST", "/<complaint_id:int>/moderation", summary="人工审核：放行或不予受理",
          access=MODERATORS, body=ModerationIn, response=DetailOut)  # fmt: skip
async def moderation(request: Request, call: Call[ModerationIn, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    b = call.body
    await service.moderate(
        complaint_id, user_id=who.user.id, actor=who.actor, passed=b.passed, reason=b.reason
    )
    return await detail_out(request, complaint_id, who.user.id)
