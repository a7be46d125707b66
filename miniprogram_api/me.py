"""The logged-in person: profile, phone, claiming a unit, household and invitations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import service
from accounts.models import ResidentRelation
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.endpoint import Call, endpoint

bp = Blueprint("me", url_prefix="/me")


class UnitOut(BaseModel):
    unit_id: int
    compound_id: int
    compound: str
    building: str
    number: str
    area: Decimal
    relation: str = Field(description="owner 业主 / tenant 租户 / family 家庭成员")
    votes_for_unit: bool


class RoleOut(BaseModel):
    role: str
    scope_type: str
    scope_id: int


class ProfileOut(BaseModel):
    id: int
    nickname: str
    phone: str | None = Field(description="本人手机号（仅本人可见）")
    units: list[UnitOut]
    roles: list[RoleOut]


class PhoneIn(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="getPhoneNumber 返回的 code")


class PhoneOut(BaseModel):
    phone: str


class ClaimIn(BaseModel):
    unit_id: int
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(min_length=15, max_length=30, description="身份证号，仅用于比对，不保存")
    certificate: str = Field(min_length=4, max_length=60, description="不动产权证号，仅用于比对，不保存")


class ClaimOut(BaseModel):
    verified: bool
    owner_id: int
    units: list[UnitOut]


class InviteIn(BaseModel):
    relation: ResidentRelation


class InviteOut(BaseModel):
    code: str = Field(description="一次性邀请码，交给租户或家庭成员")
    expires_at: datetime


class AcceptIn(BaseModel):
    code: str = Field(min_length=6, max_length=20)


class ResidentOut(BaseModel):
    resident_id: int
    unit_id: int
    relation: str


class MemberOut(BaseModel):
    kind: str
    id: int
    name: str
    phone: str | None = Field(description="他人手机号已打码")
    votes_for_unit: bool
    is_me: bool


class HouseholdOut(BaseModel):
    unit_id: int
    members: list[MemberOut]


class OkOut(BaseModel):
    ok: bool = True


async def _profile(principal: Principal) -> ProfileOut:
    profile = await service.profile(principal.user)
    return ProfileOut.model_validate(profile, from_attributes=True)


@endpoint(bp, "GET", "", summary="我的资料、房屋与角色", access=AUTHENTICATED, response=ProfileOut)
async def me(request: Request, call: Call[None, None]) -> ProfileOut:
    return await _profile(call.principal)


@endpoint(
    bp,
    "POST",
    "/phone",
    summary="绑定手机号（getPhoneNumber 的 code）",
    access=AUTHENTICATED,
    body=PhoneIn,
    response=PhoneOut,
)
async def bind_phone(request: Request, call: Call[PhoneIn, None]) -> PhoneOut:
    assert call.body is not None
    phone = await service.bind_phone(request.app.ctx.wechat, call.principal.user, call.body.code)
    return PhoneOut(phone=phone)


@endpoint(
    bp,
    "POST",
    "/claims",
    summary="认证业主身份（姓名 + 身份证号 + 不动产权证号与名册比对）",
    description="比对成功立即认证；每人每天最多失败 5 次。证件号码只用于比对，不保存、不返回。",
    access=AUTHENTICATED,
    body=ClaimIn,
    response=ClaimOut,
)
async def claim(request: Request, call: Call[ClaimIn, None]) -> ClaimOut:
    assert call.body is not None
    principal: Principal = call.principal
    owner = await service.claim_unit(
        request.app.ctx.cache,
        principal.user,
        unit_id=call.body.unit_id,
        name=call.body.name,
        id_number=call.body.id_number,
        certificate=call.body.certificate,
        hmac_key=request.app.ctx.hmac_key,
        request_id=principal.request_id,
    )
    profile = await _profile(principal)
    return ClaimOut(
        verified=True, owner_id=owner.id, units=[u for u in profile.units if u.relation == "owner"]
    )


@endpoint(
    bp,
    "GET",
    "/units/<unit_id:int>/household",
    summary="我的房屋：业主与住户",
    access=AUTHENTICATED,
    response=HouseholdOut,
)
async def household(request: Request, call: Call[None, None], unit_id: int) -> HouseholdOut:
    members = await service.household(call.principal.user, unit_id)
    return HouseholdOut(
        unit_id=unit_id, members=[MemberOut.model_validate(m, from_attributes=True) for m in members]
    )


@endpoint(
    bp,
    "POST",
    "/units/<unit_id:int>/invitations",
    summary="邀请租户或家庭成员（仅已认证业主）",
    access=AUTHENTICATED,
    body=InviteIn,
    response=InviteOut,
    status=201,
)
async def invite(request: Request, call: Call[InviteIn, None], unit_id: int) -> InviteOut:
    assert call.body is not None
    principal: Principal = call.principal
    code, expires = await service.invite(
        principal.user, unit_id, call.body.relation, request_id=principal.request_id
    )
    return InviteOut(code=code, expires_at=expires)


@endpoint(
    bp,
    "POST",
    "/invitations/accept",
    summary="凭邀请码成为住户",
    access=AUTHENTICATED,
    body=AcceptIn,
    response=ResidentOut,
)
async def accept(request: Request, call: Call[AcceptIn, None]) -> ResidentOut:
    assert call.body is not None
    principal: Principal = call.principal
    resident = await service.accept_invitation(principal.user, call.body.code, principal.request_id)
    return ResidentOut(resident_id=resident.id, unit_id=resident.unit_id, relation=resident.relation.value)  # type: ignore[attr-defined]


@endpoint(
    bp,
    "DELETE",
    "/units/<unit_id:int>/residents/<resident_id:int>",
    summary="移除住户（仅已认证业主）",
    access=AUTHENTICATED,
    response=OkOut,
)
async def remove_resident(request: Request, call: Call[None, None], unit_id: int, resident_id: int) -> OkOut:
    principal: Principal = call.principal
    await service.remove_resident(principal.user, unit_id, resident_id, principal.request_id)
    return OkOut()
