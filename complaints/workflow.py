"""Moving a complaint: every step is one conditional UPDATE on the version that was read (so of two
staff accepting at once exactly one succeeds), one immutable event, and one audit entry, in one
transaction. Escalation and moderation are events that leave the status as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Department, ServiceContract
from accounts.roles import Role, today
from audit.service import SYSTEM, Actor, append, compound_stream
from complaints import calendar
from complaints.errors import (
    ComplaintChanged,
    DepartmentUnknown,
    NoPropertyCompany,
    NoteRequired,
    NotYourStep,
)
from complaints.guards import ESCALATE, MODERATE, caller_of, decide
from complaints.media import PhotoCheck, hold_unchecked
from complaints.models import Category, Complaint, Event, Moderation, Party, Status
from complaints.permissions import company_ids, ids_of, load
from complaints.rules import (
    ANSWERABLE,
    OPEN,
    REOPEN_DAYS,
    Action,
    add_working_hours,
    check_rating,
    late,
    next_status,
    stage_hours,
)
from core import clock
from notify import service as notify
from photos import records
from photos.access import subject


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    note: str = ""
    photo_ids: list[int] = field(default_factory=list)
    rating: int | None = None
    party: Party | None = None  # dispatch: to the property company or to a department
    department_id: int | None = None


async def act(
    complaint_id: int,
    step: Step,
    *,
    user_id: int | None,
    actor: Actor,
    photo_check: PhotoCheck | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Take ``step`` as ``user_id`` (None: the system), if complaints.guards.decide lets them: its
    refusal is raised as it is (TransitionNotAllowed, NotYourStep, ReopenWindowPassed, ...);
    ComplaintChanged when someone else moved it first. Photos of the step go through
    ``photo_check`` (without one they are held for a person)."""
    complaint = await load(complaint_id)
    status = Status(complaint.status)
    moment = now or clock.now()
    caller = None if user_id is None else await caller_of(user_id, complaint)
    role = decide(complaint, step.action, caller, moment)
    target = next_status(status, step.action)
    changes: dict[str, Any] = {}
    data: dict[str, Any] = {}
    if step.action is Action.DISPATCH:
        changes = await _dispatch_target(complaint, step, role, user_id)
        data = {k: v for k, v in changes.items() if v is not None}
    elif step.action is Action.ACCEPT and role == Role.PROPERTY_STAFF:
        # accepted by the company itself: assigned to it at once, no dispatch to oneself
        changes = await _dispatch_target(complaint, Step(Action.ACCEPT, party=Party.PROPERTY), role, user_id)
        data = {"company_id": changes["company_id"]}
    elif step.action is Action.RESOLVE:
        changes = {"resolved_at": moment}
    elif step.action is Action.RATE:
        changes = {"rating": check_rating(step.rating)}
        data = {"rating": changes["rating"]}
    elif step.action is Action.REOPEN:
        # the rating given stays on the complaint and in its history until the next one
        changes = {"reopen_count": complaint.reopen_count + 1}
        data = {"rating": complaint.rating} if complaint.rating is not None else {}
    elif step.action is Action.REJECT and not step.note.strip():
        raise NoteRequired()
    final = target
    overdue = complaint.overdue or late(complaint.stage_due_at, moment)
    due = None
    assigned = (changes.get("company_id") or complaint.company_id) is not None  # type: ignore[attr-defined]
    hours = stage_hours(final, await _resolve_hours(complaint), assigned=assigned)
    if hours is not None:
        due = add_working_hours(moment, hours, await calendar.load())
    if final is Status.CLOSED:
        changes["closed_at"] = moment  # the overdue flag is frozen from here on
    async with in_transaction() as conn:
        updated = await Complaint.filter(id=complaint.id, version=complaint.version).using_db(conn).update(
            status=final, version=complaint.version + 1, stage_entered_at=moment, stage_due_at=due,
            stage_escalated=False, overdue=overdue, **changes,
        )  # fmt: skip
        if updated != 1:
            raise ComplaintChanged(details={"status": str(status)})
        photos = await records.attach(
            step.photo_ids,
            uploader_id=user_id or 0,
            subject=subject("complaint", complaint.id),
            using_db=conn,
        )
        await Event.create(
            complaint_id=complaint.id, seq=complaint.version + 1, action=step.action, from_status=status,
            to_status=final, actor_id=user_id, actor_role=role, note=step.note.strip(),
            photo_ids=[p.id for p in photos], data=data, at=moment, using_db=conn,
        )  # fmt: skip
        await append(
            compound_stream(complaint.compound_id), f"complaint.{step.action}", actor=actor,  # type: ignore[attr-defined]
            subject=f"complaint:{complaint.id}", payload={"from": str(status), "to": str(final), **data},
        )  # fmt: skip
        await _notify_complainant(complaint, step.action, changes)
    # Staff photos too: a step's photo is shown to the resident and on the board of the complaint,
    # so it passes the same content check as a resident's.
    if photo_check is not None:
        await photo_check.submit(photos)
    else:
        await hold_unchecked(photos)
    await complaint.refresh_from_db()
    return complaint


_NOTIFY = {Action.ACCEPT: ("complaint.accepted", "已受理"), Action.DISPATCH: ("complaint.dispatched", "已派单"),
           Action.RESOLVE: ("complaint.resolved", "已办结")}  # fmt: skip


async def _notify_complainant(
    complaint: Complaint, action: Action, changes: dict[str, Any], version: int | None = None
) -> None:
    """Outbox rows telling the resident the complaint moved (in the step's transaction); a resolution
    also asks for a rating. The version moved from keys them: resolved again after a reopening, again."""
    if action not in _NOTIFY:
        return
    user_id = complaint.complainant_id or complaint.filer_id  # type: ignore[attr-defined]
    category = await Category.get(code=complaint.category_id)  # type: ignore[attr-defined]
    event, status = _NOTIFY[action]
    party = "职能部门" if changes.get("party") == Party.DEPARTMENT else "物业服务企业"
    params = {"complaint_id": complaint.id, "number": str(complaint.id), "category": category.name,
              "status": status, "party": party}  # fmt: skip
    subject = f"complaint:{complaint.id}:{complaint.version if version is None else version}"
    await notify.enqueue(event, subject=subject, user_ids=[user_id], params=params)
    if action is Action.RESOLVE:
        await notify.enqueue("complaint.rate", subject=subject, user_ids=[user_id], params=params)


async def _resolve_hours(complaint: Complaint) -> int:
    category = await Category.get(code=complaint.category_id)  # type: ignore[attr-defined]
    return category.resolve_hours


async def _dispatch_target(
    complaint: Complaint, step: Step, role: str, user_id: int | None
) -> dict[str, Any]:
    party = step.party or complaint.party
    if party is Party.DEPARTMENT:
        if role != Role.COMMUNITY_ADMIN:
            raise NotYourStep("只有社区可以派给部门（社区吹哨，部门报到）")
        department_id = step.department_id
        if department_id is None:
            category = await Category.get(code=complaint.category_id)  # type: ignore[attr-defined]
            department_id = category.department_id  # type: ignore[attr-defined]
        if department_id is None or not await Department.exists(id=department_id):
            raise DepartmentUnknown(details={"department_id": department_id})
        return {"party": party, "department_id": department_id, "company_id": None}
    on = today()
    contract = (
        await ServiceContract.filter(
            compound_id=complaint.compound_id,  # type: ignore[attr-defined]
            starts_on__lte=on,
            ends_on__gte=on,
        )
        .order_by("-starts_on")
        .first()
    )
    if contract is None:
        raise NoPropertyCompany()
    company_id = contract.company_id  # type: ignore[attr-defined]
    if role == Role.PROPERTY_STAFF and (user_id is None or company_id not in await company_ids(user_id)):
        raise NotYourStep()
    return {"party": party, "company_id": company_id, "department_id": None}


async def _mark(complaint: Complaint, action: str, *, user_id: int | None, role: str, actor: Actor,
                note: str, changes: dict[str, Any], moment: datetime) -> None:  # fmt: skip
    """An event outside the transition table (escalation, moderation), under the same version guard.
    Only a refusal by moderation changes the status (to closed: the complaint never reached staff)."""
    async with in_transaction() as conn:
        updated = (
            await Complaint.filter(id=complaint.id, version=complaint.version)
            .using_db(conn)
            .update(version=complaint.version + 1, **changes)
        )
        if updated != 1:
            raise ComplaintChanged()
        await Event.create(
            complaint_id=complaint.id, seq=complaint.version + 1, action=action, from_status=complaint.status,
            to_status=changes.get("status", complaint.status), actor_id=user_id, actor_role=role, note=note,
            at=moment, using_db=conn,
        )  # fmt: skip
        await append(
            compound_stream(complaint.compound_id), f"complaint.{action}", actor=actor,  # type: ignore[attr-defined]
            subject=f"complaint:{complaint.id}", payload={"status": str(complaint.status)},
        )  # fmt: skip


async def escalate(complaint_id: int, *, user_id: int | None, actor: Actor, note: str = "",
                   now: datetime | None = None) -> Complaint:  # fmt: skip
    """Escalate to the community ("吹哨"): by staff or a grid worker, or by the system when overdue."""
    complaint = await load(complaint_id)
    moment = now or clock.now()
    caller = None if user_id is None else await caller_of(user_id, complaint)
    role = decide(complaint, ESCALATE, caller, moment)
    changes = {
        "stage_escalated": True,
        "escalations": complaint.escalations + 1,
        "overdue": complaint.overdue or late(complaint.stage_due_at, moment),
    }
    await _mark(
        complaint,
        "escalate",
        user_id=user_id,
        role=role,
        actor=actor,
        note=note.strip(),
        changes=changes,
        moment=moment,
    )
    await complaint.refresh_from_db()
    return complaint


async def escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate every open complaint whose stage is past its limit and not yet escalated. Idempotent:
    a stage is escalated once (stage_escalated), and a concurrent run loses on the version guard."""
    moment = (now or clock.now()).astimezone(UTC)  # SQLite compares datetimes as text: always UTC
    due = await ids_of(Complaint.filter(
        status__in=list(OPEN), moderation=Moderation.PASSED, stage_escalated=False, stage_due_at__lt=moment,
    ))  # fmt: skip
    done = 0
    for complaint_id in due:
        try:
            await escalate(
                int(complaint_id), user_id=None, actor=SYSTEM, note="超过处理时限，自动提交社区", now=moment
            )
            done += 1
        except ComplaintChanged:
            continue
    return done


async def close_unanswered(*, now: datetime | None = None) -> int:
    """Close resolved complaints, rated or not, whose reopen window has passed."""
    moment = (now or clock.now()).astimezone(UTC)  # SQLite compares datetimes as text: always UTC
    done = 0
    cutoff = moment - timedelta(days=REOPEN_DAYS)
    due = Complaint.filter(status__in=list(ANSWERABLE), resolved_at__lt=cutoff)
    for complaint_id, status in await due.values_list("id", "status"):
        note = "重新打开期限已过，自动办结" if status == Status.CONFIRMED else "逾期未评价，自动办结"
        try:
            await act(
                complaint_id,
                Step(Action.CLOSE, note=note),
                user_id=None,
                actor=SYSTEM,
                now=moment,
            )
            done += 1
        except ComplaintChanged:
            continue
    return done


async def moderate(complaint_id: int, *, user_id: int, actor: Actor, passed: bool, reason: str = "",
                   now: datetime | None = None) -> Complaint:  # fmt: skip
    """A person's decision on a held complaint: release it to staff (its clock starts now) or refuse it."""
    complaint = await load(complaint_id)
    moment = now or clock.now()
    role = decide(complaint, MODERATE, await caller_of(user_id, complaint), moment)
    changes: dict[str, Any] = {"moderation": Moderation.PASSED if passed else Moderation.REJECTED}
    if passed:
        hours = stage_hours(Status(complaint.status), await _resolve_hours(complaint)) or 0
        changes |= {
            "stage_entered_at": moment,
            "stage_due_at": add_working_hours(moment, hours, await calendar.load()),
        }
    else:
        if not reason.strip():
            raise NoteRequired("请填写不予受理的原因")
        changes |= {"moderation_reason": reason.strip()[:200], "status": Status.CLOSED, "closed_at": moment}
    action = "release" if passed else "refuse"
    await _mark(
        complaint,
        action,
        user_id=user_id,
        role=role,
        actor=actor,
        note=reason.strip(),
        changes=changes,
        moment=moment,
    )
    await complaint.refresh_from_db()
    return complaint
