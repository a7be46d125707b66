"""Grid patrols over HTTP: record, read, a finding to a complaint, weekly coverage per worker and
compound. The dashboards are in miniprogram_api.supervision_dashboard."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role
from miniprogram_api.auth import AUTHENTICATED, Allow, Principal
from miniprogram_api.bounds import Id, Moment, RequestModel
from miniprogram_api.complaints import PhotoRef, photo_check, refs
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import CURSOR, LIMIT, Page
from miniprogram_api.photos import checker_url
from supervision import service
from supervision.patrols import MAX_FINDINGS, MAX_ROUTE_POINTS

bp = Blueprint("supervision_patrols", url_prefix="/patrols")
community_bp = Blueprint("supervision_community", url_prefix="/admin/communities/<community_id:int>")

PATROL_READERS = Allow(Role.GRID_WORKER, Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="community")
MAX_WEEKS = 110  # two years of weeks: the longest period a dashboard takes
MAX_COMPOUNDS = 1000  # the county has 216


def _who(call: Call) -> Principal:  # type: ignore[type-arg]
    return call.principal  # type: ignore[no-any-return]


# --- patrols -----------------------------------------------------------------------------------------


class RoutePointIn(RequestModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    at: Moment


class FindingIn(RequestModel):
    text: str = Field(min_length=2, max_length=500)
    place_note: str = Field(default="", max_length=100, description="具体位置，如“3号楼东侧消防通道”")
    building_id: Id | None = None
    photo_ids: list[Id] = Field(default_factory=list, max_length=9, description="先用 POST /photos 上传")


class PatrolIn(RequestModel):
    compound_id: Id
    started_at: Moment
    ended_at: Moment
    route: list[RoutePointIn] = Field(default_factory=list, max_length=MAX_ROUTE_POINTS)
    note: str = Field(default="", max_length=500)
    findings: list[FindingIn] = Field(default_factory=list, max_length=MAX_FINDINGS)


class PatrolOut(BaseModel):
    id: int
    compound_id: int
    community_id: int
    worker_id: int
    started_at: datetime
    ended_at: datetime
    note: str


class RoutePointOut(BaseModel):
    latitude: float
    longitude: float
    at: datetime


class FindingOut(BaseModel):
    seq: int
    text: str
    place_note: str
    building_id: int | None
    complaint_id: int | None = Field(description="已转为投诉时的投诉编号")
    photos: list[PhotoRef]


class PatrolDetailOut(PatrolOut):
    route: list[RoutePointOut]
    findings: list[FindingOut]


class EscalateIn(RequestModel):
    category: str = Field(max_length=30, description="投诉类别（GET /complaints/categories）")


class EscalatedOut(BaseModel):
    patrol_id: int
    seq: int
    complaint_id: int
    status: str
    moderation: str


async def _detail(request: Request, patrol_id: int, viewer_id: int) -> PatrolDetailOut:
    data = await service.detail(patrol_id, user_id=viewer_id)
    findings = [
        FindingOut(
            **{k: v for k, v in f.items() if k != "photo_ids"},
            photos=refs(request, f["photo_ids"], viewer_id),
        )
        for f in data["findings"]
    ]
    route = [
        RoutePointOut(latitude=p[0], longitude=p[1], at=datetime.fromisoformat(p[2])) for p in data["route"]
    ]
    return PatrolDetailOut(**{**data, "route": route, "findings": findings})


@endpoint(
    bp,
    "POST",
    "",
    summary="记录一次网格巡查（可附路线和发现的问题及照片）",
    description="仅限该小区所在社区的网格员。照片先用 POST /photos 上传，每个问题最多 9 张。",
    access=AUTHENTICATED,
    body=PatrolIn,
    response=PatrolDetailOut,
    status=201,
)
async def record_patrol(request: Request, call: Call[PatrolIn, None]) -> PatrolDetailOut:
    who, body = _who(call), call.body
    new = service.NewPatrol(
        compound_id=body.compound_id,
        started_at=body.started_at,
        ended_at=body.ended_at,
        route=[(p.latitude, p.longitude, p.at) for p in body.route],
        note=body.note,
        findings=[service.NewFinding(**f.model_dump()) for f in body.findings],
    )
    patrol = await service.record(
        new,
        worker=who.user,
        actor=who.actor,
        photo_check=photo_check(request, who),
    )
    return await _detail(request, patrol.id, who.user.id)


@endpoint(
    bp,
    "GET",
    "/<patrol_id:int>",
    summary="巡查详情",
    description="记录人、本社区的网格员和社区管理员、主管部门可见。",
    access=AUTHENTICATED,
    response=PatrolDetailOut,
)
async def patrol_detail(request: Request, call: Call[None, None], patrol_id: int) -> PatrolDetailOut:
    return await _detail(request, patrol_id, _who(call).user.id)


@endpoint(
    bp,
    "POST",
    "/<patrol_id:int>/findings/<seq:int>/complaint",
    summary="把巡查发现的问题一键转为投诉",
    description="由记录该巡查的网格员提交：沿用问题的文字、位置和照片，按所选类别进入投诉处理流程。每个问题只能转一次。",
    access=AUTHENTICATED,
    body=EscalateIn,
    response=EscalatedOut,
    status=201,
)
async def escalate_finding(
    request: Request, call: Call[EscalateIn, None], patrol_id: int, seq: int
) -> EscalatedOut:
    who = _who(call)
    complaint = await service.escalate(
        patrol_id, seq, category=call.body.category, worker=who.user, actor=who.actor,
        wechat=request.app.ctx.wechat, cache=request.app.ctx.cache,
        media_url=lambda photo: checker_url(request, photo.id),
    )  # fmt: skip
    return EscalatedOut(
        patrol_id=patrol_id, seq=seq, complaint_id=complaint.id, status=str(complaint.status),
        moderation=str(complaint.moderation),
    )  # fmt: skip


class PatrolsQuery(BaseModel):
    compound_id: Id | None = None
    cursor: str | None = CURSOR
    limit: int = LIMIT


@endpoint(
    community_bp,
    "GET",
    "/patrols",
    summary="本社区的巡查记录（最新在前）",
    access=PATROL_READERS,
    query=PatrolsQuery,
    response=Page[PatrolOut],
)
async def community_patrols(
    request: Request, call: Call[None, PatrolsQuery], community_id: int
) -> Page[PatrolOut]:
    q = call.query
    found = await service.of_community(
        community_id, compound_id=q.compound_id, cursor=q.cursor, limit=q.limit
    )
    return Page[PatrolOut].of(found, lambda row: PatrolOut(**row))


class PeriodQuery(BaseModel):
    since: date | None = Field(
        default=None, description="起始日期（北京时间），缺省为截止日期所在年份的 1 月 1 日"
    )
    until: date | None = Field(default=None, description="截止日期（含），缺省为今天")


class WeekOut(BaseModel):
    week: date = Field(description="该周的星期一")
    compounds: int
    patrolled: int
    share: float


class CompoundWeeksOut(BaseModel):
    compound_id: int
    name: str
    weeks_patrolled: list[date] = Field(max_length=MAX_WEEKS)


class WorkerWeekOut(BaseModel):
    week: date
    patrols: int
    compounds: int


class WorkerOut(BaseModel):
    worker_id: int
    name: str = Field(description="昵称，未设置时为打码的称呼")
    weeks: list[WorkerWeekOut] = Field(max_length=MAX_WEEKS)


class CoverageOut(BaseModel):
    community_id: int
    weeks: list[WeekOut] = Field(max_length=MAX_WEEKS)
    compounds: list[CompoundWeeksOut] = Field(max_length=MAX_COMPOUNDS)
    workers: list[WorkerOut] = Field(max_length=MAX_COMPOUNDS)


@endpoint(
    community_bp,
    "GET",
    "/patrol-coverage",
    summary="网格巡查覆盖：每周每个小区是否巡查到、每位网格员的巡查次数",
    access=PATROL_READERS,
    query=PeriodQuery,
    response=CoverageOut,
)
async def patrol_coverage(request: Request, call: Call[None, PeriodQuery], community_id: int) -> CoverageOut:
    f = service.filters(since=call.query.since, until=call.query.until)
    return CoverageOut(**await service.coverage(community_id, since=f.since, until=f.until))
