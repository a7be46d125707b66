"""The pure rules: every pair of status and action, and working-hours arithmetic across weekends,
holidays and exchanged working days (调休), in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from complaints.calendar import seed_rows
from complaints.errors import TransitionNotAllowed
from complaints.models import Status
from complaints.rules import (
    TRANSITIONS,
    Action,
    WorkCalendar,
    add_working_hours,
    check_escalation,
    late,
    next_status,
    working_hours_between,
)
from core.clock import SHANGHAI

CAL_2026 = WorkCalendar.from_rows((d, w) for d, w, _ in seed_rows())
ILLEGAL = [(s, a) for s in Status for a in Action if (s, a) not in TRANSITIONS]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_every_illegal_transition_is_refused(status: Status, action: Action) -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        next_status(status, action)
    assert caught.value.error_code == "complaint_transition_not_allowed"
    assert caught.value.details == {"status": str(status), "action": str(action)}


def test_the_legal_transitions_are_exactly_the_documented_ones() -> None:
    assert len(TRANSITIONS) == 18 and len(ILLEGAL) == len(Status) * len(Action) - 18
    assert next_status(Status.SUBMITTED, Action.ACCEPT) is Status.ACCEPTED
    assert next_status(Status.ACCEPTED, Action.RESOLVE) is Status.RESOLVED  # staff work directly
    assert next_status(Status.RESOLVED, Action.REOPEN) is Status.REOPENED
    assert next_status(Status.RESOLVED, Action.RATE) is Status.CONFIRMED  # a rating does not close
    assert next_status(Status.CONFIRMED, Action.REOPEN) is Status.REOPENED  # reopenable after a rating
    assert next_status(Status.CONFIRMED, Action.CLOSE) is Status.CLOSED
    assert not any(before is Status.CLOSED for before, _ in TRANSITIONS)  # closed is final


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CONFIRMED, Status.CLOSED])
def test_no_escalation_once_resolved(status: Status) -> None:
    with pytest.raises(TransitionNotAllowed):
        check_escalation(status)


def test_hours_inside_one_day_skip_lunch() -> None:
    assert add_working_hours(local(2026, 3, 4, 11, 0), 2, CAL_2026) == local(2026, 3, 4, 14, 0)


def test_hours_across_a_weekend() -> None:
    friday = local(2026, 3, 6, 16, 0)  # Friday: 2 h left today, then Monday 9:00-11:00
    due = add_working_hours(friday, 4, CAL_2026)
    assert due == local(2026, 3, 9, 11, 0)
    assert due.tzinfo is UTC
    assert working_hours_between(friday, due, CAL_2026) == 4


def test_hours_across_a_weekend_and_a_holiday() -> None:
    friday = local(2026, 4, 3, 16, 0)  # then Sat, Sun, and Monday 6 April (清明) off
    assert add_working_hours(friday, 4, CAL_2026) == local(2026, 4, 7, 11, 0)
    assert add_working_hours(friday, 4, WorkCalendar()) == local(2026, 4, 6, 11, 0)  # without the table


def test_a_weekend_day_worked_in_exchange_counts() -> None:
    assert CAL_2026.is_working_day(date(2026, 2, 14))  # Saturday, 春节调休上班
    assert add_working_hours(local(2026, 2, 13, 17, 0), 2, CAL_2026) == local(2026, 2, 14, 10, 0)


def test_spring_festival_week_is_skipped_whole() -> None:
    due = add_working_hours(local(2026, 2, 14, 17, 0), 8, CAL_2026)
    assert due == local(2026, 2, 24, 17, 0)  # 1 h on the 14th, 15th-23rd off, 9-12 and 13-17 on the 24th


def test_start_outside_working_hours_begins_at_the_next_period() -> None:
    assert add_working_hours(local(2026, 3, 7, 22, 0), 1, CAL_2026) == local(2026, 3, 9, 10, 0)
    assert add_working_hours(local(2026, 3, 9, 12, 30), 1, CAL_2026) == local(2026, 3, 9, 14, 0)


def test_late_is_strictly_after_the_due_moment() -> None:
    due = local(2026, 4, 7, 11, 0)
    assert not late(due, due)
    assert late(due, local(2026, 4, 7, 11, 0, 1))
    assert not late(None, due)


def test_the_2026_table_holds_the_state_council_schedule() -> None:
    rows = seed_rows()
    assert sum(1 for _, working, _ in rows if not working) == 33  # 3+9+3+5+3+3+7 days off
    assert {d for d, working, _ in rows if working} == {
        date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)
    }  # fmt: skip
