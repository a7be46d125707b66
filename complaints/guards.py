"""Who may take which step of a complaint, now. One function, ``decide``, answers it: the workflow
takes a step only through it (its refusal is the error the caller gets), and ``allowed_actions`` lists
the steps it would let the caller take (the buttons the app shows). So the list and the refusals
cannot disagree.

The actions, by their stable names (ACTIONS): accept, dispatch, start, resolve, reject, escalate,
moderate (release or refuse a held complaint), rate, reopen, support ("me too"). "close" is the
system's alone and never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.roles import Role
from complaints.errors import (
    AlreadySupported,
    NotAResident,
    NotHeld,
    NotSupportable,
    NotYourStep,
    ReopenWindowPassed,
)
from complaints.models import Complaint, Moderation, Party, Status, Support
from complaints.permissions import MODERATORS, is_complainant, staff_roles
from complaints.rules import OPEN, Action, check_escalation, next_status, reopen_allowed
from core.errors import DomainError

NEIGHBOURS = frozenset({Role.RESIDENT, Role.OWNER})
ESCALATE = "escalate"
MODERATE = "moderate"
SUPPORT = "support"
ACTIONS: tuple[str, ...] = (
    Action.ACCEPT.value,
    Action.DISPATCH.value,
    Action.START.value,
    Action.RESOLVE.value,
    Action.REJECT.value,
    ESCALATE,
    MODERATE,
    Action.RATE.value,
    Action.REOPEN.value,
    SUPPORT,
)
SYSTEM_ROLE = "system"


@dataclass(frozen=True, slots=True)
class Caller:
    """A person as this complaint sees them."""

    user_id: int
    held: frozenset[Role]  # complaints.permissions.staff_roles: roles over this complaint
    complainant: bool  # answers for it: rates and reopens
    own: bool  # filed it or it is for them
    supported: bool  # has said "me too"


async def caller_of(user_id: int, complaint: Complaint) -> Caller:
    return Caller(
        user_id=user_id,
        held=frozenset(await staff_roles(user_id, complaint)),
        complainant=is_complainant(complaint, user_id),
        own=user_id in (complaint.filer_id, complaint.complainant_id),  # type: ignore[attr-defined]
        supported=await Support.exists(complaint_id=complaint.id, user_id=user_id),
    )


def _is_assignee(complaint: Complaint, held: frozenset[Role]) -> bool:
    if complaint.party is Party.PROPERTY:
        return Role.PROPERTY_STAFF in held and complaint.company_id is not None  # type: ignore[attr-defined]
    return Role.DEPARTMENT_STAFF in held and complaint.department_id is not None  # type: ignore[attr-defined]


def decide(complaint: Complaint, action: str, caller: Caller | None, now: datetime) -> str:
    """The role in which ``caller`` (None: the system) takes ``action`` on ``complaint`` at ``now``,
    or the refusal raised: TransitionNotAllowed, NotHeld or NotSupportable (not in this state),
    NotYourStep or NotAResident (not this person), ReopenWindowPassed, AlreadySupported."""
    status = Status(complaint.status)
    if action == MODERATE:
        if caller is None or not caller.held & MODERATORS:
            raise NotYourStep(details={"action": action})
        if complaint.moderation != Moderation.HELD:
            raise NotHeld()
        return str(Role.COMMUNITY_ADMIN if Role.COMMUNITY_ADMIN in caller.held else Role.SUPERVISOR)
    if action == SUPPORT:
        if status not in OPEN or complaint.moderation != Moderation.PASSED:
            raise NotSupportable(details={"status": str(status)})
        if caller is None:
            raise NotYourStep(details={"action": action})
        if caller.own:
            raise NotSupportable("这是您自己的投诉")
        if not caller.held & NEIGHBOURS:
            raise NotAResident("只有本小区的业主或住户可以附议")
        if caller.supported:
            raise AlreadySupported()
        return str(Role.RESIDENT)
    if action == ESCALATE:
        check_escalation(status)
    else:
        next_status(status, Action(action))
    if caller is None:
        if action in (Action.CLOSE, ESCALATE):
            return SYSTEM_ROLE
        raise NotYourStep(details={"action": action})
    if action in (Action.RATE, Action.REOPEN):
        if not caller.complainant:
            raise NotYourStep()
        if action == Action.REOPEN and not reopen_allowed(complaint.resolved_at, now):
            raise ReopenWindowPassed()
        return str(Role.RESIDENT)
    if action == Action.CLOSE:
        raise NotYourStep("只有系统会在期限届满后自动办结")
    if complaint.moderation != Moderation.PASSED:
        raise NotYourStep("这条投诉还在内容审核中")
    held = caller.held
    if action == Action.ACCEPT:
        if Role.COMMUNITY_ADMIN in held:
            return str(Role.COMMUNITY_ADMIN)
        if complaint.party is Party.PROPERTY and Role.PROPERTY_STAFF in held:
            return str(Role.PROPERTY_STAFF)  # accepted for their company: theirs to work on at once
    elif action in (Action.DISPATCH, Action.REJECT):
        if Role.COMMUNITY_ADMIN in held:
            return str(Role.COMMUNITY_ADMIN)
    elif action in (Action.START, Action.RESOLVE):
        if _is_assignee(complaint, held):
            return str(Role.PROPERTY_STAFF if complaint.party is Party.PROPERTY else Role.DEPARTMENT_STAFF)
    elif action == ESCALATE:
        for role in (Role.PROPERTY_STAFF, Role.GRID_WORKER):
            if role in held:
                return str(role)
        if complaint.party is Party.DEPARTMENT and _is_assignee(complaint, held):
            return str(Role.DEPARTMENT_STAFF)
    raise NotYourStep(details={"action": action})


def allowed_actions(complaint: Complaint, caller: Caller | None, now: datetime) -> list[str]:
    """The actions ``decide`` lets ``caller`` take now, in the order of ACTIONS."""
    allowed = []
    for action in ACTIONS:
        try:
            decide(complaint, action, caller, now)
        except DomainError:
            continue
        allowed.append(action)
    return allowed
