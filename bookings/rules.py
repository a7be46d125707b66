"""Pure rules of bookings: the state machine, the slots a week of opening hours makes, what may be
booked when (lead time, horizon, holidays, closures, staff on leave), the charge and cancellation.
No I/O. Times of people are Asia/Shanghai (core.clock.SHANGHAI); every datetime is aware.

State machine (anything not listed is refused):

    held --pay--> confirmed          (the payment's verified notification; pay-on-site: at once)
    held --expire--> expired         (the system, once the hold has run out unpaid)
    held/confirmed --cancel--> cancelled   (the resident within the free-cancellation limit, or
                                            the provider with a reason: full refund)
    confirmed --arrive--> in_service (the provider's staff at the door)
    confirmed/in_service --complete--> completed
    confirmed --no_show--> no_show   (the resident was not there)

held, confirmed and in_service hold a place of their slot (ACTIVE); the slot's counter row is the
invariant (bookings.booking), these states only say which bookings it counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from bookings.errors import BookingStateConflict, CancelTooLate, RatingInvalid, SlotUnavailable
from core import clock

MINUTES_PER_DAY = 24 * 60
MAX_SEARCH_DAYS = 31


class ProviderKind(StrEnum):
    PROPERTY_COMPANY = "property_company"
    ORGANISATION = "organisation"


class MemberRole(StrEnum):
    MANAGER = "manager"
    STAFF = "staff"


class Category(StrEnum):
    ELDERLY_CARE = "elderly_care"
    CHILD_CARE = "child_care"
    HOUSEKEEPING = "housekeeping"
    REPAIRS = "repairs"
    HEALTH = "health"
    CULTURE = "culture"
    ESTATE_AGENCY = "estate_agency"
    PARCEL = "parcel"


CATEGORY_LABELS = {
    Category.ELDERLY_CARE: "养老服务",
    Category.CHILD_CARE: "托育服务",
    Category.HOUSEKEEPING: "家政服务",
    Category.REPAIRS: "维修服务",
    Category.HEALTH: "健康服务",
    Category.CULTURE: "文化服务",
    Category.ESTATE_AGENCY: "房屋经纪",
    Category.PARCEL: "快递代收",
}


class PriceUnit(StrEnum):
    PER_VISIT = "per_visit"
    PER_HOUR = "per_hour"


class Delivery(StrEnum):
    AT_HOME = "at_home"
    ON_SITE = "on_site"


class State(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Action(StrEnum):
    PAY = "pay"
    EXPIRE = "expire"
    CANCEL = "cancel"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    NO_SHOW = "no_show"


ACTIVE = frozenset({State.HELD, State.CONFIRMED, State.IN_SERVICE})

TRANSITIONS: Mapping[Action, tuple[frozenset[State], State]] = {
    Action.PAY: (frozenset({State.HELD}), State.CONFIRMED),
    Action.EXPIRE: (frozenset({State.HELD}), State.EXPIRED),
    Action.CANCEL: (frozenset({State.HELD, State.CONFIRMED}), State.CANCELLED),
    Action.ARRIVE: (frozenset({State.CONFIRMED}), State.IN_SERVICE),
    Action.COMPLETE: (frozenset({State.CONFIRMED, State.IN_SERVICE}), State.COMPLETED),
    Action.NO_SHOW: (frozenset({State.CONFIRMED}), State.NO_SHOW),
}


def step(state: State, action: Action) -> State:
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise BookingStateConflict(details={"state": state.value, "action": action.value})
    return target


def sources_of(action: Action) -> list[State]:
    return sorted(TRANSITIONS[action][0])


Window = tuple[int, int]  # [start, end) in minutes of a local day


def check_window(start: int, end: int) -> None:
    if not 0 <= start < end <= MINUTES_PER_DAY:
        raise ValueError("an opening window is [start, end) within one day")


def local_moment(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), clock.SHANGHAI)


def starts_in(day: date, windows: Iterable[Window], slot_minutes: int) -> list[datetime]:
    """The starts of the slots the windows of one Beijing day make (every slot inside one window),
    as UTC instants: minutes counted from the day's local midnight (Asia/Shanghai keeps one offset
    all year, but the zone database says so, not this code)."""
    midnight = local_moment(day, 0).astimezone(UTC)
    minutes: set[int] = set()
    for start, end in windows:
        minutes.update(range(start, end - slot_minutes + 1, slot_minutes))
    return [midnight + timedelta(minutes=m) for m in sorted(minutes)]


@dataclass(frozen=True, slots=True)
class Terms:
    """What a service's booking rules are (the columns of bookings.models.Service)."""

    slot_minutes: int
    capacity: int
    lead_minutes: int
    horizon_days: int
    open_on_holidays: bool = False


@dataclass(frozen=True, slots=True)
class StaffDay:
    """One staff member's day: their windows (None: they have no hours of their own and keep the
    service's; empty: they do not work that weekday), and leave."""

    windows: tuple[Window, ...] | None
    on_leave: bool


def bookable_window(now: datetime, terms: Terms) -> tuple[datetime, date]:
    """(the earliest start one may book now, the last local date one may book)."""
    return now + timedelta(minutes=terms.lead_minutes), clock.to_local(now).date() + timedelta(
        days=terms.horizon_days
    )


def day_open(day: date, terms: Terms, holidays: frozenset[date], closures: frozenset[date]) -> bool:
    return day not in closures and (terms.open_on_holidays or day not in holidays)


def staff_places(start: datetime, end: datetime, staff: Iterable[StaffDay]) -> int:
    """How many of the service's staff can take this slot: not on leave, and their own hours (if
    they have any for the day) cover it."""
    local_start, local_end = clock.to_local(start), clock.to_local(end)
    first = local_start.hour * 60 + local_start.minute
    last = first + int((local_end - local_start).total_seconds() // 60)
    return sum(
        1
        for member in staff
        if not member.on_leave
        and (member.windows is None or any(s <= first and last <= e for s, e in member.windows))
    )


def slot_capacity(terms: Terms, start: datetime, staff: Iterable[StaffDay] | None) -> int:
    """The places of a slot: the service's capacity, limited by the staff who can take it when the
    service names its staff (None: it does not)."""
    if staff is None:
        return terms.capacity
    return min(terms.capacity, staff_places(start, start + timedelta(minutes=terms.slot_minutes), staff))


def check_bookable(
    start: datetime,
    now: datetime,
    terms: Terms,
    windows: Iterable[Window],
    holidays: frozenset[date],
    closures: frozenset[date],
) -> None:
    """Refuse a start that is not a slot start of an open day inside lead time and horizon."""
    if start.tzinfo is None:
        raise SlotUnavailable("时间须带时区", code="slot_unavailable")
    local = clock.to_local(start)
    earliest, last_day = bookable_window(now, terms)
    if start < earliest:
        raise SlotUnavailable("距开始时间太近，须提前预约", details={"lead_minutes": terms.lead_minutes})
    if local.date() > last_day:
        raise SlotUnavailable("超出可预约的天数", details={"horizon_days": terms.horizon_days})
    if not day_open(local.date(), terms, holidays, closures):
        raise SlotUnavailable("当日不营业（节假日或停业）", details={"day": local.date().isoformat()})
    if local not in starts_in(local.date(), windows, terms.slot_minutes):
        raise SlotUnavailable("不是可预约的时段开始时间", details={"starts_at": local.isoformat()})


def charge_fen(price_fen: int, unit: PriceUnit, duration_minutes: int) -> int:
    """What one booking costs: the posted price per visit, or per hour for the service's duration,
    rounded half up to the fen (the one rounding of this domain)."""
    if unit is PriceUnit.PER_VISIT:
        return price_fen
    return (price_fen * duration_minutes + 30) // 60


def check_resident_change(starts_at: datetime, now: datetime, free_cancel_hours: int) -> None:
    """A resident cancels or reschedules free of charge until ``free_cancel_hours`` before the start;
    later, only the provider can (it may still cancel with a full refund)."""
    if now > starts_at - timedelta(hours=free_cancel_hours):
        raise CancelTooLate(details={"free_cancel_hours": free_cancel_hours})


def check_stars(stars: int) -> int:
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise RatingInvalid(details={"stars": stars})
    return stars


REMINDER_EVENING = 18 * 60  # the day-before reminder goes out at 18:00 Beijing time


class Reminder(StrEnum):
    DAY_BEFORE = "day_before"
    HOURS_BEFORE = "hours_before"


def reminder_moments(starts_at: datetime, *, day_before: bool, hours: int) -> list[tuple[datetime, Reminder]]:
    """When a booking starting at ``starts_at`` is reminded, earliest first: the evening of the Beijing
    day before (if asked for), and ``hours`` before the start (0: not)."""
    moments = []
    if day_before:
        moments.append((local_moment(clock.to_local(starts_at).date() - timedelta(days=1), REMINDER_EVENING),
                        Reminder.DAY_BEFORE))  # fmt: skip
    if hours > 0:
        moments.append((starts_at - timedelta(hours=hours), Reminder.HOURS_BEFORE))
    return sorted(m for m in moments if m[0] < starts_at)


def next_reminder(starts_at: datetime, after: datetime, *, day_before: bool, hours: int) -> datetime | None:
    """The first reminder moment strictly after ``after`` (a booking made, moved or just reminded
    then): reminders whose moment is already past are not sent late, the booking's confirmation
    or the later reminder stands for them."""
    return next(
        (m for m, _ in reminder_moments(starts_at, day_before=day_before, hours=hours) if after < m), None
    )


def due_reminder(starts_at: datetime, now: datetime, *, day_before: bool, hours: int) -> Reminder | None:
    """The reminder to send now: the latest whose moment has come, before the start."""
    if now >= starts_at:
        return None
    due = [kind for m, kind in reminder_moments(starts_at, day_before=day_before, hours=hours) if m <= now]
    return due[-1] if due else None
