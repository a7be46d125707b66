"""Errors of the notices domain (notice board, disclosures, content security).

NotFound
├── NoticeNotFound              notice_not_found
└── AttachmentNotFound          attachment_not_found
Forbidden
├── CategoryNotAllowed          category_not_allowed      this role may not post this category here
├── AudienceRestricted          audience_restricted       an owners-only notice, caller is no owner
└── AckNotAddressed             ack_not_addressed         acknowledging: the caller owns or lives in no unit
Conflict
├── NoticeStateConflict         notice_state_conflict     e.g. editing a withdrawn notice
├── AckNotRequired              ack_not_required          acknowledging a notice that does not ask for it
└── DisclosurePeriodTaken       disclosure_period_taken   a disclosure of this kind already stands for
                                                          (part of) the period: correct it instead
Invalid
├── NoticeInvalid               notice_invalid            schedule, expiry, category/scope mismatch
├── DisclosureInvalid           disclosure_invalid        unknown or missing sections, bad period
├── DisclosureTotalsMismatch    disclosure_totals_mismatch  stated totals differ from the line items
└── AttachmentInvalid           attachment_invalid        not a PDF, too large, too many
"""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound


class NoticeNotFound(NotFound):
    code = "notice_not_found"
    message = "未找到该公告"


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
    message = "未找到该附件"


class CategoryNotAllowed(Forbidden):
    code = "category_not_allowed"
    message = "您不能在此发布该类别的公告"


class AudienceRestricted(Forbidden):
    code = "audience_restricted"
    message = "该公告仅对本小区已认证业主公开"


class NoticeStateConflict(Conflict):
    code = "notice_state_conflict"
    message = "公告当前状态不允许此操作"


class DisclosurePeriodTaken(Conflict):
    code = "disclosure_period_taken"
    message = "该期间已有同类公示，不能重复发布；如需更正，请修改原公示（将生成新版本）"


class NoticeInvalid(Invalid):
    code = "notice_invalid"
    message = "公告内容有误，请检查后重试"


class DisclosureInvalid(Invalid):
    code = "disclosure_invalid"
    message = "公示内容有误，请检查后重试"


class DisclosureTotalsMismatch(Invalid):
    code = "disclosure_totals_mismatch"
    message = "公示的合计金额与明细之和不一致，请核对后重新提交"


class AttachmentInvalid(Invalid):
    code = "attachment_invalid"
    message = "附件不符合要求"


class AckNotRequired(Conflict):
    code = "ack_not_required"
    message = "该公告不需要阅知确认"


class AckNotAddressed(Forbidden):
    code = "ack_not_addressed"
    message = "只有本小区的业主和住户需要确认阅知该公告"
