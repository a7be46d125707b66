"""The daily trade bill (交易账单, bill_type ALL) in WeChat Pay's file format, both ways: ``render`` (the
fake writes it) and ``parse`` (our client reads it).

The file: a header line of Chinese column names, one line per payment or refund with every field
prefixed by a backtick (so spreadsheets keep long numbers as text), then a summary header
(总交易单数, ...) and one summary line, backtick-prefixed too. Amounts are yuan with two decimals
(the fee with five). Columns are taken by header name, not position: WeChat Pay's bill types and older
merchants' files order them differently. The summary is checked against the lines, so a truncated or
altered file is refused instead of reconciled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from wechat.pay.errors import WeChatPayError
from wechat.pay.protocol import BillRow

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_LINES = 1_000_000

COLUMNS = (
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
)
SUMMARY_COLUMNS = (
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
)


@dataclass(frozen=True, slots=True)
class BillSummary:
    count: int
    settlement_total_fen: int
    refund_fen: int
    coupon_refund_fen: int
    fee_yuan: Decimal
    order_total_fen: int
    refund_request_fen: int


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _row_fields(row: BillRow) -> list[str]:
    return [
        row.trade_time.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        row.sp_appid,
        row.sp_mchid,
        row.sub_mchid,
        row.device_info,
        row.transaction_id,
        row.out_trade_no,
        row.openid,
        row.trade_type,
        row.trade_state,
        row.bank_type,
        row.currency,
        _yuan(row.settlement_total_fen),
        _yuan(row.coupon_fen),
        row.refund_id or "0",
        row.out_refund_no or "0",
        _yuan(row.refund_fen),
        _yuan(row.coupon_refund_fen),
        row.refund_type,
        row.refund_status,
        row.description,
        row.attach,
        f"{row.fee_yuan:.5f}",
        row.rate,
        _yuan(row.order_total_fen),
        _yuan(row.refund_request_fen),
        row.rate_remark,
    ]


def summarize(rows: Sequence[BillRow]) -> BillSummary:
    return BillSummary(
        count=len(rows),
        settlement_total_fen=sum(r.settlement_total_fen for r in rows),
        refund_fen=sum(r.refund_fen for r in rows),
        coupon_refund_fen=sum(r.coupon_refund_fen for r in rows),
        fee_yuan=sum((r.fee_yuan for r in rows), Decimal(0)),
        order_total_fen=sum(r.order_total_fen for r in rows),
        refund_request_fen=sum(r.refund_request_fen for r in rows),
    )


def render(rows: Sequence[BillRow], *, newline: str = "\r\n") -> str:
    """The bill file as WeChat Pay writes it."""
    s = summarize(rows)
    summary = [
        str(s.count),
        _yuan(s.settlement_total_fen),
        _yuan(s.refund_fen),
        _yuan(s.coupon_refund_fen),
        f"{s.fee_yuan:.5f}",
        _yuan(s.order_total_fen),
        _yuan(s.refund_request_fen),
    ]
    lines = [",".join(COLUMNS)]
    lines += [",".join("`" + _clean(v) for v in _row_fields(r)) for r in rows]
    lines += [",".join(SUMMARY_COLUMNS), ",".join("`" + v for v in summary)]
    return newline.join(lines) + newline


def _clean(value: str) -> str:
    # The format has no quoting: WeChat Pay leaves commas out of its fields; so do we.
    return value.replace(",", "，").replace("\r", " ").replace("\n", " ")


def _bad(reason: str) -> WeChatPayError:
    return WeChatPayError(details={"api": "/v3/billdownload/file", "reason": reason[:200]})


def _fields(line: str) -> list[str]:
    return [f[1:] if f.startswith("`") else f for f in line.split(",")]


def _fen(value: str, column: str) -> int:
    try:
        amount = Decimal(value or "0") * 100
    except InvalidOperation:
        raise _bad(f"{column} is not an amount: {value[:20]!r}") from None
    if amount != amount.to_integral_value() or abs(amount) > 10**14:
        raise _bad(f"{column} is not a whole number of fen: {value[:20]!r}")
    return int(amount)


def _decimal(value: str, column: str) -> Decimal:
    try:
        amount = Decimal(value or "0")
    except InvalidOperation:
        raise _bad(f"{column} is not an amount: {value[:20]!r}") from None
    if not amount.is_finite() or abs(amount) > 10**12:
        raise _bad(f"{column} is not an amount: {value[:20]!r}")
    return amount


def _no(value: str) -> str:
    return "" if value == "0" else value  # WeChat Pay writes 0 for "none" in number columns


def _row(named: dict[str, str]) -> BillRow:
    try:
        trade_time = datetime.strptime(named["交易时间"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        raise _bad(f"交易时间 is not a time: {named['交易时间'][:30]!r}") from None
    return BillRow(
        trade_time=trade_time,
        sp_appid=named["公众账号ID"],
        sp_mchid=named["商户号"],
        sub_mchid=_no(named["特约商户号"]),
        device_info=named.get("设备号", ""),
        transaction_id=named["微信订单号"],
        out_trade_no=named["商户订单号"],
        openid=named.get("用户标识", ""),
        trade_type=named.get("交易类型", ""),
        trade_state=named["交易状态"],
        bank_type=named.get("付款银行", ""),
        currency=named.get("货币种类", "CNY"),
        settlement_total_fen=_fen(named.get("应结订单金额", ""), "应结订单金额"),
        coupon_fen=_fen(named.get("代金券金额", ""), "代金券金额"),
        refund_id=_no(named.get("微信退款单号", "")),
        out_refund_no=_no(named.get("商户退款单号", "")),
        refund_fen=_fen(named.get("退款金额", ""), "退款金额"),
        coupon_refund_fen=_fen(named.get("充值券退款金额", ""), "充值券退款金额"),
        refund_type=named.get("退款类型", ""),
        refund_status=named.get("退款状态", ""),
        description=named.get("商品名称", ""),
        attach=named.get("商户数据包", ""),
        fee_yuan=_decimal(named.get("手续费", ""), "手续费"),
        rate=named.get("费率", ""),
        order_total_fen=_fen(named.get("订单金额", ""), "订单金额"),
        refund_request_fen=_fen(named.get("申请退款金额", ""), "申请退款金额"),
        rate_remark=named.get("费率备注", ""),
    )


REQUIRED = ("交易时间", "公众账号ID", "商户号", "特约商户号", "微信订单号", "商户订单号", "交易状态")


def parse(text: str) -> list[BillRow]:
    """The lines of a bill file; raises WeChatPayError if it is not one, or its summary disagrees."""
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise _bad("bill file too long")
    if not lines:
        raise _bad("empty bill file")
    header = _fields(lines[0])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise _bad("bill header lacks " + ",".join(missing))
    try:
        split = next(i for i, line in enumerate(lines) if _fields(line)[0] == SUMMARY_COLUMNS[0])
    except StopIteration:
        raise _bad("bill file has no summary (truncated?)") from None
    if split + 2 != len(lines):
        raise _bad("bill summary is not the last two lines")
    rows = []
    for line in lines[1:split]:
        values = _fields(line)
        if len(values) != len(header):
            raise _bad(f"bill line has {len(values)} fields, header {len(header)}")
        rows.append(_row(dict(zip(header, values, strict=True))))
    _check_summary(rows, _fields(lines[split]), _fields(lines[split + 1]))
    return rows


def _check_summary(rows: Sequence[BillRow], names: list[str], values: list[str]) -> None:
    if len(names) != len(values):
        raise _bad("bill summary line does not match its header")
    summary = dict(zip(names, values, strict=True))
    computed = summarize(rows)
    checks: Iterable[tuple[str, object]] = (
        ("总交易单数", computed.count),
        ("应结订单总金额", computed.settlement_total_fen),
        ("退款总金额", computed.refund_fen),
        ("充值券退款总金额", computed.coupon_refund_fen),
        ("订单总金额", computed.order_total_fen),
        ("申请退款总金额", computed.refund_request_fen),
    )
    for name, expected in checks:
        if name not in summary:
            continue
        raw = summary[name]
        if name == "总交易单数":
            if not raw.isdigit() or len(raw) > 9:
                raise _bad(f"{name} is not a count: {raw[:20]!r}")
            got: object = int(raw)
        else:
            got = _fen(raw, name)
        if got != expected:
            raise _bad(f"bill summary {name} is {got}, its lines add up to {expected}")
