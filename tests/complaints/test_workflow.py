"""The workflow through the service: refusals of every illegal step (and nothing changed), the
happy paths to a company and to a department, time limits across a weekend and a holiday, the
overdue flag frozen at close, reopening, and the automatic escalation being idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from audit.models import AuditEvent
from audit.service import SYSTEM, Actor
from complaints import service
from complaints.errors import NotYourStep, RatingInvalid, ReopenWindowPassed, TransitionNotAllowed
from complaints.models import Complaint, Event, Moderation, Party, PlaceKind, Status
from complaints.rules import TRANSITIONS, Action
from core.clock import SHANGHAI

from .conftest import World, make_complaint

# Who would take each step if it were allowed (None: the system).
PERFORMER = {
    Action.ACCEPT: "community_admin",
    Action.DISPATCH: "community_admin",
    Action.REJECT: "community_admin",
    Action.START: "property_staff",
    Action.RESOLVE: "property_staff",
    Action.RATE: "resident",
    Action.REOPEN: "resident",
    Action.CLOSE: None,
}


def actor(world: World, who: str | None) -> Actor:
    return SYSTEM if who is None else Actor(f"user:{world.uid(who)}", who)


async def step(
    world: World, complaint_id: int, action: Action, who: str | None = "", **kw: object
) -> Complaint:
    performer = PERFORMER[action] if who == "" else who
    return await service.act(
        complaint_id,
        service.Step(action, **kw),  # type: ignore[arg-type]
        user_id=None if performer is None else world.uid(performer),
        actor=actor(world, performer),
    )


@pytest.mark.parametrize("status", list(Status))
async def test_every_illegal_step_is_refused_and_changes_nothing(world: World, status: Status) -> None:
    complaint = await make_complaint(world, status=status)
    refused = [a for a in Action if (status, a) not in TRANSITIONS]
    assert refused, status
    for action in refused:
        with pytest.raises(TransitionNotAllowed):
            await step(world, complaint.id, action, note="说明", rating=5)
    after = await Complaint.get(id=complaint.id)
    assert (after.status, after.version) == (status, 1)
    assert await Event.filter(complaint_id=complaint.id).count() == 1
    assert await AuditEvent.all().count() == 0


async def test_property_path_from_filing_to_rating(world: World, wechat, cache) -> None:  # type: ignore[no-untyped-def]
    filed = await service.file_complaint(
        service.NewComplaint(
            world.compound.id,
            "repair",
            "三单元楼道灯不亮了",
            PlaceKind.BUILDING,
            building_id=world.building.id,
        ),
        user=world.users["resident"],
        actor=actor(world, "resident"),
        wechat=wechat,
        cache=cache,
        media_url=lambda photo: "https://example.invalid",
    )
    assert (filed.status, filed.party, filed.stage_due_at is not None) == (
        Status.SUBMITTED,
        Party.PROPERTY,
        True,
    )
    accepted = await step(world, filed.id, Action.ACCEPT, "property_staff")
    # accepted by the company: assigned to it, with the category's time to resolve, no dispatch to itself
    assert (accepted.status, accepted.company_id) == (Status.ACCEPTED, world.company.id)  # type: ignore[attr-defined]
    with pytest.raises(NotYourStep):
        await step(world, filed.id, Action.DISPATCH, "property_staff")
    with pytest.raises(NotYourStep):
        await step(world, filed.id, Action.START, "other_property_staff")
    await step(world, filed.id, Action.START)
    resolved = await step(world, filed.id, Action.RESOLVE, note="已更换灯泡")
    assert resolved.resolved_at is not None
    with pytest.raises(NotYourStep):
        await step(world, filed.id, Action.RATE, "neighbour", rating=5)
    with pytest.raises(RatingInvalid):
        await step(world, filed.id, Action.RATE, rating=None)
    rated = await step(world, filed.id, Action.RATE, rating=4, note="很快")
    assert (rated.status, rated.rating, rated.version, rated.closed_at) == (Status.CONFIRMED, 4, 5, None)
    with pytest.raises(TransitionNotAllowed):  # one rating per resolution
        await step(world, filed.id, Action.RATE, rating=1)
    reopened = await step(world, filed.id, Action.REOPEN, note="第二天又不亮了")
    assert (reopened.status, reopened.rating, reopened.reopen_count) == (Status.REOPENED, 4, 1)
    history = (
        await Event.filter(complaint_id=filed.id)
        .order_by("seq")
        .values_list("action", "to_status", "actor_role", "data")
    )
    assert history == [
        ("submit", "submitted", "resident", {}),
        ("accept", "accepted", "property_staff", {"company_id": world.company.id}),
        ("start", "in_progress", "property_staff", {}),
        ("resolve", "resolved", "property_staff", {}),
        ("rate", "confirmed", "resident", {"rating": 4}),
        ("reopen", "reopened", "resident", {"rating": 4}),
    ]
    assert await AuditEvent.filter(subject=f"complaint:{filed.id}").count() == 6
    resolved_again = await step(world, filed.id, Action.RESOLVE, note="更换了线路")  # the company works on
    assert resolved_again.status is Status.RESOLVED


async def test_property_staff_may_resolve_straight_after_accepting(world: World) -> None:
    complaint = await make_complaint(world)
    await step(world, complaint.id, Action.ACCEPT, "property_staff")
    resolved = await step(world, complaint.id, Action.RESOLVE, note="当场修好")
    assert (resolved.status, resolved.version) == (Status.RESOLVED, 3)


async def test_accepted_by_the_community_waits_for_its_dispatch(world: World) -> None:
    complaint = await make_complaint(world)
    await step(world, complaint.id, Action.ACCEPT, "community_admin")
    with pytest.raises(NotYourStep):  # nobody is assigned yet
        await step(world, complaint.id, Action.RESOLVE, "property_staff")
    dispatched = await step(world, complaint.id, Action.DISPATCH, "community_admin")
    assert dispatched.company_id == world.company.id  # type: ignore[attr-defined]
    assert (await step(world, complaint.id, Action.RESOLVE, "property_staff")).status is Status.RESOLVED


async def test_department_path_goes_through_the_community(world: World) -> None:
    complaint = await make_complaint(world, category="illegal_construction")
    await step(world, complaint.id, Action.ACCEPT)
    with pytest.raises(NotYourStep):  # not the property company's remit, nor its call
        await step(world, complaint.id, Action.DISPATCH, "property_staff")
    dispatched = await step(world, complaint.id, Action.DISPATCH)
    assert dispatched.department_id == world.departments["执法局"].id  # type: ignore[attr-defined]
    with pytest.raises(NotYourStep):
        await step(world, complaint.id, Action.START, "other_department_staff")
    with pytest.raises(NotYourStep):
        await step(world, complaint.id, Action.START, "property_staff")
    await step(world, complaint.id, Action.START, "department_staff")
    resolved = await step(world, complaint.id, Action.RESOLVE, "department_staff", note="已拆除")
    assert resolved.status is Status.RESOLVED


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


async def test_overdue_across_a_weekend_and_a_holiday_escalates_once(world: World) -> None:
    # Filed Friday 3 April 2026 16:00: 4 working hours to accept, and Mon 6 April is 清明.
    filed_at = local(2026, 4, 3, 16, 0)
    due = local(2026, 4, 7, 11, 0)
    complaint = await make_complaint(world, created_at=filed_at, stage_due_at=due)

    assert await service.escalate_overdue(now=local(2026, 4, 6, 17, 0)) == 0  # holiday: not late yet
    assert await service.escalate_overdue(now=local(2026, 4, 7, 11, 0)) == 0  # exactly at the limit
    assert await service.escalate_overdue(now=local(2026, 4, 7, 11, 1)) == 1
    assert await service.escalate_overdue(now=local(2026, 4, 7, 15, 0)) == 0  # idempotent
    escalated = await Complaint.get(id=complaint.id)
    assert (escalated.overdue, escalated.escalations, escalated.stage_escalated) == (True, 1, True)
    last = await Event.filter(complaint_id=complaint.id).order_by("-seq").first()
    assert last is not None and (last.action, last.actor_role, last.to_status) == (
        "escalate",
        "system",
        "submitted",
    )


async def test_the_overdue_flag_is_frozen_at_close(world: World) -> None:
    complaint = await make_complaint(world, status=Status.IN_PROGRESS, stage_due_at=local(2099, 1, 1, 9, 0))
    await step(world, complaint.id, Action.RESOLVE)
    rated = await step(world, complaint.id, Action.RATE, rating=5)
    assert (rated.status, rated.overdue) == (Status.CONFIRMED, False)
    assert rated.resolved_at is not None
    assert await service.close_unanswered(now=rated.resolved_at + timedelta(days=7)) == 0  # still reopenable
    assert await service.close_unanswered(now=rated.resolved_at + timedelta(days=7, seconds=1)) == 1
    closed = await Complaint.get(id=complaint.id)
    assert (closed.status, closed.rating, closed.overdue) == (Status.CLOSED, 5, False)
    last = await Event.filter(complaint_id=complaint.id).order_by("-seq").first()
    assert last is not None and (last.action, last.from_status, last.note) == (
        "close", "confirmed", "重新打开期限已过，自动办结"
    )  # fmt: skip
    await service.escalate_overdue(now=local(2100, 1, 1, 9, 0))
    assert (await Complaint.get(id=complaint.id)).overdue is False

    late = await make_complaint(world, status=Status.IN_PROGRESS, stage_due_at=local(2020, 1, 1, 9, 0))
    resolved = await step(world, late.id, Action.RESOLVE)
    assert resolved.overdue is True  # resolved after its limit: stays overdue through close
    assert (await step(world, late.id, Action.RATE, rating=2)).overdue is True


async def test_reopen_within_the_window_and_back_to_work(world: World) -> None:
    complaint = await make_complaint(world, status=Status.RESOLVED)
    reopened = await step(world, complaint.id, Action.REOPEN, note="灯还是不亮")
    assert (reopened.status, reopened.reopen_count) == (Status.REOPENED, 1)
    assert (await step(world, complaint.id, Action.START)).status is Status.IN_PROGRESS

    old = await make_complaint(
        world, status=Status.RESOLVED, resolved_at=datetime.now(SHANGHAI) - timedelta(days=8)
    )
    with pytest.raises(ReopenWindowPassed):
        await step(world, old.id, Action.REOPEN, note="晚了")

    rated = await make_complaint(world, status=Status.RESOLVED)
    await step(world, rated.id, Action.RATE, rating=2, note="没修好")
    again = await step(world, rated.id, Action.REOPEN, note="评价之后灯又灭了")  # rated, still in the window
    assert (again.status, again.rating, again.reopen_count) == (Status.REOPENED, 2, 1)
    assert await service.close_unanswered() == 1
    assert (await Complaint.get(id=old.id)).status is Status.CLOSED


async def test_reject_needs_a_reason_and_only_the_community(world: World) -> None:
    complaint = await make_complaint(world)
    with pytest.raises(NotYourStep):
        await step(world, complaint.id, Action.REJECT, "property_staff", note="重复")
    from complaints.errors import NoteRequired

    with pytest.raises(NoteRequired):
        await step(world, complaint.id, Action.REJECT, note=" ")
    assert (await step(world, complaint.id, Action.REJECT, note="与 12 号投诉重复")).status is Status.CLOSED


async def test_a_held_complaint_refused_by_the_community_closes_with_its_reason(world: World) -> None:
    complaint = await make_complaint(world, moderation=Moderation.HELD)
    with pytest.raises(NotYourStep):
        await service.moderate(
            complaint.id, user_id=world.uid("property_staff"), actor=SYSTEM, passed=False, reason="x"
        )
    refused = await service.moderate(
        complaint.id,
        user_id=world.uid("community_admin"),
        actor=SYSTEM,
        passed=False,
        reason="含人身攻击内容",
    )
    assert (refused.status, refused.moderation, refused.moderation_reason) == (
        Status.CLOSED, Moderation.REJECTED, "含人身攻击内容"
    )  # fmt: skip
    last = await Event.filter(complaint_id=complaint.id).order_by("-seq").first()
    assert last is not None and (last.action, last.from_status, last.to_status) == (
        "refuse",
        "submitted",
        "closed",
    )
