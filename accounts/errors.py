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
    code = "claim_mismatch"
    message = "姓名、证件号码与该房屋登记的业主信息不符"


class ClaimCertificateMismatch(Invalid):
    code = "claim_certificate_mismatch"
    message = "不动产权证号与登记信息不符"


class ClaimMalformedId(Invalid):
    code = "claim_malformed_id"
    message = "证件号码格式不正确"


class ClaimTooManyFailures(RateLimited):
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
