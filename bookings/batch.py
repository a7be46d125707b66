"""Bookings of one slot that arrive together, written in one transaction ("natural batching").

A booking's write is mostly per transaction, not per row: the slot's row lock on PostgreSQL (every
booker of a slot queues behind it), the commit (on SQLite the fsync, and its one connection is held
for the whole transaction). So bookings of a slot that arrive while an earlier transaction of that
slot is being written wait and go together in the next one; at low load a batch holds one booking
and nothing waits (the voting package batches casts the same way, voting.batch_cast).

One transaction per batch: the slot's row is locked (PostgreSQL) and read, ``g`` = as many of the
batch as it has places left get one, the counter rises by ``g`` only through
``UPDATE bk_slot SET taken = taken + g WHERE id = ? AND taken <= capacity - g`` (so the invariant
stays in the database, whatever this module believes), then the ``g`` bookings, their events (one
statement) and their notifications (one per event) are written. The others are refused with
SlotFull, and when the commit left the slot full, so are the bookings of it that queued meanwhile
(the committed count refuses them, as the read before a booking's write refuses one found full). If the transaction fails, each booking of the batch is written alone (the caller's
fallback), so one bad booking never takes the others down with it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from bookings.models import Booking, BookingEvent, Slot
from core import clock
from core.loops import PerLoop
from notify import service as notify

MAX_BATCH = 32  # bookings per transaction


@dataclass(slots=True)
class Job:
    """One booking's fields and the future its caller waits on: the saved booking, None when the
    slot had no place left, or the exception of a failed transaction."""

    fields: dict[str, Any]
    service_name: str
    done: asyncio.Future[Booking | None] = field(repr=False)


class _Writer:
    """The bookings of one event loop waiting to be written, by slot, and which slots are being
    written (one transaction at a time per slot: they would queue on its row anyway)."""

    def __init__(self) -> None:
        self.waiting: dict[int, list[Job]] = defaultdict(list)
        self.writing: set[int] = set()
        self.transactions = 0

    def submit(self, job: Job) -> None:
        slot_id = job.fields["slot_id"]
        self.waiting[slot_id].append(job)
        if slot_id not in self.writing:
            self.writing.add(slot_id)
            asyncio.get_running_loop().create_task(self._write(slot_id))

    async def _write(self, slot_id: int) -> None:
        try:
            while self.waiting.get(slot_id):
                jobs = self.waiting[slot_id]
                batch, self.waiting[slot_id] = jobs[:MAX_BATCH], jobs[MAX_BATCH:]
                self.transactions += 1
                try:
                    saved = await _write_batch(slot_id, batch)
                except Exception as exc:  # the whole transaction rolled back: each alone, by the caller
                    for job in batch:
                        if not job.done.done():
                            job.done.set_exception(exc)
                else:
                    if saved.full:  # committed full: who queued meanwhile is refused without a transaction
                        batch += self.waiting.pop(slot_id, [])
                    for job, booking in zip(batch, saved.bookings + [None] * len(batch), strict=False):
                        if not job.done.done():
                            job.done.set_result(booking)
        finally:
            self.writing.discard(slot_id)
            self.waiting.pop(slot_id, None)


@dataclass(frozen=True, slots=True)
class _Written:
    bookings: list[Booking | None]  # the batch's, in order: saved, then None for those refused
    full: bool  # the slot had no place left when the transaction committed


async def _write_batch(slot_id: int, batch: list[Job]) -> _Written:
    async with in_transaction() as conn:
        query = Slot.filter(id=slot_id).using_db(conn).only("id", "taken", "capacity")
        if conn.capabilities.dialect == "postgres":
            query = query.select_for_update()
        slot = await query.get()
        granted = min(len(batch), max(0, slot.capacity - slot.taken))
        if granted == 0:
            return _Written([None] * len(batch), True)
        moved = (
            await Slot.filter(id=slot_id, taken__lte=slot.capacity - granted)
            .using_db(conn)
            .update(taken=F("taken") + granted)
        )
        if moved != 1:  # the row moved under us: cannot happen under the lock, and then refuses
            raise SlotMoved()
        saved = await _insert(conn, [job.fields for job in batch[:granted]])
        now = clock.now()
        await BookingEvent.bulk_create(
            [
                BookingEvent(
                    booking_id=b.id,
                    action="book",
                    from_state="",
                    to_state=b.state.value,
                    actor_id=b.user_id,
                    note="",
                    at=now,
                )
                for b in saved
            ],
            using_db=conn,
        )
        await _notify(conn, saved, [j.service_name for j in batch])
    return _Written([*saved, *([None] * (len(batch) - granted))], slot.taken + granted >= slot.capacity)


_IDS = "SELECT nextval(pg_get_serial_sequence('bk_booking', 'id')) FROM generate_series(1, $1)"


async def _insert(conn: Any, rows: list[dict[str, Any]]) -> list[Booking]:
    """The bookings, in one insert on PostgreSQL (their ids drawn first, one statement), else one by
    one (SQLite hands out ids only per insert; its statements are cheap, its commit is not)."""
    if conn.capabilities.dialect != "postgres" or len(rows) == 1:
        return [await Booking.create(**row, using_db=conn) for row in rows]
    _, drawn = await conn.execute_query(_IDS, [len(rows)])
    bookings = [Booking(id=int(r[0]), **row) for r, row in zip(drawn, rows, strict=True)]
    await Booking.bulk_create(bookings, using_db=conn)
    return bookings


async def _notify(conn: Any, saved: list[Booking], names: list[str]) -> None:
    """bookings.booking.notify_state for the batch: one insert per event, not per booking."""
    from bookings.booking import NOTIFIED  # imports this module

    items: dict[str, list[tuple[str, list[int], dict[str, Any]]]] = defaultdict(list)
    for b, name in zip(saved, names, strict=False):
        if b.state in NOTIFIED:
            event, status = NOTIFIED[b.state]
            params = {
                "service": name, "starts_at": clock.to_local(b.starts_at), "status": status,
                "booking_id": b.id,
            }  # fmt: skip
            items[event].append((f"booking:{b.id}", [b.user_id], params))
    for event, rows in items.items():
        await notify.enqueue_many(event, rows, using_db=conn)


class SlotMoved(Exception):
    """The slot's counter was not where its locked read said (the caller writes each booking alone)."""


_writer = PerLoop(_Writer).get


async def write(fields: dict[str, Any], service_name: str) -> Booking | None:
    """Save a booking of these fields (its slot among them) with a place of its slot: the saved
    booking, or None when the slot had none left. Raises what its batch's transaction raised."""
    done: asyncio.Future[Booking | None] = asyncio.get_running_loop().create_future()
    _writer().submit(Job(fields, service_name, done))
    return await done


def transactions() -> int:
    """How many transactions this event loop's writer has opened (tests check bookings share them)."""
    return _writer().transactions
