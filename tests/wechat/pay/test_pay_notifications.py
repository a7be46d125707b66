"""Notifications from WeChat Pay: the fake sends them over real HTTP to a notify URL of ours, and the
client's parse_notification refuses every one it cannot believe, each with its own code."""

from __future__ import annotations

import asyncio
import base64
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.cache import Cache
from wechat.pay import notify
from wechat.pay.client import WeChatPayClient
from wechat.pay.errors import (
    PayNotificationRejected,
    PayNotifyBodyInvalid,
    PayNotifyProbe,
    PayNotifyReplayed,
    PayNotifySerialUnknown,
    PayNotifySignatureInvalid,
    PayNotifyStale,
    PayNotifyUndecryptable,
)
from wechat.pay.fake import FakeWeChatPay
from wechat.pay.keys import generate_key_pair, load_private_key
from wechat.pay.protocol import notify_fail, notify_ok

from .conftest import OPENID, SUB_MCHID, Receiver

NO = "WY20261201000001"


async def _paid_order(fake: FakeWeChatPay, client: WeChatPayClient, fen: int = 12345) -> dict[str, Any]:
    await client.jsapi_prepay(
        sub_mchid=SUB_MCHID,
        description="物业费",
        out_trade_no=NO,
        amount_fen=fen,
        payer_openid=OPENID,
        time_expire=datetime.now(UTC) + timedelta(minutes=30),
    )
    await fake.pay(NO, deliver=False)
    return fake.transaction_json(fake.order(NO))


async def _parse(
    client: WeChatPayClient, headers: dict[str, str], body: bytes, now: datetime | None = None
) -> Any:
    return await client.parse_notification(headers, body, now=now or datetime.now(UTC))


async def test_paying_sends_a_notification_that_decrypts(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await pay_client.jsapi_prepay(
        sub_mchid=SUB_MCHID,
        description="物业费",
        out_trade_no=NO,
        amount_fen=12345,
        payer_openid=OPENID,
        time_expire=datetime.now(UTC) + timedelta(minutes=30),
        attach="order:9",
    )
    delivery = await fake.pay(NO)
    assert delivery is not None and delivery.status == 204
    assert receiver.answers == [(204, b"")]
    [note] = receiver.accepted
    order = fake.order(NO)
    assert note.event_type == "TRANSACTION.SUCCESS" and note.refund is None
    assert note.id == delivery.notification_id and note.resource_type == "encrypt-resource"
    t = note.transaction
    assert t is not None
    assert (t.sp_mchid, t.sub_mchid, t.sp_appid, t.out_trade_no) == (
        fake.sp_mchid,
        SUB_MCHID,
        fake.sp_appid,
        NO,
    )
    assert (t.trade_state, t.amount_total, t.payer_total, t.payer_openid) == ("SUCCESS", 12345, 12345, OPENID)
    assert (t.transaction_id, t.success_time, t.attach) == (
        order.transaction_id,
        order.success_time,
        "order:9",
    )


async def test_retries_are_new_deliveries_of_one_notification(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await _paid_order(fake, pay_client)
    await fake.notify_transaction(NO, times=20, concurrent=True)
    assert len(receiver.accepted) == 20 and receiver.refused == []
    assert len({n.id for n in receiver.accepted}) == 1
    assert len({n.nonce_key for n in receiver.accepted}) == 20


async def test_the_same_delivery_again_is_a_replay(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await _paid_order(fake, pay_client)
    first = await fake.notify_transaction(NO)
    again = await fake.deliver(first)
    assert (first.status, again.status) == (204, 401)
    assert receiver.refused == ["pay_notify_replayed"] and len(receiver.accepted) == 1
    status, body = receiver.answers[-1]
    assert status == 401
    assert b'"code":"FAIL"' in body and "已接收过".encode() in body


async def test_concurrent_copies_of_one_delivery_are_taken_once(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await _paid_order(fake, pay_client)
    fake.hold = True
    delivery = await fake.notify_transaction(NO)
    fake.hold = False
    results = await asyncio.gather(*(fake.deliver(delivery) for _ in range(10)))
    assert sorted(r.status or 0 for r in results) == [204] + [401] * 9
    assert len(receiver.accepted) == 1 and receiver.refused == ["pay_notify_replayed"] * 9


async def test_held_notifications_arrive_out_of_order(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await _paid_order(fake, pay_client, fen=10000)
    fake.hold = True
    await fake.notify_transaction(NO)
    await pay_client.refund(
        sub_mchid=SUB_MCHID, out_trade_no=NO, out_refund_no="RF1", refund_fen=100, total_fen=10000, reason=""
    )
    await fake.complete_refund("RF1")
    assert [d.event_type for d in fake.held] == ["TRANSACTION.SUCCESS", "REFUND.SUCCESS"]
    fake.hold = False
    sent = await fake.release()  # reversed: the refund's before the payment's
    assert [d.status for d in sent] == [204, 204]
    assert [n.event_type for n in receiver.accepted] == ["REFUND.SUCCESS", "TRANSACTION.SUCCESS"]


async def test_the_signature_probe_is_refused(fake: FakeWeChatPay, receiver: Receiver) -> None:
    delivery = await fake.probe(receiver.url)
    assert delivery.status == 401 and delivery.headers["Wechatpay-Signature"].startswith(
        "WECHATPAY/SIGNTEST/"
    )
    assert receiver.refused == ["pay_notify_probe"] and receiver.accepted == []


async def test_a_good_notification_within_five_minutes_either_way(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    payload = await _paid_order(fake, pay_client)
    now = datetime.now(UTC)
    for skew in (-299, 0, 299):
        timestamp = str(int(now.timestamp()) + skew)
        headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload, timestamp=timestamp)
        note = await _parse(pay_client, headers, body, now)
        assert note.transaction is not None and note.transaction.out_trade_no == NO


@pytest.mark.parametrize("skew", [-301, 301, -86400])
async def test_stale_and_future_timestamps_are_refused(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, cache: Cache, skew: int
) -> None:
    payload = await _paid_order(fake, pay_client)
    now = datetime.now(UTC)
    nonce = secrets.token_hex(16)
    headers, body = fake.signed_notification(
        "TRANSACTION.SUCCESS", payload, timestamp=str(int(now.timestamp()) + skew), nonce=nonce
    )
    with pytest.raises(PayNotifyStale) as caught:
        await _parse(pay_client, headers, body, now)
    assert caught.value.error_code == "pay_notify_stale"
    assert await cache.get(notify.nonce_key(nonce)) is None  # a refused one spends no nonce


def _flip(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


async def test_forgeries_are_refused_each_with_its_code(
    fake: FakeWeChatPay, pay_client: WeChatPayClient
) -> None:
    payload = await _paid_order(fake, pay_client)
    other_key = load_private_key(generate_key_pair().private_pem)
    good_headers, good_body = fake.signed_notification("TRANSACTION.SUCCESS", payload)
    cases: list[tuple[type[PayNotificationRejected], str, dict[str, str], bytes]] = []

    headers = dict(good_headers) | {"Wechatpay-Signature": _flip(good_headers["Wechatpay-Signature"])}
    cases.append((PayNotifySignatureInvalid, "pay_notify_signature_invalid", headers, good_body))
    headers = dict(good_headers) | {
        "Wechatpay-Signature": base64.b64encode(secrets.token_bytes(256)).decode()
    }
    cases.append((PayNotifySignatureInvalid, "pay_notify_signature_invalid", headers, good_body))
    headers = dict(good_headers) | {"Wechatpay-Signature": "not base64!"}
    cases.append((PayNotifySignatureInvalid, "pay_notify_signature_invalid", headers, good_body))
    headers = {k: v for k, v in good_headers.items() if k != "Wechatpay-Signature"}
    cases.append((PayNotifySignatureInvalid, "pay_notify_signature_invalid", headers, good_body))
    # the body changed after signing (another amount)
    cases.append(
        (
            PayNotifySignatureInvalid,
            "pay_notify_signature_invalid",
            dict(good_headers),
            good_body.replace(b'"', b" ", 1),
        )
    )
    # signed by another key, with our serial
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload, key=other_key)
    cases.append((PayNotifySignatureInvalid, "pay_notify_signature_invalid", headers, body))
    # the right key but another serial
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload, serial="PUB_KEY_ID_0000OTHER")
    cases.append((PayNotifySerialUnknown, "pay_notify_serial_unknown", headers, body))
    headers = {k: v for k, v in good_headers.items() if k != "Wechatpay-Serial"}
    cases.append((PayNotifySerialUnknown, "pay_notify_serial_unknown", headers, good_body))
    headers, body = fake.signed_notification(
        "TRANSACTION.SUCCESS", payload, signature=notify.PROBE_PREFIX + "AAAA"
    )
    cases.append((PayNotifyProbe, "pay_notify_probe", headers, body))
    headers = dict(good_headers) | {"Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}
    cases.append((PayNotifySignatureInvalid, "pay_notify_signature_invalid", headers, good_body))
    headers = dict(good_headers) | {"Wechatpay-Timestamp": "soon"}
    cases.append((PayNotifyStale, "pay_notify_stale", headers, good_body))
    # signed by the platform, but the resource was altered before signing / encrypted with another key
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload, tamper_ciphertext=True)
    cases.append((PayNotifyUndecryptable, "pay_notify_undecryptable", headers, body))
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload, apiv3_key="b" * 32)
    cases.append((PayNotifyUndecryptable, "pay_notify_undecryptable", headers, body))
    headers, body = fake.signed_notification("TRANSACTION.CLOSED", payload)
    cases.append((PayNotifyBodyInvalid, "pay_notify_body_invalid", headers, body))
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload | {"trade_state": "PAID"})
    cases.append((PayNotifyBodyInvalid, "pay_notify_body_invalid", headers, body))
    headers, body = fake.signed_notification(
        "TRANSACTION.SUCCESS", payload | {"amount": {"total": "12345", "currency": "CNY"}}
    )
    cases.append((PayNotifyBodyInvalid, "pay_notify_body_invalid", headers, body))

    for error, code, headers, body in cases:
        with pytest.raises(error) as caught:
            await _parse(pay_client, headers, body)
        assert caught.value.error_code == code, (code, headers)
        assert isinstance(caught.value, PayNotificationRejected)
        assert caught.value.user_message and not caught.value.user_message.isascii()

    # nothing above spent the good delivery's nonce: it is still taken once
    note = await _parse(pay_client, good_headers, good_body)
    assert note.transaction is not None
    with pytest.raises(PayNotifyReplayed):
        await _parse(pay_client, good_headers, good_body)


async def test_header_names_in_any_case(fake: FakeWeChatPay, pay_client: WeChatPayClient) -> None:
    payload = await _paid_order(fake, pay_client)
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload)
    note = await _parse(pay_client, {k.upper(): v for k, v in headers.items()}, body)
    assert note.transaction is not None


async def test_a_notification_we_failed_to_handle_can_be_taken_again(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, cache: Cache
) -> None:
    payload = await _paid_order(fake, pay_client)
    headers, body = fake.signed_notification("TRANSACTION.SUCCESS", payload)
    note = await _parse(pay_client, headers, body)
    assert await cache.get(note.nonce_key) == b"1"
    ttl = await cache.ttl(note.nonce_key)
    assert ttl is not None and 600 < ttl <= 660
    await pay_client.forget_notification(note)
    again = await _parse(pay_client, headers, body)
    assert again.id == note.id

    # an undecryptable but authentic one does not keep its nonce either (WeChat Pay's retry may pass)
    nonce = secrets.token_hex(16)
    headers, body = fake.signed_notification(
        "TRANSACTION.SUCCESS", payload, nonce=nonce, tamper_ciphertext=True
    )
    with pytest.raises(PayNotifyUndecryptable):
        await _parse(pay_client, headers, body)
    assert await cache.get(notify.nonce_key(nonce)) is None


async def test_refund_notifications(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    await _paid_order(fake, pay_client, fen=10000)
    for no, status in (("RF1", "SUCCESS"), ("RF2", "ABNORMAL"), ("RF3", "CLOSED")):
        await pay_client.refund(
            sub_mchid=SUB_MCHID,
            out_trade_no=NO,
            out_refund_no=no,
            refund_fen=1000,
            total_fen=10000,
            reason="退",
        )
        await fake.complete_refund(no, status)
    assert [n.event_type for n in receiver.accepted] == ["REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"]
    for note, no in zip(receiver.accepted, ("RF1", "RF2", "RF3"), strict=True):
        assert note.refund is not None and note.transaction is None
        r = note.refund
        assert (r.out_refund_no, r.out_trade_no, r.refund_fen, r.total_fen) == (no, NO, 1000, 10000)
        assert (r.sp_mchid, r.sub_mchid, r.transaction_id) == (
            fake.sp_mchid,
            SUB_MCHID,
            fake.order(NO).transaction_id,
        )
    assert receiver.accepted[0].refund is not None and receiver.accepted[0].refund.success_time is not None


def test_our_answers_to_wechat_pay() -> None:
    ok = notify_ok()
    assert (ok.status, ok.body, ok.ok) == (204, None, True)
    fail = notify_fail("签名无效", 401)
    assert (fail.status, dict(fail.body or {}), fail.ok) == (
        401,
        {"code": "FAIL", "message": "签名无效"},
        False,
    )
    assert notify_fail("x").status == 500
    with pytest.raises(ValueError):
        notify_fail("x", 200)


async def test_fake_mode_orders_pay_themselves(
    fake: FakeWeChatPay, pay_client: WeChatPayClient, receiver: Receiver
) -> None:
    fake.auto_pay_after = 0.05
    await pay_client.jsapi_prepay(
        sub_mchid=SUB_MCHID,
        description="物业费",
        out_trade_no=NO,
        amount_fen=100,
        payer_openid=OPENID,
        time_expire=datetime.now(UTC) + timedelta(minutes=30),
    )
    assert fake.order(NO).trade_state == "NOTPAY"
    for _ in range(100):
        if receiver.accepted:
            break
        await asyncio.sleep(0.02)
    [note] = receiver.accepted
    assert note.transaction is not None and note.transaction.trade_state == "SUCCESS"
    assert fake.order(NO).trade_state == "SUCCESS"
