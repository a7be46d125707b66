"""Discovery: how a new resident finds their unit and their compound's public contacts.

Who may call: the compounds, buildings and profile routes are public (what the 公示栏 and the
community's own lists show anyone, like GET /communities); a building's rooms need a login, since only
a claim needs them and it ties a walk over the county's door plates to a WeChat account. No route here
says anything about owners: a room is its unit id and its number.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import discovery
from accounts.models import FilingStatus
from complaints import service as complaints
from complaints.catalog import DEPARTMENTS
from miniprogram_api import compound_contacts as contacts_api
from miniprogram_api.auth import AUTHENTICATED
from miniprogram_api.bounds import Id
from miniprogram_api.complaints import CategoryOut
from miniprogram_api.compound_contacts import ContactOut, PhoneLineOut
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from notices.ledger import BALANCES, SECTIONS
from notices.models import DisclosureKind
from notices.rules import CATEGORIES as NOTICE_CATEGORIES
from notices.rules import Category as NoticeCategory

bp = Blueprint("discovery", url_prefix="")

_CURSOR = Field(default=None, max_length=20, description="上一页返回的 next_cursor；缺省为第一页")
_LIMIT = Field(default=20, ge=1, le=discovery.MAX_LIMIT, description=f"每页条数，最多 {discovery.MAX_LIMIT}")
_NEXT = Field(description="下一页的游标；为空表示没有更多")


class PageQuery(BaseModel):
    cursor: str | None = _CURSOR
    limit: int = _LIMIT


class CommunityCompoundsQuery(PageQuery):
    q: str | None = Field(
        default=None, min_length=1, max_length=discovery.MAX_QUERY, description="小区名称关键字"
    )


class SearchQuery(PageQuery):
    q: str = Field(min_length=1, max_length=discovery.MAX_QUERY, description="小区名称关键字（包含即匹配）")
    community_id: Id | None = Field(default=None, description="只在该社区内搜索")


class CompoundItemOut(BaseModel):
    id: int
    name: str
    community_id: int
    community: str
    address: str
    standalone: bool = Field(description="独栋楼院")


class CompoundPageOut(BaseModel):
    items: list[CompoundItemOut]
    next_cursor: str | None = _NEXT


class BuildingOut(BaseModel):
    id: int
    name: str


class BuildingPageOut(BaseModel):
    items: list[BuildingOut]
    next_cursor: str | None = _NEXT


class RoomOut(BaseModel):
    unit_id: int = Field(description="房屋编号（认证业主时可直接使用）")
    number: str = Field(description="房号")


class RoomPageOut(BaseModel):
    items: list[RoomOut]
    next_cursor: str | None = _NEXT


class CompanyOut(BaseModel):
    name: str
    contact_phone: str | None = Field(description="物业服务企业登记的对外联系电话")
    project_manager: ContactOut | None = Field(description="本项目的项目经理（物业服务企业填报）；未填报为空")
    complaint_phone: PhoneLineOut | None = Field(
        description="本项目的投诉电话（物业服务企业填报）；未填报为空"
    )
    service_phone: PhoneLineOut | None = Field(
        description="本项目的服务（报修）电话（物业服务企业填报）；未填报为空"
    )


class CommitteeOut(BaseModel):
    term_starts_on: date
    term_ends_on: date
    filing_status: FilingStatus = Field(description="pending 待备案 / filed 已备案 / rejected 不予备案")
    contact: ContactOut | None = Field(description="业主委员会联系人（业主委员会填报）；未填报为空")


class CompoundProfileOut(BaseModel):
    id: int
    name: str
    address: str
    standalone: bool
    community_id: int
    community: str
    property_company: CompanyOut | None = Field(description="当前在服务合同期内的物业服务企业；无则为空")
    committee: CommitteeOut | None = Field(description="当前任期内的业主委员会；无则为空")
    community_contact: ContactOut | None = Field(description="社区联系人（社区填报）；未填报为空")
    grid_worker: ContactOut | None = Field(
        description="本小区的网格员（社区从本社区网格员中指定）；未指定或已不再担任网格员为空"
    )
    complaint_categories: list[CategoryOut] = Field(description="投诉类别及责任单位")


@endpoint(
    bp,
    "GET",
    "/communities/<community_id:int>/compounds",
    summary="社区内的小区（可按名称筛选，分页）",
    access=PUBLIC,
    query=CommunityCompoundsQuery,
    response=CompoundPageOut,
)
async def community_compounds(
    request: Request, call: Call[None, CommunityCompoundsQuery], community_id: int
) -> CompoundPageOut:
    q = call.query
    page = await discovery.compounds(community_id=community_id, q=q.q, cursor=q.cursor, limit=q.limit)
    return CompoundPageOut.model_validate(page, from_attributes=True)


@endpoint(
    bp,
    "GET",
    "/compounds",
    summary="按名称搜索小区（分页）",
    access=PUBLIC,
    query=SearchQuery,
    response=CompoundPageOut,
)
async def search_compounds(request: Request, call: Call[None, SearchQuery]) -> CompoundPageOut:
    q = call.query
    page = await discovery.compounds(community_id=q.community_id, q=q.q, cursor=q.cursor, limit=q.limit)
    return CompoundPageOut.model_validate(page, from_attributes=True)


@endpoint(
    bp,
    "GET",
    "/compounds/<compound_id:int>/buildings",
    summary="小区的楼栋（分页）",
    access=PUBLIC,
    query=PageQuery,
    response=BuildingPageOut,
)
async def compound_buildings(
    request: Request, call: Call[None, PageQuery], compound_id: int
) -> BuildingPageOut:
    page = await discovery.buildings(compound_id, cursor=call.query.cursor, limit=call.query.limit)
    return BuildingPageOut.model_validate(page, from_attributes=True)


@endpoint(
    bp,
    "GET",
    "/compounds/<compound_id:int>/buildings/<building_id:int>/rooms",
    summary="楼栋的房号（分页；只有房屋编号与房号，不含业主信息）",
    description="用于认证业主时选择房屋：可用返回的 unit_id，或用小区 + 楼栋 + 房号提交 POST /me/claims。",
    access=AUTHENTICATED,
    query=PageQuery,
    response=RoomPageOut,
)
async def building_rooms(
    request: Request, call: Call[None, PageQuery], compound_id: int, building_id: int
) -> RoomPageOut:
    page = await discovery.rooms(compound_id, building_id, cursor=call.query.cursor, limit=call.query.limit)
    return RoomPageOut.model_validate(page, from_attributes=True)


@endpoint(
    bp,
    "GET",
    "/compounds/<compound_id:int>/profile",
    summary="小区公示信息：所属社区、物业服务企业、项目经理与投诉电话、业主委员会、社区与网格员联系人、投诉类别",
    description=contacts_api.BOARD_TEXT,
    access=PUBLIC,
    response=CompoundProfileOut,
)
async def compound_profile(request: Request, call: Call[None, None], compound_id: int) -> CompoundProfileOut:
    found = await discovery.profile(compound_id)
    categories = [CategoryOut(**c) for c in await complaints.categories()]
    return CompoundProfileOut(**asdict(found), complaint_categories=categories)


# --- The county's fixed lists: departments, notice categories, disclosure sections ----------------


class DepartmentOut(BaseModel):
    name: str = Field(description="部门名称（“社区吹哨，部门报到”的承办部门）")
    complaint_categories: list[str] = Field(max_length=100, description="由该部门承办的投诉类别（code）")


class DepartmentsOut(BaseModel):
    items: list[DepartmentOut] = Field(
        max_length=len(DEPARTMENTS), description="全部部门（由责任清单固定，不分页）"
    )


@endpoint(bp, "GET", "/departments", summary="承办投诉的部门及其负责的投诉类别", access=PUBLIC,
          response=DepartmentsOut)  # fmt: skip
async def departments(request: Request, call: Call[None, None]) -> DepartmentsOut:
    categories = await complaints.categories()
    return DepartmentsOut(
        items=[
            DepartmentOut(
                name=name, complaint_categories=[c["code"] for c in categories if c["department"] == name]
            )
            for name in DEPARTMENTS
        ]
    )


class NoticeCategoryOut(BaseModel):
    code: NoticeCategory
    label: str
    structured: bool = Field(description="由结构化公示文件生成（物业服务企业定期公示、业主委员会年度公示）")
    system_only: bool = Field(description="只由系统发布（表决事项及结果）")


class NoticeCategoriesOut(BaseModel):
    items: list[NoticeCategoryOut] = Field(
        max_length=len(NoticeCategory), description="全部公告类别（不分页）"
    )


@endpoint(bp, "GET", "/notice-categories", summary="公告栏的公告类别（公示栏各项、业委会决定、通知公告等）",
          access=PUBLIC, response=NoticeCategoriesOut)  # fmt: skip
async def notice_categories(request: Request, call: Call[None, None]) -> NoticeCategoriesOut:
    return NoticeCategoriesOut(
        items=[
            NoticeCategoryOut(
                code=code, label=rule.label, structured=rule.structured, system_only=not rule.posters
            )
            for code, rule in NOTICE_CATEGORIES.items()
        ]
    )


class SectionOut(BaseModel):
    code: str
    label: str


class DisclosureKindOut(BaseModel):
    kind: DisclosureKind
    sections: list[SectionOut] = Field(max_length=50, description="公示文件的各部分（金额以分为单位）")
    balances: list[SectionOut] = Field(max_length=50, description="由两部分相减得出的结余")


class DisclosureSectionsOut(BaseModel):
    items: list[DisclosureKindOut] = Field(
        max_length=len(DisclosureKind), description="全部公示种类（不分页）"
    )


@endpoint(bp, "GET", "/disclosure-sections", summary="结构化公示（物业定期公示、业委会年度公示）的组成部分",
          access=PUBLIC, response=DisclosureSectionsOut)  # fmt: skip
async def disclosure_sections(request: Request, call: Call[None, None]) -> DisclosureSectionsOut:
    return DisclosureSectionsOut(
        items=[
            DisclosureKindOut(
                kind=kind,
                sections=[SectionOut(code=c, label=label) for c, label in SECTIONS[kind].items()],
                balances=[SectionOut(code=c, label=spec[0]) for c, spec in BALANCES.get(kind, {}).items()],
            )
            for kind in DisclosureKind
        ]
    )
