"""The ratings branch of the error tree (core/errors.py).

Invalid
├── TemplateInvalid            template_invalid            aspects, weights, items or thresholds wrong
├── ScoresInvalid              scores_invalid              items missing, unknown or out of range
├── CreditRecordInvalid        credit_record_invalid       a record's source, part or points do not fit
└── ObjectionInvalid           objection_invalid           no reason, or unknown items
Forbidden
├── NotInspector               not_inspector               only the inspector scores and decides
└── NotInspectedCompany        not_inspected_company       only the inspected company objects
NotFound
├── TemplateNotFound           template_not_found
├── InspectionNotFound         inspection_not_found
├── CompanyNotFound            company_not_found
└── ListNotFound               rating_list_not_found
Conflict
├── InspectionStateConflict    inspection_state_conflict   the inspection's state does not allow it
├── ObjectionTaken             objection_taken             the company has objected once already
├── ObjectionWindowClosed      objection_window_closed     the objection period has passed
├── NoCompanyAtCompound        no_company_at_compound      no current service contract to inspect
├── ListStateConflict          rating_list_state_conflict  the list is published (history) already
└── TemplateVersionConflict    template_version_conflict   too many versions added at once: retry
"""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound


class TemplateInvalid(Invalid):
    code = "template_invalid"
    message = "评分模板不正确"


class ScoresInvalid(Invalid):
    code = "scores_invalid"
    message = "评分须覆盖模板的每一项，且不超出各项分值"


class CreditRecordInvalid(Invalid):
    code = "credit_record_invalid"
    message = "信用记录的来源、类别或分值不正确"


class ObjectionInvalid(Invalid):
    code = "objection_invalid"
    message = "异议须写明理由，且所列评分项须属于本次考核"


class NotInspector(Forbidden):
    code = "not_inspector"
    message = "只有本次考核的考核人可以评分和作出决定"


class NotInspectedCompany(Forbidden):
    code = "not_inspected_company"
    message = "只有被考核的物业服务企业可以提出异议"


class TemplateNotFound(NotFound):
    code = "template_not_found"
    message = "评分模板不存在"


class InspectionNotFound(NotFound):
    code = "inspection_not_found"
    message = "考核记录不存在"


class CompanyNotFound(NotFound):
    code = "company_not_found"
    message = "物业服务企业不存在"


class ListNotFound(NotFound):
    code = "rating_list_not_found"
    message = "红黑榜不存在"


class InspectionStateConflict(Conflict):
    code = "inspection_state_conflict"
    message = "考核当前状态不允许此操作"


class ObjectionTaken(Conflict):
    code = "objection_taken"
    message = "每次考核只能提出一次异议"


class ObjectionWindowClosed(Conflict):
    code = "objection_window_closed"
    message = "已超过异议期限"


class NoCompanyAtCompound(Conflict):
    code = "no_company_at_compound"
    message = "该小区目前没有有效的物业服务合同，无被考核企业"


class ListStateConflict(Conflict):
    code = "rating_list_state_conflict"
    message = "该红黑榜已发布，不能再修改"


class TemplateVersionConflict(Conflict):
    code = "template_version_conflict"
    message = "同时发布的模板版本过多，请稍后重试"
