"""A compound with a property company that offers life services and an outside organisation the
community admitted, someone in every role, and helpers to publish a service and to make many
residents (for the concurrency tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
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
from bookings import availability, catalogue, providers
from bookings.models import Provider, Service, ServiceHours
from bookings.rules import Category, Delivery, PriceUnit
from complaints import catalog
from core import clock
from core.cache import Cache

ACTOR = Actor("user:test", "测试")
PEOPLE = (
    "owner",
    "resident",
    "neighbour",
    "outsider",
    "committee",
    "property_staff",
    "other_property_staff",
    "community_admin",
    "other_community_admin",
    "org_manager",
    "org_staff",
    "supervisor",
    "far_resident",
)
ALL_DAY = [(d, 8 * 60, 20 * 60) for d in range(7)]  # every day 08:00-20:00 Beijing


@dataclass
class World:
    users: dict[str, User]
    east: Community
    west: Community
    compound: Compound
    far_compound: Compound
    units: list[Unit]
    far_unit: Unit
    company: PropertyCompany
    company_provider: Provider
    org: Provider
    cache: Cache
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def uid(self, who: str) -> int:
        return self.users[who].id


def terms(**changes: Any) -> catalogue.Terms:
    base = catalogue.Terms(
        name="上门保洁",
        category=Category.HOUSEKEEPING,
        description="两小时深度保洁",
        delivery=Delivery.AT_HOME,
        duration_minutes=60,
        price_fen=5000,
        price_unit=PriceUnit.PER_VISIT,
        slot_minutes=60,
        capacity=5,
        lead_minutes=60,
        horizon_days=14,
        free_cancel_hours=2,
        hold_minutes=10,
    )
    return catalogue.with_changes(base, **changes)


async def publish(
    world: World,
    *,
    provider: Provider | None = None,
    hours: list[tuple[int, int, int]] | None = None,
    **changes: Any,
) -> Service:
    service = await catalogue.publish(
        ACTOR,
        provider or world.company_provider,
        compound_id=world.compound.id,
        terms=terms(**changes),
        user_id=world.uid("property_staff"),
    )
    for weekday, start, end in ALL_DAY if hours is None else hours:
        await ServiceHours.create(service_id=service.id, weekday=weekday, start_minute=start, end_minute=end)
    return service


def tomorrow_at(hour: int, minute: int = 0, days: int = 1) -> datetime:
    """A Beijing wall-clock time ``days`` from today, as an aware datetime in Asia/Shanghai."""
    day = clock.to_local(clock.now()).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.SHANGHAI)


def beijing_day(days: int = 1) -> date:
    return clock.to_local(clock.now()).date() + timedelta(days=days)


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> World:
    availability.forget_holidays()  # the database was emptied: its calendar too
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    compound = await Compound.create(community=east, name="阳光花园")
    far = await Compound.create(community=west, name="远方小区")
    building = await Building.create(compound=compound, name="1号楼")
    far_building = await Building.create(compound=far, name="1号楼")
    units = [
        await Unit.create(compound=compound, building=building, number=f"{i}01", area=Decimal("88.80"))
        for i in range(1, 4)
    ]
    far_unit = await Unit.create(compound=far, building=far_building, number="101", area=Decimal("70.00"))
    users = {name: await User.create(openid=f"openid-{name}", nickname=name) for name in PEOPLE}
    owner = await Owner.create(name="业主甲", user=users["owner"], compound=compound)
    await Ownership.create(unit=units[0], owner=owner)
    await Resident.create(unit=units[0], user=users["resident"], relation=ResidentRelation.FAMILY)
    await Resident.create(unit=units[1], user=users["neighbour"], relation=ResidentRelation.TENANT)
    await Resident.create(unit=far_unit, user=users["far_resident"], relation=ResidentRelation.TENANT)
    member = await Owner.create(name="委员乙", user=users["committee"], compound=compound)
    await Ownership.create(unit=units[2], owner=member)
    committee = await Committee.create(
        compound=compound, term_starts_on=date(2020, 1, 1), term_ends_on=date(2099, 1, 1)
    )
    await CommitteeMember.create(committee=committee, owner=member)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    other = await PropertyCompany.create(name="别家物业", credit_code="91510000MA0000003Y")
    for co, cpd in ((company, compound), (other, far)):
        await ServiceContract.create(
            company=co,
            compound=cpd,
            starts_on=date(2020, 1, 1),
            ends_on=date(2099, 1, 1),
            price_fen_per_m2=150,
        )
    grants = [
        ("property_staff", "property_staff", "company", company.id),
        ("other_property_staff", "property_staff", "company", other.id),
        ("community_admin", "community_admin", "community", east.id),
        ("other_community_admin", "community_admin", "community", west.id),
        ("supervisor", "supervisor", "county", 0),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    await catalog.install()  # complaints' categories: a complaint can be filed from a booking
    company_provider = await providers.provider_of_company(company.id)
    org = await providers.admit(
        ACTOR,
        community_id=east.id,
        new=providers.NewProvider(
            "康乐养老服务中心", "52510000MJ0000001X", "0830-1234567", users["org_manager"].id
        ),
        by_user_id=users["community_admin"].id,
    )
    await providers.add_staff(ACTOR, org, name="王阿姨", user_id=users["org_staff"].id)
    tokens = {name: (await open_session(cache, user.id, 3600)).token for name, user in users.items()}
    return World(
        users, east, west, compound, far, units, far_unit, company, company_provider, org, cache, tokens
    )


async def residents(world: World, n: int, *, unit: Unit | None = None) -> list[str]:
    """``n`` more residents of a unit, each with a session; their tokens."""
    target = unit or world.units[0]
    tokens = []
    for i in range(n):
        user = await User.create(openid=f"openid-many-{target.id}-{i}", nickname=f"住户{i}")
        await Resident.create(unit=target, user=user, relation=ResidentRelation.FAMILY)
        tokens.append((await open_session(world.cache, user.id, 3600)).token)
    return tokens


@pytest.fixture
async def http(world: World, serve: Any) -> Any:
    server = await serve()
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=120, limits=limits) as client:
        client.app = server.app  # type: ignore[attr-defined]
        yield client
