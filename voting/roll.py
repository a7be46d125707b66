"""The voter roll of one vote: who counts as an owner, with which area (pure, no I/O).

Counting rules (Civil Code art. 278; SPC interpretation on building ownership, arts. 8-9):

- an owner holding several units in scope is one voter whose area is the sum of those units;
- all units the developer still holds (unsold, or sold but not yet delivered) are one voter;
- a co-owned unit is counted once, through the co-owner the co-owners designated;
- tenants and other residents are not owners and have no place in the input at all.

Areas are kept as integer hundredths of a square metre so that every sum and ratio is exact; the
register gives two decimals, so nothing is lost. The roll's digest is fixed when voting opens and lets
anyone check later that the weights were not changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.jsonutil import canonical
from voting.errors import CoOwnedUnitWithoutVoter, VoterNotOnRoll, VotingRollInvalid

OwnerId = int
UnitId = int

# Bump when the hashed encoding changes, so old digests are never compared against a new encoding.
ROLL_DIGEST_SCHEME = "wuye-voting-roll/1"

_HUNDREDTH = Decimal("0.01")


def area_to_hundredths(area: Decimal) -> int:
    """Exact integer hundredths of m²; refuses floats and more than two decimals instead of rounding."""
    # A zero area would add a head without weight; the register never records one.
    if not isinstance(area, Decimal) or not area.is_finite() or area <= 0:
        raise VotingRollInvalid("面积必须是大于零的两位小数", details={"area": str(area)})
    try:
        exact = area.quantize(_HUNDREDTH)
    except InvalidOperation:
        raise VotingRollInvalid("面积数值过大", details={"area": str(area)}) from None
    if exact != area:
        raise VotingRollInvalid("面积最多保留两位小数", details={"area": str(area)})
    return int(exact.scaleb(2))


def hundredths_to_area(hundredths: int) -> Decimal:
    return Decimal(hundredths).scaleb(-2)


@dataclass(frozen=True, slots=True)
class Weight:
    """Area (integer hundredths of m²) and headcount: the two quantities every vote is measured in."""

    area_hundredths: int = 0
    headcount: int = 0

    def __add__(self, other: Weight) -> Weight:
        return Weight(self.area_hundredths + other.area_hundredths, self.headcount + other.headcount)

    def __sub__(self, other: Weight) -> Weight:
        return Weight(self.area_hundredths - other.area_hundredths, self.headcount - other.headcount)

    @property
    def area(self) -> Decimal:
        return hundredths_to_area(self.area_hundredths)

    def to_dict(self) -> dict[str, Any]:
        return {"area": str(self.area), "headcount": self.headcount}


@dataclass(frozen=True, slots=True)
class UnitOwner:
    owner_id: OwnerId
    # The developer still holds the unit (unsold, or sold but not delivered): all such units are one voter.
    developer_held: bool = False


@dataclass(frozen=True, slots=True)
class RollUnit:
    """One exclusive part in the voting scope, as the property register (or survey, or contract) has it."""

    unit_id: UnitId
    room: str
    area: Decimal
    kind: str
    owners: tuple[UnitOwner, ...]
    # Required when the unit has several owners: the co-owner who casts the unit's one vote.
    designated_voter: OwnerId | None = None

    @property
    def voter_id(self) -> OwnerId | None:
        if len(self.owners) == 1:
            return self.owners[0].owner_id
        return self.designated_voter


@dataclass(frozen=True, slots=True)
class Voter:
    voter_id: OwnerId
    units: tuple[RollUnit, ...]
    is_developer: bool

    @property
    def weight(self) -> Weight:
        return Weight(sum(area_to_hundredths(u.area) for u in self.units), 1)


@dataclass(frozen=True)
class Roll:
    voters: tuple[Voter, ...]
    total: Weight
    digest: str
    _by_id: dict[OwnerId, Voter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {v.voter_id: v for v in self.voters})

    def __contains__(self, voter_id: object) -> bool:
        return voter_id in self._by_id

    def voter(self, voter_id: OwnerId) -> Voter:
        try:
            return self._by_id[voter_id]
        except KeyError:
            raise VoterNotOnRoll(details={"voter_id": voter_id}) from None


def build_roll(units: Iterable[RollUnit]) -> Roll:
    """Group the units in scope into voters; refuse, listing every offending unit, what cannot be counted."""
    ordered = sorted(units, key=lambda u: u.unit_id)
    problems = [p for u in ordered for p in _unit_problems(u)]
    seen: set[UnitId] = set()
    for u in ordered:
        if u.unit_id in seen:
            problems.append({"unit_id": u.unit_id, "room": u.room, "problem": "duplicate_unit"})
        seen.add(u.unit_id)
    developers = sorted({o.owner_id for u in ordered for o in u.owners if o.developer_held})
    if len(developers) > 1:
        # Several developer ids would silently become several voters, against SPC art. 9.
        problems.append({"developer_owner_ids": developers, "problem": "several_developers"})
    if not ordered:
        problems.append({"problem": "no_units"})
    if problems:
        raise VotingRollInvalid(details={"problems": problems})

    undesignated = [u for u in ordered if u.voter_id is None]
    if undesignated:
        rooms = "、".join(u.room for u in undesignated)
        raise CoOwnedUnitWithoutVoter(
            f"以下共有房屋尚未指定代表投票的共有人：{rooms}",
            details={"units": [{"unit_id": u.unit_id, "room": u.room} for u in undesignated]},
        )

    grouped: dict[OwnerId, list[RollUnit]] = {}
    for u in ordered:
        assert u.voter_id is not None  # undesignated co-owned units were refused above
        grouped.setdefault(u.voter_id, []).append(u)
    voters = tuple(
        Voter(
            voter_id=voter_id,
            units=tuple(held),
            is_developer=any(o.developer_held for u in held for o in u.owners),
        )
        for voter_id, held in sorted(grouped.items())
    )
    total = sum((v.weight for v in voters), Weight())
    return Roll(voters=voters, total=total, digest=roll_digest(voters))


def _unit_problems(unit: RollUnit) -> list[dict[str, Any]]:
    found: list[str] = []
    try:
        area_to_hundredths(unit.area)
    except VotingRollInvalid:
        found.append("bad_area")
    owner_ids = [o.owner_id for o in unit.owners]
    if not owner_ids:
        # An unsold unit is not ownerless: it must be given to the developer with developer_held=True.
        found.append("no_owner")
    if len(set(owner_ids)) != len(owner_ids):
        found.append("duplicate_owner")
    if len(owner_ids) > 1 and any(o.developer_held for o in unit.owners):
        found.append("developer_held_unit_with_co_owners")
    if unit.designated_voter is not None and unit.designated_voter not in owner_ids:
        found.append("designated_voter_not_an_owner")
    return [{"unit_id": unit.unit_id, "room": unit.room, "problem": p} for p in found]


def roll_digest(voters: Iterable[Voter]) -> str:
    """SHA-256 (hex) of the roll's canonical encoding: sorted keys, areas as exact two-decimal text.

    Only what decides a count is hashed (who votes, with which units, rooms and areas), so recomputing it
    from a stored roll proves the weights were not changed after voting opened.
    """
    ordered = sorted(voters, key=lambda v: v.voter_id)
    document = {
        "scheme": ROLL_DIGEST_SCHEME,
        "voters": [
            {
                "voter_id": v.voter_id,
                "is_developer": v.is_developer,
                "area": str(v.weight.area),
                "units": [
                    {
                        "unit_id": u.unit_id,
                        "room": u.room,
                        "kind": u.kind,
                        # Re-derived from hundredths: Decimal("90.5") and Decimal("90.50") hash alike.
                        "area": str(hundredths_to_area(area_to_hundredths(u.area))),
                    }
                    for u in sorted(v.units, key=lambda u: u.unit_id)
                ],
            }
            for v in ordered
        ],
    }
    return hashlib.sha256(canonical(document)).hexdigest()
