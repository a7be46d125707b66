"""Admin endpoints: registry management for committees, community admins and the supervisor.

Who may call each endpoint is declared on it (``access=``); the permission-matrix test walks them all.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import admin, roster, service
from accounts.models import FilingStatus, ResidentRelation
from accounts.roles import Role
from miniprogram_api.auth import Allow, Principal
from miniprogram_api.bounds import MAX_ID, Id
from miniprogram_api.endpoint import Call, endpoint

bp = Blueprint("admin", url_prefix="/admin")

REGISTRY_KEEPERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, over="compound")
COMPOUND_READERS = Allow(
    Role.COMMITTEE,
    Role.PROPERTY_STAFF,
    Role.COMMUNITY_ADMIN,
    Role.GRID_WORKER,
    Role.SUPERVISOR,
    over="compound",
)
COMMUNITY_ONLY = Allow(Role.COMMUNITY_ADMIN, over="compound")
COMMUNITY_OR_SUPERVISOR = Allow(Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="community")
SUPERVISOR = Allow(Role.SUPERVISOR, over="county")
GRANTORS = Allow(Role.SUPERVISOR, Role.COMMUNITY_ADMIN, over="community")


class CompoundIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(default="", max_length=200)
    standalone: bool = Field(default=False, description="独栋楼院")


class CreatedOut(BaseModel):
    id: int


class CompoundOut(BaseModel):
    id: int
    community_id: int
    name: str
    address: str
    standalone: bool
    buildings: int
    units: int
    total_area: Decimal
    owners: int
    verified_owners: int
    committee_id: int | None
    committee_filing: str | None
    company: str | None


class BuildingIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)


class ImportOut(BaseModel):
    rows: int
    units_created: int
    units_updated: int
    units_unchanged: int
    owners_created: int
    owners_updated: int
    ownerships_created: int
    ownerships_removed: int


class CommitteeIn(BaseModel):
    term_starts_on: date
    term_ends_on: date


class FilingIn(BaseModel):
    status: FilingStatus


class FilingOut(BaseModel):
    committee_id: int
    filing_status: str
    filed_at: datetime | None


class MemberIn(BaseModel):
    owner_id: Id
    position: str = Field(default="委员", max_length=20)


class CompanyIn(BaseModel):
    name: str = Field(min_length=2, max_length=100)
    credit_code: str = Field(
        max_length=18, pattern=r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$", description="统一社会信用代码"
    )
    contact_phone: str = Field(default="", max_length=20)


class ContractIn(BaseModel):
    company_id: Id
    starts_on: date
    ends_on: date
    price_fen_per_m2: int = Field(gt=0, le=100_000, description="每平方米每月价格（分）")


class GrantIn(BaseModel):
    user_id: Id
    role: Role
    scope_id: int = Field(
        default=0, ge=0, le=MAX_ID, description="物业服务企业或部门的编号；社区级角色取路径中的社区"
    )


class InviteIn(BaseModel):
    relation: ResidentRelation


class InviteOut(BaseModel):
    code: str
    expires_at: datetime


class OkOut(BaseModel):
    ok: bool = True


def _principal(call: Call) -> Principal:  # type: ignore[type-arg]
    return call.principal  # type: ignore[no-any-return]


@endpoint(
    bp,
    "POST",
    "/communities/<community_id:int>/compounds",
    summary="新建小区或独栋楼院",
    access=COMMUNITY_OR_SUPERVISOR,
    body=CompoundIn,
    response=CreatedOut,
    status=201,
)
async def create_compound(request: Request, call: Call[CompoundIn, None], community_id: int) -> CreatedOut:
    assert call.body is not None
    body = call.body
    compound = await admin.create_compound(
        _principal(call).actor, community_id, name=body.name, address=body.address, standalone=body.standalone
    )
    return CreatedOut(id=compound.id)


@endpoint(
    bp,
    "GET",
    "/compounds/<compound_id:int>",
    summary="小区概况（楼栋、房屋、面积、业主认证、业委会、物业）",
    access=COMPOUND_READERS,
    response=CompoundOut,
)
async def compound_detail(request: Request, call: Call[None, None], compound_id: int) -> CompoundOut:
    return CompoundOut.model_validate(await admin.compound_summary(compound_id), from_attributes=True)


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/buildings",
    summary="新建楼栋",
    access=REGISTRY_KEEPERS,
    body=BuildingIn,
    response=CreatedOut,
    status=201,
)
async def create_building(request: Request, call: Call[BuildingIn, None], compound_id: int) -> CreatedOut:
    assert call.body is not None
    building = await admin.create_building(_principal(call).actor, compound_id, name=call.body.name)
    return CreatedOut(id=building.id)


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/roster",
    summary="导入业主名册（CSV 或 JSON，全部成功或全部不导入）",
    description="CSV 表头可用中文或英文；任何一行有误则整份拒绝并列出每行错误。证件号码只保存不可逆的密钥哈希。",
    access=REGISTRY_KEEPERS,
    raw_body={
        "text/csv": {"type": "string"},
        "application/json": {"type": "array", "items": {"type": "object"}},
    },
    max_raw_bytes=16 * 1024 * 1024,
    response=ImportOut,
)
async def import_roster(request: Request, call: Call[None, None], compound_id: int) -> ImportOut:
    is_json = (request.content_type or "").startswith("application/json")
    report = await roster.import_roster(
        compound_id,
        request.body,
        "json" if is_json else "csv",
        hmac_key=request.app.ctx.hmac_key,
        actor=_principal(call).actor,
    )
    return ImportOut.model_validate(report, from_attributes=True)


@endpoint(
    bp,
    "GET",
    "/compounds/<compound_id:int>/roster.csv",
    summary="导出业主名册（CSV，手机号打码，不含证件号码）",
    access=REGISTRY_KEEPERS,
    response={"type": "string"},
    response_type="text/csv",
)
async def export_roster(request: Request, call: Call[None, None], compound_id: int) -> HTTPResponse:
    data = await roster.export_roster_csv(compound_id)
    await admin.record_export(_principal(call).actor, compound_id, len(data))
    return HTTPResponse(
        data,
        content_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="roster-{compound_id}.csv"'},
    )


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/committees",
    summary="登记一届业主委员会（待备案）",
    access=COMMUNITY_ONLY,
    body=CommitteeIn,
    response=CreatedOut,
    status=201,
)
async def create_committee(request: Request, call: Call[CommitteeIn, None], compound_id: int) -> CreatedOut:
    assert call.body is not None
    committee = await admin.create_committee(
        _principal(call).actor,
        compound_id,
        starts_on=call.body.term_starts_on,
        ends_on=call.body.term_ends_on,
    )
    return CreatedOut(id=committee.id)


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/committees/<committee_id:int>/filing",
    summary="业主委员会备案",
    access=COMMUNITY_ONLY,
    body=FilingIn,
    response=FilingOut,
)
async def set_filing(
    request: Request, call: Call[FilingIn, None], compound_id: int, committee_id: int
) -> FilingOut:
    assert call.body is not None
    committee = await admin.set_filing(_principal(call).actor, compound_id, committee_id, call.body.status)
    return FilingOut(
        committee_id=committee.id, filing_status=committee.filing_status.value, filed_at=committee.filed_at
    )


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/committees/<committee_id:int>/members",
    summary="增补业主委员会委员",
    access=COMMUNITY_ONLY,
    body=MemberIn,
    response=CreatedOut,
    status=201,
)
async def add_member(
    request: Request, call: Call[MemberIn, None], compound_id: int, committee_id: int
) -> CreatedOut:
    assert call.body is not None
    member = await admin.add_member(
        _principal(call).actor,
        compound_id,
        committee_id,
        owner_id=call.body.owner_id,
        position=call.body.position,
    )
    return CreatedOut(id=member.id)


@endpoint(
    bp,
    "DELETE",
    "/compounds/<compound_id:int>/committees/<committee_id:int>/members/<owner_id:int>",
    summary="免去业主委员会委员",
    access=COMMUNITY_ONLY,
    response=OkOut,
)
async def remove_member(
    request: Request, call: Call[None, None], compound_id: int, committee_id: int, owner_id: int
) -> OkOut:
    await admin.remove_member(_principal(call).actor, compound_id, committee_id, owner_id)
    return OkOut()


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/contracts",
    summary="登记物业服务合同",
    access=REGISTRY_KEEPERS,
    body=ContractIn,
    response=CreatedOut,
    status=201,
)
async def create_contract(request: Request, call: Call[ContractIn, None], compound_id: int) -> CreatedOut:
    assert call.body is not None
    body = call.body
    contract = await admin.create_contract(
        _principal(call).actor,
        compound_id,
        company_id=body.company_id,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        price_fen_per_m2=body.price_fen_per_m2,
    )
    return CreatedOut(id=contract.id)


@endpoint(
    bp,
    "POST",
    "/compounds/<compound_id:int>/units/<unit_id:int>/invitations",
    summary="业委会为房屋添加住户（生成邀请码）",
    access=Allow(Role.COMMITTEE, over="compound"),
    body=InviteIn,
    response=InviteOut,
    status=201,
)
async def committee_invite(
    request: Request, call: Call[InviteIn, None], compound_id: int, unit_id: int
) -> InviteOut:
    assert call.body is not None
    principal = _principal(call)
    await admin.unit_in_compound(unit_id, compound_id)
    code, expires = await service.invite(
        principal.user, unit_id, call.body.relation, by_committee=True, request_id=principal.request_id
    )
    return InviteOut(code=code, expires_at=expires)


@endpoint(
    bp,
    "POST",
    "/companies",
    summary="登记物业服务企业",
    access=SUPERVISOR,
    body=CompanyIn,
    response=CreatedOut,
    status=201,
)
async def create_company(request: Request, call: Call[CompanyIn, None]) -> CreatedOut:
    assert call.body is not None
    body = call.body
    company = await admin.create_company(
        _principal(call).actor, name=body.name, credit_code=body.credit_code, contact_phone=body.contact_phone
    )
    return CreatedOut(id=company.id)


@endpoint(
    bp,
    "POST",
    "/communities/<community_id:int>/grants",
    summary="授予角色（主管部门：任意；社区管理员：本社区网格员）",
    access=GRANTORS,
    body=GrantIn,
    response=CreatedOut,
    status=201,
)
async def grant(request: Request, call: Call[GrantIn, None], community_id: int) -> CreatedOut:
    assert call.body is not None
    principal = _principal(call)
    body = call.body
    scope_id = community_id if body.role in (Role.COMMUNITY_ADMIN, Role.GRID_WORKER) else body.scope_id
    created = await admin.grant_role(
        principal.actor, principal.user.id, user_id=body.user_id, role=body.role, scope_id=scope_id
    )
    return CreatedOut(id=created.id)


@endpoint(
    bp,
    "DELETE",
    "/communities/<community_id:int>/grants/<grant_id:int>",
    summary="撤销角色",
    access=GRANTORS,
    response=OkOut,
)
async def revoke(request: Request, call: Call[None, None], community_id: int, grant_id: int) -> OkOut:
    principal = _principal(call)
    await admin.revoke_role(principal.actor, principal.user.id, grant_id)
    return OkOut()
