"""Errors of complaints, each under the product's error tree (core/errors.py) with a stable code."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited


class ComplaintNotFound(NotFound):
    code = "complaint_not_found"
    message = "投诉不存在或无权查看"


class CategoryUnknown(Invalid):
    code = "complaint_category_unknown"
    message = "投诉类别不存在"


class PlaceInvalid(Invalid):
    code = "complaint_place_invalid"
    message = "投诉位置不正确：请选择本小区的房屋、楼栋，或填写公共区域位置"


class TooManyPhotos(Invalid):
    code = "complaint_too_many_photos"
    message = "每条投诉最多附 9 张图片"


class NoteRequired(Invalid):
    code = "complaint_note_required"
    message = "请填写处理说明"


class RatingInvalid(Invalid):
    code = "complaint_rating_invalid"
    message = "请给出 1 到 5 星的评价"


class DepartmentUnknown(Invalid):
    code = "complaint_department_unknown"
    message = "承办部门不存在"


class ContentRisky(Invalid):
    code = "complaint_content_risky"
    message = "投诉内容含有违规信息，无法提交，请修改后重试"


class NotAResident(Forbidden):
    code = "complaint_not_resident"
    message = "只有本小区的业主、住户或网格员可以提交投诉"


class NotYourStep(Forbidden):
    code = "complaint_not_your_step"
    message = "您不能执行这一步处理"


class TransitionNotAllowed(Conflict):
    code = "complaint_transition_not_allowed"
    message = "投诉当前的状态不允许此操作"


class ComplaintChanged(Conflict):
    code = "complaint_changed"
    message = "投诉已被他人处理，请刷新后查看"


class ReopenWindowPassed(Conflict):
    code = "complaint_reopen_window_passed"
    message = "已超过可重新打开的期限"


class NotSupportable(Conflict):
    code = "complaint_not_supportable"
    message = "这条投诉不能附议"


class AlreadySupported(Conflict):
    code = "complaint_already_supported"
    message = "您已附议过这条投诉"


class NoPropertyCompany(Conflict):
    code = "complaint_no_property_company"
    message = "该小区目前没有签约的物业服务企业，请派给社区或相关部门"


class NotHeld(Conflict):
    code = "complaint_not_held"
    message = "这条投诉不在人工审核中"


class DailyLimit(RateLimited):
    code = "complaint_daily_limit"
    message = "每人每天最多提交 10 条投诉，请明天再试"
