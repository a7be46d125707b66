"""What each person sees of complaints: the resident's own list, the detail with its history (the
filer hidden from other residents), and the staff queue scoped by the caller's grants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q

from accounts.identity import mask_phone
from accounts.models import Building, Compound, ServiceContract, Unit, User
from accounts.profile import display_name
from accounts.roles import Role, Scope, grants_of, today
from complaints.errors import ComplaintNotFound
from complaints.guards import allowed_actions, caller_of
from complaints.models import Complaint, Event, Moderation, Party, Status, Support
from complaints.permissions import MODERATORS, STAFF_READERS, ids_of, load, sight
from complaints.rules import ANSWERABLE, OPEN, REOPEN_DAYS, reopen_until
from core import clock, pages
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
# Steps taken on the complainant's side (by them, or a grid worker filing for them)
RESIDENT_SIDE = frozenset({"resident", "grid_worker"})


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
    caller = await caller_of(user_id, complaint)
    own = caller.own
    staff = not own and bool(caller.held & (MODERATORS | STAFF_READERS))
    out = summary(complaint)
    out["place"] = await _place_label(complaint, with_unit=own or staff)
    out["mine"] = own
    out["filer"] = await _filer(complaint) if staff or own or not complaint.anonymous else None
    out["allowed_actions"] = allowed_actions(complaint, caller, clock.now())
    out["reopen_days"] = REOPEN_DAYS
    answerable = complaint.status in ANSWERABLE
    out["reopen_until"] = reopen_until(complaint.resolved_at) if answerable else None
    events = await Event.filter(complaint_id=complaint.id).order_by("seq")
    people = {u.id: u for u in await User.filter(id__in={e.actor_id for e in events if e.actor_id})}  # type: ignore[attr-defined]
    out["history"] = [
        {
            "seq": e.seq,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "by": ROLE_LABELS.get(e.actor_role, e.actor_role),
            "by_name": _actor_name(e, people, shown=staff or own or not complaint.anonymous),
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


def _actor_name(event: Event, people: dict[int, User], *, shown: bool) -> str | None:
    """Who took a step, by nickname or masked label; the resident's side hidden from other residents
    when the complaint is anonymous."""
    user = people.get(event.actor_id)  # type: ignore[attr-defined]
    if user is None:
        return ROLE_LABELS["system"] if event.actor_role == "system" else None
    if event.actor_role in RESIDENT_SIDE and not shown:
        return None
    return display_name(user, ROLE_LABELS.get(event.actor_role, "用户"))


async def _filer(c: Complaint) -> dict[str, Any]:
    user = await User.get(id=c.complainant_id or c.filer_id)  # type: ignore[attr-defined]
    return {
        "user_id": user.id,
        "nickname": user.nickname,
        "name": display_name(user, "投诉人"),
        "phone": mask_phone(user.phone),
    }


async def mine(*, user_id: int, cursor: str | None = None, limit: int = 20) -> pages.Page[dict[str, Any]]:
    """The caller's complaints (filed, or filed for them) and those they support, newest first."""
    supported_ids = await ids_of(Support.filter(user_id=user_id), "complaint_id")
    query = Complaint.filter(Q(filer_id=user_id) | Q(complainant_id=user_id) | Q(id__in=supported_ids))
    before = pages.before(cursor)
    if before is not None:
        query = query.filter(id__lt=before)
    found = pages.page(await query.order_by("-id").limit(limit + 1), limit, key=lambda c: c.id)
    own = {user_id}
    rows = [
        {**summary(c), "relation": "filed" if {c.filer_id, c.complainant_id} & own else "supported"}  # type: ignore[attr-defined]
        for c in found.items
    ]
    return pages.Page(rows, found.next_cursor)


def _queue_cursor(c: Complaint) -> str:
    """Where a queue page ends: the stage deadline and id (``d``), or the id among those without one (``n``)."""
    due = c.stage_due_at
    return f"n.{c.id}" if due is None else f"d.{due.astimezone(UTC).strftime('%Y%m%dT%H%M%S%f')}.{c.id}"


def _queue_position(cursor: str | None) -> tuple[datetime | None, int, bool]:
    """(deadline, id, among those without a deadline) after which a page goes on; client input
    (unsealed at the boundary, still checked): anything else is CursorInvalid."""
    if cursor is None:
        return None, 0, False
    parts = cursor.split(".")
    try:
        if len(parts) == 2 and parts[0] == "n":
            return None, pages.after(parts[1]), True
        if len(parts) == 3 and parts[0] == "d" and len(parts[1]) == 21:
            due = datetime.strptime(parts[1], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
            return due, pages.after(parts[2]), False
    except ValueError:
        pass
    raise pages.CursorInvalid()


async def _queue_query(user_id: int, status: Status | None, overdue: bool | None) -> Any:
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
    return query


async def queue(*, user_id: int, status: Status | None = None, overdue: bool | None = None,
                limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """The queue by offset, for the web console's numbered pages (console/complaints.py); the API
    answers keyset pages (queue_page)."""
    query = await _queue_query(user_id, status, overdue)
    rows = await query.order_by("stage_due_at", "id").offset(offset).limit(limit)
    return [summary(c) for c in rows]


async def queue_page(*, user_id: int, status: Status | None = None, overdue: bool | None = None,
                     cursor: str | None = None, limit: int = 20) -> pages.Page[dict[str, Any]]:  # fmt: skip
    """The caller's queue (see _queue_query) as keyset pages: the nearest stage deadline first, then
    those without one, by id."""
    query = await _queue_query(user_id, status, overdue)
    due, after, undated = _queue_position(cursor)
    rows: list[Complaint] = []
    if not undated:
        dated = query.filter(stage_due_at__isnull=False)
        if due is not None:
            dated = dated.filter(Q(stage_due_at__gt=due) | Q(stage_due_at=due, id__gt=after))
        rows = list(await dated.order_by("stage_due_at", "id").limit(limit + 1))
        after = 0
    if len(rows) <= limit:
        rest = (
            query.filter(stage_due_at__isnull=True, id__gt=after).order_by("id").limit(limit + 1 - len(rows))
        )
        rows += list(await rest)
    kept = rows[:limit]
    return pages.Page([summary(c) for c in kept], _queue_cursor(kept[-1]) if len(rows) > limit else None)


async def _new_property_ids(companies: list[int]) -> list[int]:
    on = today()
    compounds = await ids_of(
        ServiceContract.filter(company_id__in=companies, starts_on__lte=on, ends_on__gte=on), "compound_id"
    )
    return await ids_of(Complaint.filter(
        compound_id__in=compounds, party=Party.PROPERTY, company_id__isnull=True,
        moderation=Moderation.PASSED, status__in=list(OPEN),
    ))  # fmt: skip
