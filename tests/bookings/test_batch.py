"""The booking path as bookings.gate and bookings.batch make it: concurrent bookings of a slot share
transactions and never take more places than it has (on SQLite and PostgreSQL), several slots at
once each keep their own count, a failed batch falls back to one booking at a time, and the one-query
gate still refuses who may not book."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta
from typing import Any

import pytest

from bookings import batch, booking, gate
from bookings.errors import NotHouseholdMember, PriceNotPosted, ServiceNotFound, SlotFull
from bookings.models import Booking, BookingEvent, Service, Slot
from bookings.rules import ACTIVE
from core import clock
from notify.models import Notification
from tests.bookings.conftest import World, publish, tomorrow_at
from tests.conftest import ON_POSTGRES


async def _try(new: booking.NewBooking, user_id: int) -> str:
    try:
        await booking.book(new, user_id=user_id)
    except SlotFull:
        return "full"
    return "booked"


async def test_40_concurrent_bookings_of_5_places_share_transactions_and_take_exactly_5(
    world: World,
) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(10))
    before = batch.transactions()
    outcomes = await asyncio.gather(*(_try(new, world.uid("resident")) for _ in range(40)))
    assert (outcomes.count("booked"), outcomes.count("full")) == (5, 35)
    slot = await Slot.get(service_id=service.id)
    active = await Booking.filter(slot_id=slot.id, state__in=list(ACTIVE)).count()
    assert (slot.taken, active) == (5, 5)
    ids = await Booking.filter(slot_id=slot.id).values_list("id", flat=True)
    assert await BookingEvent.filter(booking_id__in=ids, action="book").count() == 5
    keys = [f"booking.confirmed:booking:{i}:{world.uid('resident')}" for i in ids]
    assert await Notification.filter(key__in=keys).count() == 5
    assert batch.transactions() - before < 5  # bookings arriving together went together


async def test_concurrent_bookings_of_several_slots_each_keep_their_own_count(world: World) -> None:
    service = await publish(world, capacity=3)
    starts = [tomorrow_at(8 + k) for k in range(4)]
    news = [booking.NewBooking(service.id, world.units[0].id, at) for at in starts for _ in range(12)]
    users = [world.uid("resident"), world.uid("owner")]
    outcomes = await asyncio.gather(*(_try(n, users[i % 2]) for i, n in enumerate(news)))
    assert outcomes.count("booked") == 12
    for slot in await Slot.filter(service_id=service.id):
        active = await Booking.filter(slot_id=slot.id, state__in=list(ACTIVE)).count()
        assert (slot.taken, active) == (3, 3)


async def test_a_failed_batch_books_each_alone(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    service = await publish(world, capacity=2, pay_on_site=True)

    async def broken(slot_id: int, jobs: list[Any]) -> list[Any]:
        raise RuntimeError("the batch's transaction failed")

    monkeypatch.setattr(batch, "_write_batch", broken)
    new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(12))
    outcomes = await asyncio.gather(*(_try(new, world.uid("resident")) for _ in range(6)))
    assert (outcomes.count("booked"), outcomes.count("full")) == (2, 4)
    slot = await Slot.get(service_id=service.id)
    assert (slot.taken, await Booking.filter(slot_id=slot.id).count()) == (2, 2)


async def test_a_writer_cancelled_at_shutdown_cancels_the_bookings_waiting_on_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    writing: list[Any] = []

    async def never_done(key: Any, jobs: list[Any]) -> Any:
        writing.extend(jobs)
        await asyncio.Event().wait()

    monkeypatch.setattr(batch, "_write_batch", never_done)
    new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(12))
    bookers = [asyncio.ensure_future(_try(new, world.uid("resident"))) for _ in range(3)]
    # every booker handed to the writer: in the batch it is writing, or waiting for the next
    for _ in range(1000):  # 10 s at most
        if len(writing) + sum(map(len, batch._writer().waiting.values())) == 3:
            break
        await asyncio.sleep(0.01)
    [writer] = batch._writer().writing.values()
    writer.cancel()
    outcomes = await asyncio.wait_for(asyncio.gather(*bookers, return_exceptions=True), 10)
    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes), outcomes
    assert not batch._writer().writing and not batch._writer().waiting
    assert not await Booking.filter(service_id=service.id).exists()


async def test_the_gate_refuses_who_may_not_book_and_writes_nothing(world: World) -> None:
    service = await publish(world, capacity=2)
    at = tomorrow_at(14)
    with pytest.raises(NotHouseholdMember):  # a resident of another unit
        await booking.book(
            booking.NewBooking(service.id, world.units[0].id, at), user_id=world.uid("neighbour")
        )
    with pytest.raises(NotHouseholdMember):  # a unit of another compound, even the caller's own
        await booking.book(
            booking.NewBooking(service.id, world.far_unit.id, at), user_id=world.uid("far_resident")
        )
    with pytest.raises(ServiceNotFound):
        await booking.book(
            booking.NewBooking(service.id + 1000, world.units[0].id, at), user_id=world.uid("owner")
        )
    await Service.filter(id=service.id).update(notice_id=None)
    with pytest.raises(PriceNotPosted):
        await booking.book(booking.NewBooking(service.id, world.units[0].id, at), user_id=world.uid("owner"))
    assert await Booking.filter(service_id=service.id).count() == 0
    assert await Slot.filter(service_id=service.id).count() == 0


async def test_the_gate_finds_a_slot_whatever_zone_its_start_is_given_in(world: World) -> None:
    """A phone may send the start in Beijing time; SQLite compares the stored datetimes as text."""
    service = await publish(world, capacity=2, pay_on_site=True)
    start = tomorrow_at(10)
    await booking.book(
        booking.NewBooking(service.id, world.units[0].id, start), user_id=world.uid("resident")
    )
    slot = await Slot.get(service_id=service.id)
    for given in (start.astimezone(clock.SHANGHAI), start.astimezone(UTC)):
        seen = await gate.read(
            service.id, unit_id=world.units[0].id, user_id=world.uid("resident"), starts_at=given,
            now=clock.now().astimezone(clock.SHANGHAI),
        )  # fmt: skip
        assert seen is not None and (seen.slot_id, seen.taken) == (slot.id, 1), given


@pytest.mark.skipif(not ON_POSTGRES, reason="the reads of a slot share a statement on PostgreSQL")
async def test_bookers_of_a_slot_reading_together_share_one_read_and_keep_their_own_answers(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    statements: list[int] = []
    real = gate._read_many

    async def counted(key: Any, asks: list[Any]) -> Any:
        statements.append(len(asks))
        return await real(key, asks)

    monkeypatch.setattr(gate, "_read_many", counted)
    at = tomorrow_at(10)
    users = [world.uid("resident"), world.uid("outsider")] * 4
    seen = await asyncio.gather(
        *(
            gate.read(service.id, unit_id=world.units[0].id, user_id=u, starts_at=at, now=clock.now())
            for u in users
        )
    )
    assert statements == [8]
    assert [g.member for g in seen if g is not None] == [True, False] * 4
    assert len({g.booking_id for g in seen if g is not None}) == 8


async def test_a_writer_cancelled_before_it_ran_cancels_its_booking_and_leaves_the_slot_bookable(
    world: World,
) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    at = tomorrow_at(15)
    key = batch.SlotKey(service.id, at, at + timedelta(hours=1), 5)
    writer = batch._writer()
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    writer.submit(key, batch.make_job({}, service.name, 5, done))
    writer.writing[key].cancel()  # at shutdown, before it ever ran
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(done, 10)
    await asyncio.sleep(0)
    assert key not in writer.writing and key not in writer.waiting
    new = booking.NewBooking(service.id, world.units[0].id, at)
    assert await _try(new, world.uid("resident")) == "booked"  # the slot's next writer starts
