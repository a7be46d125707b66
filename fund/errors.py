"""The maintenance-fund branch of the error tree (core/errors.py).

Invalid
├── NoFundRate              no_fund_rate              no rate published for the building type on that date
├── FundAmountInvalid       fund_amount_invalid       an amount that is zero, negative or not what is due
├── ScopeInvalid            fund_scope_invalid        units or buildings not of the compound, or none
├── EmergencyInvalid        emergency_invalid         not on the plan's emergency list
├── VoucherPhotosInvalid    fund_voucher_photos       more than four voucher photos, or no uploader
└── InterestPeriodInvalid   interest_period_invalid   a period the allocation cannot use
Forbidden
├── NotOwnerOfUnit          not_owner_of_unit         only the unit's owners see and pay its fund
├── SameApprover            correction_same_person    a correction needs a second person
└── EmergencyApplicant      emergency_applicant       the committee applies; the community only without one
NotFound
├── AccountNotFound         fund_account_not_found
├── ApplicationNotFound     fund_application_not_found
└── CorrectionNotFound      fund_correction_not_found
Conflict
├── AccountExists           fund_account_exists       the unit has a sub-account already
├── NothingDue              fund_nothing_due          no deposit or top-up is due
├── AlreadyDeposited        fund_already_deposited    the first deposit was made already
├── BalanceShort            fund_balance_short        a unit's balance would go negative
├── ApplicationState        fund_application_state    the application's status does not allow it
├── VoteNotDecided          fund_vote_not_decided     the motion's result is not final yet
├── InterestRunExists       interest_run_exists       interest for that period was allocated already
├── CorrectionState         fund_correction_state     the correction was decided already
├── DisclosureExists        fund_disclosure_exists    that year's disclosure is posted already
└── NoSpecialAccount        fund_no_special_account   the special account's sub-merchant is not set
"""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound


class NoFundRate(Invalid):
    code = "no_fund_rate"
    message = "该房屋类型尚未公布维修资金交存标准"


class FundAmountInvalid(Invalid):
    code = "fund_amount_invalid"
    message = "金额须为正整数（分），且与应交金额一致"


class ScopeInvalid(Invalid):
    code = "fund_scope_invalid"
    message = "分摊范围有误：楼栋或房屋不属于本小区，或范围内没有已建账的房屋"


class EmergencyInvalid(Invalid):
    code = "emergency_invalid"
    message = "不属于可直接申请的应急维修情形"


class VoucherPhotosInvalid(Invalid):
    code = "fund_voucher_photos"
    message = "凭证照片最多 4 张，且须由登记人本人上传"


class InterestPeriodInvalid(Invalid):
    code = "interest_period_invalid"
    message = "计息期有误"


class NotOwnerOfUnit(Forbidden):
    code = "not_owner_of_unit"
    message = "只有该房屋的业主可以查询和交存其维修资金"


class SameApprover(Forbidden):
    code = "correction_same_person"
    message = "更正须由另一名工作人员审核"


class EmergencyApplicant(Forbidden):
    code = "emergency_applicant"
    message = "应急维修由业主委员会申请；未成立业主委员会的，由社区申请"


class AccountNotFound(NotFound):
    code = "fund_account_not_found"
    message = "该房屋尚未建立维修资金分户账"


class ApplicationNotFound(NotFound):
    code = "fund_application_not_found"
    message = "维修资金使用申请不存在"


class CorrectionNotFound(NotFound):
    code = "fund_correction_not_found"
    message = "更正申请不存在"


class AccountExists(Conflict):
    code = "fund_account_exists"
    message = "该房屋已建立分户账"


class NothingDue(Conflict):
    code = "fund_nothing_due"
    message = "该房屋目前无需交存维修资金"


class AlreadyDeposited(Conflict):
    code = "fund_already_deposited"
    message = "该房屋的首期维修资金已交存"


class BalanceShort(Conflict):
    code = "fund_balance_short"
    message = "部分房屋的维修资金余额不足以承担其分摊金额"


class ApplicationState(Conflict):
    code = "fund_application_state"
    message = "该申请当前状态不允许此操作"


class VoteNotDecided(Conflict):
    code = "fund_vote_not_decided"
    message = "业主表决结果尚未确定"


class InterestRunExists(Conflict):
    code = "interest_run_exists"
    message = "该计息期的利息已分配"


class CorrectionState(Conflict):
    code = "fund_correction_state"
    message = "该更正申请已处理"


class DisclosureExists(Conflict):
    code = "fund_disclosure_exists"
    message = "该年度的维修资金公示已发布"


class NoSpecialAccount(Conflict):
    code = "fund_no_special_account"
    message = "维修资金专户尚未开通网上缴存"
