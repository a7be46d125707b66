"""What is free when: the slots a service's weekly hours make over a range of Beijing dates, less
holidays (the complaints calendar), the service's closures and the staff on leave, each with its
places left. Search is read-only: a place held by a hold that has run out counts as free (the
booking that takes it releases the hold first, the periodic job releases the rest)."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter

from tortoise import connections

from bookings.errors import BookingInvalid
from bookings.models import (
    Service,
    ServiceClosure,
    ServiceHours,
    ServiceStaff,
    Slot,
    StaffHours,
    StaffLeave,
)
from bookings.rules import (
    MAX_SEARCH_DAYS,
    StaffDay,
    State,
    Terms,
    Window,
    bookable_window,
    check_bookable,
    day_open,
    slot_capacity,
    starts_in,
)
from complaints import calendar as work_calendar


@dataclass(frozen=True, slots=True)
class FreeSlot:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    free: int


def terms_of(service: Service) -> Terms:
    return Terms(
        slot_minutes=service.slot_minutes,
        capacity=service.capacity,
        lead_minutes=service.lead_minutes,
        horizon_days=service.horizon_days,
        open_on_holidays=service.open_on_holidays,
    )


@dataclass(frozen=True, slots=True)
class Calendar:
    """Everything the slots of a service over some days depend on, loaded in a few queries."""

    terms: Terms
    windows: dict[int, list[Window]]  # by weekday
    holidays: frozenset[date]
    closures: frozenset[date]
    staff_windows: dict[int, dict[int, list[Window]]] | None  # staff id -> weekday -> windows
    leave: dict[int, list[tuple[date, date]]]

    def staff_on(self, day: date) -> list[StaffDay] | None:
        if self.staff_windows is None:
            return None
        return [
            StaffDay(
                tuple(by_day.get(day.weekday(), [])) if by_day else None,
                any(a <= day <= b for a, b in self.leave.get(staff_id, [])),
            )
            for staff_id, by_day in self.staff_windows.items()
        ]

    def day_starts(self, day: date) -> list[datetime]:
        if not day_open(day, self.terms, self.holidays, self.closures):
            return []
        return starts_in(day, self.windows.get(day.weekday(), []), self.terms.slot_minutes)

    def capacity_at(self, start: datetime, day: date) -> int:
        return slot_capacity(self.terms, start, self.staff_on(day))


@dataclass(frozen=True, slots=True)
class _Rules:
    """What a service's own rows say (hours, closures, staff hours and leave): the same as long as
    the service's ``updated_at`` is, which every change of them moves (bookings.catalogue,
    bookings.providers), so it is kept per process under that key."""

    windows: dict[int, list[Window]]
    closures: frozenset[date]
    staff_windows: dict[int, dict[int, list[Window]]] | None
    leave: dict[int, list[tuple[date, date]]]


_RULES: dict[tuple[int, datetime], _Rules] = {}
_RULES_MAX = 2000


async def _rules(service: Service) -> _Rules:
    key = (service.id, service.updated_at)
    found = _RULES.get(key)
    if found is not None:
        return found
    windows: dict[int, list[Window]] = defaultdict(list)
    for weekday, start, end in await ServiceHours.filter(service_id=service.id).values_list(
        "weekday", "start_minute", "end_minute"
    ):
        windows[int(weekday)].append((int(start), int(end)))  # type: ignore[call-overload]
    closures = frozenset(await ServiceClosure.filter(service_id=service.id).values_list("day", flat=True))
    staff_windows: dict[int, dict[int, list[Window]]] | None = None
    leave: dict[int, list[tuple[date, date]]] = defaultdict(list)
    if service.staffed:
        staff_ids = list(
            await ServiceStaff.filter(service_id=service.id, staff__active=True).values_list(
                "staff_id", flat=True
            )
        )
        staff_windows = {int(i): defaultdict(list) for i in staff_ids}  # type: ignore[call-overload]
        for staff_id, weekday, start, end in await StaffHours.filter(staff_id__in=staff_ids).values_list(
            "staff_id", "weekday", "start_minute", "end_minute"
        ):
            staff_windows[int(staff_id)][int(weekday)].append((int(start), int(end)))  # type: ignore[call-overload]
        for staff_id, a, b in await StaffLeave.filter(staff_id__in=staff_ids).values_list(
            "staff_id", "starts_on", "ends_on"
        ):
            leave[int(staff_id)].append((a, b))  # type: ignore[call-overload,arg-type]
    found = _Rules(dict(windows), closures, staff_windows, dict(leave))  # type: ignore[arg-type]
    if len(_RULES) >= _RULES_MAX:
        _RULES.clear()
    _RULES[key] = found
    return found


# The holidays of the complaints calendar change once a year (its seed): read at most once a
# HOLIDAYS_SECONDS per process, not on every search.
HOLIDAYS_SECONDS = 60.0
_HOLIDAYS: list[tuple[float, frozenset[date]]] = []


async def _holidays() -> frozenset[date]:
    now = time.monotonic()
    if _HOLIDAYS and now - _HOLIDAYS[0][0] < HOLIDAYS_SECONDS:
        return _HOLIDAYS[0][1]
    holidays = (await work_calendar.load()).holidays
    _HOLIDAYS[:] = [(now, holidays)]
    return holidays


def forget_holidays() -> None:
    """Read the calendar again on the next search (after it changed in this process)."""
    _HOLIDAYS.clear()


async def load_calendar(service: Service, first: date, last: date) -> Calendar:
    rules = await _rules(service)
    holidays = await _holidays()
    return Calendar(
        terms_of(service), rules.windows, holidays, rules.closures, rules.staff_windows, rules.leave
    )


# The places used in the slots of a range: a slot's counter less its holds that have run out, in one
# statement. Written out because building the same query through the ORM (an annotated count over a
# filtered join) cost several times its execution on every search.
_USED_SQL = (
    "SELECT s.starts_at, s.taken - COUNT(b.id) AS used FROM bk_slot s "
    "LEFT JOIN bk_booking b ON b.slot_id = s.id AND b.state = {p1} AND b.hold_expires_at <= {p2} "
    "WHERE s.service_id = {p3} AND s.starts_at >= {p4} AND s.starts_at <= {p5} "
    "GROUP BY s.id, s.starts_at, s.taken"
)
_USED = {
    "postgres": _USED_SQL.format(p1="$1", p2="$2", p3="$3", p4="$4", p5="$5"),
    "sqlite": _USED_SQL.format(p1="?", p2="?", p3="?", p4="?", p5="?"),
}


async def _used_places(
    service_id: int, first: datetime, last: datetime, now: datetime
) -> dict[datetime, int]:
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _USED[conn.capabilities.dialect], [State.HELD.value, now, service_id, first, last]
    )
    to_python = Slot._meta.fields_map["starts_at"].to_python_value
    return {to_python(r["starts_at"]): int(r["used"]) for r in rows}


async def free_slots(service: Service, first: date, last: date, now: datetime) -> list[FreeSlot]:
    """Every bookable slot of the service from ``first`` to ``last`` (Beijing dates, inclusive),
    with the places left."""
    if last < first or (last - first).days >= MAX_SEARCH_DAYS:
        raise BookingInvalid(f"查询范围须为 1 至 {MAX_SEARCH_DAYS} 天", code="range_invalid")
    cal = await load_calendar(service, first, last)
    earliest, last_day = bookable_window(now, cal.terms)
    last = min(last, last_day)
    found: list[FreeSlot] = []
    day = first
    while day <= last:
        if day_open(day, cal.terms, cal.holidays, cal.closures):
            slots = _day_slots(service, cal, day)
            if slots and slots[0].starts_at < earliest:
                slots = tuple(s for s in slots if s.starts_at >= earliest)
            found.extend(slots)
        day += timedelta(days=1)
    if not found:
        return []
    used = await _used_places(service.id, found[0].starts_at, found[-1].starts_at, now)
    for at, n in used.items():
        i = bisect_left(found, at, key=_START)
        if n and i < len(found) and found[i].starts_at == at:
            s = found[i]
            found[i] = FreeSlot(s.starts_at, s.ends_at, s.capacity, max(0, s.capacity - n))
    return found


# The slots of one day of a service with every place free, as its rules make them: the same while
# the service's ``updated_at`` is (the key of _RULES), so kept per process; a search copies them
# and replaces the few that have places used.
_DAYS: dict[tuple[int, datetime, date], tuple[FreeSlot, ...]] = {}
_DAYS_MAX = 50_000
_START = attrgetter("starts_at")


def _day_slots(service: Service, cal: Calendar, day: date) -> tuple[FreeSlot, ...]:
    key = (service.id, service.updated_at, day)
    slots = _DAYS.get(key)
    if slots is not None:
        return slots
    length = timedelta(minutes=cal.terms.slot_minutes)
    staff = cal.staff_on(day)
    slots = tuple(
        FreeSlot(start, start + length, capacity, capacity)
        for start in starts_in(day, cal.windows.get(day.weekday(), []), cal.terms.slot_minutes)
        if (capacity := slot_capacity(cal.terms, start, staff)) > 0
    )
    if len(_DAYS) >= _DAYS_MAX:
        _DAYS.clear()
    _DAYS[key] = slots
    return slots


async def capacity_for(service: Service, start: datetime, now: datetime) -> int:
    """The places of the slot starting at ``start`` now, or SlotUnavailable if it cannot be booked."""
    from core import clock

    on = clock.to_local(start).date()
    cal = await load_calendar(service, on, on)
    check_bookable(start, now, cal.terms, cal.windows.get(on.weekday(), []), cal.holidays, cal.closures)
    capacity = cal.capacity_at(start, on)
    if capacity <= 0:
        from bookings.errors import SlotUnavailable

        raise SlotUnavailable("该时段没有可提供服务的人员", code="slot_unavailable")
    return capacity
