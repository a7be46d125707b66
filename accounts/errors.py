"""Errors of the accounts domain (login, verification, roles, registry)."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unauthenticated


class SessionInvalid(Unauthenticated):
    code = "session_invalid"
    message = "登录已过期，请重新登录"


class RoleMissing(Forbidden):
    code = "role_missing"
    message = "您没有执行此操作的权限"


class UnitNotFound(NotFound):
    code = "unit_not_found"
    message = "未找到该房屋"


class CompoundNotFound(NotFound):
    code = "compound_not_found"
    message = "未找到该小区"


class CommunityNotFound(NotFound):
    code = "community_not_found"
    message = "未找到该社区"


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "未找到该用户"


class ClaimMismatch(Invalid):
    """Any mismatch (name, ID number, certificate, or no certificate on record): one answer for all,
    so that a refusal never confirms that a name and ID number own the unit."""

    code = "claim_mismatch"
    message = "姓名、证件号码或不动产权证号与该房屋的登记信息不符，如登记信息有误请联系业主委员会"


class ClaimMalformedId(Invalid):
    code = "claim_malformed_id"
    message = "证件号码格式不正确"


class ClaimTooManyFailures(RateLimited):
    """details: {"limit", "retry_after"}: seconds until local midnight, sent as Retry-After."""

    code = "claim_too_many_failures"
    message = "今日认证失败次数过多，请明天再试或联系业主委员会"


class ClaimTakenByOther(Conflict):
    code = "claim_taken_by_other"
    message = "该业主已由其他微信账号完成认证，如有疑问请联系业主委员会"


class NotUnitOwner(Forbidden):
    code = "not_unit_owner"
    message = "只有该房屋已认证的业主可以执行此操作"


class InvitationInvalid(Invalid):
    code = "invitation_invalid"
    message = "邀请码无效或已过期"


class AlreadyResident(Conflict):
    code = "already_resident"
    message = "您已是该房屋的住户"


class DuplicateName(Conflict):
    code = "duplicate_name"
    message = "名称已存在"


class GrantNotAllowed(Forbidden):
    code = "grant_not_allowed"
    message = "您不能授予该角色"


class RosterInvalid(Invalid):
    """A roster file was refused as a whole. ``details`` is {"problems": [{row, field, code, message}],
    "total": n}: at most 200 problems, ``total`` counts all of them. Row 1 is the first data row."""

    code = "roster_invalid"
    message = "花名册有误，未导入任何数据，请按提示修改后重新上传"


class RosterConflict(Conflict):
    code = "roster_conflict"
    message = "花名册导入与其他操作同时进行发生冲突，未导入任何数据，请稍后重试"


class BuildingNotFound(NotFound):
    code = "building_not_found"
    message = "未找到该楼栋"


class CursorInvalid(Invalid):
    code = "cursor_invalid"
    message = "分页参数无效，请从第一页重新加载"


class SearchQueryEmpty(Invalid):
    code = "search_query_empty"
    message = "请输入要搜索的小区名称"


class ClaimUnitUnclear(Invalid):
    """A claim must name its unit in exactly one way: ``unit_id``, or compound + building + room.
    ``details`` is {"given": [the fields that were given]}. Compares nothing, so costs no attempt."""

    code = "claim_unit_unclear"
    message = "请用一种方式指明房屋：房屋编号 unit_id，或小区 compound_id + 楼栋（building 名称或 building_id）+ 房号 room"


class ClaimMalformedCreditCode(Invalid):
    code = "claim_malformed_credit_code"
    message = "统一社会信用代码格式不正确（18位，校验位须正确）"


class AuthorisationLetterMissing(Invalid):
    code = "authorisation_letter_missing"
    message = "请上传加盖单位公章的授权委托书照片"


class OrganisationClaimPending(Conflict):
    code = "organisation_claim_pending"
    message = "该单位的认证申请正在等待业主委员会审核"


class OrganisationClaimNotFound(NotFound):
    code = "organisation_claim_not_found"
    message = "未找到待审核的单位认证申请"


class ClaimantRepresentsOrganisation(Conflict):
    """The other direction of RepresentativeHoldsOwnerRecord: an account bound to an organisation
    owner of the compound votes as that organisation; the person claims from another account."""

    code = "claimant_represents_organisation"
    message = "该微信账号已代表本小区的单位业主，不能同时认证为个人业主，请使用另一个微信账号认证"


class RepresentativeHoldsOwnerRecord(Conflict):
    """A WeChat account votes as one owner per compound: a representative who is also an owner in the
    compound must represent the organisation from another account."""

    code = "representative_holds_owner_record"
    message = "该微信账号已是本小区的业主，不能同时代表单位业主投票，请单位代表使用另一个微信账号申请"
