"""The daily trade bill: WeChat Pay's file format parsed into fen, summaries checked, and the download
round trip from our client to the fake (hash checked, our signature not sent off WeChat Pay)."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from wechat.pay import bill
from wechat.pay.client import WeChatPayClient
from wechat.pay.errors import WeChatPayBillNotReady, WeChatPayError
from wechat.pay.fake import SHANGHAI, FakeWeChatPay
from wechat.pay.protocol import BillRow

from .conftest import OPENID, SUB_MCHID

# Two lines as WeChat Pay writes them (a payment and a refund), then the summary
SAMPLE = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
    "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
    "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n"
    "`2021-01-28 17:07:11,`wx81be3101902f7cb2,`1601959334,`1900000109,`,`4200000925202101284997714292,"
    "`S20210128170702357723,`ofyak5qR_1wYsC99CsWA6R9MJazA,`JSAPI,`SUCCESS,`OTHERS,`CNY,`1299.01,`0.00,`0,"
    "`0,`0.00,`0.00,`,`,`物业费,`bill:1,`7.79406,`0.60%,`1299.01,`0.00,`\r\n"
    "`2021-01-28 18:00:00,`wx81be3101902f7cb2,`1601959334,`1900000109,`,`4200000925202101284997714292,"
    "`S20210128170702357723,`ofyak5qR_1wYsC99CsWA6R9MJazA,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
    "`50300107092021012800000000001,`RF1,`0.01,`0.00,`ORIGINAL,`SUCCESS,`物业费,`bill:1,`-0.00006,`0.60%,"
    "`0.00,`0.01,`\r\n"
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n"
    "`2,`1299.01,`0.01,`0.00,`7.79400,`1299.01,`0.01\r\n"
)


def test_the_real_format_parses_into_fen() -> None:
    pay, refund = bill.parse(SAMPLE)
    assert pay.trade_time == datetime(2021, 1, 28, 17, 7, 11, tzinfo=SHANGHAI)
    assert (pay.sp_appid, pay.sp_mchid, pay.sub_mchid) == ("wx81be3101902f7cb2", "1601959334", "1900000109")
    assert (pay.transaction_id, pay.out_trade_no, pay.openid) == (
        "4200000925202101284997714292",
        "S20210128170702357723",
        "ofyak5qR_1wYsC99CsWA6R9MJazA",
    )
    assert (pay.trade_state, pay.settlement_total_fen, pay.order_total_fen, pay.refund_fen) == (
        "SUCCESS",
        129901,
        129901,
        0,
    )
    assert (pay.refund_id, pay.out_refund_no, pay.description, pay.attach) == ("", "", "物业费", "bill:1")
    assert pay.fee_yuan == Decimal("7.79406") and pay.rate == "0.60%"
    assert (
        refund.trade_state,
        refund.refund_fen,
        refund.refund_request_fen,
        refund.settlement_total_fen,
    ) == (
        "REFUND",
        1,
        1,
        0,
    )
    assert (refund.out_refund_no, refund.refund_status, refund.refund_type) == ("RF1", "SUCCESS", "ORIGINAL")


def test_render_then_parse_is_the_same_rows() -> None:
    rows = bill.parse(SAMPLE)
    assert bill.parse(bill.render(rows)) == rows
    assert bill.parse(bill.render(rows, newline="\n")) == rows
    assert bill.parse("\ufeff" + bill.render(rows)) == rows


def test_columns_are_taken_by_name() -> None:
    lines = SAMPLE.split("\r\n")
    header = lines[0].split(",")
    order = list(range(len(header)))[::-1]
    shuffled = [",".join(line.split(",")[i] for i in order) for line in lines[1:3]]
    text = "\r\n".join([",".join(header[i] for i in order), *shuffled, *lines[3:]])
    assert bill.parse(text) == bill.parse(SAMPLE)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("`2,`1299.01", "`3,`1299.01"), "总交易单数"),
        (lambda t: t.replace("`1299.01,`0.01,`0.00,`7", "`1299.00,`0.01,`0.00,`7"), "应结订单总金额"),
        (lambda t: t.split("总交易单数")[0], "no summary"),
        (lambda t: t.replace("`1299.01,`0.00,`0,", "`1299.015,`0.00,`0,", 1), "whole number of fen"),
        (lambda t: t.replace("`1299.01,`0.00,`0,", "`12x9.01,`0.00,`0,", 1), "not an amount"),
        (lambda t: t.replace("`2021-01-28 17:07:11", "`28/01/2021", 1), "not a time"),
        (lambda t: t.replace(",`物业费,`bill:1,`7", ",`物业费,`bill:1,`extra,`7", 1), "fields"),
        (lambda t: t.replace("商户订单号,", "", 1), "lacks"),
        (lambda t: "", "empty"),
    ],
)
def test_a_file_that_does_not_add_up_is_refused(edit: object, reason: str) -> None:
    with pytest.raises(WeChatPayError) as caught:
        bill.parse(edit(SAMPLE))  # type: ignore[operator]
    assert reason in caught.value.details["reason"]


async def _paid(
    fake: FakeWeChatPay, client: WeChatPayClient, no: str, fen: int, sub: str = SUB_MCHID
) -> None:
    await client.jsapi_prepay(
        sub_mchid=sub,
        description="物业费",
        out_trade_no=no,
        amount_fen=fen,
        payer_openid=OPENID,
        time_expire=datetime.now(UTC) + timedelta(minutes=30),
    )
    await fake.pay(no, deliver=False)


def _yesterday() -> date:
    return datetime.now(SHANGHAI).date() - timedelta(days=1)


def _move_to(fake: FakeWeChatPay, day: date) -> None:
    """The fake's payments and refunds happened on ``day`` (its bill is only there the day after)."""
    for order in fake.orders.values():
        if order.success_time is not None:
            order.success_time = datetime.combine(day, order.success_time.timetz())
    for refund in fake.refunds.values():
        refund.create_time = datetime.combine(day, refund.create_time.timetz())


async def test_trade_bill_round_trip(fake: FakeWeChatPay, pay_client: WeChatPayClient) -> None:
    await _paid(fake, pay_client, "WY20261201000001", 12345)
    await _paid(fake, pay_client, "WY20261201000002", 50000)
    await _paid(fake, pay_client, "WY20261201000003", 777, sub="1900000110")
    await pay_client.refund(
        sub_mchid=SUB_MCHID,
        out_trade_no="WY20261201000002",
        out_refund_no="RF20261201000001",
        refund_fen=1000,
        total_fen=50000,
        reason="多收",
    )
    day = _yesterday()
    _move_to(fake, day)

    rows = await pay_client.trade_bill(bill_date=day)
    assert rows == fake.bill_rows(day)
    assert sorted((r.out_trade_no, r.trade_state, r.settlement_total_fen, r.refund_fen) for r in rows) == [
        ("WY20261201000001", "SUCCESS", 12345, 0),
        ("WY20261201000002", "REFUND", 0, 1000),
        ("WY20261201000002", "SUCCESS", 50000, 0),
        ("WY20261201000003", "SUCCESS", 777, 0),
    ]
    assert {r.transaction_id for r in rows if r.out_trade_no == "WY20261201000001"} == {
        fake.order("WY20261201000001").transaction_id
    }
    one = await pay_client.trade_bill(bill_date=day, sub_mchid="1900000110")
    assert [(r.out_trade_no, r.sub_mchid) for r in one] == [("WY20261201000003", "1900000110")]


async def test_a_day_without_trades_an_unfinished_day_and_an_edited_file(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    day = _yesterday()
    assert await pay_client.trade_bill(bill_date=day) == []
    with pytest.raises(WeChatPayBillNotReady):
        await pay_client.trade_bill(bill_date=datetime.now(SHANGHAI).date())

    await _paid(fake, pay_client, "WY20261201000001", 12345)
    _move_to(fake, day)

    def differ(rows: list[BillRow]) -> list[BillRow]:
        return [dataclasses.replace(rows[0], settlement_total_fen=12344, order_total_fen=12344)]

    fake.edit_bill(day, differ)
    [row] = await pay_client.trade_bill(bill_date=day)
    assert row.settlement_total_fen == 12344  # reported as the file says; reconciling is the caller's


async def test_a_download_that_does_not_match_its_hash_is_refused(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    await _paid(fake, pay_client, "WY20261201000001", 12345)
    day = _yesterday()
    _move_to(fake, day)
    original = fake._tradebill

    def corrupt(request, payload):  # type: ignore[no-untyped-def]
        status, body = original(request, payload)
        for token in fake._downloads:
            fake._downloads[token] = gzip.compress(
                gzip.decompress(fake._downloads[token]).replace(b"123.45", b"123.46")
            )
        return status, body

    fake._tradebill = corrupt  # type: ignore[method-assign]
    with pytest.raises(WeChatPayError) as caught:
        await pay_client.trade_bill(bill_date=day)
    assert caught.value.details["reason"] == "bill hash mismatch"


async def test_our_signed_download_request_never_leaves_wechat_pay(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    await _paid(fake, pay_client, "WY20261201000001", 12345)
    day = _yesterday()
    _move_to(fake, day)
    original = fake._tradebill

    def elsewhere(request, payload):  # type: ignore[no-untyped-def]
        status, body = original(request, payload)
        assert fake.base_url is not None
        return status, body.replace(fake.base_url.encode(), b"http://attacker.example")

    fake._tradebill = elsewhere  # type: ignore[method-assign]
    with pytest.raises(WeChatPayError) as caught:
        await pay_client.trade_bill(bill_date=day)
    assert caught.value.details["reason"] == "download_url off WeChat Pay"
    assert fake.calls["download"] == 0
