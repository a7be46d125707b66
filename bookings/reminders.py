"""Reminders before a booked slot, through notify's outbox (event "booking.reminder"): the evening
before (18:00 Beijing) and/or some hours before the start, as each service is set
(``Service.remind_day_before``, ``Service.remind_hours``).

Each booking carries ``next_reminder_at``, the moment its next reminder is due for its current
start (set when it is made or moved, bookings.booking). The periodic job takes the confirmed
bookings whose moment has come and, per booking in one transaction, moves that moment on by a
conditional update on the value it read and writes the outbox row. Two runs at once (or a run
repeated after a crash) remind nobody twice: the update succeeds for one of them only, and the
outbox key (event, booking, kind, start) is unique as well. Held, cancelled, expired or finished
bookings are never reminded (the state is part of the query). Whether WeChat delivers it is the
user's subscription (notify.sender checks the consent; without one the inbox shows it)."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from bookings.models import Booking, Service
from bookings.rules import State, due_reminder, next_reminder
from core import clock
from notify import service as notify

BATCH = 200
EVENT = "booking.reminder"
STATUS = {"day_before": "明天服务", "hours_before": "即将开始"}


def first_reminder(service: Service, starts_at: datetime, now: datetime) -> datetime | None:
    """``next_reminder_at`` of a booking of ``service`` made (or moved) now to ``starts_at``."""
    return next_reminder(starts_at, now, day_before=service.remind_day_before, hours=service.remind_hours)


async def send_due(now: datetime | None = None, *, limit: int = BATCH) -> int:
    """Remind the confirmed bookings whose reminder is due; returns the reminders written."""
    moment = now or clock.now()
    rows = (
        await Booking.filter(state=State.CONFIRMED, next_reminder_at__lte=moment)
        .order_by("next_reminder_at")
        .limit(limit)
        .values_list("id", "service_id", "user_id", "starts_at", "next_reminder_at")
    )
    if not rows:
        return 0
    services = {
        s.id: s
        for s in await Service.filter(id__in={int(r[1]) for r in rows}).only(
            "id", "name", "remind_day_before", "remind_hours"
        )
    }
    sent = 0
    for booking_id, service_id, user_id, starts_at, due_at in rows:
        service = services[int(service_id)]
        settings = {"day_before": service.remind_day_before, "hours": service.remind_hours}
        kind = due_reminder(starts_at, moment, **settings)  # type: ignore[arg-type]
        following = next_reminder(starts_at, moment, **settings)  # type: ignore[arg-type]
        async with in_transaction() as conn:
            moved = (
                await Booking.filter(id=booking_id, state=State.CONFIRMED, next_reminder_at=due_at)
                .using_db(conn)
                .update(next_reminder_at=following)
            )
            if moved != 1 or kind is None:  # another run had it, or nothing is left to remind of
                continue
            await notify.enqueue(
                EVENT,
                subject=f"booking:{booking_id}:{kind.value}:{int(starts_at.timestamp())}",
                user_ids=[int(user_id)],
                params={
                    "service": service.name,
                    "starts_at": clock.to_local(starts_at),  # people read Beijing time
                    "status": STATUS[kind.value],
                    "booking_id": booking_id,
                },
                using_db=conn,
            )
            sent += 1
    return sent
