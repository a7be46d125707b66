"""A fake WeChat Pay (API v3, partner mode): real HTTP on loopback, the v3 paths and JSON shapes.

Tests run the real ``WeChatPayClient`` against it, and fake mode (``make run``) points the client at it.
It checks every request's ``Authorization: WECHATPAY2-SHA256-RSA2048`` signature with our merchant
public key (401 SIGN_ERROR otherwise), signs every answer and notification with its own platform key
pair (generated at start; ``platform_public_key`` / ``platform_public_key_id`` go into our settings) and
encrypts notification resources with the API v3 key.

``FakeWeChatPay()`` also generates a merchant key pair and API v3 key unless given them;
``client_options()`` is everything ``WeChatPayClient`` needs apart from the cache and our notify URL.

Knobs and hooks:

- ``auto_pay_after=seconds``: every new order pays itself after that delay (fake mode, ``make run``)

- ``pay(out_trade_no)``: the user pays (NOTPAY -> SUCCESS) and a TRANSACTION.SUCCESS notification is
  POSTed to the notify URL the order was created with; ``user_paying`` / ``payment_failed`` set the
  other states
- ``notify_transaction(out_trade_no, times=n, concurrent=True)``: WeChat Pay's retries of the same
  notification (same id, new nonce and timestamp each); ``deliver(delivery)`` sends one exact delivery
  again (same nonce: a replay)
- ``hold = True``: notifications are built and kept in ``held`` instead of sent; ``release(order)``
  sends them in any order (out-of-order delivery)
- ``probe()``: a WECHATPAY/SIGNTEST/ notification with a deliberately bad signature
- ``complete_refund(out_refund_no, status)``: the refund ends (SUCCESS / ABNORMAL / CLOSED) and its
  REFUND.* notification is sent
- ``signed_notification(...)``: headers and body of a notification with any field overridden, for
  tests of our notification handling (stale, future, wrong key, wrong serial, bad ciphertext, ...)
- trade bill: ``bill_rows(date)`` are built from the fake's orders and refunds;
  ``edit_bill(date, fn)`` alters a day's file (reconciliation differences)
- ``fail_next(route, status, code, message)``; ``sign_answers_with_wrong_key``; ``calls`` per route;
  ``deliveries`` records every notification sent and the HTTP status we answered
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from core.jsonutil import dumpb, loads
from wechat.pay import notify
from wechat.pay.fake_records import SHANGHAI, ClientOptions, Delivery, FakeOrder, FakeRefund
from wechat.pay.fake_server import FakePayServer, shanghai_now
from wechat.pay.keys import KeyPair

__all__ = ["SHANGHAI", "ClientOptions", "Delivery", "FakeOrder", "FakeRefund", "FakeWeChatPay"]


class FakeWeChatPay(FakePayServer):
    def __init__(
        self,
        sp_mchid: str = "1900000100",
        sp_appid: str = "wx0000000000000000",
        *,
        merchant: KeyPair | None = None,
        apiv3_key: str | None = None,
        platform: KeyPair | None = None,
        wrong_key: KeyPair | None = None,
        auto_pay_after: float | None = None,
    ) -> None:
        """Keys not given are generated (tests pass pairs generated once per session: RSA key
        generation takes a good part of a second). ``auto_pay_after``: every new order is paid by
        itself that many seconds later (fake mode: a demo resident's payment goes through)."""
        super().__init__(
            sp_mchid, sp_appid, merchant=merchant, apiv3_key=apiv3_key, platform=platform, wrong_key=wrong_key
        )
        self.deliveries: list[Delivery] = []
        self.held: list[Delivery] = []
        self.hold = False
        self._notification_ids: dict[tuple[str, str], str] = {}
        self._client = httpx.AsyncClient(timeout=10)
        self.auto_pay_after = auto_pay_after
        self._tasks: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().stop()
        await self._client.aclose()

    def _order_created(self, order: FakeOrder) -> None:
        if self.auto_pay_after is None:
            return
        task = asyncio.get_running_loop().create_task(self._pay_later(order, self.auto_pay_after))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pay_later(self, order: FakeOrder, delay: float) -> None:
        await asyncio.sleep(delay)
        if order.trade_state == "NOTPAY":
            await self.pay(order.out_trade_no, sub_mchid=order.sub_mchid)

    # --- the user's side ---------------------------------------------------------------------

    async def pay(
        self,
        out_trade_no: str,
        *,
        sub_mchid: str | None = None,
        payer_total: int | None = None,
        deliver: bool = True,
    ) -> Delivery | None:
        """The user pays the order; returns the TRANSACTION.SUCCESS delivery (None if deliver=False)."""
        order = self.order(out_trade_no, sub_mchid)
        if order.trade_state not in ("NOTPAY", "USERPAYING", "PAYERROR"):
            raise ValueError(f"order {out_trade_no} is {order.trade_state}")
        if order.time_expire and datetime.fromisoformat(order.time_expire) <= shanghai_now():
            raise ValueError(f"order {out_trade_no} expired at {order.time_expire}")
        order.trade_state = "SUCCESS"
        order.transaction_id = "42000" + secrets.randbelow(10**23).__str__().zfill(23)
        order.success_time = shanghai_now()
        order.payer_total = order.amount_total if payer_total is None else payer_total
        if not deliver:
            return None
        return await self.notify_transaction(out_trade_no, sub_mchid=sub_mchid)

    def user_paying(self, out_trade_no: str) -> None:
        self.order(out_trade_no).trade_state = "USERPAYING"

    def payment_failed(self, out_trade_no: str) -> None:
        self.order(out_trade_no).trade_state = "PAYERROR"

    async def notify_transaction(
        self, out_trade_no: str, *, sub_mchid: str | None = None, times: int = 1, concurrent: bool = False
    ) -> Delivery:
        """Send the order's TRANSACTION.SUCCESS ``times`` times (WeChat Pay's retries: one notification
        id, a new nonce and timestamp per delivery); returns the last delivery."""
        order = self.order(out_trade_no, sub_mchid)
        if order.trade_state not in ("SUCCESS", "REFUND"):
            raise ValueError(f"order {out_trade_no} is not paid")
        notification_id = self._notification_ids.setdefault(("T", order.out_trade_no), secrets.token_hex(18))
        payload = self.transaction_json(order)
        deliveries = [
            self._build("TRANSACTION.SUCCESS", notification_id, order.out_trade_no, order.notify_url, payload)
            for _ in range(times)
        ]
        return await self._send_all(deliveries, concurrent)

    async def complete_refund(self, out_refund_no: str, status: str = "SUCCESS") -> Delivery:
        """The refund ends in ``status``; its REFUND.<status> notification is sent."""
        if status not in ("SUCCESS", "ABNORMAL", "CLOSED"):
            raise ValueError(status)
        refund = self.refund(out_refund_no)
        refund.status = status
        if status == "SUCCESS":
            refund.success_time = shanghai_now()
        elif status == "CLOSED":
            self.order(refund.out_trade_no, refund.sub_mchid).refunded -= refund.refund
        return await self.notify_refund(out_refund_no)

    async def notify_refund(
        self, out_refund_no: str, *, times: int = 1, concurrent: bool = False
    ) -> Delivery:
        refund = self.refund(out_refund_no)
        if refund.status == "PROCESSING":
            raise ValueError("a processing refund has no notification")
        notification_id = self._notification_ids.setdefault(("R", out_refund_no), secrets.token_hex(18))
        payload = self.refund_notification_json(refund)
        deliveries = [
            self._build(f"REFUND.{refund.status}", notification_id, out_refund_no, refund.notify_url, payload)
            for _ in range(times)
        ]
        return await self._send_all(deliveries, concurrent)

    async def probe(self, url: str) -> Delivery:
        """WeChat Pay's signature probe: a well-formed notification with a WECHATPAY/SIGNTEST/ signature."""
        body = notify.notification_body(
            self.apiv3_key, event_type="TRANSACTION.SUCCESS", payload={"probe": True}
        )
        bogus = notify.PROBE_PREFIX + base64.b64encode(secrets.token_bytes(64)).decode()
        headers = notify.signed_headers(self._platform_key, self.platform.serial, body, signature=bogus)
        return await self.deliver(Delivery("TRANSACTION.SUCCESS", "probe", "", url, headers, body.encode()))

    async def release(self, order: Iterable[int] | None = None) -> list[Delivery]:
        """Send the held notifications, in the given order of their indexes (default: reversed)."""
        held, self.held = self.held, []
        indexes = list(order) if order is not None else list(range(len(held)))[::-1]
        return [await self.deliver(held[i]) for i in indexes]

    def signed_notification(
        self,
        event_type: str,
        payload: dict[str, Any],
        *,
        notification_id: str | None = None,
        timestamp: str | None = None,
        nonce: str | None = None,
        serial: str | None = None,
        key: Any = None,
        signature: str | None = None,
        tamper_ciphertext: bool = False,
        apiv3_key: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of a notification, any part overridden (``key``: another RSA private key
        to sign with; ``tamper_ciphertext``: flip a byte of the ciphertext, then sign)."""
        body = notify.notification_body(
            apiv3_key or self.apiv3_key,
            event_type=event_type,
            payload=payload,
            notification_id=notification_id,
        )
        if tamper_ciphertext:
            envelope = loads(body)
            raw = bytearray(base64.b64decode(envelope["resource"]["ciphertext"]))
            raw[0] ^= 1
            envelope["resource"]["ciphertext"] = base64.b64encode(bytes(raw)).decode()
            body = dumpb(envelope).decode()
        headers = notify.signed_headers(
            key or self._platform_key,
            serial or self.platform.serial,
            body,
            timestamp=timestamp,
            nonce=nonce,
            signature=signature,
        )
        return headers, body.encode()

    async def deliver(self, delivery: Delivery) -> Delivery:
        """POST one delivery to its URL as it is (the same nonce again is a replay)."""
        try:
            response = await self._client.post(
                delivery.url,
                content=delivery.body,
                headers={**delivery.headers, "Content-Type": "application/json"},
            )
            status: int | None = response.status_code
        except httpx.HTTPError:
            status = None
        sent = replace(delivery, status=status)
        self.deliveries.append(sent)
        return sent

    def _build(
        self, event_type: str, notification_id: str, key: str, url: str, payload: dict[str, Any]
    ) -> Delivery:
        body = notify.notification_body(
            self.apiv3_key, event_type=event_type, payload=payload, notification_id=notification_id
        )
        headers = notify.signed_headers(self._platform_key, self.platform.serial, body)
        return Delivery(event_type, notification_id, key, url, headers, body.encode())

    async def _send_all(self, deliveries: list[Delivery], concurrent: bool) -> Delivery:
        if self.hold:
            self.held.extend(deliveries)
            return deliveries[-1]
        if concurrent:
            return (await asyncio.gather(*(self.deliver(d) for d in deliveries)))[-1]
        sent = deliveries[-1]
        for delivery in deliveries:
            sent = await self.deliver(delivery)
        return sent
