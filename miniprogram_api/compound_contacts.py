"""The contacts of a compound's 公示栏, each section set by the role responsible for it (audited):
property company staff (project manager, complaint and service phones), the committee (its contact),
the community admin (the community's contact and the compound's grid worker). The public reads them
on GET /compounds/<id>/profile. A community admin finds whom they may name as grid worker on
GET /admin/communities/<id>/grid-workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import contacts, grid_workers
from accounts.roles import Role
from miniprogram_api.auth import Allow, Principal
from miniprogram_api.bounds import Id
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery

bp = Blueprint("compound_contacts", url_prefix="/admin/compounds/<compound_id:int>/contacts")
grid_workers_bp = Blueprint("grid_workers", url_prefix="/admin/communities/<community_id:int>/grid-workers")

PHONE_TEXT = "11 位手机号，或带区号的固定电话（如 0838-2212345，分机写作 0838-2212345-801）"
SERVICE_PHONE_TEXT = (
    "11 位手机号、带区号的固定电话（如 0838-2212345，分机写作 0838-2212345-801）、400/800 电话"
    "（保存为 400-123-4567，分机写作 400-123-4567-2）或服务热线（12345 等 123xx、95xxx、95xxxxxx、96xxx）；"
    "否则 400 service_phone_invalid"
)
BOARD_TEXT = (
    "公示栏上的联系方式（项目经理、投诉电话、服务电话、业主委员会、社区、网格员）是各方为公示而登记的工作电话，"
    "完整显示，任何人可见；住户、业主本人的手机号（账号或业主名册中的号码）从不在此显示。"
    "每项联系方式只在其所属方仍然有效时显示：物业服务企业的只在其服务合同期内，业主委员会的只在其任期内，"
    "网格员只在其仍担任本社区网格员时。"
)

PROPERTY_STAFF = Allow(Role.PROPERTY_STAFF, over="compound")
COMMITTEE = Allow(Role.COMMITTEE, over="compound")
COMMUNITY_ADMIN = Allow(Role.COMMUNITY_ADMIN, over="compound")
GRID_WORKER_READERS = Allow(Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="community")

_NAME = Field(
    min_length=1, max_length=contacts.NAME_MAX, description="姓名，最多 20 个字（汉字、字母、“·”、括号）"
)
_PHONE = Field(min_length=1, max_length=contacts.PHONE_MAX, description=PHONE_TEXT)


class PersonIn(BaseModel):
    name: str = _NAME
    phone: str = _PHONE


class GridWorkerIn(PersonIn):
    user_id: Id = Field(description="网格员的用户编号（须已被授予本社区网格员角色）")


class PropertyContactsIn(BaseModel):
    project_manager: PersonIn | None = Field(description="项目经理；null 表示撤下")
    complaint_phone: str | None = Field(
        min_length=1,
        max_length=contacts.PHONE_MAX,
        description="投诉电话；null 表示撤下。" + SERVICE_PHONE_TEXT,
    )
    service_phone: str | None = Field(
        min_length=1,
        max_length=contacts.PHONE_MAX,
        description="服务（报修）电话；null 表示撤下。" + SERVICE_PHONE_TEXT,
    )


class CommitteeContactIn(BaseModel):
    contact: PersonIn | None = Field(description="业主委员会联系人；null 表示撤下")


class CommunityContactsIn(BaseModel):
    contact: PersonIn | None = Field(description="社区联系人；null 表示撤下")
    grid_worker: GridWorkerIn | None = Field(description="本小区的网格员；null 表示撤下")


class ContactOut(BaseModel):
    """A contact posted for the board: a person's name and the work phone they give for it."""

    name: str = Field(max_length=contacts.NAME_MAX, description="姓名")
    phone: str = Field(max_length=contacts.PHONE_MAX, description=PHONE_TEXT)
    updated_at: datetime = Field(description="最后修改时间")


class PhoneLineOut(BaseModel):
    phone: str = Field(max_length=contacts.PHONE_MAX, description=SERVICE_PHONE_TEXT)
    updated_at: datetime = Field(description="最后修改时间")


class BoardOut(BaseModel):
    """The contacts as the compound's profile shows them after the change."""

    project_manager: ContactOut | None
    complaint_phone: PhoneLineOut | None
    service_phone: PhoneLineOut | None
    committee: ContactOut | None
    community: ContactOut | None
    grid_worker: ContactOut | None


def _p(call: Call[Any, Any]) -> Principal:
    assert isinstance(call.principal, Principal)
    return call.principal


def _person(value: PersonIn | None) -> contacts.Person | None:
    return None if value is None else contacts.Person(value.name, value.phone)


async def _board(compound_id: int) -> BoardOut:
    return BoardOut.model_validate(await contacts.current_board(compound_id), from_attributes=True)


_SECTION = "整体替换该部分：字段为 null 即从公示栏撤下。记入本小区审计日志（修改前后）。"


@endpoint(
    bp, "PUT", "/property", summary="填报项目经理、投诉电话、服务电话（物业服务企业）", access=PROPERTY_STAFF,
    body=PropertyContactsIn, response=BoardOut,
    description="限当前在本小区服务合同期内的物业服务企业人员；所填内容随该企业的服务合同显示。" + _SECTION + BOARD_TEXT,
)  # fmt: skip
async def put_property(request: Request, call: Call[PropertyContactsIn, None], compound_id: int) -> BoardOut:
    assert call.body is not None
    body, principal = call.body, _p(call)
    await contacts.set_property_contacts(
        principal.actor, principal.user.id, compound_id, project_manager=_person(body.project_manager),
        complaint_phone=body.complaint_phone, service_phone=body.service_phone,
    )  # fmt: skip
    return await _board(compound_id)


@endpoint(
    bp, "PUT", "/committee", summary="填报业主委员会联系人（业主委员会）", access=COMMITTEE,
    body=CommitteeContactIn, response=BoardOut,
    description="限本小区当前任期的业主委员会委员；所填内容随该届业主委员会的任期显示。" + _SECTION + BOARD_TEXT,
)  # fmt: skip
async def put_committee(request: Request, call: Call[CommitteeContactIn, None], compound_id: int) -> BoardOut:
    assert call.body is not None
    principal = _p(call)
    await contacts.set_committee_contact(
        principal.actor, principal.user.id, compound_id, _person(call.body.contact)
    )
    return await _board(compound_id)


@endpoint(
    bp, "PUT", "/community", summary="填报社区联系人、指定本小区网格员（社区）", access=COMMUNITY_ADMIN,
    body=CommunityContactsIn, response=BoardOut,
    description="限本小区所在社区的社区管理员；网格员须已被授予本社区网格员角色（否则 400 "
    "grid_worker_not_of_community）。" + _SECTION + BOARD_TEXT,
)  # fmt: skip
async def put_community(
    request: Request, call: Call[CommunityContactsIn, None], compound_id: int
) -> BoardOut:
    assert call.body is not None
    body, principal = call.body, _p(call)
    worker = body.grid_worker
    await contacts.set_community_contacts(
        principal.actor, principal.user.id, compound_id, contact=_person(body.contact),
        grid_worker=contacts.GridWorker(worker.user_id, worker.name, worker.phone) if worker else None,
    )  # fmt: skip
    return await _board(compound_id)


class GridWorkerOut(BaseModel):
    """A grid worker of the community: whom a community admin may name on a compound's board."""

    user_id: int = Field(description="用户编号（指定本小区网格员时填入 grid_worker.user_id）")
    grant_id: int = Field(description="网格员角色的授予编号（撤销角色时使用）")
    nickname: str = Field(max_length=50, description="本人设置的昵称；未设置为空字符串")
    display_name: str = Field(
        max_length=50, description="显示名：昵称，未设置时为打码标签（如“网格员（尾号5678）”）"
    )
    phone: str | None = Field(
        max_length=20,
        description="账号绑定的手机号，打码显示（如 139****5678），仅本人可见完整号码；未绑定为 null",
    )
    granted_at: datetime = Field(description="授予网格员角色的时间")


@endpoint(
    grid_workers_bp, "GET", "", summary="本社区网格员（可指定为小区网格员的人，分页）",
    access=GRID_WORKER_READERS, query=PageQuery, response=Page[GridWorkerOut],
    description="按授予先后排列。手机号为个人号码，打码显示（本人除外）；公示栏上的网格员电话由社区另行填报"
    "（PUT /admin/compounds/{compound_id}/contacts/community）。",
)  # fmt: skip
async def list_grid_workers(
    request: Request, call: Call[None, PageQuery], community_id: int
) -> Page[GridWorkerOut]:
    q = call.query
    found = await grid_workers.grid_workers_of(community_id, _p(call).user.id, cursor=q.cursor, limit=q.limit)
    return Page[GridWorkerOut].of(found, lambda e: GridWorkerOut.model_validate(e, from_attributes=True))
