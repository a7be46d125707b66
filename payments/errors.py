"""The payments branch of the error tree (core/errors.py).

Invalid
├── PriceOutsideBand        price_outside_band         the contract price is outside its grade's band
├── NoPriceBand             no_price_band              no band published for the grade on that date
├── FeeItemInvalid          fee_item_invalid           an item's terms do not fit its kind
├── PeriodInvalid           period_invalid             not a YYYY-MM period
└── RefundInvalid           refund_invalid             more than is left to refund, or nothing
Forbidden
├── NotPayerOfUnit          not_payer_of_unit          neither owner nor resident of the bill's unit
└── NoFeeContract           no_fee_contract            the company has no fee contract for the compound
NotFound
├── BillNotFound            bill_not_found
├── OrderNotFound           order_not_found
├── ReceiptNotFound         receipt_not_found
├── FeeItemNotFound         fee_item_not_found
├── RefundNotFound          refund_not_found
└── PayeeUnknown            payee_unknown              a company with no sub-merchant registered
Conflict
├── FeeStandardNotPosted    fee_standard_not_posted    the item's standard is not on the board
├── BillsNotPayable         bills_not_payable          paid, in another order, or of several payees
├── OrderStateConflict      order_state_conflict       the order's state does not allow it
├── PurposeOrderPending     purpose_order_pending      another payer's order for it is pending
├── PurposeAlreadyPaid      purpose_already_paid       it has been paid already
├── NotificationMismatch    payment_mismatch           mchid, appid, out_trade_no or amount differ
├── RefundNotRetryable      refund_not_retryable       not closed, or retried already
└── RefundNotAbnormal       refund_not_abnormal        not an abnormal refund waiting for a person
"""

from __future__ import annotations

from core.errors import Conflict, Forbidden, Invalid, NotFound


class PriceOutsideBand(Invalid):
    code = "price_outside_band"
    message = "合同单价超出政府指导价区间"


class NoPriceBand(Invalid):
    code = "no_price_band"
    message = "该服务等级尚未公布政府指导价"


class FeeItemInvalid(Invalid):
    code = "fee_item_invalid"
    message = "收费项目的内容与其类型不符"


class PeriodInvalid(Invalid):
    code = "period_invalid"
    message = "账期格式应为 YYYY-MM"


class RefundInvalid(Invalid):
    code = "refund_invalid"
    message = "退款金额须大于零且不超过可退金额"


class NotPayerOfUnit(Forbidden):
    code = "not_payer_of_unit"
    message = "只有该房屋的业主或住户可以查看和缴纳其账单"


class NoFeeContract(Forbidden):
    code = "no_fee_contract"
    message = "贵公司与该小区没有有效的物业服务收费合同"


class BillNotFound(NotFound):
    code = "bill_not_found"
    message = "账单不存在"


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "订单不存在"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    message = "收据不存在"


class FeeItemNotFound(NotFound):
    code = "fee_item_not_found"
    message = "收费项目不存在"


class FeeStandardNotPosted(Conflict):
    code = "fee_standard_not_posted"
    message = "该收费项目的收费标准未在本小区公示栏公示，不得收取"


class BillsNotPayable(Conflict):
    code = "bills_not_payable"
    message = "所选账单已缴清、正在另一笔订单中支付，或不属于同一收款方"


class OrderStateConflict(Conflict):
    code = "order_state_conflict"
    message = "订单当前状态不允许此操作"


class NotificationMismatch(Conflict):
    code = "payment_mismatch"
    message = "支付结果与本方订单不一致，未予处理"


class PurposeOrderPending(Conflict):
    code = "purpose_order_pending"
    message = "该款项已有一笔待支付的订单，请稍后再试"


class PurposeAlreadyPaid(Conflict):
    code = "purpose_already_paid"
    message = "该款项已支付，无需重复支付"


class RefundNotFound(NotFound):
    code = "refund_not_found"
    message = "退款单不存在"


class RefundNotRetryable(Conflict):
    code = "refund_not_retryable"
    message = "只有已关闭且尚未重新发起的退款可以重新发起"


class RefundNotAbnormal(Conflict):
    code = "refund_not_abnormal"
    message = "只有退款异常、待人工处理的退款可以重新查询"


class PayeeUnknown(NotFound):
    code = "payee_unknown"
    message = "该企业尚未登记微信支付子商户号，暂不能在线收款"
