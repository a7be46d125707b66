"""Reminders before a booked slot: the evening before and N hours before, each written once to
notify's outbox, never for bookings that are not confirmed, never twice however often or however
concurrently the job runs, and moved with a rescheduled booking."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bookings import booking, reminders
from bookings.models import Booking
from bookings.rules import REMINDER_EVENING, local_moment
from core import clock
from notify.models import Notification
from tests.bookings.conftest import World, publish, tomorrow_at

MINUTE = timedelta(minutes=1)


def _evening_before(starts_at: datetime) -> datetime:
    return local_moment(clock.to_local(starts_at).date() - timedelta(days=1), REMINDER_EVENING)


async def _book(world: World, service_id: int, starts_at: datetime, who: str = "resident") -> Booking:
    return await booking.book(
        booking.NewBooking(service_id, world.units[0].id, starts_at), user_id=world.uid(who)
    )


async def _reminders() -> list[tuple[str, int, str]]:
    return [
        (n.key, n.user_id, n.summary)
        for n in await Notification.filter(event="booking.reminder").order_by("id")
    ]


async def test_the_evening_before_and_hours_before_each_once(world: World) -> None:
    service = await publish(world, pay_on_site=True, remind_hours=3)
    start = tomorrow_at(10, days=3)
    made = await _book(world, service.id, start)
    evening = _evening_before(start)
    assert made.next_reminder_at == evening
    stamp = int(start.timestamp())
    day = clock.to_local(start).strftime("%m月%d日")

    assert await reminders.send_due(now=evening - MINUTE) == 0
    assert await reminders.send_due(now=evening + MINUTE) == 1
    assert await reminders.send_due(now=evening + 2 * MINUTE) == 0  # a second run: nobody twice
    assert await _reminders() == [
        (f"booking.reminder:booking:{made.id}:day_before:{stamp}:{world.uid('resident')}",
         world.uid("resident"), f"上门保洁将于{day} 10:00开始"),
    ]  # fmt: skip
    assert (await Booking.get(id=made.id)).next_reminder_at == start - timedelta(hours=3)

    assert await reminders.send_due(now=start - timedelta(hours=3)) == 1
    assert await reminders.send_due(now=start - MINUTE) == 0
    assert [key.split(":")[3] for key, _, _ in await _reminders()] == ["day_before", "hours_before"]
    assert (await Booking.get(id=made.id)).next_reminder_at is None


async def test_not_for_cancelled_or_unpaid_bookings_and_not_late(world: World) -> None:
    on_site = await publish(world, pay_on_site=True, remind_hours=2)
    online = await publish(world, name="陪诊", remind_hours=2)  # held until paid
    start = tomorrow_at(15, days=2)
    kept = await _book(world, on_site.id, start)
    dropped = await _book(world, on_site.id, start, who="owner")
    held = await _book(world, online.id, start)
    await booking.cancel_by_resident(world.uid("owner"), dropped.id, reason="临时有事")
    assert (held.state.value, held.next_reminder_at) == ("held", _evening_before(start))

    # the job did not run the evening before: only the reminder due now goes out, not the missed one
    assert await reminders.send_due(now=start - timedelta(hours=1)) == 1
    assert [key.split(":")[2:4] for key, _, _ in await _reminders()] == [[str(kept.id), "hours_before"]]
    assert await reminders.send_due(now=start - MINUTE) == 0


async def test_a_rescheduled_booking_is_reminded_of_its_new_time(world: World) -> None:
    service = await publish(world, pay_on_site=True, remind_day_before=True, remind_hours=0)
    first = tomorrow_at(9, days=3)
    made = await _book(world, service.id, first)
    assert await reminders.send_due(now=_evening_before(first) - MINUTE) == 0
    later = tomorrow_at(9, days=5)
    moved = await booking.reschedule(world.uid("resident"), made.id, later)
    assert moved.next_reminder_at == _evening_before(later)
    assert await reminders.send_due(now=_evening_before(first) + MINUTE) == 0  # its old evening
    assert await reminders.send_due(now=_evening_before(later) + MINUTE) == 1
    [(key, _, summary)] = await _reminders()
    assert key.split(":")[3:5] == ["day_before", str(int(later.timestamp()))]
    assert clock.to_local(later).strftime("%m月%d日 09:00") in summary


async def test_concurrent_runs_remind_each_booking_once(world: World) -> None:
    service = await publish(world, pay_on_site=True, capacity=30, remind_hours=2)
    start = tomorrow_at(16, days=2)
    made = [await _book(world, service.id, start) for _ in range(30)]
    now = start - timedelta(hours=2)
    counts = await asyncio.gather(*(reminders.send_due(now=now) for _ in range(4)))
    assert sum(counts) == 30
    keys = [key for key, _, _ in await _reminders()]
    assert sorted(int(k.split(":")[2]) for k in keys) == sorted(b.id for b in made)
    assert await Booking.filter(service_id=service.id, next_reminder_at__isnull=False).count() == 0
