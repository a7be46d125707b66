"""The fake WeChat Pay's records (orders, refunds, notification deliveries) and their JSON and
trade-bill shapes, as WeChat Pay shows them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from wechat.pay.protocol import BillRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
FEE_RATE = Decimal("0.006")


class ClientOptions(TypedDict):
    sp_mchid: str
    sp_appid: str
    private_key: str
    cert_serial: str
    apiv3_key: str
    public_key: str
    public_key_id: str
    base_url: str


@dataclass
class FakeOrder:
    sp_appid: str
    sp_mchid: str
    sub_mchid: str
    out_trade_no: str
    description: str
    amount_total: int
    payer_openid: str
    attach: str
    time_expire: str
    notify_url: str
    prepay_id: str
    trade_state: str = "NOTPAY"
    transaction_id: str = ""
    success_time: datetime | None = None
    refunded: int = 0  # fen asked back so far
    payer_total: int | None = None


@dataclass
class FakeRefund:
    sub_mchid: str
    out_trade_no: str
    out_refund_no: str
    refund_id: str
    refund: int
    total: int
    reason: str
    notify_url: str
    create_time: datetime
    status: str = "PROCESSING"
    success_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification as sent (or held): exact headers and body, and our answer's status."""

    event_type: str
    notification_id: str
    key: str  # out_trade_no or out_refund_no
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # None: held, or not answered (connection error)


def transaction_json(order: FakeOrder) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sp_appid": order.sp_appid,
        "sp_mchid": order.sp_mchid,
        "sub_mchid": order.sub_mchid,
        "out_trade_no": order.out_trade_no,
        "trade_state": order.trade_state,
        "trade_state_desc": _STATE_DESC[order.trade_state],
        "amount": {"total": order.amount_total, "currency": "CNY"},
        "attach": order.attach,
    }
    if order.trade_state in ("SUCCESS", "REFUND"):
        assert order.success_time is not None
        data |= {
            "transaction_id": order.transaction_id,
            "trade_type": "JSAPI",
            "bank_type": "OTHERS",
            "success_time": order.success_time.isoformat(),
            "payer": {"sp_openid": order.payer_openid},
        }
        data["amount"] |= {"payer_total": order.payer_total, "payer_currency": "CNY"}
    return data


def refund_json(refund: FakeRefund, order: FakeOrder) -> dict[str, Any]:
    data: dict[str, Any] = {
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": order.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": refund.create_time.isoformat(),
        "status": refund.status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": refund.total,
            "refund": refund.refund,
            "payer_total": order.payer_total,
            "payer_refund": refund.refund,
            "settlement_refund": refund.refund,
            "settlement_total": refund.total,
            "discount_refund": 0,
            "currency": "CNY",
        },
    }
    if refund.success_time is not None:
        data["success_time"] = refund.success_time.isoformat()
    return data


def refund_notification_json(refund: FakeRefund, order: FakeOrder) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sp_mchid": order.sp_mchid,
        "sub_mchid": refund.sub_mchid,
        "transaction_id": order.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "refund_status": refund.status,
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": refund.total,
            "refund": refund.refund,
            "payer_total": order.payer_total,
            "payer_refund": refund.refund,
        },
    }
    if refund.success_time is not None:
        data["success_time"] = refund.success_time.isoformat()
    return data


def bill_row(
    order: FakeOrder,
    when: datetime,
    state: str,
    *,
    settlement: int = 0,
    refund: FakeRefund | None = None,
) -> BillRow:
    refund_fen = refund.refund if refund else 0
    fee = ((settlement - refund_fen) * FEE_RATE / 100).quantize(Decimal("0.00001"))
    return BillRow(
        trade_time=when,
        sp_appid=order.sp_appid,
        sp_mchid=order.sp_mchid,
        sub_mchid=order.sub_mchid,
        device_info="",
        transaction_id=order.transaction_id,
        out_trade_no=order.out_trade_no,
        openid=order.payer_openid,
        trade_type="JSAPI",
        trade_state=state,
        bank_type="OTHERS",
        currency="CNY",
        settlement_total_fen=settlement,
        coupon_fen=0,
        refund_id=refund.refund_id if refund else "",
        out_refund_no=refund.out_refund_no if refund else "",
        refund_fen=refund_fen,
        coupon_refund_fen=0,
        refund_type="ORIGINAL" if refund else "",
        refund_status=_BILL_REFUND_STATUS.get(refund.status, "") if refund else "",
        description=order.description,
        attach=order.attach,
        fee_yuan=fee,
        rate="0.60%",
        order_total_fen=order.amount_total if refund is None else 0,
        refund_request_fen=refund_fen,
    )


_STATE_DESC = {
    "SUCCESS": "支付成功",
    "REFUND": "转入退款",
    "NOTPAY": "未支付",
    "CLOSED": "已关闭",
    "REVOKED": "已撤销",
    "USERPAYING": "用户支付中",
    "PAYERROR": "支付失败",
}
_BILL_REFUND_STATUS = {
    "SUCCESS": "SUCCESS",
    "PROCESSING": "PROCESSING",
    "ABNORMAL": "CHANGE",
    "CLOSED": "FAIL",
}
