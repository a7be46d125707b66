"""A motion's roll restricted to a set of units (the owners sharing a maintenance-fund use): exactly
the owners of those units vote, with those units' areas; units of another compound are refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.models import Building, Community, Compound, Owner, Ownership, Unit, User
from audit.service import Actor
from core import clock
from voting import errors, lifecycle
from voting.lifecycle import ItemDraft, MotionDraft
from voting.models import Voter
from voting.rules import Matter

ACTOR = Actor("user:test", "测试")


async def _compound(name: str) -> tuple[Compound, list[Unit]]:
    community = await Community.get_or_create(name="东街社区")
    compound = await Compound.create(community=community[0], name=name)
    building = await Building.create(compound=compound, name="1号楼")
    units = []
    for i, area in enumerate((Decimal("80.00"), Decimal("90.50"), Decimal("100.25"), Decimal("60.00"))):
        unit = await Unit.create(compound=compound, building=building, number=f"{i + 1}01", area=area)
        owner = await Owner.create(name=f"业主{i}", compound=compound)
        await Ownership.create(unit=unit, owner=owner)
        units.append(unit)
    return compound, units


def _draft(units: list[int], buildings: list[int] | None = None) -> MotionDraft:
    now = clock.now()
    return MotionDraft(
        title="使用维修资金维修电梯",
        text="1号楼电梯",
        items=[ItemDraft(title="同意", matter=Matter.USE_MAINTENANCE_FUND)],
        opens_at=now + timedelta(seconds=1),
        closes_at=now + timedelta(hours=1),
        scope_units=units,
        scope_buildings=buildings or [],
        announce_days=0,
    )


async def test_the_roll_is_exactly_the_owners_of_the_scope_units(clean_db: None) -> None:
    compound, units = await _compound("阳光花园")
    chair = await User.create(openid="chair")
    motion = await lifecycle.create(
        ACTOR, compound.id, chair.id, _draft([units[1].id, units[2].id]), min_announce_days=0
    )
    assert motion.scope_units == sorted([units[1].id, units[2].id])
    motion = await lifecycle.announce(ACTOR, motion, min_announce_days=0)
    motion = await lifecycle.open_voting(ACTOR, motion, now=motion.opens_at)
    rolled = sorted(u["unit_id"] for v in await Voter.filter(motion_id=motion.id) for u in v.rooms)
    assert rolled == sorted([units[1].id, units[2].id])
    assert (motion.total_headcount, motion.total_area_h) == (2, 9050 + 10025)


async def test_units_of_another_compound_or_mixed_scopes_are_refused(clean_db: None) -> None:
    compound, units = await _compound("阳光花园")
    _, far_units = await _compound("远方小区")
    chair = await User.create(openid="chair")
    with pytest.raises(errors.MotionInvalid):
        await lifecycle.create(
            ACTOR, compound.id, chair.id, _draft([units[0].id, far_units[0].id]), min_announce_days=0
        )
    building = await Building.get(compound_id=compound.id)
    with pytest.raises(errors.MotionInvalid):
        await lifecycle.create(
            ACTOR, compound.id, chair.id, _draft([units[0].id], [building.id]), min_announce_days=0
        )


async def test_no_unit_scope_is_the_whole_compound_as_before(clean_db: None) -> None:
    compound, _ = await _compound("阳光花园")
    chair = await User.create(openid="chair")
    motion = await lifecycle.create(ACTOR, compound.id, chair.id, _draft([]), min_announce_days=0)
    motion = await lifecycle.announce(ACTOR, motion, min_announce_days=0)
    motion = await lifecycle.open_voting(ACTOR, motion, now=motion.opens_at)
    assert motion.total_headcount == 4
