"""Booking a slot, and every change of a booking's state that takes or gives back a place.

The capacity invariant lives in the database: a slot's ``taken`` rises only through
``UPDATE bk_slot SET taken = taken + 1 WHERE id = ? AND taken < capacity`` in the transaction that
creates (or moves) the booking, and falls only in the transaction whose conditional update moves a
booking out of an active state. Whatever the concurrency, on SQLite (writers serialised) and on
PostgreSQL (the row lock makes a second updater re-check ``taken < capacity`` on the committed row),
no slot ever counts more active bookings than places, and no release is counted twice."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from bookings import batch, gate
from bookings.availability import capacity_for
from bookings.errors import (
    BookingNotFound,
    BookingStateConflict,
    NotHouseholdMember,
    NotYourBooking,
    PriceNotPosted,
    ServiceNotFound,
    SlotFull,
)
from bookings.models import Booking, BookingEvent, Service, Slot
from bookings.reminders import first_reminder
from bookings.rules import ACTIVE, Action, State, charge_fen, check_resident_change, step
from core import clock
from notify import service as notify

SWEEP_BATCH = 200


@dataclass(frozen=True, slots=True)
class Moved:
    """A booking after a transition, and whether money has to go back (bookings.payment acts on it)."""

    booking: Booking
    refund_fen: int


async def ensure_slot(service: Service, starts_at: datetime, capacity: int) -> Slot:
    """The slot row of a start (made once: two at once, the unique (service, starts_at) keeps one),
    its capacity brought to what the rules say now. Bookers of one new slot in this process share
    one lookup (the first books of a slot come together: each making it would mostly collide)."""
    key = (service.id, starts_at, capacity)
    pending = _ENSURING.get(key)
    if pending is None:
        pending = _ENSURING[key] = asyncio.ensure_future(_ensure_slot(service, starts_at, capacity))
        pending.add_done_callback(lambda _: _ENSURING.pop(key, None))
    return await asyncio.shield(pending)


_ENSURING: dict[tuple[int, datetime, int], asyncio.Future[Slot]] = {}


async def _ensure_slot(service: Service, starts_at: datetime, capacity: int) -> Slot:
    slot = await Slot.get_or_none(service_id=service.id, starts_at=starts_at)
    if slot is None:
        try:
            slot = await Slot.create(
                service_id=service.id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=service.slot_minutes),
                capacity=capacity,
            )
        except IntegrityError:
            slot = await Slot.get(service_id=service.id, starts_at=starts_at)
    if slot.capacity != capacity:
        await Slot.filter(id=slot.id).update(capacity=capacity)
        slot.capacity = capacity
    return slot


async def _take_place(slot_id: int, conn: Any) -> bool:
    taken = await Slot.filter(id=slot_id, taken__lt=F("capacity")).using_db(conn).update(taken=F("taken") + 1)
    return bool(taken == 1)


async def _give_back(slot_id: int, conn: Any) -> None:
    await Slot.filter(id=slot_id, taken__gt=0).using_db(conn).update(taken=F("taken") - 1)


async def _event(
    conn: Any, booking_id: int, action: str, before: str, after: str, actor_id: int | None, note: str = ""
) -> None:
    await BookingEvent.create(
        booking_id=booking_id, action=action, from_state=before, to_state=after, actor_id=actor_id, note=note,
        at=clock.now(), using_db=conn,
    )  # fmt: skip


NOTIFIED = {
    State.CONFIRMED: ("booking.confirmed", "已确认"),
    State.CANCELLED: ("booking.cancelled", "已取消"),
}


async def notify_state(conn: Any, booking: Booking, state: State, service_name: str | None = None) -> None:
    """Tell the resident, in the transaction of the change (written once per booking and event)."""
    if state not in NOTIFIED:
        return
    event, status = NOTIFIED[state]
    if service_name is None:
        service_name = (
            await Service.filter(id=booking.service_id).using_db(conn).only("id", "name").get()
        ).name
    await notify.enqueue(
        event,
        subject=f"booking:{booking.id}",
        user_ids=[booking.user_id],
        params={
            "service": service_name,
            "starts_at": clock.to_local(booking.starts_at),  # people read Beijing time
            "status": status,
            "booking_id": booking.id,
        },
        using_db=conn,
    )


async def move(
    booking: Booking, action: Action, *, actor_id: int | None, note: str = "", **changes: Any
) -> Booking:
    """One guarded transition: a conditional update on the state it was read in, the slot's place
    given back when the booking leaves the active states, and its event, in one transaction."""
    target = step(booking.state, action)
    async with in_transaction() as conn:
        moved = (
            await Booking.filter(id=booking.id, state=booking.state)
            .using_db(conn)
            .update(state=target, **changes)
        )
        if moved != 1:
            raise BookingStateConflict("预约状态已变化，请刷新后重试")
        if booking.state in ACTIVE and target not in ACTIVE:
            await _give_back(booking.slot_id, conn)
        await _event(conn, booking.id, action.value, booking.state.value, target.value, actor_id, note)
        await notify_state(conn, booking, target)
    return await Booking.get(id=booking.id)


async def release_lapsed(slot_id: int, now: datetime) -> int:
    """Expire the holds of one slot that have run out (before someone books it)."""
    released = 0
    for booking in await Booking.filter(slot_id=slot_id, state=State.HELD, hold_expires_at__lte=now):
        try:
            await move(booking, Action.EXPIRE, actor_id=None, cancelled_by="system")
            released += 1
        except BookingStateConflict:  # paid or expired by someone else meanwhile
            continue
    return released


async def lapsed_holds(now: datetime, limit: int = SWEEP_BATCH) -> list[Booking]:
    return (
        await Booking.filter(state=State.HELD, hold_expires_at__lte=now)
        .order_by("hold_expires_at")
        .limit(limit)
    )


@dataclass(frozen=True, slots=True)
class NewBooking:
    service_id: int
    unit_id: int
    starts_at: datetime
    note: str = ""


async def book(new: NewBooking, *, user_id: int, now: datetime | None = None) -> Booking:
    """Hold (or, paid on site or free, confirm) a place of the slot at the price posted now.

    One read (bookings.gate: the service, household, board entry and slot in one statement, and on
    PostgreSQL the booking's id), then the write, shared with the bookings of the same slot arriving
    meanwhile (bookings.batch; on PostgreSQL it makes the slot's row too, elsewhere that is made
    first); a batch that fails is retried one booking at a time."""
    moment = now or clock.now()
    # From the read to the write's submission (the calendar's read included): a batch of the slot
    # waits for the bookers still on their way to it, so bookings arriving together go together.
    with batch.reading(new.service_id, new.starts_at):
        ready = await _ready(new, user_id, moment)
    try:
        written = await batch.write(ready.key, ready.fields, ready.service.name, ready.room)
    except Exception:  # the batch's write failed: this booking alone, so it gets its own answer
        return await _book_alone(ready.service, ready.key.capacity, ready.fields, ready.full)
    if written is None:
        raise SlotFull(details=ready.full)
    return written


@dataclass(frozen=True, slots=True)
class _Ready:
    """A booking checked and ready to be written: its slot, its fields, the places left when read."""

    service: Service
    key: batch.SlotKey
    fields: dict[str, Any]
    room: int
    full: dict[str, Any]  # SlotFull's details


async def _ready(new: NewBooking, user_id: int, moment: datetime) -> _Ready:
    checked = await gate.read(
        new.service_id, unit_id=new.unit_id, user_id=user_id, starts_at=new.starts_at, now=moment
    )
    if checked is None:
        raise ServiceNotFound()
    service = checked.service
    if not checked.member:
        raise NotHouseholdMember()
    # The service row carries its current price and board entry (set together with price_id in one
    # transaction, bookings.catalogue), so the ServicePrice row itself need not be read again.
    if service.price_id is None or service.notice_id is None or not checked.posted:
        raise PriceNotPosted()
    capacity = await capacity_for(service, new.starts_at, moment)
    slot_id, taken, starts_at = checked.slot_id, checked.taken, new.starts_at
    if checked.booking_id is None and (slot_id is None or checked.slot_capacity != capacity):
        slot = await ensure_slot(service, new.starts_at, capacity)  # not on PostgreSQL: the write does
        slot_id, taken, starts_at = slot.id, slot.taken, slot.starts_at
    full = {"starts_at": clock.iso_utc(starts_at), "capacity": capacity}
    if taken >= capacity and not (
        slot_id is not None and checked.lapsed and await release_lapsed(slot_id, moment)
    ):
        # full when read and no hold of it had run out: refused without a write transaction (on
        # SQLite a doomed one would still queue behind every writer); a place given back meanwhile
        # goes to whoever comes next, and the guarded update of the write stays the only way in
        raise SlotFull(details=full)
    amount = charge_fen(service.price_fen, service.price_unit, service.duration_minutes)
    confirmed = service.pay_on_site or amount == 0
    fields: dict[str, Any] = {
        "service_id": service.id, "provider_id": service.provider_id,
        "compound_id": service.compound_id, "unit_id": new.unit_id, "user_id": user_id,
        "state": State.CONFIRMED if confirmed else State.HELD, "starts_at": starts_at,
        "price_id": service.price_id, "amount_fen": amount, "pay_on_site": service.pay_on_site,
        "hold_expires_at": None if confirmed else moment + timedelta(minutes=service.hold_minutes),
        "next_reminder_at": first_reminder(service, starts_at, moment), "note": new.note,
    }  # fmt: skip
    if checked.booking_id is not None:
        fields["id"] = checked.booking_id  # PostgreSQL: the slot's row is found (or made) by the write
    else:
        fields["slot_id"] = slot_id
    ends_at = starts_at + timedelta(minutes=service.slot_minutes)
    key = batch.SlotKey(service.id, starts_at, ends_at, capacity)
    return _Ready(service, key, fields, capacity - taken, full)


async def _book_alone(
    service: Service, capacity: int, fields: dict[str, Any], full: dict[str, Any]
) -> Booking:
    slot = await ensure_slot(service, fields["starts_at"], capacity)
    fields = {**fields, "slot_id": slot.id, "starts_at": slot.starts_at}
    async with in_transaction() as conn:
        if not await _take_place(slot.id, conn):
            raise SlotFull(details=full)
        booking = await Booking.create(**fields, using_db=conn)
        await _event(conn, booking.id, "book", "", booking.state.value, booking.user_id)
        await notify_state(conn, booking, booking.state, service.name)
    return booking


async def booking_of_user(user_id: int, booking_id: int) -> Booking:
    booking = await Booking.get_or_none(id=booking_id)
    if booking is None:
        raise BookingNotFound()
    if booking.user_id != user_id:
        raise NotYourBooking()
    return booking


async def cancel_by_resident(
    user_id: int, booking_id: int, *, reason: str, now: datetime | None = None
) -> Moved:
    booking = await booking_of_user(user_id, booking_id)
    service = await Service.get(id=booking.service_id)
    if booking.state is State.CONFIRMED:
        check_resident_change(booking.starts_at, now or clock.now(), service.free_cancel_hours)
    paid = booking.amount_fen if booking.state is State.CONFIRMED and booking.order_id else 0
    moved = await move(
        booking, Action.CANCEL, actor_id=user_id, note=reason, cancelled_by="resident", cancel_reason=reason
    )
    return Moved(moved, paid)


async def cancel_by_provider(
    provider_id: int, booking_id: int, *, reason: str, actor_id: int | None
) -> Moved:
    booking = await Booking.get_or_none(id=booking_id, provider_id=provider_id)
    if booking is None:
        raise BookingNotFound()
    paid = booking.amount_fen if booking.state is State.CONFIRMED and booking.order_id else 0
    moved = await move(
        booking, Action.CANCEL, actor_id=actor_id, note=reason, cancelled_by="provider", cancel_reason=reason
    )
    return Moved(moved, paid)


async def reschedule(
    user_id: int, booking_id: int, starts_at: datetime, *, now: datetime | None = None
) -> Booking:
    """Move a booking to another slot of its service: the new place is taken and the old one given
    back in one transaction, so a full slot refuses and the booking stays where it was. The price
    stays the one agreed when it was booked."""
    moment = now or clock.now()
    booking = await booking_of_user(user_id, booking_id)
    if booking.state not in (State.HELD, State.CONFIRMED):
        raise BookingStateConflict(details={"state": booking.state.value})
    service = await Service.get(id=booking.service_id)
    check_resident_change(booking.starts_at, moment, service.free_cancel_hours)
    capacity = await capacity_for(service, starts_at, moment)
    slot = await ensure_slot(service, starts_at, capacity)
    if slot.id == booking.slot_id:
        return booking
    if slot.taken >= capacity:
        await release_lapsed(slot.id, moment)
    async with in_transaction() as conn:
        if not await _take_place(slot.id, conn):
            raise SlotFull(details={"starts_at": clock.iso_utc(slot.starts_at), "capacity": capacity})
        moved = (
            await Booking.filter(id=booking.id, state=booking.state, slot_id=booking.slot_id)
            .using_db(conn)
            .update(
                slot_id=slot.id,
                starts_at=slot.starts_at,
                next_reminder_at=first_reminder(service, slot.starts_at, moment),
            )
        )
        if moved != 1:
            raise BookingStateConflict("预约状态已变化，请刷新后重试")
        await _give_back(booking.slot_id, conn)
        await _event(
            conn, booking.id, "reschedule", booking.state.value, booking.state.value, user_id,
            f"{clock.iso_utc(booking.starts_at)} -> {clock.iso_utc(slot.starts_at)}",
        )  # fmt: skip
    return await Booking.get(id=booking.id)


async def expire_due(now: datetime | None = None) -> list[Booking]:
    """Expire every hold that has run out unpaid (the periodic job); the expired bookings are
    returned so the caller can close their payment orders."""
    moment = now or clock.now()
    expired = []
    for booking in await lapsed_holds(moment):
        try:
            expired.append(await move(booking, Action.EXPIRE, actor_id=None, cancelled_by="system"))
        except BookingStateConflict:
            continue
    return expired
