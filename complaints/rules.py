"""Pure rules of complaints: the state machine and working-hours arithmetic. No I/O.

State machine (every arrow an immutable event; anything not listed is refused). Who may take each
step is decided in complaints.guards, which also lists the steps for the app's buttons:

    submitted --accept--> accepted            (property staff accept for their company: it is theirs,
                                                they work on it directly; the community accepts to dispatch)
    submitted/accepted --reject--> closed     (not a complaint: duplicate, outside any remit)
    accepted/dispatched/reopened --dispatch--> dispatched   (the community: to the company or a department)
    accepted/dispatched/reopened --start--> in_progress     (the assignee)
    accepted/dispatched/in_progress/reopened --resolve--> resolved   (the assignee; start is optional)
    resolved --rate--> confirmed              (the resident rates 1-5; the complaint stays reopenable)
    resolved/confirmed --reopen--> reopened   (the resident, within REOPEN_DAYS of the resolution,
                                                rated or not: the rating stays in the history)
    resolved/confirmed --close--> closed      (the system, once REOPEN_DAYS have passed)

Escalation to the community does not change the status: it is an event and a flag on the stage.
Working hours: WORK_PERIODS on working days, in Asia/Shanghai. A working day is Monday to Friday
unless the calendar table says otherwise (holidays, and weekend days worked in exchange: 调休).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from complaints.errors import RatingInvalid, TransitionNotAllowed
from complaints.models import Status
from core.clock import SHANGHAI, to_local


class Action(StrEnum):
    ACCEPT = "accept"
    DISPATCH = "dispatch"
    START = "start"
    RESOLVE = "resolve"
    RATE = "rate"
    REOPEN = "reopen"
    CLOSE = "close"
    REJECT = "reject"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.ACCEPT): Status.ACCEPTED,
    (Status.SUBMITTED, Action.REJECT): Status.CLOSED,
    (Status.ACCEPTED, Action.DISPATCH): Status.DISPATCHED,
    (Status.ACCEPTED, Action.REJECT): Status.CLOSED,
    (Status.ACCEPTED, Action.START): Status.IN_PROGRESS,
    (Status.ACCEPTED, Action.RESOLVE): Status.RESOLVED,
    (Status.DISPATCHED, Action.DISPATCH): Status.DISPATCHED,
    (Status.DISPATCHED, Action.START): Status.IN_PROGRESS,
    (Status.DISPATCHED, Action.RESOLVE): Status.RESOLVED,
    (Status.IN_PROGRESS, Action.RESOLVE): Status.RESOLVED,
    (Status.RESOLVED, Action.RATE): Status.CONFIRMED,
    (Status.RESOLVED, Action.REOPEN): Status.REOPENED,
    (Status.RESOLVED, Action.CLOSE): Status.CLOSED,
    (Status.CONFIRMED, Action.REOPEN): Status.REOPENED,
    (Status.CONFIRMED, Action.CLOSE): Status.CLOSED,
    (Status.REOPENED, Action.START): Status.IN_PROGRESS,
    (Status.REOPENED, Action.RESOLVE): Status.RESOLVED,
    (Status.REOPENED, Action.DISPATCH): Status.DISPATCHED,
}

# Statuses in which someone still owes work: time limits run, escalation and "me too" apply.
OPEN: frozenset[Status] = frozenset(
    {Status.SUBMITTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.REOPENED}
)
# Working hours allowed per stage; IN_PROGRESS takes the category's resolve_hours.
STAGE_HOURS: dict[Status, int] = {
    Status.SUBMITTED: 4,
    Status.ACCEPTED: 4,
    Status.DISPATCHED: 8,
    Status.REOPENED: 8,
}
# Days after a resolution in which the resident may reopen it (rated or not); then it closes.
REOPEN_DAYS = 7
# Resolved, waiting for the resident: rated or not, reopenable until the window passes.
ANSWERABLE: frozenset[Status] = frozenset({Status.RESOLVED, Status.CONFIRMED})
MAX_PHOTOS = 9
WORK_PERIODS: tuple[tuple[time, time], ...] = ((time(9, 0), time(12, 0)), (time(13, 0), time(18, 0)))


def next_status(status: Status, action: Action) -> Status:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionNotAllowed(details={"status": str(status), "action": str(action)}) from None


def check_escalation(status: Status) -> None:
    if status not in OPEN:
        raise TransitionNotAllowed(details={"status": str(status), "action": "escalate"})


def stage_hours(status: Status, resolve_hours: int, *, assigned: bool = False) -> int | None:
    """Working hours allowed in ``status``. Accepted by the company itself (``assigned``), the next
    step is the work, so the stage has the category's time to resolve."""
    if status is Status.IN_PROGRESS or (status is Status.ACCEPTED and assigned):
        return resolve_hours
    return STAGE_HOURS.get(status)


def late(due_at: datetime | None, at: datetime) -> bool:
    return due_at is not None and at > due_at


def check_rating(rating: int | None) -> int:
    if rating is None or not 1 <= rating <= 5:
        raise RatingInvalid(details={"rating": rating})
    return rating


def reopen_until(resolved_at: datetime | None) -> datetime | None:
    return None if resolved_at is None else resolved_at + timedelta(days=REOPEN_DAYS)


def reopen_allowed(resolved_at: datetime | None, at: datetime) -> bool:
    until = reopen_until(resolved_at)
    return until is not None and at <= until


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days worked (调休)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[date, bool]]) -> WorkCalendar:
        rows = list(rows)
        return cls(
            holidays=frozenset(d for d, working in rows if not working),
            workdays=frozenset(d for d, working in rows if working),
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def _periods(calendar: WorkCalendar, start_day: date, days: int) -> Iterable[tuple[datetime, datetime]]:
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        if calendar.is_working_day(day):
            for begin, end in WORK_PERIODS:
                yield datetime.combine(day, begin, SHANGHAI), datetime.combine(day, end, SHANGHAI)


def add_working_hours(start: datetime, hours: float, calendar: WorkCalendar) -> datetime:
    """The moment ``hours`` working hours after ``start`` (UTC). Time outside working hours is skipped."""
    local = to_local(start)
    remaining = timedelta(hours=hours)
    if remaining <= timedelta(0):
        return start.astimezone(UTC)
    for begin, end in _periods(calendar, local.date(), 3 * 366):
        begin = max(begin, local)
        if begin >= end:
            continue
        if remaining <= end - begin:
            return (begin + remaining).astimezone(UTC)
        remaining -= end - begin
    raise ValueError("no working time within three years: is the calendar all holidays?")


def working_hours_between(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """Working hours from ``start`` to ``end`` (0 when end is not after start)."""
    if end <= start:
        return 0.0
    a, b = to_local(start), to_local(end)
    total = timedelta(0)
    for begin, finish in _periods(calendar, a.date(), (b.date() - a.date()).days + 1):
        overlap = min(finish, b) - max(begin, a)
        if overlap > timedelta(0):
            total += overlap
    return total.total_seconds() / 3600
