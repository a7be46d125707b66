"""Who may see a complaint and who may take which step. Roles come from accounts.roles; the
department role counts only for the department a complaint is dispatched to."""

from __future__ import annotations

from typing import Any

from accounts.roles import Role, Scope, compound_roles, grants_of
from complaints.errors import ComplaintNotFound, NotYourStep
from complaints.models import Complaint, Moderation, Party, Support
from complaints.rules import Action
from photos.access import Sight

MODERATORS = frozenset({Role.COMMUNITY_ADMIN, Role.SUPERVISOR})
STAFF_READERS = frozenset({Role.PROPERTY_STAFF, Role.GRID_WORKER, Role.DEPARTMENT_STAFF})


async def ids_of(query: Any, column: str = "id") -> list[int]:
    """The values of one integer column (typed: values_list(flat=True) is typed as tuples)."""
    return [int(v) for v in await query.values_list(column, flat=True)]


async def load(complaint_id: int) -> Complaint:
    complaint = await Complaint.get_or_none(id=complaint_id)
    if complaint is None:
        raise ComplaintNotFound()
    return complaint


async def company_ids(user_id: int) -> set[int]:
    return {i for role, scope, i in await grants_of(user_id) if scope is Scope.COMPANY}


async def department_ids(user_id: int) -> set[int]:
    return {i for role, scope, i in await grants_of(user_id) if scope is Scope.DEPARTMENT}


async def staff_roles(user_id: int, complaint: Complaint) -> set[Role]:
    """The roles ``user_id`` holds over this complaint. PROPERTY_STAFF only for the company that has
    it (or, before dispatch, the compound's current company); DEPARTMENT_STAFF only for its department."""
    held = await compound_roles(user_id, complaint.compound_id)  # type: ignore[attr-defined]
    company_id = complaint.company_id  # type: ignore[attr-defined]
    if (
        Role.PROPERTY_STAFF in held
        and company_id is not None
        and company_id not in await company_ids(user_id)
    ):
        held.discard(Role.PROPERTY_STAFF)
    department_id = complaint.department_id  # type: ignore[attr-defined]
    if department_id is not None and department_id in await department_ids(user_id):
        held.add(Role.DEPARTMENT_STAFF)
    return held


def is_complainant(complaint: Complaint, user_id: int) -> bool:
    """The resident it is for answers for it; the filer does when it was filed for no account."""
    complainant_id = complaint.complainant_id  # type: ignore[attr-defined]
    return user_id == (complainant_id if complainant_id is not None else complaint.filer_id)  # type: ignore[attr-defined]


async def sight(user_id: int, complaint: Complaint) -> Sight:
    if user_id in (complaint.filer_id, complaint.complainant_id):  # type: ignore[attr-defined]
        return Sight.VIEW
    held = await staff_roles(user_id, complaint)
    if held & MODERATORS:
        return Sight.MODERATE
    if complaint.moderation != Moderation.PASSED:
        return Sight.NONE
    if held & STAFF_READERS:
        return Sight.VIEW
    if await Support.filter(complaint_id=complaint.id, user_id=user_id).exists():
        return Sight.VIEW
    return Sight.NONE


async def can_view(user_id: int, complaint_id: int) -> Sight:
    complaint = await Complaint.get_or_none(id=complaint_id)
    return Sight.NONE if complaint is None else await sight(user_id, complaint)


def _is_assignee(complaint: Complaint, held: set[Role]) -> bool:
    if complaint.party is Party.PROPERTY:
        return Role.PROPERTY_STAFF in held and complaint.company_id is not None  # type: ignore[attr-defined]
    return Role.DEPARTMENT_STAFF in held


async def performer_role(complaint: Complaint, action: Action | str, user_id: int) -> Role:
    """The role in which ``user_id`` takes this step, or NotYourStep."""
    if action in (Action.CONFIRM, Action.REOPEN):
        if is_complainant(complaint, user_id):
            return Role.RESIDENT
        raise NotYourStep()
    held = await staff_roles(user_id, complaint)
    if complaint.moderation != Moderation.PASSED and action != "moderate":
        raise NotYourStep("这条投诉还在内容审核中")
    choices: list[Role] = []
    if action == Action.ACCEPT:
        choices = [Role.COMMUNITY_ADMIN]
        if complaint.party is Party.PROPERTY:
            choices.append(Role.PROPERTY_STAFF)
    elif action == Action.DISPATCH:
        choices = [Role.COMMUNITY_ADMIN, Role.PROPERTY_STAFF]  # property staff: to their own company only
    elif action in (Action.START, Action.RESOLVE):
        if _is_assignee(complaint, held):
            return Role.PROPERTY_STAFF if complaint.party is Party.PROPERTY else Role.DEPARTMENT_STAFF
    elif action == Action.REJECT or action == "moderate":
        choices = [Role.COMMUNITY_ADMIN, Role.SUPERVISOR] if action == "moderate" else [Role.COMMUNITY_ADMIN]
    elif action == "escalate":
        choices = [Role.PROPERTY_STAFF, Role.GRID_WORKER]
        if _is_assignee(complaint, held) and complaint.party is Party.DEPARTMENT:
            return Role.DEPARTMENT_STAFF
    for role in choices:
        if role in held:
            return role
    raise NotYourStep(details={"action": str(action)})
