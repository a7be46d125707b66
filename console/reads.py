"""Read-only lists the console shows and no domain service offers yet (the API has no such list):
a compound's committees with their members, and its owners, paged and filtered on the server.
They decide nothing; every change goes through the domain services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from accounts.models import Committee, CommitteeMember, Owner, Ownership
from core.pages import MAX_LIMIT

PAGE = 50


@dataclass(frozen=True, slots=True)
class CommitteeRow:
    id: int
    term_starts_on: date
    term_ends_on: date
    filing_status: str
    filed_at: datetime | None
    members: list[str] = field(default_factory=list)


async def committees_of(compound_id: int) -> list[CommitteeRow]:
    rows = await Committee.filter(compound_id=compound_id).order_by("-term_starts_on").limit(20)
    members: dict[int, list[str]] = {}
    for committee_id, name, position in await CommitteeMember.filter(
        committee_id__in=[c.id for c in rows]
    ).values_list("committee_id", "owner__name", "position"):
        members.setdefault(int(committee_id), []).append(f"{name}（{position}）")
    return [
        CommitteeRow(
            c.id, c.term_starts_on, c.term_ends_on, c.filing_status.value, c.filed_at, members.get(c.id, [])
        )
        for c in rows
    ]


@dataclass(frozen=True, slots=True)
class OwnerRow:
    id: int
    name: str
    kind: str
    developer: bool
    verified: bool
    phone: str | None  # masked
    rooms: list[str]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


async def owners_of(
    compound_id: int, *, q: str | None, verified: bool | None, offset: int, limit: int = PAGE
) -> tuple[list[OwnerRow], bool]:
    """One page of the compound's owners (name filter, verified filter); True when more follow."""
    limit = min(limit, MAX_LIMIT)
    query = Owner.filter(ownerships__unit__compound_id=compound_id).distinct()
    if q:
        query = query.filter(name__icontains=q)
    if verified is not None:
        query = query.filter(user_id__isnull=not verified)
    owners = await query.order_by("id").offset(offset).limit(limit + 1)
    ids = [o.id for o in owners[:limit]]
    rooms: dict[int, list[str]] = {}
    for owner_id, building, number in await Ownership.filter(
        owner_id__in=ids, unit__compound_id=compound_id
    ).values_list("owner_id", "unit__building__name", "unit__number"):
        rooms.setdefault(int(owner_id), []).append(f"{building} {number}")
    return (
        [
            OwnerRow(
                o.id,
                o.name,
                o.kind.value,
                o.is_developer,
                o.user_id is not None,  # type: ignore[attr-defined]
                mask_phone(o.phone),
                sorted(rooms.get(o.id, [])),
            )
            for o in owners[:limit]
        ],
        len(owners) > limit,
    )
