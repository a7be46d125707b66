"""Inspections of a compound (物业项目日常管理考核 / 年度综合评定), part of ratings_admin.

A community admin of the compound's community or the supervisor opens, scores and submits; the
inspected company's staff see submitted results and may object once; the inspector decides. Drafts
are seen by their inspector only; a company's staff see only their own company's inspections."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role, Scope, grants_of
from miniprogram_api.auth import Allow, Principal
from miniprogram_api.bounds import Id
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery
from ratings import inspections, templates
from ratings.errors import (
    InspectionNotFound,
    InspectionStateConflict,
    NoCompanyAtCompound,
    NotInspectedCompany,
    NotInspector,
    ObjectionInvalid,
    ObjectionTaken,
    ObjectionWindowClosed,
    ScoresInvalid,
    TemplateNotFound,
)
from ratings.models import Inspection
from ratings.rules import InspectionKind, InspectionStatus

inspections_bp = Blueprint("ratings_inspections", url_prefix="/admin/compounds/<compound_id:int>/inspections")

INSPECTORS = Allow(Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="compound")
READERS = Allow(Role.COMMUNITY_ADMIN, Role.SUPERVISOR, Role.PROPERTY_STAFF, over="compound")
COMPANY_STAFF = Allow(Role.PROPERTY_STAFF, over="compound")


ItemCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,20}$", max_length=20, description="评分项编号")]


class OpenIn(BaseModel):
    model_config = {"extra": "forbid"}
    kind: InspectionKind
    inspected_on: date | None = Field(default=None, description="考核日期（北京时间），缺省为今天")


class ScoreIn(BaseModel):
    model_config = {"extra": "forbid"}
    code: ItemCode
    points: int = Field(ge=0, le=100)
    note: str = Field(default="", max_length=500)
    photo_ids: list[Id] = Field(default_factory=list, max_length=inspections.MAX_PHOTOS_PER_ITEM)


class ScoresIn(BaseModel):
    model_config = {"extra": "forbid"}
    items: list[ScoreIn] = Field(min_length=1, max_length=400)


class ObjectionIn(BaseModel):
    model_config = {"extra": "forbid"}
    reasons: str = Field(min_length=1, max_length=1000)
    item_codes: list[ItemCode] = Field(default_factory=list, max_length=400, description="异议所涉评分项")


class DecisionIn(BaseModel):
    model_config = {"extra": "forbid"}
    upheld: bool = Field(description="true 采纳异议；false 不予采纳")
    note: str = Field(min_length=1, max_length=1000)
    revised: list[ScoreIn] = Field(default_factory=list, max_length=400, description="采纳时修改的评分项")


class InspectionOut(BaseModel):
    id: int
    compound_id: int
    company_id: int
    template_id: int
    kind: str
    inspector_role: str
    inspected_on: date
    status: str = Field(description="draft | submitted | objected | finished")
    total: Decimal | None
    stars: int | None
    aspect_scores: dict[str, Decimal] | None
    satisfaction_ratings: int | None = Field(description="居民满意度：提交时近一年本小区投诉办理评价的条数")
    satisfaction_average: float | None = Field(description="居民满意度：上述评价的平均分（5 分制）")
    booking_ratings: int | None = Field(description="被考核企业近一年生活服务预约评价的条数")
    booking_average: Decimal | None = Field(description="上述预约评价的平均星级（5 分制）")
    submitted_at: datetime | None
    objection_due_at: datetime | None
    finished_at: datetime | None


class ScoreOut(BaseModel):
    code: str
    aspect: str
    text: str
    max_points: int
    points: int | None
    note: str
    photo_ids: list[int] = Field(max_length=inspections.MAX_PHOTOS_PER_ITEM)


class ObjectionOut(BaseModel):
    reasons: str
    item_codes: list[str] = Field(max_length=400)
    at: datetime
    upheld: bool | None
    decision_note: str
    decided_at: datetime | None


class InspectionDetailOut(BaseModel):
    inspection: InspectionOut
    template_version: int
    scores: list[ScoreOut]
    objection: list[ObjectionOut] = Field(max_length=1, description="企业的异议（至多一次）及处理决定")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def inspection_out(row: Inspection) -> InspectionOut:
    return InspectionOut(
        id=row.id,
        compound_id=row.compound_id,
        company_id=row.company_id,
        template_id=row.template_id,
        kind=str(row.kind),
        inspector_role=row.inspector_role,
        inspected_on=row.inspected_on,
        status=str(row.status),
        total=Decimal(row.total) if row.total is not None else None,
        stars=row.stars,
        aspect_scores={k: Decimal(v) for k, v in row.aspect_scores.items()} if row.aspect_scores else None,
        satisfaction_ratings=row.satisfaction["ratings"] if row.satisfaction else None,
        satisfaction_average=row.satisfaction["average_rating"] if row.satisfaction else None,
        booking_ratings=(row.satisfaction or {}).get("booking_ratings"),
        booking_average=_decimal((row.satisfaction or {}).get("booking_average")),
        submitted_at=row.submitted_at,
        objection_due_at=row.objection_due_at,
        finished_at=row.finished_at,
    )


async def _staff_companies(principal: Principal) -> set[int]:
    return {
        i
        for role, scope, i in await grants_of(principal.user.id)
        if role is Role.PROPERTY_STAFF and scope is Scope.COMPANY
    }


async def _visible(principal: Principal, compound_id: int, inspection_id: int) -> Inspection:
    """Inspectors see every inspection but others' drafts; the company's staff only their own
    company's, once submitted. Anything else is not found (not revealing that it exists)."""
    row = await inspections.load(compound_id, inspection_id)
    draft = row.status == InspectionStatus.DRAFT
    if principal.roles & {Role.COMMUNITY_ADMIN, Role.SUPERVISOR}:
        if draft and row.inspector_id != principal.user.id:
            raise InspectionNotFound()
        return row
    if draft or row.company_id not in await _staff_companies(principal):
        raise InspectionNotFound()
    return row


async def _detail(row: Inspection) -> InspectionDetailOut:
    found = await inspections.detail(row)
    aspects, _ = templates.specs_of(found["template"])
    given = found["scores"]
    objection = found["objection"]
    return InspectionDetailOut(
        inspection=inspection_out(row),
        template_version=found["template"].version,
        scores=[
            ScoreOut(
                code=i.code,
                aspect=a.aspect.value,
                text=i.text,
                max_points=i.max_points,
                points=given[i.code].points if i.code in given else None,
                note=given[i.code].note if i.code in given else "",
                photo_ids=given[i.code].photo_ids if i.code in given else [],
            )
            for a in aspects
            for i in a.items
        ],
        objection=[
            ObjectionOut(
                reasons=objection.reasons,
                item_codes=objection.item_codes,
                at=objection.at,
                upheld=objection.upheld,
                decision_note=objection.decision_note,
                decided_at=objection.decided_at,
            )
        ]
        if objection
        else [],
    )


def _items(scores: list[ScoreIn]) -> list[inspections.ItemScore]:
    return [inspections.ItemScore(s.code, s.points, s.note, tuple(s.photo_ids)) for s in scores]


@endpoint(
    inspections_bp,
    "POST",
    "",
    summary="开始一次考核（日常考核或年度综合评定），使用该类最新模板",
    access=INSPECTORS,
    body=OpenIn,
    response=InspectionDetailOut,
    status=201,
    raises=(TemplateNotFound, NoCompanyAtCompound),
)
async def open_inspection(
    request: Request, call: Call[OpenIn, None], compound_id: int
) -> InspectionDetailOut:
    p = call.principal
    role = Role.COMMUNITY_ADMIN if Role.COMMUNITY_ADMIN in p.roles else Role.SUPERVISOR
    row = await inspections.open_inspection(
        p.actor,
        user_id=p.user.id,
        role=role,
        compound_id=compound_id,
        kind=call.body.kind,
        inspected_on=call.body.inspected_on,
    )
    return await _detail(row)


@endpoint(
    inspections_bp,
    "GET",
    "",
    summary="本小区的考核（最新在前；草稿仅考核人可见，企业只见本企业的）",
    access=READERS,
    query=PageQuery,
    response=Page[InspectionOut],
)
async def list_inspections(
    request: Request, call: Call[None, PageQuery], compound_id: int
) -> Page[InspectionOut]:
    p = call.principal
    inspector = bool(p.roles & {Role.COMMUNITY_ADMIN, Role.SUPERVISOR})
    page = await inspections.of_compound(
        compound_id,
        drafts_of=p.user.id if inspector else None,
        companies=None if inspector else await _staff_companies(p),
        cursor=call.query.cursor,
        limit=call.query.limit,
    )
    return Page[InspectionOut].of(page, inspection_out)


@endpoint(
    inspections_bp,
    "GET",
    "/<inspection_id:int>",
    summary="一次考核：各项评分、说明、照片与异议",
    access=READERS,
    response=InspectionDetailOut,
    raises=(InspectionNotFound,),
)
async def get_inspection(
    request: Request, call: Call[None, None], compound_id: int, inspection_id: int
) -> InspectionDetailOut:
    return await _detail(await _visible(call.principal, compound_id, inspection_id))


@endpoint(
    inspections_bp,
    "PUT",
    "/<inspection_id:int>/scores",
    summary="给评分项打分（附说明与照片）；仅草稿，仅考核人",
    access=INSPECTORS,
    body=ScoresIn,
    response=InspectionDetailOut,
    raises=(InspectionNotFound, NotInspector, InspectionStateConflict, ScoresInvalid),
)
async def put_scores(
    request: Request, call: Call[ScoresIn, None], compound_id: int, inspection_id: int
) -> InspectionDetailOut:
    p = call.principal
    row = await inspections.set_scores(
        p.actor,
        user_id=p.user.id,
        compound_id=compound_id,
        inspection_id=inspection_id,
        items=_items(call.body.items),
    )
    return await _detail(row)


@endpoint(
    inspections_bp,
    "POST",
    "/<inspection_id:int>/submit",
    summary="提交考核结果：计算得分与星级，企业可在异议期内提出一次异议",
    access=INSPECTORS,
    response=InspectionDetailOut,
    raises=(InspectionNotFound, NotInspector, InspectionStateConflict, ScoresInvalid),
)
async def submit(
    request: Request, call: Call[None, None], compound_id: int, inspection_id: int
) -> InspectionDetailOut:
    p = call.principal
    row = await inspections.submit(
        p.actor,
        user_id=p.user.id,
        compound_id=compound_id,
        inspection_id=inspection_id,
        objection_days=request.app.ctx.settings.rating_objection_days,
    )
    return await _detail(row)


@endpoint(
    inspections_bp,
    "POST",
    "/<inspection_id:int>/objection",
    summary="被考核企业对考核结果提出异议（一次，须在异议期内，写明理由）",
    access=COMPANY_STAFF,
    body=ObjectionIn,
    response=InspectionDetailOut,
    status=201,
    raises=(
        InspectionNotFound,
        NotInspectedCompany,
        InspectionStateConflict,
        ObjectionTaken,
        ObjectionWindowClosed,
        ObjectionInvalid,
    ),
)
async def object_to(
    request: Request, call: Call[ObjectionIn, None], compound_id: int, inspection_id: int
) -> InspectionDetailOut:
    p = call.principal
    row = await _visible(p, compound_id, inspection_id)
    await inspections.object_to(
        p.actor,
        user_id=p.user.id,
        company_ids=await _staff_companies(p),
        compound_id=compound_id,
        inspection_id=row.id,
        reasons=call.body.reasons,
        item_codes=call.body.item_codes,
    )
    return await _detail(await inspections.load(compound_id, inspection_id))


@endpoint(
    inspections_bp,
    "POST",
    "/<inspection_id:int>/decision",
    summary="考核人对异议作出决定（采纳可修改所涉评分项），考核随即完成、不可再改",
    access=INSPECTORS,
    body=DecisionIn,
    response=InspectionDetailOut,
    raises=(InspectionNotFound, NotInspector, InspectionStateConflict, ObjectionInvalid, ScoresInvalid),
)
async def decide(
    request: Request, call: Call[DecisionIn, None], compound_id: int, inspection_id: int
) -> InspectionDetailOut:
    p = call.principal
    b = call.body
    row = await inspections.decide(
        p.actor,
        user_id=p.user.id,
        compound_id=compound_id,
        inspection_id=inspection_id,
        upheld=b.upheld,
        note=b.note,
        revised=_items(b.revised),
    )
    return await _detail(row)
