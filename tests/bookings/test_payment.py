"""Paying for a booking through payments' purposes with our real WeChat Pay client against the fake
over loopback: the verified notification confirms it (and notifies the resident), cancelling gives
the money back, a hold that runs out closes its order, and money paid for a booking whose place is
gone goes back by the sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bookings import payment
from bookings.models import Booking, Provider, Slot
from core import clock
from core.cache import Cache
from notify.models import Notification
from payments.models import PaymentOrder, RefundRecord
from tests.bookings.conftest import World, publish, residents, tomorrow_at
from tests.payments.conftest import NOTIFY_PATH, SP_APPID, SP_MCHID, pay_keys  # noqa: F401

PROVIDER_SUB_MCHID = "1900000309"


@pytest.fixture
async def paying(world: World, serve: Any, cache: Cache, pay_keys: Any) -> AsyncIterator[Any]:  # noqa: F811
    from wechat.pay.client import WeChatPayClient
    from wechat.pay.fake import FakeWeChatPay

    merchant, platform, stranger = pay_keys
    fake = FakeWeChatPay(SP_MCHID, SP_APPID, merchant=merchant, platform=platform, wrong_key=stranger)
    await fake.start()
    server = await serve()
    client = WeChatPayClient(**fake.client_options(), notify_url=server.url + NOTIFY_PATH, cache=cache)
    server.app.ctx.wechat_pay = client
    await Provider.filter(id=world.company_provider.id).update(sub_mchid=PROVIDER_SUB_MCHID)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as http:
        yield http, fake, client
    await client.aclose()
    await fake.stop()


async def _book_and_pay(http: Any, world: World, service_id: int, hour: int, who: str = "resident") -> Any:
    made = await http.post(
        "/bookings",
        json={
            "service_id": service_id,
            "unit_id": world.units[0].id,
            "starts_at": tomorrow_at(hour).isoformat(),
        },
        headers=world.headers(who),
    )
    assert (made.status_code, made.json()["state"]) == (201, "held"), made.text
    paid = await http.post(f"/bookings/{made.json()['id']}/pay", headers=world.headers(who))
    assert paid.status_code == 201, paid.text
    return paid.json()


async def test_paying_confirms_the_booking_at_the_posted_price(world: World, paying: Any) -> None:
    http, fake, _ = paying
    service = await publish(world, price_fen=8800, free_cancel_hours=2)
    answer = await _book_and_pay(http, world, service.id, 10)
    assert answer["payment"]["package"].startswith("prepay_id=")
    order = await PaymentOrder.get(id=answer["order_id"])
    assert (order.amount_fen, order.purpose, order.reference) == (
        8800,
        "booking",
        str(answer["booking"]["id"]),
    )
    assert order.expires_at <= (await Booking.get(id=answer["booking"]["id"])).hold_expires_at  # type: ignore[operator]
    again = await http.post(f"/bookings/{answer['booking']['id']}/pay", headers=world.headers("resident"))
    assert again.json()["order_id"] == order.id  # the same pending order, not a second one
    delivered = await fake.pay(order.out_trade_no)
    assert delivered.status == 204
    await fake.notify_transaction(order.out_trade_no, times=5, concurrent=True)  # WeChat Pay's retries
    booking = await Booking.get(id=answer["booking"]["id"])
    assert (booking.state.value, booking.hold_expires_at, booking.order_id) == ("confirmed", None, order.id)
    assert await Notification.filter(event="booking.confirmed", user_id=world.uid("resident")).count() == 1
    # the resident cancels in time: the whole amount goes back
    cancelled = await http.post(
        f"/bookings/{booking.id}/cancel", json={"reason": "改天"}, headers=world.headers("resident")
    )
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    [refund] = await RefundRecord.filter(order_id=order.id)
    assert refund.amount_fen == 8800
    await fake.complete_refund(refund.out_refund_no, "SUCCESS")
    assert (await Booking.get(id=booking.id)).refunded_fen == 8800
    assert (await Slot.get(id=booking.slot_id)).taken == 0
    assert await Notification.filter(event="booking.cancelled", user_id=world.uid("resident")).count() == 1


async def test_the_provider_cancels_with_a_reason_and_a_full_refund(world: World, paying: Any) -> None:
    http, fake, _ = paying
    service = await publish(world, price_fen=3000, free_cancel_hours=48)
    answer = await _book_and_pay(http, world, service.id, 11)
    order = await PaymentOrder.get(id=answer["order_id"])
    await fake.pay(order.out_trade_no)
    booking_id = answer["booking"]["id"]
    # too late for the resident (48 h rule), not for the provider
    late = await http.post(f"/bookings/{booking_id}/cancel", json={}, headers=world.headers("resident"))
    assert (late.status_code, late.json()["code"]) == (409, "cancel_too_late")
    r = await http.post(
        f"/admin/providers/{world.company_provider.id}/bookings/{booking_id}/cancel",
        json={"reason": "服务人员生病"},
        headers=world.headers("property_staff"),
    )
    assert (r.status_code, r.json()["cancelled_by"], r.json()["cancel_reason"]) == (
        200,
        "provider",
        "服务人员生病",
    )
    [refund] = await RefundRecord.filter(order_id=order.id)
    assert refund.amount_fen == 3000
    assert await Notification.filter(event="booking.cancelled", user_id=world.uid("resident")).count() == 1


async def test_a_hold_that_runs_out_closes_its_order(world: World, paying: Any) -> None:
    http, fake, client = paying
    service = await publish(world)
    answer = await _book_and_pay(http, world, service.id, 12)
    booking_id = answer["booking"]["id"]
    await Booking.filter(id=booking_id).update(hold_expires_at=clock.now() - timedelta(seconds=1))
    swept = await payment.sweep(client)
    assert (swept["expired"], swept["closed"]) == (1, 1)
    booking = await Booking.get(id=booking_id)
    order = await PaymentOrder.get(id=answer["order_id"])
    assert (booking.state.value, booking.order_id, order.state.value) == ("expired", None, "closed")
    assert fake.order(order.out_trade_no).trade_state == "CLOSED"
    assert (await Slot.get(id=booking.slot_id)).taken == 0


async def test_paid_after_the_hold_ran_out_keeps_a_free_place_or_is_refunded(
    world: World, paying: Any
) -> None:
    http, fake, client = paying
    service = await publish(world, capacity=1)
    tokens = await residents(world, 1)
    first = await _book_and_pay(http, world, service.id, 13)
    # its hold runs out and the periodic job has not run yet; someone else takes the place
    await Booking.filter(id=first["booking"]["id"]).update(hold_expires_at=clock.now() - timedelta(seconds=1))
    other = await http.post(
        "/bookings",
        json={
            "service_id": service.id,
            "unit_id": world.units[0].id,
            "starts_at": tomorrow_at(13).isoformat(),
        },
        headers={"authorization": f"Bearer {tokens[0]}"},
    )
    assert other.status_code == 201
    order = await PaymentOrder.get(id=first["order_id"])
    assert (await fake.pay(order.out_trade_no)).status == 204  # paid late: the payment stands ...
    late = await Booking.get(id=first["booking"]["id"])
    assert (late.state.value, late.refund_pending) == ("expired", True)  # ... but the place is gone
    assert (await Slot.get(id=late.slot_id)).taken == 1
    swept = await payment.sweep(client)
    assert swept["refunded"] == 1
    [refund] = await RefundRecord.filter(order_id=order.id)
    assert refund.amount_fen == order.amount_fen
    assert not (await Booking.get(id=late.id)).refund_pending
    # with a free place the late payment keeps the booking
    second = await _book_and_pay(http, world, service.id, 14)
    await Booking.filter(id=second["booking"]["id"]).update(
        hold_expires_at=clock.now() - timedelta(seconds=1)
    )
    assert (await payment.sweep(None))["expired"] == 1  # no WeChat Pay at hand: the order stays open
    order = await PaymentOrder.get(id=second["order_id"])
    await fake.pay(order.out_trade_no)
    kept = await Booking.get(id=second["booking"]["id"])
    assert (kept.state.value, kept.refund_pending) == ("confirmed", False)
    assert (await Slot.get(id=kept.slot_id)).taken == 1


async def test_pay_on_site_needs_no_payment(world: World, paying: Any) -> None:
    http, _, _ = paying
    service = await publish(world, pay_on_site=True)
    made = await http.post(
        "/bookings",
        json={
            "service_id": service.id,
            "unit_id": world.units[0].id,
            "starts_at": tomorrow_at(10).isoformat(),
        },
        headers=world.headers("owner"),
    )
    assert (made.status_code, made.json()["state"], made.json()["hold_expires_at"]) == (
        201,
        "confirmed",
        None,
    )
    r = await http.post(f"/bookings/{made.json()['id']}/pay", headers=world.headers("owner"))
    assert (r.status_code, r.json()["code"]) == (409, "booking_state_conflict")
    assert await PaymentOrder.all().count() == 0
    assert await Notification.filter(event="booking.confirmed", user_id=world.uid("owner")).count() == 1
