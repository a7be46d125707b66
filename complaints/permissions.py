"""Who may see a complaint, and the roles a person holds over it (complaints.guards decides the
steps from them). Roles come from accounts.roles; the department role counts only for the
department a complaint is dispatched to."""

from __future__ import annotations

from typing import Any

from accounts.roles import Role, Scope, compound_roles, grants_of
from complaints.errors import ComplaintNotFound
from complaints.models import Complaint, Moderation, Support
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
