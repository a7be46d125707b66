"""What each person sees of complaints: the resident's own list, the detail with its history (the
filer hidden from other residents), and the staff queue scoped by the caller's grants."""

from __future__ import annotations

from typing import Any

from accounts.identity import mask_phone
from accounts.models import Building, Compound, ServiceContract, Unit, User
from accounts.roles import Role, Scope, grants_of, today
from complaints.errors import ComplaintNotFound
from complaints.models import Complaint, Event, Moderation, Party, Status, Support
from complaints.permissions import MODERATORS, STAFF_READERS, ids_of, load, sight, staff_roles
from complaints.rules import OPEN
from photos import records
from photos.access import Sight, subject
from photos.models import Moderation as PhotoModeration

ROLE_LABELS = {
    "resident": "投诉人",
    "grid_worker": "网格员",
    "property_staff": "物业服务企业",
    "community_admin": "社区",
    "department_staff": "承办部门",
    "supervisor": "主管部门",
    "system": "系统",
}


def summary(c: Complaint) -> dict[str, Any]:
    return {
        "id": c.id,
        "compound_id": c.compound_id,  # type: ignore[attr-defined]
        "category": c.category_id,  # type: ignore[attr-defined]
        "text": c.text,
        "status": str(c.status),
        "moderation": str(c.moderation),
        "moderation_reason": c.moderation_reason,
        "place_kind": str(c.place_kind),
        "place_note": c.place_note,
        "party": str(c.party),
        "company_id": c.company_id,  # type: ignore[attr-defined]
        "department_id": c.department_id,  # type: ignore[attr-defined]
        "stage_due_at": c.stage_due_at,
        "overdue": c.overdue,
        "escalations": c.escalations,
        "supporters": c.supporters,
        "rating": c.rating,
        "created_at": c.created_at,
        "resolved_at": c.resolved_at,
        "closed_at": c.closed_at,
    }


async def _place_label(c: Complaint, *, with_unit: bool) -> str:
    parts = []
    if c.building_id is not None:  # type: ignore[attr-defined]
        building = await Building.get(id=c.building_id)  # type: ignore[attr-defined]
        parts.append(building.name)
    if with_unit and c.unit_id is not None:  # type: ignore[attr-defined]
        parts.append((await Unit.get(id=c.unit_id)).number)  # type: ignore[attr-defined]
    if c.place_note:
        parts.append(c.place_note)
    return " ".join(parts)


async def detail(complaint_id: int, *, user_id: int) -> dict[str, Any]:
    complaint = await load(complaint_id)
    seen = await sight(user_id, complaint)
    if seen is Sight.NONE:
        raise ComplaintNotFound()
    own = user_id in (complaint.filer_id, complaint.complainant_id)  # type: ignore[attr-defined]
    held = set() if own else await staff_roles(user_id, complaint)
    staff = bool(held & (MODERATORS | STAFF_READERS))
    out = summary(complaint)
    out["place"] = await _place_label(complaint, with_unit=own or staff)
    out["mine"] = own
    out["filer"] = await _filer(complaint) if staff or own or not complaint.anonymous else None
    events = await Event.filter(complaint_id=complaint.id).order_by("seq")
    out["history"] = [
        {
            "seq": e.seq,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "by": ROLE_LABELS.get(e.actor_role, e.actor_role),
            "note": e.note,
            "photo_ids": e.photo_ids,
            "data": e.data,
            "at": e.at,
        }
        for e in events
    ]
    photos = await records.photos_of(subject("complaint", complaint.id))
    out["photo_ids"] = [
        p.id
        for p in photos
        if p.moderation == PhotoModeration.PASSED or seen is Sight.MODERATE or p.uploader_id == user_id  # type: ignore[attr-defined]
    ]
    return out


async def _filer(c: Complaint) -> dict[str, Any]:
    user = await User.get(id=c.complainant_id or c.filer_id)  # type: ignore[attr-defined]
    return {"user_id": user.id, "nickname": user.nickname, "phone": mask_phone(user.phone)}


async def mine(*, user_id: int) -> list[dict[str, Any]]:
    own = await Complaint.filter(filer_id=user_id).order_by("-id").limit(100)
    own += await Complaint.filter(complainant_id=user_id).exclude(filer_id=user_id).order_by("-id").limit(100)
    supported_ids = await ids_of(Support.filter(user_id=user_id), "complaint_id")
    supported = await Complaint.filter(id__in=supported_ids).order_by("-id").limit(100)
    rows = [{**summary(c), "relation": "filed"} for c in own]
    rows += [{**summary(c), "relation": "supported"} for c in supported]
    return sorted(rows, key=lambda r: r["id"], reverse=True)


async def queue(*, user_id: int, status: Status | None = None, overdue: bool | None = None,
                limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Complaints the caller works on: a community's compounds (community admin, grid worker), the
    company's dispatched ones and new property ones (property staff), the department's, or all
    (supervisor). Held complaints only for the community and the supervisor (to moderate them)."""
    grants = await grants_of(user_id)
    if any(role is Role.SUPERVISOR for role, _, _ in grants):
        query = Complaint.all()
    else:
        communities = [i for r, s, i in grants if s is Scope.COMMUNITY]
        moderating = [i for r, s, i in grants if r is Role.COMMUNITY_ADMIN]
        companies = [i for r, s, i in grants if s is Scope.COMPANY]
        departments = [i for r, s, i in grants if s is Scope.DEPARTMENT]
        ids: set[int] = set()
        if communities:
            compound_ids = await ids_of(Compound.filter(community_id__in=communities))
            moderated = await ids_of(Compound.filter(community_id__in=moderating))
            ids |= set(
                await ids_of(Complaint.filter(compound_id__in=compound_ids, moderation=Moderation.PASSED))
            )
            ids |= set(await ids_of(Complaint.filter(compound_id__in=moderated)))
        if companies:
            ids |= set(await ids_of(Complaint.filter(company_id__in=companies)))
            ids |= set(await _new_property_ids(companies))
        if departments:
            ids |= set(await ids_of(Complaint.filter(department_id__in=departments)))
        query = Complaint.filter(id__in=list(ids))
    if status is not None:
        query = query.filter(status=status)
    if overdue is not None:
        query = query.filter(overdue=overdue)
    rows = await query.order_by("stage_due_at", "id").offset(offset).limit(limit)
    return [summary(c) for c in rows]


async def _new_property_ids(companies: list[int]) -> list[int]:
    on = today()
    compounds = await ids_of(
        ServiceContract.filter(company_id__in=companies, starts_on__lte=on, ends_on__gte=on), "compound_id"
    )
    return await ids_of(Complaint.filter(
        compound_id__in=compounds, party=Party.PROPERTY, company_id__isnull=True,
        moderation=Moderation.PASSED, status__in=list(OPEN),
    ))  # fmt: skip
