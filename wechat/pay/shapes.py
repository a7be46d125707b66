"""WeChat Pay's JSON shapes to our result types, checked field by field (an answer or a decrypted
notification we do not understand is an error, never a half-filled result)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from core.errors import DomainError
from wechat.pay.protocol import (
    MAX_AMOUNT_FEN,
    REFUND_STATUSES,
    TRADE_STATES,
    Refund,
    RefundStatus,
    TradeState,
    Transaction,
)

Fail = Callable[[str], DomainError]  # reason -> the error to raise
MAX_TEXT = 256


def _text(
    data: Mapping[str, Any], key: str, fail: Fail, *, required: bool = False, limit: int = MAX_TEXT
) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise fail(f"{key} missing")
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise fail(f"{key} is not a string of at most {limit} characters")
    return value


def _fen(data: Mapping[str, Any], key: str, fail: Fail, *, required: bool = False) -> int | None:
    value = data.get(key)
    if value is None:
        if required:
            raise fail(f"amount.{key} missing")
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_AMOUNT_FEN:
        raise fail(f"amount.{key} is not an amount in fen")
    return value


def _time(data: Mapping[str, Any], key: str, fail: Fail) -> datetime | None:
    raw = _text(data, key, fail, limit=40)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise fail(f"{key} is not an RFC 3339 time") from None
    if value.tzinfo is None:
        raise fail(f"{key} has no UTC offset")
    return value


def _object(data: Mapping[str, Any], key: str, fail: Fail) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise fail(f"{key} is not an object")
    return value


def transaction_of(data: Mapping[str, Any], fail: Fail) -> Transaction:
    state = _text(data, "trade_state", fail, required=True, limit=20)
    if state not in TRADE_STATES:
        raise fail(f"unknown trade_state {state[:20]!r}")
    amount = _object(data, "amount", fail)
    payer = _object(data, "payer", fail)
    # WeChat Pay may leave the amount out of an unpaid order's answer; a paid one always has it.
    total = _fen(amount, "total", fail, required=state in ("SUCCESS", "REFUND"))
    return Transaction(
        sp_mchid=_text(data, "sp_mchid", fail, required=True, limit=32),
        sp_appid=_text(data, "sp_appid", fail, required=True, limit=32),
        sub_mchid=_text(data, "sub_mchid", fail, required=True, limit=32),
        out_trade_no=_text(data, "out_trade_no", fail, required=True, limit=32),
        trade_state=cast(TradeState, state),
        trade_state_desc=_text(data, "trade_state_desc", fail),
        amount_total=total or 0,
        currency=_text(amount, "currency", fail, limit=16) or "CNY",
        payer_total=_fen(amount, "payer_total", fail),
        transaction_id=_text(data, "transaction_id", fail, limit=32) or None,
        payer_openid=_text(payer, "sp_openid", fail, limit=128) or None,
        success_time=_time(data, "success_time", fail),
        trade_type=_text(data, "trade_type", fail, limit=16),
        bank_type=_text(data, "bank_type", fail, limit=32),
        attach=_text(data, "attach", fail, limit=128),
        sub_appid=_text(data, "sub_appid", fail, limit=32) or None,
    )


def refund_of(data: Mapping[str, Any], fail: Fail, *, status_key: str = "status") -> Refund:
    """A refund answer (``status``) or a refund notification's resource (``refund_status``)."""
    status = _text(data, status_key, fail, required=True, limit=20)
    if status not in REFUND_STATUSES:
        raise fail(f"unknown {status_key} {status[:20]!r}")
    amount = _object(data, "amount", fail)
    refund = _fen(amount, "refund", fail, required=True)
    total = _fen(amount, "total", fail, required=True)
    assert refund is not None and total is not None
    return Refund(
        out_refund_no=_text(data, "out_refund_no", fail, required=True, limit=64),
        out_trade_no=_text(data, "out_trade_no", fail, required=True, limit=32),
        status=cast(RefundStatus, status),
        refund_fen=refund,
        total_fen=total,
        refund_id=_text(data, "refund_id", fail, limit=32),
        transaction_id=_text(data, "transaction_id", fail, limit=32),
        payer_refund_fen=_fen(amount, "payer_refund", fail),
        payer_total_fen=_fen(amount, "payer_total", fail),
        success_time=_time(data, "success_time", fail),
        create_time=_time(data, "create_time", fail),
        user_received_account=_text(data, "user_received_account", fail, limit=64),
        channel=_text(data, "channel", fail, limit=32),
        sp_mchid=_text(data, "sp_mchid", fail, limit=32),
        sub_mchid=_text(data, "sub_mchid", fail, limit=32),
    )
