"""Complaints in the mini-program: categories, filing, my complaints, detail with history and the
caller's allowed actions, rating, reopening, "me too", and the similar open complaints shown before
filing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from complaints import service
from complaints.filing import SIMILAR_LIMIT
from complaints.guards import ACTIONS
from complaints.models import PlaceKind
from complaints.rules import REOPEN_DAYS, Action
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.bounds import Id
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from miniprogram_api.pagination import PageQuery
from miniprogram_api.photos import checker_url, photo_link

bp = Blueprint("complaints", url_prefix="/complaints")
MAX_CATEGORIES = 100  # the responsibility table (complaints.catalog) is fixed by the plan: 17 today
# The stable names of complaints.guards.ACTIONS, as an enum in the OpenAPI document
ActionName = Literal[ACTIONS]  # type: ignore[valid-type]


class CategoryOut(BaseModel):
    code: str
    name: str
    party: str = Field(description="property 物业服务企业 / department 职能部门")
    department: str | None
    resolve_hours: int


class CategoriesOut(BaseModel):
    items: list[CategoryOut] = Field(max_length=MAX_CATEGORIES, description="全部类别（由目录固定，不分页）")


class FileIn(BaseModel):
    compound_id: Id
    category: str = Field(max_length=30)
    text: str = Field(min_length=5, max_length=1000)
    place_kind: PlaceKind
    building_id: Id | None = None
    unit_id: Id | None = None
    place_note: str = Field(default="", max_length=100, description="公共区域的具体位置，如“东门车棚”")
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)
    anonymous: bool = Field(default=True, description="对其他住户隐藏投诉人（默认隐藏）")
    for_user_id: Id | None = Field(default=None, description="网格员代住户提交时，住户的用户编号")


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
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class PhotoRef(BaseModel):
    id: int
    thumbnail_url: str
    display_url: str


class EventOut(BaseModel):
    seq: int
    action: str
    from_status: str
    to_status: str
    by: str = Field(description="角色")
    by_name: str | None = Field(
        description="处理人的昵称（未设置昵称时为打码的称呼，不显示用户编号）；匿名投诉对其他住户不显示投诉人一方"
    )
    note: str
    photo_ids: list[int]
    data: dict[str, Any]
    at: datetime


class FilerOut(BaseModel):
    user_id: int
    nickname: str = Field(description="本人设置的昵称，可能为空")
    name: str = Field(description="显示名：昵称，未设置时为打码的称呼（如“投诉人（尾号5678）”）")
    phone: str | None = Field(description="脱敏手机号")


class DetailOut(ComplaintOut):
    place: str
    mine: bool
    allowed_actions: list[ActionName] = Field(
        description="当前用户现在可执行的操作（用于显示按钮），与各操作的校验同源："
        "accept 受理、dispatch 派单、start 开始处理、resolve 处理完毕、reject 不予受理、escalate 提请社区协调、"
        "moderate 人工审核、rate 评价、reopen 重新打开、support 我也遇到"
    )
    reopen_days: int = Field(description=f"办结后可重新打开的天数（{REOPEN_DAYS} 天，评价后也可）")
    reopen_until: datetime | None = Field(description="可重新打开的截止时间（已办结待确认或已评价时）")
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
    allowed_actions: list[ActionName] = Field(description="当前用户可执行的操作（如 support 我也遇到）")


class SimilarListOut(BaseModel):
    items: list[SimilarOut] = Field(max_length=SIMILAR_LIMIT, description=f"最新的至多 {SIMILAR_LIMIT} 条")


class SimilarQuery(BaseModel):
    building_id: Id
    category: str = Field(max_length=30)


class RateIn(BaseModel):
    rating: int = Field(ge=1, le=5)
    note: str = Field(default="", max_length=500)


class ReopenIn(BaseModel):
    note: str = Field(min_length=2, max_length=500)
    photo_ids: list[Id] = Field(default_factory=list, max_length=9)


def _who(call: Call) -> Principal:  # type: ignore[type-arg]
    return call.principal  # type: ignore[no-any-return]


def photo_check(request: Request, who: Principal) -> service.PhotoCheck:
    """WeChat's media check of the photos ``who`` attaches, fetched from our public address."""
    return service.PhotoCheck(
        request.app.ctx.wechat, who.user.openid, lambda photo: checker_url(request, photo.id)
    )


def refs(request: Request, photo_ids: list[int], viewer_id: int) -> list[PhotoRef]:
    return [
        PhotoRef(
            id=i,
            thumbnail_url=photo_link(request, i, "thumbnail", viewer_id),
            display_url=photo_link(request, i, "display", viewer_id),
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
    bp, "GET", "/mine", summary="我的投诉（含我附议的；新的在前，分页）", access=AUTHENTICATED,
    query=PageQuery, response=ComplaintListOut,
)  # fmt: skip
async def my_complaints(request: Request, call: Call[None, PageQuery]) -> ComplaintListOut:
    page = await service.mine(user_id=_who(call).user.id, cursor=call.query.cursor, limit=call.query.limit)
    return ComplaintListOut(items=[ComplaintOut(**r) for r in page.items], next_cursor=page.next_cursor)


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
    "/<complaint_id:int>/rate",
    summary="评价处理结果（1–5 星）",
    description=f"办结后由投诉人评价；评价不关闭投诉：办结后 {REOPEN_DAYS} 天内仍可重新打开，"
    "评价保留在处理记录中。期限届满后自动办结。",
    access=AUTHENTICATED,
    body=RateIn,
    response=DetailOut,
)
async def rate(request: Request, call: Call[RateIn, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    step = service.Step(Action.RATE, note=call.body.note, rating=call.body.rating)
    await service.act(complaint_id, step, user_id=who.user.id, actor=who.actor)
    return await detail_out(request, complaint_id, who.user.id)


@endpoint(
    bp,
    "POST",
    "/<complaint_id:int>/reopen",
    summary=f"对处理结果不满意，重新打开（办结后 {REOPEN_DAYS} 天内，评价过也可）",
    access=AUTHENTICATED,
    body=ReopenIn,
    response=DetailOut,
)
async def reopen(request: Request, call: Call[ReopenIn, None], complaint_id: int) -> DetailOut:
    who = _who(call)
    step = service.Step(Action.REOPEN, note=call.body.note, photo_ids=call.body.photo_ids)
    await service.act(
        complaint_id, step, user_id=who.user.id, actor=who.actor, photo_check=photo_check(request, who)
    )
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
