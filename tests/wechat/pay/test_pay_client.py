"""Our WeChat Pay client against the fake over real HTTP: JSAPI prepay and the wx.requestPayment
parameters, query, close, refund, and the errors WeChat Pay answers."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from core.cache import Cache
from wechat.pay.client import WeChatPayClient
from wechat.pay.errors import (
    PayRequestInvalid,
    WeChatPayAnswerUnverified,
    WeChatPayBusy,
    WeChatPayDuplicateOrder,
    WeChatPayError,
    WeChatPayOrderClosed,
    WeChatPayOrderNotFound,
    WeChatPayOrderPaid,
    WeChatPayRefundRefused,
    WeChatPayUnreachable,
)
from wechat.pay.fake import FakeWeChatPay
from wechat.pay.keys import KeyPair, generate_key_pair

from .conftest import OPENID, SUB_MCHID, Receiver

EXPIRE = datetime.now(UTC) + timedelta(minutes=30)


async def _prepay(client: WeChatPayClient, no: str = "WY20261201000001", fen: int = 12345, **kw: Any) -> str:
    args: dict[str, Any] = {
        "sub_mchid": SUB_MCHID,
        "description": "物业费-3栋1单元502-2026年12月",
        "out_trade_no": no,
        "amount_fen": fen,
        "payer_openid": OPENID,
        "time_expire": EXPIRE,
        "attach": "bill:17",
    } | kw
    return await client.jsapi_prepay(**args)


async def test_prepay_creates_the_partner_order_and_params_verify_with_the_merchant_key(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    prepay_id = await _prepay(pay_client)
    order = fake.order("WY20261201000001")
    assert (order.sp_mchid, order.sp_appid, order.sub_mchid) == (fake.sp_mchid, fake.sp_appid, SUB_MCHID)
    assert (order.amount_total, order.payer_openid, order.attach) == (12345, OPENID, "bill:17")
    assert order.description == "物业费-3栋1单元502-2026年12月"
    assert order.notify_url.endswith("/notify")
    assert order.time_expire == EXPIRE.astimezone().astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    ).isoformat(timespec="seconds")
    assert order.prepay_id == prepay_id

    params = pay_client.payment_params(prepay_id)
    d = params.as_dict()
    assert set(d) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert (d["appId"], d["package"], d["signType"]) == (fake.sp_appid, f"prepay_id={prepay_id}", "RSA")
    assert abs(int(d["timeStamp"]) - datetime.now(UTC).timestamp()) < 5
    message = f"{d['appId']}\n{d['timeStamp']}\n{d['nonceStr']}\n{d['package']}\n".encode()
    public = serialization.load_pem_public_key(fake.merchant.public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(base64.b64decode(d["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())
    assert pay_client.payment_params(prepay_id).nonce_str != params.nonce_str


async def test_same_order_again_gives_the_same_prepay_id_other_fields_are_refused(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    first = await _prepay(pay_client)
    assert await _prepay(pay_client) == first
    with pytest.raises(WeChatPayDuplicateOrder):
        await _prepay(pay_client, fen=12346)
    assert len(fake.orders) == 1 and fake.order("WY20261201000001").amount_total == 12345


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"description": "费" * 43}, "description"),  # 129 bytes of UTF-8
        ({"description": " "}, "description"),
        ({"out_trade_no": "short"}, "out_trade_no"),
        ({"out_trade_no": "WY/2026/12/01"}, "out_trade_no"),
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": True}, "amount_fen"),
        ({"sub_mchid": "19000x"}, "sub_mchid"),
        ({"payer_openid": ""}, "payer_openid"),
        ({"attach": "附" * 43}, "attach"),
        ({"time_expire": datetime(2026, 12, 1, 12, 0)}, "time_expire"),
    ],
)
async def test_limits_are_checked_before_any_request(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, override: dict[str, Any], field: str
) -> None:
    with pytest.raises(PayRequestInvalid) as caught:
        await _prepay(pay_client, **override)
    assert caught.value.details["field"] == field
    assert fake.calls["jsapi"] == 0 and fake.orders == {}


async def test_description_of_exactly_127_bytes_passes(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    description = "费" * 42 + "a"  # 127 bytes
    await _prepay(pay_client, description=description)
    assert fake.order("WY20261201000001").description == description


async def test_query_before_and_after_paying(fake: FakeWeChatPay, pay_client: WeChatPayClient) -> None:
    await _prepay(pay_client)
    unpaid = await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert (unpaid.trade_state, unpaid.amount_total, unpaid.transaction_id, unpaid.success_time) == (
        "NOTPAY",
        12345,
        None,
        None,
    )
    await fake.pay("WY20261201000001", deliver=False)
    paid = await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    order = fake.order("WY20261201000001")
    assert paid.trade_state == "SUCCESS"
    assert (paid.sp_mchid, paid.sub_mchid, paid.sp_appid) == (fake.sp_mchid, SUB_MCHID, fake.sp_appid)
    assert (paid.amount_total, paid.payer_total, paid.payer_openid) == (12345, 12345, OPENID)
    assert paid.transaction_id == order.transaction_id and len(order.transaction_id) == 28
    assert paid.success_time == order.success_time and paid.success_time is not None
    assert paid.success_time.utcoffset() == timedelta(hours=8)
    assert paid.attach == "bill:17"


async def test_query_of_an_unknown_order(pay_client: WeChatPayClient) -> None:
    with pytest.raises(WeChatPayOrderNotFound) as caught:
        await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201999999")
    assert caught.value.details["code"] == "ORDER_NOT_EXIST"


async def test_another_sub_merchant_does_not_see_the_order(pay_client: WeChatPayClient) -> None:
    await _prepay(pay_client)
    with pytest.raises(WeChatPayOrderNotFound):
        await pay_client.query_order(sub_mchid="1900000110", out_trade_no="WY20261201000001")


async def test_close_then_prepay_again_is_refused(fake: FakeWeChatPay, pay_client: WeChatPayClient) -> None:
    await _prepay(pay_client)
    await pay_client.close_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert fake.order("WY20261201000001").trade_state == "CLOSED"
    closed = await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert closed.trade_state == "CLOSED"
    with pytest.raises(WeChatPayOrderClosed):
        await _prepay(pay_client)


async def test_closing_a_paid_order_is_refused(fake: FakeWeChatPay, pay_client: WeChatPayClient) -> None:
    await _prepay(pay_client)
    await fake.pay("WY20261201000001", deliver=False)
    with pytest.raises(WeChatPayOrderPaid):
        await pay_client.close_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert fake.order("WY20261201000001").trade_state == "SUCCESS"


async def test_partial_refunds_up_to_the_total(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await _prepay(pay_client, fen=10000)
    await fake.pay("WY20261201000001", deliver=False)
    first = await pay_client.refund(
        sub_mchid=SUB_MCHID,
        out_trade_no="WY20261201000001",
        out_refund_no="RF20261201000001",
        refund_fen=3000,
        total_fen=10000,
        reason="多收退还",
    )
    assert (first.status, first.refund_fen, first.total_fen, first.out_trade_no) == (
        "PROCESSING",
        3000,
        10000,
        "WY20261201000001",
    )
    assert first.refund_id and first.transaction_id == fake.order("WY20261201000001").transaction_id
    again = await pay_client.refund(
        sub_mchid=SUB_MCHID,
        out_trade_no="WY20261201000001",
        out_refund_no="RF20261201000001",
        refund_fen=3000,
        total_fen=10000,
        reason="多收退还",
    )
    assert again.refund_id == first.refund_id and len(fake.refunds) == 1
    with pytest.raises(WeChatPayRefundRefused):
        await pay_client.refund(
            sub_mchid=SUB_MCHID,
            out_trade_no="WY20261201000001",
            out_refund_no="RF20261201000002",
            refund_fen=7001,
            total_fen=10000,
            reason="",
        )
    assert len(fake.refunds) == 1
    rest = await pay_client.refund(
        sub_mchid=SUB_MCHID,
        out_trade_no="WY20261201000001",
        out_refund_no="RF20261201000002",
        refund_fen=7000,
        total_fen=10000,
        reason="",
    )
    assert rest.status == "PROCESSING"

    delivery = await fake.complete_refund("RF20261201000001")
    assert delivery.status == 204
    [note] = receiver.accepted
    assert note.event_type == "REFUND.SUCCESS" and note.transaction is None and note.refund is not None
    assert (note.refund.out_refund_no, note.refund.status, note.refund.refund_fen) == (
        "RF20261201000001",
        "SUCCESS",
        3000,
    )
    assert (note.refund.sp_mchid, note.refund.sub_mchid) == (fake.sp_mchid, SUB_MCHID)
    assert note.refund.success_time is not None
    queried = await pay_client.query_refund(sub_mchid=SUB_MCHID, out_refund_no="RF20261201000001")
    assert (queried.status, queried.success_time) == ("SUCCESS", note.refund.success_time)

    await fake.complete_refund("RF20261201000002", "ABNORMAL")
    assert [n.event_type for n in receiver.accepted] == ["REFUND.SUCCESS", "REFUND.ABNORMAL"]


async def test_refund_of_an_unpaid_order_and_an_unknown_refund(pay_client: WeChatPayClient) -> None:
    await _prepay(pay_client, fen=10000)
    with pytest.raises(WeChatPayRefundRefused):
        await pay_client.refund(
            sub_mchid=SUB_MCHID,
            out_trade_no="WY20261201000001",
            out_refund_no="RF1",
            refund_fen=1,
            total_fen=10000,
            reason="",
        )
    with pytest.raises(WeChatPayOrderNotFound):
        await pay_client.query_refund(sub_mchid=SUB_MCHID, out_refund_no="RF1")
    with pytest.raises(PayRequestInvalid):
        await pay_client.refund(
            sub_mchid=SUB_MCHID,
            out_trade_no="WY20261201000001",
            out_refund_no="RF1",
            refund_fen=10001,
            total_fen=10000,
            reason="",
        )


async def test_the_fake_refuses_unsigned_and_badly_signed_requests(fake: FakeWeChatPay, cache: Cache) -> None:
    assert fake.base_url is not None
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        unsigned = await http.get(
            f"/v3/pay/partner/transactions/out-trade-no/WY1?sp_mchid={fake.sp_mchid}&sub_mchid=1"
        )
        forged = await http.get(
            "/v3/pay/partner/transactions/out-trade-no/WY20261201000001",
            headers={
                "Authorization": f'WECHATPAY2-SHA256-RSA2048 mchid="{fake.sp_mchid}",nonce_str="n",'
                f'signature="{base64.b64encode(b"x" * 256).decode()}",timestamp="{int(datetime.now().timestamp())}",'
                f'serial_no="{fake.merchant.serial}"'
            },
        )
    for answer in (unsigned, forged):
        assert answer.status_code == 401 and answer.json()["code"] == "SIGN_ERROR"

    # Our client with another merchant key (same serial): WeChat Pay refuses its signature
    other = generate_key_pair(fake.merchant.serial)
    options = fake.client_options()
    options["private_key"] = other.private_pem
    client = WeChatPayClient(**options, notify_url="https://wuye.example.cn/notify", cache=cache)
    try:
        with pytest.raises(WeChatPayError) as caught:
            await _prepay(client)
        assert caught.value.details["code"] == "SIGN_ERROR" and caught.value.details["status"] == 401
        assert fake.orders == {}
    finally:
        await client.aclose()


class _Tampering(httpx.AsyncHTTPTransport):
    """Sends each signed request with another amount in its body, the Authorization unchanged."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content.replace(b'"total": 12345', b'"total": 1')
        assert body != request.content
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        forged = httpx.Request(request.method, request.url, headers=headers, content=body)
        return await super().handle_async_request(forged)


async def test_the_fake_refuses_a_tampered_body(fake: FakeWeChatPay, cache: Cache) -> None:
    http = httpx.AsyncClient(transport=_Tampering())
    client = WeChatPayClient(
        **fake.client_options(), notify_url="https://wuye.example.cn/n", cache=cache, http=http
    )
    try:
        with pytest.raises(WeChatPayError) as caught:
            await _prepay(client)
    finally:
        await http.aclose()
    assert caught.value.details["code"] == "SIGN_ERROR" and fake.orders == {}
    assert fake.calls["jsapi"] == 1


async def test_answers_not_signed_by_the_platform_are_refused(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    fake.sign_answers_with_wrong_key = True
    with pytest.raises(WeChatPayAnswerUnverified):
        await _prepay(pay_client)


async def test_system_errors_and_outages(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, cache: Cache
) -> None:
    fake.fail_next("jsapi", 500, "SYSTEM_ERROR", "系统错误")
    with pytest.raises(WeChatPayBusy):
        await _prepay(pay_client)
    fake.fail_next("query", 429, "FREQUENCY_LIMITED", "频率超限")
    with pytest.raises(Exception) as caught:
        await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert getattr(caught.value, "error_code", None) == "wechat_pay_rate_limited"

    options = fake.client_options()
    options["base_url"] = "http://127.0.0.1:9"
    client = WeChatPayClient(**options, notify_url="https://wuye.example.cn/notify", cache=cache)
    try:
        with pytest.raises(WeChatPayUnreachable):
            await _prepay(client)
    finally:
        await client.aclose()


async def test_requests_go_to_the_configured_base_url_through_our_http_client(
    cache: Cache, key_pairs: tuple[KeyPair, KeyPair, KeyPair]
) -> None:
    # offline: wechatpayv3's private gateway and client attributes are what we set
    merchant, platform, stranger = key_pairs
    fake = FakeWeChatPay(merchant=merchant, platform=platform, wrong_key=stranger)
    fake.base_url = "https://pay.example.test"
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"code": "SYSTEM_ERROR", "message": "busy"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = WeChatPayClient(
        **fake.client_options(), notify_url="https://wuye.example.cn/n", cache=cache, http=http
    )
    with pytest.raises(WeChatPayBusy):
        await client.close_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    [request] = seen
    assert (
        str(request.url)
        == "https://pay.example.test/v3/pay/partner/transactions/out-trade-no/WY20261201000001/close"
    )
    assert request.headers["Authorization"].startswith(f'WECHATPAY2-SHA256-RSA2048 mchid="{fake.sp_mchid}"')
    assert request.headers["Wechatpay-Serial"] == fake.platform_public_key_id
    await client.aclose()
    assert not http.is_closed  # a shared client is the caller's
    await http.aclose()


def _authorization(fake: FakeWeChatPay, method: str, target: str, body: str = "", **override: str) -> str:
    from wechat.pay.keys import load_private_key
    from wechat.pay.notify import sign

    fields = {
        "mchid": fake.sp_mchid,
        "nonce_str": secrets.token_hex(16),
        "timestamp": str(int(datetime.now(UTC).timestamp())),
        "serial_no": fake.merchant.serial,
    } | override
    message = f"{method}\n{target}\n{fields['timestamp']}\n{fields['nonce_str']}\n{body}\n"
    fields["signature"] = override.get("signature") or sign(
        load_private_key(fake.merchant.private_pem), message
    )
    return "WECHATPAY2-SHA256-RSA2048 " + ",".join(f'{k}="{v}"' for k, v in fields.items())


async def test_the_fake_checks_mchid_serial_time_and_nonce_of_each_request(fake: FakeWeChatPay) -> None:
    assert fake.base_url is not None
    target = f"/v3/pay/partner/transactions/out-trade-no/WY20261201000001?sp_mchid={fake.sp_mchid}&sub_mchid={SUB_MCHID}"
    stale = str(int(datetime.now(UTC).timestamp()) - 301)
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        good = _authorization(fake, "GET", target)
        first = await http.get(target, headers={"Authorization": good})
        replayed = await http.get(target, headers={"Authorization": good})
        refused = [
            await http.get(target, headers={"Authorization": _authorization(fake, "GET", target, **o)})
            for o in ({"mchid": "1900000999"}, {"serial_no": "0000"}, {"timestamp": stale})
        ]
        other_target = await http.get(
            target.replace("WY20261201000001", "WY20261201000002"),
            headers={"Authorization": _authorization(fake, "GET", target)},
        )
    assert first.status_code == 404 and first.json()["code"] == "ORDER_NOT_EXIST"  # signed: answered
    for answer in (replayed, *refused, other_target):
        assert answer.status_code == 401 and answer.json()["code"] == "SIGN_ERROR"


async def test_an_unpaid_order_s_answer_without_its_amount(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    await _prepay(pay_client)
    shown = fake.transaction_json

    def without_amount(order):  # type: ignore[no-untyped-def]
        data = shown(order)
        data["amount"] = {"payer_currency": "CNY"}
        return data

    fake.transaction_json = without_amount  # type: ignore[method-assign]
    unpaid = await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert (unpaid.trade_state, unpaid.amount_total) == ("NOTPAY", 0)
    await fake.pay("WY20261201000001", deliver=False)
    with pytest.raises(WeChatPayError) as caught:  # a paid order always states its amount
        await pay_client.query_order(sub_mchid=SUB_MCHID, out_trade_no="WY20261201000001")
    assert caught.value.details["reason"] == "amount.total missing"


async def test_an_expired_order_cannot_be_paid(fake: FakeWeChatPay, pay_client: WeChatPayClient) -> None:
    await _prepay(pay_client, time_expire=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(ValueError, match="expired"):
        await fake.pay("WY20261201000001")
    assert fake.order("WY20261201000001").trade_state == "NOTPAY"
