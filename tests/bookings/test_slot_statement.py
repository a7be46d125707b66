"""The write of a batch as bookings.batch_pg makes it on PostgreSQL (one statement that makes the
slot's row or raises its counter, and inserts the bookings, events and notifications), raced by
many statements at once; and, on both backends, a slot whose capacity the rules changed since its
row was made."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from bookings import batch, batch_pg, booking, gate
from bookings.errors import SlotFull
from bookings.models import Booking, BookingEvent, Service, Slot
from bookings.rules import State
from core import clock
from notify.models import Notification
from tests.bookings.conftest import World, publish, tomorrow_at
from tests.conftest import ON_POSTGRES


async def _statement_batch(world: World, service: Service, size: int, go: asyncio.Event) -> batch_pg.Outcome:
    """One batch of ``size`` bookings of tomorrow 10:00 written by its own statement once ``go`` is
    set, with ids drawn by the gate's read as bookings.booking.book does."""
    at = tomorrow_at(10)
    jobs = []
    for _ in range(size):
        seen = await gate.read(
            service.id,
            unit_id=world.units[0].id,
            user_id=world.uid("resident"),
            starts_at=at,
            now=clock.now(),
        )
        assert seen is not None and seen.booking_id is not None
        fields: dict[str, Any] = {
            "id": seen.booking_id, "service_id": service.id, "provider_id": service.provider_id,
            "compound_id": service.compound_id, "unit_id": world.units[0].id,
            "user_id": world.uid("resident"), "state": State.CONFIRMED, "starts_at": at,
            "price_id": service.price_id, "amount_fen": 5000, "pay_on_site": True, "note": "",
        }  # fmt: skip
        jobs.append(batch.make_job(fields, service.name, 5, asyncio.get_running_loop().create_future()))
    key = batch.SlotKey(service.id, at, at + timedelta(hours=1), 5)
    await go.wait()
    try:
        written = await batch._write_statement(key, jobs)
    except batch.SlotMoved:
        return batch_pg.Outcome(0, None, False, True)
    saved = [b for b in written.bookings if b is not None]
    return batch_pg.Outcome(len(saved), saved[0].slot_id if saved else None, written.full, False)


@pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement write is PostgreSQL's")
async def test_30_racing_statements_of_a_new_slot_never_take_more_than_its_places(world: World) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    go = asyncio.Event()
    racing = [asyncio.ensure_future(_statement_batch(world, service, 2, go)) for _ in range(30)]
    await asyncio.sleep(0.5)  # every batch read (the slot has no row yet), then all write at once
    go.set()
    outcomes = await asyncio.gather(*racing)
    granted = sum(o.granted for o in outcomes)
    slot = await Slot.get(service_id=service.id)
    ids = await Booking.filter(slot_id=slot.id).values_list("id", flat=True)
    assert (slot.capacity, slot.taken, len(ids)) == (5, granted, granted)
    assert granted <= 5
    if not any(o.moved for o in outcomes):  # none met a row made after its snapshot: all exact
        assert granted == 5
    assert await BookingEvent.filter(booking_id__in=ids, action="book").count() == granted
    keys = [f"booking.confirmed:booking:{i}:{world.uid('resident')}" for i in ids]
    assert await Notification.filter(key__in=keys).count() == granted
    # whatever raced, the slot's next bookers get exactly the places left
    news = [booking.NewBooking(service.id, world.units[0].id, tomorrow_at(10)) for _ in range(10)]
    answers = await asyncio.gather(*(_try(n, world.uid("resident")) for n in news))
    assert answers.count("booked") == 5 - granted
    assert (await Slot.get(id=slot.id)).taken == 5


async def _try(new: booking.NewBooking, user_id: int) -> str:
    try:
        await booking.book(new, user_id=user_id)
    except SlotFull:
        return "full"
    return "booked"


async def test_a_slot_takes_the_capacity_the_rules_give_it_now(world: World) -> None:
    service = await publish(world, capacity=2, pay_on_site=True)
    new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(16))
    answers = await asyncio.gather(*(_try(new, world.uid("resident")) for _ in range(4)))
    assert sorted(answers) == ["booked", "booked", "full", "full"]
    await Service.filter(id=service.id).update(capacity=3)  # one more place
    answers = await asyncio.gather(*(_try(new, world.uid("resident")) for _ in range(4)))
    assert sorted(answers) == ["booked", "full", "full", "full"]
    slot = await Slot.get(service_id=service.id)
    assert (slot.capacity, slot.taken, await Booking.filter(slot_id=slot.id).count()) == (3, 3, 3)
    await Service.filter(id=service.id).update(capacity=2)  # fewer places than are taken: none given
    assert await _try(new, world.uid("resident")) == "full"
    first = await Booking.filter(slot_id=slot.id).order_by("id").first()
    assert first is not None
    await booking.cancel_by_resident(world.uid("resident"), first.id, reason="改期")
    assert await _try(new, world.uid("resident")) == "full"  # 2 taken of the 2 the rules give now
    slot = await Slot.get(id=slot.id)
    assert (slot.taken, await Booking.filter(slot_id=slot.id, state=State.CONFIRMED).count()) == (2, 2)


async def _while_another_makes_the_slot(service: Service, at: Any, writes: Any) -> Any:
    """Run ``writes`` while another transaction (another process's write) has made the slot's row
    with 4 places taken and not committed yet; commit it half a second later."""
    made, release = asyncio.Event(), asyncio.Event()

    async def other_maker() -> None:
        async with in_transaction() as conn:
            await Slot.create(
                service_id=service.id, starts_at=at, ends_at=at + timedelta(hours=1), capacity=5, taken=4,
                using_db=conn,
            )  # fmt: skip
            made.set()
            await release.wait()

    other = asyncio.ensure_future(other_maker())
    await made.wait()
    writing = asyncio.ensure_future(writes)
    await asyncio.sleep(0.5)  # the write waits on the other's row
    assert not writing.done()
    release.set()
    await other
    return await writing


@pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement write is PostgreSQL's")
async def test_a_slot_made_after_the_statement_began_is_guarded_and_its_bookers_book_alone(
    world: World,
) -> None:
    """The statement's locked read cannot see a row another transaction is making; its upsert then
    waits for that one, and the guard on the committed row refuses what would overfill it."""
    service = await publish(world, capacity=5, pay_on_site=True)
    go = asyncio.Event()
    go.set()
    outcome = await _while_another_makes_the_slot(
        service, tomorrow_at(10), _statement_batch(world, service, 2, go)
    )
    assert outcome.moved and outcome.granted == 0
    slot = await Slot.get(service_id=service.id, starts_at=tomorrow_at(10))
    assert (slot.taken, await Booking.filter(slot_id=slot.id).count()) == (4, 0)
    # book() in the same race: its batch is refused by the guard, each booker then books alone
    at = tomorrow_at(11)
    news = [booking.NewBooking(service.id, world.units[0].id, at) for _ in range(2)]
    answers = await _while_another_makes_the_slot(
        service, at, asyncio.gather(*(_try(n, world.uid("resident")) for n in news))
    )
    assert sorted(answers) == ["booked", "full"]
    slot = await Slot.get(service_id=service.id, starts_at=at)
    assert (slot.taken, await Booking.filter(slot_id=slot.id).count()) == (5, 1)


@pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement write is PostgreSQL's")
async def test_a_batch_makes_rows_only_for_the_bookings_that_can_have_a_place(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    made: list[int] = []
    handed: list[int] = []
    real_rows, real_job = batch_pg.rows, batch.make_job

    def counted(fields: Any, event: Any, notifications: Any) -> batch_pg.Rows:
        made.append(fields["id"])
        return real_rows(fields, event, notifications)

    def job(fields: Any, *args: Any) -> batch.Job:
        handed.append(fields["id"])
        return real_job(fields, *args)

    monkeypatch.setattr(batch_pg, "rows", counted)
    monkeypatch.setattr(batch, "make_job", job)
    before = batch.transactions()
    new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(10))
    answers = await asyncio.gather(*(_try(new, world.uid("resident")) for _ in range(12)))
    assert (answers.count("booked"), answers.count("full")) == (5, 7)
    ids = set(await Booking.filter(service_id=service.id).values_list("id", flat=True))
    statements = batch.transactions() - before
    # all twelve read the slot empty and were handed to the writer; rows were made for at most
    # the slot's five places of each statement, not for every booker handed over
    assert len(handed) == 12 and ids <= set(made)
    assert len(made) <= 5 * statements and len(made) < len(handed)


@pytest.mark.skipif(not ON_POSTGRES, reason="the one-statement write is PostgreSQL's")
async def test_the_statement_writes_a_booking_as_the_orm_would_and_returns_it_as_read_back(
    world: World,
) -> None:
    """The rows are made from values, not model instances: the columns written, and the booking
    handed back, are what Booking.create and a read would give (but the creation time)."""
    service = await publish(world, capacity=5)  # paid online: held, with a hold expiry
    new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(11), note="门铃坏了，请敲门")
    made = await booking.book(new, user_id=world.uid("resident"))
    read = await Booking.get(id=made.id)
    columns = [Booking._meta.fields_db_projection_reverse[c] for c in Booking._meta.db_fields]
    assert {c: getattr(made, c) for c in columns} == {c: getattr(read, c) for c in columns}
    assert made._saved_in_db and made.state is State.HELD and made.hold_expires_at is not None
    fields = {c: getattr(read, c) for c in columns if c not in ("id", "created_at")}
    async with in_transaction() as conn:
        twin = await Booking.create(**fields, using_db=conn)
        again = await Booking.get(id=twin.id).using_db(conn)
        await conn.rollback()
    skip = ("id", "created_at")
    assert {c: getattr(again, c) for c in columns if c not in skip} == {
        c: getattr(read, c) for c in columns if c not in skip
    }
    assert abs((read.created_at - clock.now()).total_seconds()) < 60
    event = await BookingEvent.get(booking_id=made.id)
    assert (event.action, event.from_state, event.to_state, event.actor_id) == (
        "book", "", "held", world.uid("resident"),
    )  # fmt: skip
