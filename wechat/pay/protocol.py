"""The narrow interface the product uses to take money through WeChat Pay (API v3, partner mode), and
its result types.

We are the service provider (服务商, ``sp_mchid`` / ``sp_appid`` = our mini-program); each payee (a
property company, a maintenance-fund special account, a service provider) is a sub-merchant
(``sub_mchid``) and receives its money directly. ``WeChatPayClient`` (wechat/pay/client.py) implements
the protocol over HTTP; ``FakeWeChatPay`` (wechat/pay/fake.py) is a local HTTP server speaking the same
protocol, so tests and fake-mode development run the real client.

Money is integer fen; every time is timezone-aware.

What the adapter checks and what it leaves to the caller: a notification is authenticated (platform
signature over ``timestamp\\nnonce\\nbody\\n``, our public key id, a timestamp within 5 minutes, no
SIGNTEST probe, a nonce never seen before) and decrypted here; whether its mchid, appid, out_trade_no
and amount match OUR order is the payments domain's business (every field it needs is in the result).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Protocol

TradeState = Literal["SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR"]
RefundStatus = Literal["SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED"]
EventType = Literal["TRANSACTION.SUCCESS", "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"]

TRADE_STATES: frozenset[str] = frozenset(
    {"SUCCESS", "REFUND", "NOTPAY", "CLOSED", "REVOKED", "USERPAYING", "PAYERROR"}
)
REFUND_STATUSES: frozenset[str] = frozenset({"SUCCESS", "PROCESSING", "ABNORMAL", "CLOSED"})
EVENT_TYPES: frozenset[str] = frozenset(
    {"TRANSACTION.SUCCESS", "REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"}
)

# WeChat Pay's own limits on what we send (checked by the client before any request; PayRequestInvalid)
MAX_DESCRIPTION_BYTES = 127  # description, UTF-8 bytes
MAX_ATTACH_BYTES = 128  # attach, UTF-8 bytes
# WeChat Pay also allows * (and | @ in refund numbers); we do not: they would have to be escaped in the
# URL path, and the signature covers the path as sent.
OUT_TRADE_NO_PATTERN = r"[A-Za-z0-9_\-]{6,32}"  # out_trade_no: 6-32 letters, digits, _ -
OUT_REFUND_NO_PATTERN = r"[A-Za-z0-9_\-]{1,64}"  # out_refund_no: 1-64 letters, digits, _ -
SUB_MCHID_PATTERN = r"[0-9]{1,32}"
OPENID_PATTERN = r"[A-Za-z0-9_\-]{1,128}"
MAX_REASON_CHARS = 80  # refund reason
MAX_AMOUNT_FEN = 10**10  # far above any real fee; keeps amounts sane
NOTIFICATION_MAX_SKEW = 300  # seconds a notification's timestamp may differ from our clock


@dataclass(frozen=True, slots=True)
class PaymentParams:
    """What the mini-program passes to ``wx.requestPayment``, signed by us (RSA-SHA256 with the
    merchant private key over ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``)."""

    app_id: str
    time_stamp: str  # seconds since the epoch, as a string
    nonce_str: str
    package: str  # "prepay_id=..."
    sign_type: str  # "RSA"
    pay_sign: str  # base64

    def as_dict(self) -> dict[str, str]:
        """The camel-case keys wx.requestPayment takes."""
        return {
            "appId": self.app_id,
            "timeStamp": self.time_stamp,
            "nonceStr": self.nonce_str,
            "package": self.package,
            "signType": self.sign_type,
            "paySign": self.pay_sign,
        }


@dataclass(frozen=True, slots=True)
class Transaction:
    """A partner-mode order as WeChat Pay sees it (query answer or TRANSACTION.* notification)."""

    sp_mchid: str
    sp_appid: str
    sub_mchid: str
    out_trade_no: str
    trade_state: TradeState
    trade_state_desc: str
    amount_total: int  # fen, the order amount (0 if WeChat Pay left it out of an unpaid order's answer)
    currency: str = "CNY"
    payer_total: int | None = None  # fen the user paid (after coupons); None until paid
    transaction_id: str | None = None  # WeChat's order number; None until paid
    payer_openid: str | None = None  # payer.sp_openid (under sp_appid, our mini-program)
    success_time: datetime | None = None  # aware; None until paid
    trade_type: str = ""  # JSAPI
    bank_type: str = ""
    attach: str = ""
    sub_appid: str | None = None


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund as WeChat Pay sees it (refund / query answer or REFUND.* notification)."""

    out_refund_no: str
    out_trade_no: str
    status: RefundStatus
    refund_fen: int  # amount.refund
    total_fen: int  # amount.total, the order amount
    refund_id: str = ""
    transaction_id: str = ""
    payer_refund_fen: int | None = None  # amount.payer_refund
    payer_total_fen: int | None = None  # amount.payer_total
    success_time: datetime | None = None  # aware; set when status is SUCCESS
    create_time: datetime | None = None
    user_received_account: str = ""
    channel: str = ""  # ORIGINAL, BALANCE, OTHER_BALANCE, OTHER_BANKCARD
    sp_mchid: str = ""  # in notifications
    sub_mchid: str = ""


@dataclass(frozen=True, slots=True)
class BillRow:
    """One line of a daily trade bill (交易账单, bill_type ALL, partner format). Amounts in fen.

    A payment line has trade_state SUCCESS and settlement_total_fen; a refund line has trade_state
    REFUND and refund_fen / out_refund_no / refund_status."""

    trade_time: datetime  # aware (Asia/Shanghai)
    sp_appid: str
    sp_mchid: str
    sub_mchid: str
    device_info: str
    transaction_id: str
    out_trade_no: str
    openid: str
    trade_type: str
    trade_state: str  # SUCCESS, REFUND, REVOKED
    bank_type: str
    currency: str
    settlement_total_fen: int  # 应结订单金额
    coupon_fen: int  # 代金券金额
    refund_id: str
    out_refund_no: str
    refund_fen: int  # 退款金额
    coupon_refund_fen: int  # 充值券退款金额
    refund_type: str
    refund_status: str
    description: str  # 商品名称
    attach: str  # 商户数据包
    fee_yuan: Decimal  # 手续费, in yuan to 5 decimals: a line's fee may be a fraction of a fen
    rate: str  # 费率, e.g. "0.60%"
    order_total_fen: int  # 订单金额
    refund_request_fen: int  # 申请退款金额
    rate_remark: str = ""


@dataclass(frozen=True, slots=True)
class PayNotification:
    """An authenticated, decrypted notification. Exactly one of ``transaction`` / ``refund`` is set:
    transaction for TRANSACTION.*, refund for REFUND.*.

    ``nonce_key`` is the replay-store key of this delivery: pass the notification to
    ``WeChatPayApi.forget_notification`` if handling it failed on our side, so that WeChat Pay's retry
    (a new delivery) or the same delivery again is not refused as a replay."""

    id: str
    event_type: EventType
    create_time: datetime | None
    resource_type: str  # "encrypt-resource"
    summary: str
    transaction: Transaction | None = None
    refund: Refund | None = None
    nonce_key: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class NotifyAnswer:
    """Our HTTP answer to a WeChat Pay notification: success is 204 with no body; a failure is a
    4xx/5xx with ``{"code": "FAIL", "message": ...}`` so WeChat Pay retries it."""

    status: int
    body: Mapping[str, str] | None  # None: no body

    @property
    def ok(self) -> bool:
        return self.status < 300


def notify_ok() -> NotifyAnswer:
    return NotifyAnswer(204, None)


def notify_fail(message: str, status: int = 500) -> NotifyAnswer:
    """A refusal WeChat Pay will retry: 4xx for a notification we do not believe or cannot match,
    5xx for a failure on our side."""
    if not 400 <= status <= 599:
        raise ValueError("a failure answer must be 4xx or 5xx")
    return NotifyAnswer(status, {"code": "FAIL", "message": message[:200]})


class WeChatPayApi(Protocol):
    sp_mchid: str
    sp_appid: str

    async def jsapi_prepay(
        self,
        *,
        sub_mchid: str,
        description: str,
        out_trade_no: str,
        amount_fen: int,
        payer_openid: str,
        time_expire: datetime,
        attach: str = "",
    ) -> str:
        """Create (or, for the same out_trade_no and fields, fetch again) a JSAPI order; returns the
        prepay_id (valid 2 hours). The notify URL is ours, from settings."""
        ...

    def payment_params(self, prepay_id: str) -> PaymentParams: ...

    async def query_order(self, *, sub_mchid: str, out_trade_no: str) -> Transaction:
        """Raises WeChatPayOrderNotFound for an order WeChat Pay does not know."""
        ...

    async def close_order(self, *, sub_mchid: str, out_trade_no: str) -> None:
        """Raises WeChatPayOrderPaid if it was paid meanwhile (query it and take the payment)."""
        ...

    async def refund(
        self,
        *,
        sub_mchid: str,
        out_trade_no: str,
        out_refund_no: str,
        refund_fen: int,
        total_fen: int,
        reason: str,
    ) -> Refund:
        """Ask for a (partial) refund; the same out_refund_no again returns the same refund. The
        outcome usually arrives later as a REFUND.* notification (status PROCESSING here)."""
        ...

    async def query_refund(self, *, sub_mchid: str, out_refund_no: str) -> Refund: ...

    async def trade_bill(self, *, bill_date: date, sub_mchid: str | None = None) -> list[BillRow]:
        """The day's trade bill (all sub-merchants, or one), parsed; [] when WeChat Pay has no bill
        for that day (NO_STATEMENT_EXIST). Raises WeChatPayBillNotReady while it is being made."""
        ...

    async def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> PayNotification:
        """Authenticate and decrypt one notification; every refusal is a PayNotificationRejected
        (wechat/pay/errors.py) with a stable code."""
        ...

    async def forget_notification(self, notification: PayNotification) -> None:
        """Release the delivery's nonce (handling failed on our side; let the retry through)."""
        ...

    async def aclose(self) -> None: ...
