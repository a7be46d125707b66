"""Errors of supervision, under the product's error tree (core/errors.py), each with a stable code."""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound


class NotAGridWorker(Forbidden):
    code = "patrol_not_grid_worker"
    message = "只有本社区的网格员可以记录巡查"


class PatrolNotFound(NotFound):
    code = "patrol_not_found"
    message = "巡查记录不存在或无权查看"


class FindingNotFound(NotFound):
    code = "patrol_finding_not_found"
    message = "巡查发现的问题不存在或无权查看"


class PatrolInvalid(Invalid):
    code = "patrol_invalid"
    message = "巡查记录不正确"


class FindingEscalated(Conflict):
    code = "patrol_finding_escalated"
    message = "该问题已转为投诉"


class NotTheRecorder(Forbidden):
    code = "patrol_not_recorder"
    message = "只有记录该巡查的网格员可以把问题转为投诉"


class PeriodInvalid(Invalid):
    code = "dashboard_period_invalid"
    message = "统计时段不正确：起始日期须早于截止日期，且不超过两年"


class Open311KeyMissing(Forbidden):
    code = "open311_api_key_invalid"
    message = "API 密钥无效或缺失"


class Open311Invalid(Invalid):
    code = "open311_invalid"
    message = "请求参数不正确"


class Open311NotFound(NotFound):
    code = "open311_not_found"
    message = "服务或服务请求不存在"
