"""Complaints in the mini-program: categories, filing, my complaints, detail with history, confirm and
rate, reopen, "me too", and the similar open complaints shown before filing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from complaints import service
from complaints.models import PlaceKind
from complaints.rules import Action
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from miniprogram_api.photos import checker_url, signed_path

bp = Blueprint("complaints", url_prefix="/complaints")


class CategoryOut(BaseModel):
    code: str
    name: str
    party: str = Field(description="property 物业服务企业 / department 职能部门")
    department: str | None
    resolve_hours: int


class CategoriesOut(BaseModel):
    items: list[CategoryOut]


class FileIn(BaseModel):
    compound_id: int
    category: str = Field(max_length=30)
    text: str = Field(min_length=5, max_length=1000)
    place_kind: PlaceKind
    building_id: int | None = None
    unit_id: int | None = None
    place_note: str = Field(default="", max_length=100, description="公共区域的具体位置，如“东门车棚”")
    photo_ids: list[int] = Field(default_factory=list, max_length=9)
    anonymous: bool = Field(default=True, description="对其他住户隐藏投诉人（默认隐藏）")
    for_user_id: int | None = Field(default=None, description="网格员代住户提交时，住户的用户编号")


class ComplaintOut(BaseModel):
    id: int
    compound_id: int
    category: str
    text: str
    status: str
    moderation: str
    moderation_reason: str
    place_kind: str
    place_note: str
    party: str
    company_id: int | None
    department_id: int | None
    stage_due_at: datetime | None
    overdue: bool
    escalations: int
    supporters: int
    rating: int | None
    created_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    relation: str | None = None


class ComplaintListOut(BaseModel):
    items: list[ComplaintOut]


class PhotoRef(BaseModel):
    id: int
    thumbnail_url: str
    display_url: str


class EventOut(BaseModel):
    seq: int
    action: str
    from_status: str
    to_status: str
    by: str = Field(description="角色，不显示个人身份")
    note: str
    photo_ids: list[int]
    data: dict[str, Any]
    at: datetime


class FilerOut(BaseModel):
    user_id: int
    nickname: str
    phone: str | None = Field(description="脱敏手机号")


class DetailOut(ComplaintOut):
    place: str
    mine: bool
    filer: FilerOut | None = Field(description="投诉人：仅本人和工作人员可见（匿名时对其他住户隐藏）")
    history: list[EventOut]
    photos: list[PhotoRef]


class SimilarOut(BaseModel):
    id: int
    category: str
    text: str
    place: str
    status: str
    supporters: int
    created_at: datetime
    mine: bool
    supported: bool


class SimilarListOut(BaseModel):
    items: list[SimilarOut]


class SimilarQuery(BaseModel):
    building_id: int
    category: str


class ConfirmIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    note: str = Field(default="", max_length=500)


class ReopenIn(BaseModel):
    note: str = Field(min_length=2, max_length=500)
    photo_ids: list[int] = Field(default_factory=list, max_length=9)


def _who(call: Call) -> Principal:  # type: ignore[type-arg]
    return call.principal  # type: ignore[no-any-return]


def refs(request: Request, photo_ids: list[int], viewer_id: int) -> list[PhotoRef]:
    return [
        PhotoRef(
            id=i,
            thumbnail_url=signed_path(request, i, "thumbnail", viewer_id),
            display_url=signed_path(request, i, "display", viewer_id),
        )
        for i in photo_ids
    ]


async def detail_out(request: Request, complaint_id: int, viewer_id: int) -> DetailOut:
    data = await service.detail(complaint_id, user_id=viewer_id)
    return DetailOut(**data, photos=refs(request, data["photo_ids"], viewer_id))


@endpoint(bp, "GET", "/categories", summary="投诉类别及责任单位", access=PUBLIC, response=CategoriesOut)
async def list_categories(request: Request, call: Call[None, None]) -> CategoriesOut:
    return CategoriesOut(items=[CategoryOut(**c) for c in await service.categories()])


@endpoint(
    bp,
    "POST",
    "",
    summary="提交投诉或报事",
    description="文字先经内容安全检测：违规内容直接拒绝并说明原因；需人工审核的投诉先由社区审核再交工作人员。"
    "图片先用 POST /photos 上传，最多 9 张。每人每天最多 10 条。",
    access=AUTHENTICATED,
    body=FileIn,
    response=DetailOut,
    status=201,
)
async def file_complaint(request: Request, call: Call[FileIn, None]) -> DetailOut:
    who = _who(call)
    complaint = await service.file_complaint(
        service.NewComplaint(**call.body.model_dump()),
        user=who.user,
        actor=who.actor,
        wechat=request.app.ctx.wechat,
        cache=request.app.ctx.cache,
        media_url=lambda photo: checker_url(request, photo.id),
    )
    return await detail_out(request, complaint.id, who.user.id)


@endpoint(
    bp, "GET", "/mine", summary="我的投诉（含我附议的）", access=AUTHENTICATED, response=ComplaintListOut
)
async def my_complaints(request: Request, call: Call[None, None]) -> ComplaintListOut:
    rows = await service.mine(user_id=_who(call).user.id)
    return ComplaintListOut(items=[ComplaintOut(**r) for r in rows])


@endpoint(
    bp,
    "GET",
    "/similar",
    summary="同楼栋同类别的未办结投诉（提交前可选择“我也遇到”）",
    access=AUTHENTICATED,
    query=SimilarQuery,
    response=SimilarListOut,
)
async def similar(request: Request, call: Call[None, SimilarQuery]) -> SimilarListOut:
    rows = await service.similar_open(
        user_id=_who(call).user.id, building_id=call.query.building_id, category=call.query.category
    )
    return SimilarListOut(items=[SimilarOut(**r) for r in rows])


@endpoint(
    bp, "GET", "/<complaint_id:int>", summary="投诉详情与处理记录", access=AUTHENTICATED, response=DetailOut
)
async def complaint_detail(request: Request, call: Call[None, None], complaint_id: int) -> DetailOut:
    return await detail_out(request, complaint_id, _who(call).user.id)


@endpoint(
    bp,
    "POST",
    "/<complaint_id:int>/confirm",
    summary="确认办结并评价（1–5 星）",
    access=AUTHENTICATED,
    body=ConfirmIn,
    response=DetailOut,
)
async def confirm(request: Request, call: Call[ConfirmIn, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    step = service.Step(Action.CONFIRM, note=call.body.note, rating=call.body.rating)
    await service.act(complaint_id, step, user_id=who.user.id, actor=who.actor)
    return await detail_out(request, complaint_id, who.user.id)


@endpoint(
    bp,
    "POST",
    "/<complaint_id:int>/reopen",
    summary="对处理结果不满意，重新打开（办结后 7 天内）",
    access=AUTHENTICATED,
    body=ReopenIn,
    response=DetailOut,
)
async def reopen(request: Request, call: Call[ReopenIn, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    step = service.Step(Action.REOPEN, note=call.body.note, photo_ids=call.body.photo_ids)
    await service.act(complaint_id, step, user_id=who.user.id, actor=who.actor)
    return await detail_out(request, complaint_id, who.user.id)


@endpoint(
    bp,
    "POST",
    "/<complaint_id:int>/support",
    summary="我也遇到（附议同一问题，不再重复投诉）",
    access=AUTHENTICATED,
    response=DetailOut,
)
async def support(request: Request, call: Call[None, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    await service.support(complaint_id, user_id=who.user.id, actor=who.actor)
    return await detail_out(request, complaint_id, who.user.id)
