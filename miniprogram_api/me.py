"""The logged-in person: profile, phone, claiming a unit, household and invitations."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import organisations, service
from accounts.discovery import UnitPlace
from accounts.models import ResidentRelation
from accounts.profile import NICKNAME_MAX, display_name, set_nickname
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.bounds import Id, RequestModel
from miniprogram_api.discovery import PageQuery
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.photos import PhotoOut, photo_out
from wechat import errors as wechat_errors

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
    nickname: str = Field(description="本人设置的昵称；可为空（不要求填写任何个人信息）")
    display_name: str = Field(
        description="他人看到的称呼：昵称，未设置时为打码的称呼（如“用户（尾号5678）”），不显示用户编号"
    )
    phone: str | None = Field(description="本人手机号（仅本人可见）")
    units: list[UnitOut]
    roles: list[RoleOut]


class ProfileIn(RequestModel):
    nickname: str = Field(
        max_length=NICKNAME_MAX,
        description=f"昵称，1–{NICKNAME_MAX} 个字；不能含手机号、证件号等个人信息，须通过内容安全检测；空字符串清除昵称",
    )


class PhoneIn(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="getPhoneNumber 返回的 code")


class PhoneOut(BaseModel):
    phone: str


class ClaimIn(BaseModel):
    """The unit by ``unit_id``, or by ``compound_id`` + building (``building`` name or ``building_id``)
    + ``room``, exactly one way (GET /compounds/{id}/buildings and .../rooms list them)."""

    unit_id: Id | None = Field(default=None, description="房屋编号；与“小区 + 楼栋 + 房号”二选一")
    compound_id: Id | None = Field(default=None, description="小区编号（按小区 + 楼栋 + 房号指明房屋时）")
    building: str | None = Field(default=None, max_length=50, description="楼栋名称，如“1号楼”")
    building_id: Id | None = Field(default=None, description="楼栋编号（与楼栋名称二选一）")
    room: str | None = Field(default=None, max_length=30, description="房号，如“101”")
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


class OrganisationClaimIn(RequestModel):
    """An organisation owner's claim through its authorised representative. The unit is named like a
    person's claim (``unit_id``, or ``compound_id`` + building + ``room``)."""

    unit_id: Id | None = Field(default=None, description="房屋编号；与“小区 + 楼栋 + 房号”二选一")
    compound_id: Id | None = Field(default=None, description="小区编号（按小区 + 楼栋 + 房号指明房屋时）")
    building: str | None = Field(default=None, max_length=50, description="楼栋名称，如“1号楼”")
    building_id: Id | None = Field(default=None, description="楼栋编号（与楼栋名称二选一）")
    room: str | None = Field(default=None, max_length=30, description="房号，如“101”")
    organisation_name: str = Field(min_length=1, max_length=100, description="单位名称，与花名册一致")
    credit_code: str = Field(
        min_length=18,
        max_length=30,
        description="统一社会信用代码（18位，校验位须正确），仅用于比对，不保存、不返回",
    )
    representative_name: str = Field(min_length=1, max_length=50, description="授权代表本人姓名")
    representative_id_number: str = Field(
        min_length=15, max_length=30, description="授权代表本人身份证号，仅保存其不可逆摘要，不返回"
    )
    document_photo_ids: list[Id] = Field(
        min_length=1, max_length=organisations.MAX_DOCUMENTS,
        description="授权委托书照片（先经 POST /photos 上传），供业主委员会审核",
    )  # fmt: skip


class OrganisationClaimOut(BaseModel):
    id: int
    compound_id: int
    unit_id: int
    room: str
    organisation: str
    is_developer: bool
    representative_name: str
    user_id: int
    user_name: str
    user_phone: str | None = Field(description="申请人手机号（已打码）")
    status: str = Field(description="pending 待业委会审核 / approved 已认证 / rejected 已驳回")
    reason: str
    created_at: datetime
    decided_at: datetime | None
    documents: list[PhotoOut] = Field(description="授权委托书（签名链接，一小时内有效）")


class OrganisationClaimPageOut(BaseModel):
    items: list[OrganisationClaimOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


def organisation_claim_out(
    request: Request, view: organisations.ClaimView, viewer_id: int
) -> OrganisationClaimOut:
    data = {k: getattr(view, k) for k in OrganisationClaimOut.model_fields if k != "documents"}
    return OrganisationClaimOut(**data, documents=[photo_out(request, p, viewer_id) for p in view.documents])


class OkOut(BaseModel):
    ok: bool = True


async def _profile(principal: Principal) -> ProfileOut:
    data = asdict(await service.profile(principal.user))
    return ProfileOut.model_validate({**data, "display_name": display_name(principal.user)})


@endpoint(bp, "GET", "", summary="我的资料、房屋与角色", access=AUTHENTICATED, response=ProfileOut)
async def me(request: Request, call: Call[None, None]) -> ProfileOut:
    return await _profile(call.principal)


@endpoint(
    bp,
    "PUT",
    "/profile",
    summary="设置昵称",
    description="住户、投诉和处理记录中以昵称显示；未设置时显示打码的称呼（手机尾号或随机标记），从不显示用户编号。",
    access=AUTHENTICATED,
    body=ProfileIn,
    response=ProfileOut,
)
async def set_profile(request: Request, call: Call[ProfileIn, None]) -> ProfileOut:
    assert call.body is not None
    await set_nickname(request.app.ctx.wechat, call.principal.user, call.body.nickname)
    return await _profile(call.principal)


@endpoint(
    bp,
    "POST",
    "/phone",
    summary="绑定手机号（getPhoneNumber 的 code）",
    access=AUTHENTICATED,
    body=PhoneIn,
    response=PhoneOut,
    # the WeChat client is reached through app.ctx (a protocol), which error_docs cannot follow
    raises=(
        wechat_errors.WeChatCodeInvalid,
        wechat_errors.WeChatRateLimited,
        wechat_errors.WeChatBusy,
        wechat_errors.WeChatUnreachable,
        wechat_errors.WeChatError,
    ),
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
        place=UnitPlace(call.body.compound_id, call.body.building_id, call.body.building, call.body.room),
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
    bp, "POST", "/claims/organisation", summary="单位业主认证（授权代表 + 统一社会信用代码 + 授权委托书）",
    description="单位名称与统一社会信用代码须与该房屋的花名册登记一致（与个人认证共用每天 5 次的失败限制）；"
    "比对一致后提交业主委员会审核授权委托书，批准后该账号代表单位投票（一个单位在本小区为一名业主，"
    "面积为其全部房屋面积之和）。信用代码与身份证号只用于比对，不保存明文、不返回。",
    access=AUTHENTICATED, body=OrganisationClaimIn, response=OrganisationClaimOut, status=201,
)  # fmt: skip
async def claim_organisation(request: Request, call: Call[OrganisationClaimIn, None]) -> OrganisationClaimOut:
    assert call.body is not None
    b, principal = call.body, call.principal
    created = await organisations.claim(
        request.app.ctx.cache, principal.user, unit_id=b.unit_id,
        place=UnitPlace(b.compound_id, b.building_id, b.building, b.room),
        organisation_name=b.organisation_name, credit_code=b.credit_code,
        representative_name=b.representative_name, representative_id_number=b.representative_id_number,
        document_photo_ids=b.document_photo_ids, hmac_key=request.app.ctx.hmac_key,
        request_id=principal.request_id,
    )  # fmt: skip
    view = await organisations.claim_view(created.id)
    return organisation_claim_out(request, view, principal.user.id)


@endpoint(
    bp, "GET", "/organisation-claims", summary="我提交的单位业主认证申请（分页）",
    access=AUTHENTICATED, query=PageQuery, response=OrganisationClaimPageOut,
)  # fmt: skip
async def my_organisation_claims(request: Request, call: Call[None, PageQuery]) -> OrganisationClaimPageOut:
    user_id = call.principal.user.id
    page = await organisations.claims_of_user(user_id, cursor=call.query.cursor, limit=call.query.limit)
    return OrganisationClaimPageOut(
        items=[organisation_claim_out(request, v, user_id) for v in page.items], next_cursor=page.next_cursor
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
