"""Finding one's unit without knowing any id: compounds of a community or by name, a compound's
buildings, a building's rooms, and a compound's public profile (what its 公示栏 shows).

Only what is public anyway leaves this module: names, addresses, room numbers and unit ids, the
property company's name and its official contact phone, whether a committee is in office and its term,
and the work contacts posted for the board (accounts.contacts). Never an owner's name, share, area, phone or whether a room is owned or claimed: a room list is the
building's door plates, not its roster.

Every list is a keyset page ordered by id: ``next_cursor`` is the last id of the page (an opaque
string to the client), None on the last page. A page asks for one row more than it returns, so a
cursor never leads to an empty page.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from accounts import contacts, errors
from accounts.models import Building, Community, Compound, FilingStatus, Unit

MAX_LIMIT = 50
MAX_QUERY = 50
_MAX_ID = 2**31 - 1
_CURSOR = re.compile(r"[1-9][0-9]{0,9}")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _after(cursor: str | None) -> int:
    """The id a cursor continues after (0: from the start). A cursor is client input: anything but
    what a page wrote is refused, never passed to the database."""
    if cursor is None:
        return 0
    if not _CURSOR.fullmatch(cursor) or int(cursor) > _MAX_ID:
        raise errors.CursorInvalid()
    return int(cursor)


def _page(rows: list[T], limit: int, key: Callable[[T], int]) -> Page[T]:
    """``rows`` were fetched with ``limit + 1``: a row beyond the limit says there is a next page."""
    kept = rows[:limit]
    return Page(kept, str(key(kept[-1])) if len(rows) > limit else None)


@dataclass(frozen=True, slots=True)
class CompoundItem:
    id: int
    name: str
    community_id: int
    community: str
    address: str
    standalone: bool


async def compounds(
    *, community_id: int | None = None, q: str | None = None, cursor: str | None = None, limit: int = 20
) -> Page[CompoundItem]:
    """Compounds of a community, or whose name contains ``q`` (case-insensitive, a literal text: %
    and _ match themselves), or both. A community that does not exist is 404, not an empty page."""
    after = _after(cursor)
    if community_id is not None and not await Community.exists(id=community_id):
        raise errors.CommunityNotFound()
    query = Compound.filter(id__gt=after)
    if community_id is not None:
        query = query.filter(community_id=community_id)
    if q is not None:
        text = q.strip()
        if not text:
            raise errors.SearchQueryEmpty()
        query = query.filter(name__icontains=text[:MAX_QUERY])
    rows = (
        await query.order_by("id")
        .limit(limit + 1)
        .values("id", "name", "community_id", "community__name", "address", "standalone")
    )
    items = [
        CompoundItem(
            r["id"], r["name"], r["community_id"], r["community__name"], r["address"], r["standalone"]
        )
        for r in rows
    ]
    return _page(items, limit, lambda item: item.id)


@dataclass(frozen=True, slots=True)
class BuildingItem:
    id: int
    name: str


async def buildings(compound_id: int, *, cursor: str | None = None, limit: int = 20) -> Page[BuildingItem]:
    after = _after(cursor)
    if not await Compound.exists(id=compound_id):
        raise errors.CompoundNotFound()
    rows = (
        await Building.filter(compound_id=compound_id, id__gt=after)
        .order_by("id")
        .limit(limit + 1)
        .values_list("id", "name")
    )
    items = [BuildingItem(building_id, name) for building_id, name in rows]
    return _page(items, limit, lambda item: item.id)


@dataclass(frozen=True, slots=True)
class RoomItem:
    """A door plate: the unit's id (what a claim may name) and its number. Nothing else."""

    unit_id: int
    number: str


async def rooms(
    compound_id: int, building_id: int, *, cursor: str | None = None, limit: int = 20
) -> Page[RoomItem]:
    """The rooms of one building of the compound, in roster order (ids follow the import)."""
    after = _after(cursor)
    if not await Building.exists(id=building_id, compound_id=compound_id):
        if not await Compound.exists(id=compound_id):
            raise errors.CompoundNotFound()
        raise errors.BuildingNotFound()
    rows = (
        await Unit.filter(building_id=building_id, id__gt=after)
        .order_by("id")
        .limit(limit + 1)
        .values_list("id", "number")
    )
    items = [RoomItem(unit_id, number) for unit_id, number in rows]
    return _page(items, limit, lambda item: item.unit_id)


@dataclass(frozen=True, slots=True)
class CompanyContact:
    """The property company serving the compound today: its name, its official contact phone (the
    company's number as the registry holds it), and what its staff posted for this compound's board."""

    name: str
    contact_phone: str | None
    project_manager: contacts.Posted | None
    complaint_phone: contacts.Posted | None
    service_phone: contacts.Posted | None


@dataclass(frozen=True, slots=True)
class CommitteeTerm:
    """The owners' committee in office today: that it exists, its term, its filing (备案) and the
    contact it posted."""

    term_starts_on: date
    term_ends_on: date
    filing_status: FilingStatus
    contact: contacts.Posted | None


@dataclass(frozen=True, slots=True)
class CompoundProfile:
    id: int
    name: str
    address: str
    standalone: bool
    community_id: int
    community: str
    property_company: CompanyContact | None
    committee: CommitteeTerm | None
    community_contact: contacts.Posted | None
    grid_worker: contacts.Posted | None


async def profile(compound_id: int) -> CompoundProfile:
    compound = await Compound.get_or_none(id=compound_id).prefetch_related("community")
    if compound is None:
        raise errors.CompoundNotFound()
    contract = await contacts.serving_contract(compound_id)
    committee = await contacts.committee_in_office(compound_id)
    board = await contacts.board(
        compound_id,
        compound.community.id,
        contract.company.id if contract else None,
        committee.id if committee else None,
    )
    company = None
    if contract:
        company = CompanyContact(
            contract.company.name,
            contract.company.contact_phone or None,
            board.project_manager,
            board.complaint_phone,
            board.service_phone,
        )
    term = None
    if committee:
        term = CommitteeTerm(
            committee.term_starts_on, committee.term_ends_on, committee.filing_status, board.committee
        )
    return CompoundProfile(
        id=compound.id,
        name=compound.name,
        address=compound.address,
        standalone=compound.standalone,
        community_id=compound.community.id,
        community=compound.community.name,
        property_company=company,
        committee=term,
        community_contact=board.community,
        grid_worker=board.grid_worker,
    )


@dataclass(frozen=True, slots=True)
class UnitPlace:
    """A unit named as a resident knows it: compound, building (its name or its id) and room number.
    Any field may be missing: ``check_unit_named_once`` says what is wrong with the combination."""

    compound_id: int | None = None
    building_id: int | None = None
    building: str | None = None
    room: str | None = None

    def given(self) -> list[str]:
        fields = ("compound_id", "building_id", "building", "room")
        return [name for name in fields if getattr(self, name) is not None]


def check_unit_named_once(unit_id: int | None, place: UnitPlace | None) -> None:
    """A claim names its unit by ``unit_id`` or by ``place``, exactly one of them, and a place in
    full: compound, room, and the building by name or by id (not both)."""
    given = (["unit_id"] if unit_id is not None else []) + (place.given() if place else [])
    details = {"given": given}
    if unit_id is not None:
        if len(given) > 1:
            raise errors.ClaimUnitUnclear(
                "unit_id 与小区 + 楼栋 + 房号只能选一种方式指明房屋", details=details
            )
        return
    if place is None or not given:
        raise errors.ClaimUnitUnclear(details=details)
    if place.compound_id is None or place.room is None or not place.room.strip():
        raise errors.ClaimUnitUnclear(
            "按小区指明房屋时须同时给出小区 compound_id 与房号 room", details=details
        )
    if (place.building_id is None) == (place.building is None or not place.building.strip()):
        raise errors.ClaimUnitUnclear(
            "楼栋请只用一种方式给出：楼栋名称 building 或楼栋编号 building_id", details=details
        )


async def unit_at(place: UnitPlace) -> int:
    """The id of the unit at a (checked) place. Room and building names match as the roster wrote
    them, ignoring surrounding spaces."""
    query = Unit.filter(compound_id=place.compound_id, number=(place.room or "").strip())
    if place.building_id is not None:
        query = query.filter(building_id=place.building_id)
    else:
        query = query.filter(building__name=(place.building or "").strip())
    unit = await query.only("id").first()
    if unit is None:
        raise errors.UnitNotFound("未找到该房屋，请核对小区、楼栋和房号")
    return unit.id
