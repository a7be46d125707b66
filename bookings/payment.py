"""Paying for bookings through payments' order purposes ("booking", reference = the booking id), to
the provider's own WeChat Pay sub-merchant.

- pay: an order for a held booking, living no longer than its hold (at least the one minute WeChat Pay
  needs); the same order again while it is pending.
- on_paid (inside payments' transaction, once): a held booking is confirmed. One whose hold ran out
  takes a place again if its slot still has one; otherwise, and for a booking cancelled meanwhile,
  the money is marked to go back (``refund_pending``) and the periodic sweep refunds it.
- on_closed: the order is forgotten by the booking (the hold runs on; a new order may be made).
- on_refunded: the amount refunded so far is recorded on the booking.
- sweep (the periodic job): expire holds that ran out, close their orders at WeChat Pay, refund what
  is pending. Without WeChat Pay it only expires holds.

Notifications (booking.confirmed / booking.cancelled) are written by bookings.booking in the
transaction of the change."""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from accounts.models import User
from audit.service import SYSTEM, Actor
from bookings.booking import Moved, _event, _take_place, booking_of_user, expire_due, move, notify_state
from bookings.errors import BookingStateConflict, PaymentUnavailable
from bookings.models import Booking, Provider, Service
from bookings.rules import Action, State
from core import clock
from payments import purposes
from payments.errors import PayeeUnknown
from payments.models import PayeeKind
from payments.purposes import PurposeEvent
from wechat.pay.protocol import WeChatPayApi

PURPOSE = "booking"
MIN_ORDER_TTL = timedelta(minutes=1)


async def pay(api: WeChatPayApi | None, *, user: User, booking_id: int) -> purposes.Created:
    """The order paying a held booking, and the wx.requestPayment parameters."""
    booking = await booking_of_user(user.id, booking_id)
    if booking.state is not State.HELD or booking.hold_expires_at is None:
        raise BookingStateConflict(
            "该预约无需在线支付或已不在待支付状态", details={"state": booking.state.value}
        )
    now = clock.now()
    left = booking.hold_expires_at - now
    if left <= timedelta(0):
        raise BookingStateConflict("保留时间已过，请重新预约", code="hold_expired")
    provider = await Provider.get(id=booking.provider_id)
    if api is None:
        raise PaymentUnavailable()
    if provider.company_id is not None:  # the property company: paid to the account its fees go to
        try:
            payee = await purposes.payee_of_company(
                provider.company_id, name=provider.name, sub_mchid=provider.sub_mchid
            )
        except PayeeUnknown:
            raise PaymentUnavailable() from None
    elif provider.sub_mchid:
        payee = await purposes.payee_for(
            PayeeKind.SERVICE_PROVIDER, name=provider.name, sub_mchid=provider.sub_mchid
        )
    else:
        raise PaymentUnavailable()
    service = await Service.get(id=booking.service_id).only("id", "name")
    created = await purposes.create_order(
        api,
        purpose=PURPOSE,
        reference=str(booking.id),
        payee_id=payee.id,
        amount_fen=booking.amount_fen,
        description=f"{service.name}（{provider.name}）",
        user_id=user.id,
        openid=user.openid,
        compound_id=booking.compound_id,
        unit_id=booking.unit_id,
        ttl=max(MIN_ORDER_TTL, min(left, purposes.TTL_MAX)),
        now=now,
    )
    await Booking.filter(id=booking.id, state=State.HELD).update(order_id=created.order.id)
    return created


async def _paid(event: PurposeEvent) -> None:
    booking = await Booking.get_or_none(id=int(event.reference))
    if booking is None:  # not ours to refuse: the payment stands, a person sees it in the ledger
        return
    await Booking.filter(id=booking.id).update(order_id=event.order_id)
    if booking.state is State.HELD:
        await move(booking, Action.PAY, actor_id=event.payer_id, hold_expires_at=None)
        return
    if booking.state is State.EXPIRED and booking.cancelled_by == "system":
        # paid just after the hold ran out: keep the booking if its slot still has a place
        async with in_transaction() as conn:
            if await _take_place(booking.slot_id, conn):
                await (
                    Booking.filter(id=booking.id, state=State.EXPIRED)
                    .using_db(conn)
                    .update(state=State.CONFIRMED, hold_expires_at=None, cancelled_by="")
                )
                await _event(
                    conn, booking.id, "pay_late", State.EXPIRED.value, State.CONFIRMED.value, event.payer_id
                )
                await notify_state(conn, booking, State.CONFIRMED)
                return
    await Booking.filter(id=booking.id).update(refund_pending=True)


async def _closed(event: PurposeEvent) -> None:
    await Booking.filter(id=int(event.reference), order_id=event.order_id).update(order_id=None)


async def _refunded(event: PurposeEvent) -> None:
    await Booking.filter(id=int(event.reference)).update(refunded_fen=event.refunded_fen or 0)


async def _refund_failed(event: PurposeEvent) -> None:
    # Closed at WeChat Pay: the money is still owed, so the sweep asks again (its next refund settles
    # the closed one). Abnormal: a person settles it at the merchant platform; payments lists it.
    if event.refund_state == "closed":
        await Booking.filter(id=int(event.reference)).update(refund_pending=True)


purposes.register(
    PURPOSE, on_paid=_paid, on_closed=_closed, on_refunded=_refunded, on_refund_failed=_refund_failed
)


async def refund(api: WeChatPayApi | None, booking: Booking, *, reason: str, actor: Actor = SYSTEM) -> bool:
    """Give back everything still refundable of the booking's order; without WeChat Pay it is marked
    for the sweep. True when a refund was requested now."""
    if booking.order_id is None:
        return False
    if api is None:
        await Booking.filter(id=booking.id).update(refund_pending=True)
        return False
    order = await purposes.order_of(PURPOSE, booking.order_id)
    if order.amount_fen - order.refunded_fen <= 0:
        await Booking.filter(id=booking.id).update(refund_pending=False)
        return False
    # cleared first: a refund that comes back closed at once marks the booking again (_refund_failed);
    # a refund that could not be asked for at all stays pending for the sweep
    await Booking.filter(id=booking.id).update(refund_pending=False)
    try:
        await purposes.refund(api, actor, order=order, reason=reason, user_id=None)
    except BaseException:
        await Booking.filter(id=booking.id).update(refund_pending=True)
        raise
    return True


async def after_cancel(api: WeChatPayApi | None, moved: Moved, *, reason: str) -> None:
    """After a cancellation: a paid amount goes back in full, and a pending order is closed (paid
    meanwhile: on_paid marks it for refund, which happens here or in the sweep)."""
    booking = moved.booking
    if moved.refund_fen > 0:
        await refund(api, booking, reason=reason)
        return
    if booking.order_id is not None and api is not None:
        order = await purposes.order_of(PURPOSE, booking.order_id)
        if await purposes.close(api, order) == "paid":
            await refund(api, await Booking.get(id=booking.id), reason=reason)


async def sweep(api: WeChatPayApi | None) -> dict[str, int]:
    """The periodic job: expire holds that ran out (closing their orders), refund what is pending."""
    expired = await expire_due()
    closed = refunded = 0
    if api is not None:
        for booking in expired:
            if booking.order_id is not None:
                order = await purposes.order_of(PURPOSE, booking.order_id)
                closed += (await purposes.close(api, order)) == "closed"
        for booking in await Booking.filter(refund_pending=True).limit(100):
            refunded += await refund(api, booking, reason="预约已取消或名额已满，原路退款")
    return {"expired": len(expired), "closed": closed, "refunded": refunded}
