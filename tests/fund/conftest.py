"""A compound with two buildings (a lift building of four flats, a walk-up of three), verified owners,
a committee, the property company, the community, two fund-office staff, a supervisor, and a far
compound; rates published and every unit's sub-account opened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import (
    Building,
    Committee,
    CommitteeMember,
    Community,
    Compound,
    Owner,
    Ownership,
    PropertyCompany,
    Resident,
    ResidentRelation,
    RoleGrant,
    ServiceContract,
    Unit,
    User,
)
from accounts.sessions import open_session
from audit.service import Actor
from core import clock
from core.cache import Cache
from fund import subaccounts
from fund.rules import BuildingType

ACTOR = Actor("user:test", "测试")
LIFT_AREAS = [Decimal("88.80"), Decimal("88.80"), Decimal("120.25"), Decimal("70.00")]
WALKUP_AREAS = [Decimal("60.00"), Decimal("75.50"), Decimal("99.99")]
RATES = {
    BuildingType.NO_LIFT: Decimal(5000),
    BuildingType.LIFT: Decimal(7000),
    BuildingType.HIGH_RISE: Decimal(8550),
}

PEOPLE = (
    "owner",  # owns lift unit 0
    "owner2",  # owns lift unit 1 and walk-up unit 0
    "committee",  # owns lift unit 2, sits on the committee
    "resident",  # tenant of lift unit 0
    "outsider",
    "property_staff",
    "community_admin",
    "other_community_admin",
    "fund_office",
    "fund_office2",
    "supervisor",
    "far_owner",
)


@dataclass
class FundWorld:
    users: dict[str, User]
    compound: Compound
    far_compound: Compound
    lift: Building
    walkup: Building
    lift_units: list[Unit]
    walkup_units: list[Unit]
    far_unit: Unit
    owners: dict[int, Owner]  # unit id -> owner
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def uid(self, who: str) -> int:
        return self.users[who].id

    @property
    def units(self) -> list[Unit]:
        return [*self.lift_units, *self.walkup_units]


async def build_world(cache: Cache, *, with_committee: bool = True) -> FundWorld:
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    compound = await Compound.create(community=east, name="阳光花园")
    far = await Compound.create(community=west, name="远方小区")
    lift = await Building.create(compound=compound, name="1号楼")
    walkup = await Building.create(compound=compound, name="2号楼")
    far_building = await Building.create(compound=far, name="1号楼")
    lift_units = [
        await Unit.create(compound=compound, building=lift, number=f"{i + 1}01", area=a)
        for i, a in enumerate(LIFT_AREAS)
    ]
    walkup_units = [
        await Unit.create(compound=compound, building=walkup, number=f"{i + 1}01", area=a)
        for i, a in enumerate(WALKUP_AREAS)
    ]
    far_unit = await Unit.create(compound=far, building=far_building, number="101", area=Decimal("70.00"))
    users = {n: await User.create(openid=f"openid-{n}", nickname=n, phone="13912345678") for n in PEOPLE}
    owners: dict[int, Owner] = {}

    async def own(unit: Unit, user: User | None, name: str, compound_of: Compound = compound) -> Owner:
        owner = await Owner.create(name=name, user=user, compound=compound_of)
        await Ownership.create(unit=unit, owner=owner)
        owners[unit.id] = owner
        return owner

    await own(lift_units[0], users["owner"], "业主甲")
    second = await own(lift_units[1], users["owner2"], "业主乙")
    await Ownership.create(unit=walkup_units[0], owner=second)
    owners[walkup_units[0].id] = second
    member = await own(lift_units[2], users["committee"], "委员丙")
    await own(lift_units[3], None, "业主丁")
    await own(walkup_units[1], None, "业主戊")
    await own(walkup_units[2], None, "业主己")
    await own(far_unit, users["far_owner"], "远方业主", far)
    await Resident.create(unit=lift_units[0], user=users["resident"], relation=ResidentRelation.TENANT)
    if with_committee:
        committee = await Committee.create(
            compound=compound, term_starts_on=date(2020, 1, 1), term_ends_on=date(2099, 1, 1)
        )
        await CommitteeMember.create(committee=committee, owner=member)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    await ServiceContract.create(
        company=company, compound=compound, starts_on=date(2020, 1, 1), ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )  # fmt: skip
    grants = [
        ("property_staff", "property_staff", "company", company.id),
        ("community_admin", "community_admin", "community", east.id),
        ("other_community_admin", "community_admin", "community", west.id),
        ("fund_office", "fund_office", "county", 0),
        ("fund_office2", "fund_office", "county", 0),
        ("supervisor", "supervisor", "county", 0),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    for kind, rate in RATES.items():
        await subaccounts.set_rate(
            ACTOR,
            building_type=kind,
            fen_per_m2=rate,
            effective_from=date(2020, 1, 1),
            user_id=users["fund_office"].id,
        )
    await subaccounts.open_accounts(
        ACTOR,
        compound_id=compound.id,
        buildings={lift.id: BuildingType.LIFT, walkup.id: BuildingType.NO_LIFT},
        on=date(2024, 1, 1),
    )
    await subaccounts.open_accounts(
        ACTOR, compound_id=far.id, buildings={far_building.id: BuildingType.NO_LIFT}, on=date(2024, 1, 1)
    )
    tokens = {n: (await open_session(cache, u.id, 3600)).token for n, u in users.items()}
    return FundWorld(users, compound, far, lift, walkup, lift_units, walkup_units, far_unit, owners, tokens)


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> FundWorld:
    return await build_world(cache)


FILED_AT = datetime(2025, 3, 1, 10, 0, tzinfo=clock.SHANGHAI)


async def deposit_all(world: FundWorld, at: datetime = FILED_AT) -> None:
    """Every unit of the compound's first deposit paid by the developer (at contract filing)."""
    for unit in world.units:
        account = await subaccounts.account_of_unit(unit.id)
        await subaccounts.record_developer_deposit(
            ACTOR, unit_id=unit.id, voucher=f"V{unit.id:06d}", amount_fen=account.first_deposit_fen, at=at
        )


def counts() -> Any:
    """Row counts of every fund table, to assert that a refused action changed nothing."""
    from fund import models

    async def read() -> dict[str, int]:
        return {
            name: await getattr(models, name).all().count()
            for name in ("FundRate", "SubAccount", "FundEntry", "InterestRun", "Correction", "UseApplication",
                         "AnnualDisclosure")
        }  # fmt: skip

    return read()
