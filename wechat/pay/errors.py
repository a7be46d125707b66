"""WeChat Pay errors in the product's error tree (core/errors.py).

    Invalid
    └── PayRequestInvalid              wechat_pay_request_invalid   what we were about to send breaks a limit
    Forbidden
    └── PayNotificationRejected        pay_notify_rejected          a notification we do not accept
        ├── PayNotifySerialUnknown     pay_notify_serial_unknown    Wechatpay-Serial is not our public key id
        ├── PayNotifyProbe             pay_notify_probe             a WECHATPAY/SIGNTEST/ probe signature
        ├── PayNotifyStale             pay_notify_stale             timestamp more than 5 minutes off
        ├── PayNotifySignatureInvalid  pay_notify_signature_invalid signature missing or not the platform's
        ├── PayNotifyReplayed          pay_notify_replayed          this nonce was taken already
        ├── PayNotifyUndecryptable     pay_notify_undecryptable     resource fails AEAD_AES_256_GCM
        └── PayNotifyBodyInvalid       pay_notify_body_invalid      not the JSON shape WeChat Pay sends
    NotFound
    └── WeChatPayOrderNotFound         wechat_pay_order_not_found   ORDER_NOT_EXIST / RESOURCE_NOT_EXISTS
    Conflict
    ├── WeChatPayOrderPaid             wechat_pay_order_paid        ORDERPAID
    ├── WeChatPayOrderClosed           wechat_pay_order_closed      ORDER_CLOSED
    ├── WeChatPayDuplicateOrder        wechat_pay_duplicate_order   out_trade_no used with other fields
    ├── WeChatPayRefundRefused         wechat_pay_refund_refused    NOT_ENOUGH, refund above the order ...
    └── WeChatPayBillNotReady          wechat_pay_bill_not_ready    STATEMENT_CREATING
    RateLimited
    └── WeChatPayRateLimited           wechat_pay_rate_limited      FREQUENCY_LIMITED
    Unavailable
    ├── WeChatPayBusy                  wechat_pay_busy              SYSTEM_ERROR, BANKERROR or an HTTP 5xx
    └── WeChatPayUnreachable           wechat_pay_unreachable       timeout or connection error
    UpstreamError
    └── WeChatPayError                 wechat_pay_error             any other answer (code in details)
        └── WeChatPayAnswerUnverified  wechat_pay_answer_unverified an answer not signed by the platform

``details`` carries WeChat Pay's code and message and the API path; never a key or a signature.
"""

from __future__ import annotations

from core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unavailable,
    UpstreamError,
)


class PayRequestInvalid(Invalid):
    code = "wechat_pay_request_invalid"
    message = "支付请求的内容不符合微信支付的要求"


class PayNotificationRejected(Forbidden):
    code = "pay_notify_rejected"
    message = "支付通知未通过校验"


class PayNotifySerialUnknown(PayNotificationRejected):
    code = "pay_notify_serial_unknown"
    message = "支付通知的平台公钥编号与本商户配置的不一致"


class PayNotifyProbe(PayNotificationRejected):
    code = "pay_notify_probe"
    message = "支付通知为签名探测请求，不予接受"


class PayNotifyStale(PayNotificationRejected):
    code = "pay_notify_stale"
    message = "支付通知的时间戳与当前时间相差超过5分钟"


class PayNotifySignatureInvalid(PayNotificationRejected):
    code = "pay_notify_signature_invalid"
    message = "支付通知签名无效"


class PayNotifyReplayed(PayNotificationRejected):
    code = "pay_notify_replayed"
    message = "该支付通知已接收过，重复的请求不予接受"


class PayNotifyUndecryptable(PayNotificationRejected):
    code = "pay_notify_undecryptable"
    message = "支付通知内容解密失败"


class PayNotifyBodyInvalid(PayNotificationRejected):
    code = "pay_notify_body_invalid"
    message = "支付通知的内容格式不正确"


class WeChatPayOrderNotFound(NotFound):
    code = "wechat_pay_order_not_found"
    message = "微信支付中没有该订单"


class WeChatPayOrderPaid(Conflict):
    code = "wechat_pay_order_paid"
    message = "该订单已支付"


class WeChatPayOrderClosed(Conflict):
    code = "wechat_pay_order_closed"
    message = "该订单已关闭"


class WeChatPayDuplicateOrder(Conflict):
    code = "wechat_pay_duplicate_order"
    message = "商户订单号已用于另一笔内容不同的订单"


class WeChatPayRefundRefused(Conflict):
    code = "wechat_pay_refund_refused"
    message = "微信支付拒绝了该退款申请"


class WeChatPayBillNotReady(Conflict):
    code = "wechat_pay_bill_not_ready"
    message = "该日账单尚未生成，请稍后再试"


class WeChatPayRateLimited(RateLimited):
    code = "wechat_pay_rate_limited"
    message = "微信支付接口调用过于频繁，请稍后再试"


class WeChatPayBusy(Unavailable):
    code = "wechat_pay_busy"
    message = "微信支付系统繁忙，请稍后再试"


class WeChatPayUnreachable(Unavailable):
    code = "wechat_pay_unreachable"
    message = "暂时无法连接微信支付，请稍后再试"


class WeChatPayError(UpstreamError):
    code = "wechat_pay_error"
    message = "微信支付返回错误，请稍后再试"


class WeChatPayAnswerUnverified(WeChatPayError):
    code = "wechat_pay_answer_unverified"
    message = "微信支付的应答未通过签名校验"


_BY_CODE: dict[str, type[DomainError]] = {
    "ORDER_NOT_EXIST": WeChatPayOrderNotFound,
    "RESOURCE_NOT_EXISTS": WeChatPayOrderNotFound,
    "ORDERPAID": WeChatPayOrderPaid,
    "ORDER_CLOSED": WeChatPayOrderClosed,
    "NOT_ENOUGH": WeChatPayRefundRefused,
    "USER_ACCOUNT_ABNORMAL": WeChatPayRefundRefused,
    "STATEMENT_CREATING": WeChatPayBillNotReady,
    "FREQUENCY_LIMITED": WeChatPayRateLimited,
    "SYSTEM_ERROR": WeChatPayBusy,
    "BANKERROR": WeChatPayBusy,
}


def error_for(status: int, code: str, message: str, api: str) -> DomainError:
    """The error for a WeChat Pay error answer (HTTP ``status``, JSON ``code`` / ``message``) to ``api``
    (a path, no query)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = WeChatPayBusy if status >= 500 else WeChatPayError
    return cls(details={"status": status, "code": code[:64], "message": message[:200], "api": api})
