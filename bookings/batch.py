"""Bookings of one slot that arrive together, written together ("natural batching").

A booking's write is mostly per transaction, not per row: the slot's row lock on PostgreSQL (every
booker of a slot queues behind it), the commit (on SQLite the fsync, and its one connection is held
for the whole transaction). So bookings of a slot that arrive while an earlier batch of that slot is
being written wait and go together in the next one; at low load a batch holds one booking and
nothing waits (the voting package batches casts the same way, voting.batch_cast).

A batch is keyed by its slot as the rules make it now (service, start, end, capacity): ``g`` = as
many of the batch as the slot has places left get one, the counter rises by ``g`` only through an
update guarded ``taken + g <= capacity`` (so the invariant stays in the database, whatever this
module believes), and the ``g`` bookings, their events and their notifications are written with it.
On PostgreSQL that is one statement, the slot made by it when it had no row yet (bookings.batch_pg);
elsewhere one transaction: the slot (made beforehand by bookings.booking.ensure_slot) is read, its
counter updated, the bookings written one by one, their events in one statement and their
notifications in one per event. The others are refused with SlotFull, and when the commit left the
slot full, so are the bookings of it that queued meanwhile (the committed count refuses them, as the
read before a booking's write refuses one found full). If the write fails, each booking of the
batch is written alone (the caller's fallback), so one bad booking never takes the others down.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from bookings import batch_pg
from bookings.models import Booking, BookingEvent, Slot
from bookings.rules import State
from core import clock
from core.batching import start_keyed
from core.loops import PerLoop
from notify import service as notify

MAX_BATCH = 32  # bookings per transaction
SETTLE_SECONDS = 0.01  # how long a batch waits at most for the slot's bookers still reading


@dataclass(frozen=True, slots=True)
class SlotKey:
    """A slot as the rules make it when its bookers read them (bookings.booking.book)."""

    service_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int


@dataclass(slots=True)
class Job:
    """One booking's fields and the future its caller waits on: the saved booking, None when the
    slot had no place left, or the exception of a failed transaction."""

    fields: dict[str, Any]
    service_name: str
    room: int  # the places its slot had left when it was read
    done: asyncio.Future[Booking | None] = field(repr=False)


class _Writer:
    """The bookings of one event loop waiting to be written, by slot, and which slots are being
    written (one transaction at a time per slot: they would queue on its row anyway)."""

    def __init__(self) -> None:
        self.waiting: dict[SlotKey, list[Job]] = defaultdict(list)
        self.writing: dict[SlotKey, asyncio.Task[None]] = {}  # referenced while they run
        self.transactions = 0
        self.reading: dict[tuple[int, datetime], int] = defaultdict(int)  # bookers between read and submit
        self.read: dict[tuple[int, datetime], asyncio.Event] = {}  # set when a slot has none left reading

    def start_reading(self, slot: tuple[int, datetime]) -> None:
        self.reading[slot] += 1

    def stop_reading(self, slot: tuple[int, datetime]) -> None:
        self.reading[slot] -= 1
        if self.reading[slot] <= 0:
            del self.reading[slot]
        self._wake(slot)

    def _wake(self, slot: tuple[int, datetime]) -> None:
        settling = self.read.pop(slot, None)
        if settling is not None:
            settling.set()

    async def _settle(self, key: SlotKey) -> None:
        """Before a batch is taken, wait (SETTLE_SECONDS at most) for the bookers of the slot whose
        read is still running, while those waiting are fewer than the places the slot had when they
        read it: the others would each need a transaction of their own, after this one. At low load
        nobody else is reading, and under contention a batch that can fill the slot does not wait."""
        slot = (key.service_id, key.starts_at)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while self.reading.get(slot) and (jobs := self.waiting.get(key)):
            if len(jobs) >= max(job.room for job in jobs) or (left := deadline - loop.time()) <= 0:
                return
            settling = self.read.setdefault(slot, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(settling.wait(), left)

    def submit(self, key: SlotKey, job: Job) -> None:
        self.waiting[key].append(job)
        self._wake((key.service_id, key.starts_at))
        start_keyed(self.writing, key, lambda: self._write(key), functools.partial(self._abandon, key))

    def _abandon(self, key: SlotKey) -> None:
        for job in self.waiting.pop(key, []):
            if not job.done.done():
                job.done.cancel()

    async def _write(self, key: SlotKey) -> None:
        batch: list[Job] = []
        try:
            await self._settle(key)
            while self.waiting.get(key):
                jobs = self.waiting[key]
                batch, self.waiting[key] = jobs[:MAX_BATCH], jobs[MAX_BATCH:]
                self.transactions += 1
                try:
                    saved = await _write_batch(key, batch)
                except Exception as exc:  # the whole transaction rolled back: each alone, by the caller
                    for job in batch:
                        if not job.done.done():
                            job.done.set_exception(exc)
                else:
                    if saved.full:  # committed full: who queued meanwhile is refused without a transaction
                        batch += self.waiting.pop(key, [])
                    for job, booking in zip(batch, saved.bookings + [None] * len(batch), strict=False):
                        if not job.done.done():
                            job.done.set_result(booking)
                batch = []
        finally:
            # Cancelled (shutdown): whoever still waits is cancelled too, not left hanging.
            for job in batch + self.waiting.pop(key, []):
                if not job.done.done():
                    job.done.cancel()


@dataclass(frozen=True, slots=True)
class _Written:
    bookings: list[Booking | None]  # the batch's, in order: saved, then None for those refused
    full: bool  # the slot had no place left when the transaction committed


async def _write_batch(key: SlotKey, batch: list[Job]) -> _Written:
    if connections.get("default").capabilities.dialect == "postgres":
        return await _write_statement(key, batch)
    return await _write_transaction(batch)


async def _write_statement(key: SlotKey, batch: list[Job]) -> _Written:
    """PostgreSQL: one statement (bookings.batch_pg). Only the first ``capacity`` of the batch can
    get a place, so only their rows are made and sent (each booking's id was drawn with its gate
    read), and a booking is made an instance only once it has its place."""
    sent = batch[: key.capacity]
    if any("id" not in job.fields for job in sent):
        raise SlotMoved()  # not made for this path (cannot happen): each alone
    now = clock.now()
    made = [
        batch_pg.rows(
            job.fields,
            _book_event(job.fields["id"], job.fields["state"], job.fields["user_id"], now),
            _outbox(job.fields, job.service_name),
        )
        for job in sent
    ]
    done = await batch_pg.write(
        service_id=key.service_id, starts_at=key.starts_at, ends_at=key.ends_at, capacity=key.capacity,
        batch=made,
    )  # fmt: skip
    if done.moved:
        raise SlotMoved()
    assert done.slot_id is not None or done.granted == 0
    saved = [batch_pg.saved(r, done.slot_id) for r in made[: done.granted] if done.slot_id is not None]
    return _Written([*saved, *([None] * (len(batch) - done.granted))], done.full)


async def _write_transaction(batch: list[Job]) -> _Written:
    """Elsewhere (SQLite, its writers serialised): one transaction on the slot made beforehand."""
    slot_id = batch[0].fields["slot_id"]
    async with in_transaction() as conn:
        slot = await Slot.filter(id=slot_id).using_db(conn).only("id", "taken", "capacity").get()
        granted = min(len(batch), max(0, slot.capacity - slot.taken))
        if granted == 0:
            return _Written([None] * len(batch), True)
        moved = (
            await Slot.filter(id=slot_id, taken__lte=slot.capacity - granted)
            .using_db(conn)
            .update(taken=F("taken") + granted)
        )
        if moved != 1:  # the row moved under us: cannot happen with writers serialised, and then refuses
            raise SlotMoved()
        # one by one: SQLite hands out ids only per insert (its statements are cheap, its commit is not)
        saved = [await Booking.create(**job.fields, using_db=conn) for job in batch[:granted]]
        now = clock.now()
        await BookingEvent.bulk_create(
            [BookingEvent(**_book_event(b.id, b.state, b.user_id, now)) for b in saved], using_db=conn
        )
        items: dict[str, list[tuple[str, list[int], dict[str, Any]]]] = defaultdict(list)
        for b, job in zip(saved, batch, strict=False):
            for event, item in _notified(b.id, b.state, b.user_id, b.starts_at, job.service_name):
                items[event].append(item)
        for event, rows in items.items():  # one insert per event, not per booking
            await notify.enqueue_many(event, rows, using_db=conn)
    return _Written([*saved, *([None] * (len(batch) - granted))], slot.taken + granted >= slot.capacity)


def _book_event(booking_id: int, state: State, user_id: int, now: datetime) -> dict[str, Any]:
    """A new booking's event, as BookingEvent's fields."""
    return {
        "booking_id": booking_id, "action": "book", "from_state": "", "to_state": state.value,
        "actor_id": user_id, "note": "", "at": now,
    }  # fmt: skip


def _notified(
    booking_id: int, state: State, user_id: int, starts_at: datetime, service_name: str
) -> list[tuple[str, tuple[str, list[int], dict[str, Any]]]]:
    """bookings.booking.notify_state for a new booking: (event, (subject, users, params)), if any."""
    from bookings.booking import NOTIFIED  # imports this module

    if state not in NOTIFIED:
        return []
    event, status = NOTIFIED[state]
    params = {
        "service": service_name, "starts_at": clock.to_local(starts_at), "status": status,
        "booking_id": booking_id,
    }  # fmt: skip
    return [(event, (f"booking:{booking_id}", [user_id], params))]


def _outbox(fields: dict[str, Any], service_name: str) -> list[dict[str, Any]]:
    notified = _notified(fields["id"], fields["state"], fields["user_id"], fields["starts_at"], service_name)
    return [row for event, item in notified for row in notify.outbox_values(event, [item])]


def make_job(
    fields: dict[str, Any], service_name: str, room: int, done: asyncio.Future[Booking | None]
) -> Job:
    """A booking handed to its batch."""
    return Job(fields, service_name, room, done)


class SlotMoved(Exception):
    """The slot's counter was not where its read said (the caller writes each booking alone)."""


_writer = PerLoop(_Writer).get


async def write(key: SlotKey, fields: dict[str, Any], service_name: str, room: int) -> Booking | None:
    """Save a booking of these fields with a place of the slot of ``key`` (``room`` of them left when
    it was read): the saved booking, or None when the slot had none left. Raises what its batch's
    write raised."""
    done: asyncio.Future[Booking | None] = asyncio.get_running_loop().create_future()
    _writer().submit(key, make_job(fields, service_name, room, done))
    return await done


@contextlib.contextmanager
def reading(service_id: int, starts_at: datetime) -> Iterator[None]:
    """Around a booker's read before ``write``: a batch of the slot waits for it (_Writer._settle)."""
    writer = _writer()
    writer.start_reading((service_id, starts_at))
    try:
        yield
    finally:
        writer.stop_reading((service_id, starts_at))


def transactions() -> int:
    """How many transactions this event loop's writer has opened (tests check bookings share them)."""
    return _writer().transactions
