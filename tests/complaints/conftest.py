"""A compound with someone in every role, the complaint catalog seeded, and a complaint factory that
puts a complaint straight into any status (for the state-machine tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from accounts.models import (
    Building,
    Community,
    Compound,
    Department,
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
from complaints.demo import seed_complaints_catalog
from complaints.models import Category, Complaint, Event, Moderation, Party, PlaceKind, Status
from core import clock
from core.cache import Cache
from wechat import WeChatClient
from wechat.fake import FakeWeChat

PEOPLE = (
    "resident",
    "neighbour",
    "owner",
    "outsider",
    "property_staff",
    "other_property_staff",
    "community_admin",
    "other_community_admin",
    "grid_worker",
    "department_staff",
    "other_department_staff",
    "supervisor",
)


@dataclass
class World:
    users: dict[str, User]
    compound: Compound
    building: Building
    units: list[Unit]
    company: PropertyCompany
    departments: dict[str, Department]
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def uid(self, who: str) -> int:
        return self.users[who].id


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> World:
    await seed_complaints_catalog()
    departments = {d.name: d for d in await Department.all()}
    a = await Community.create(name="东街社区")
    b = await Community.create(name="西街社区")
    compound = await Compound.create(community=a, name="阳光花园")
    building = await Building.create(compound=compound, name="1号楼")
    units = [
        await Unit.create(compound=compound, building=building, number=f"{i}01", area=Decimal("88.80"))
        for i in range(1, 5)
    ]
    users = {
        name: await User.create(openid=f"openid-{name}", nickname=name, phone="13912345678")
        for name in PEOPLE
    }
    await Resident.create(unit=units[0], user=users["resident"], relation=ResidentRelation.TENANT)
    await Resident.create(unit=units[1], user=users["neighbour"], relation=ResidentRelation.FAMILY)
    owner = await Owner.create(name="业主甲", user=users["owner"])
    await Ownership.create(unit=units[2], owner=owner)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    other = await PropertyCompany.create(name="别家物业", credit_code="91510000MA0000003Y")
    await ServiceContract.create(
        company=company,
        compound=compound,
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )
    grants = [
        ("property_staff", "property_staff", "company", company.id),
        ("other_property_staff", "property_staff", "company", other.id),
        ("community_admin", "community_admin", "community", a.id),
        ("other_community_admin", "community_admin", "community", b.id),
        ("grid_worker", "grid_worker", "community", a.id),
        ("department_staff", "department_staff", "department", departments["执法局"].id),
        ("other_department_staff", "department_staff", "department", departments["公安局"].id),
        ("supervisor", "supervisor", "county", 0),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    tokens = {name: (await open_session(cache, user.id, 3600)).token for name, user in users.items()}
    return World(users, compound, building, units, company, departments, tokens)


async def make_complaint(
    world: World,
    *,
    status: Status = Status.SUBMITTED,
    category: str = "repair",
    filer: str = "resident",
    created_at: datetime | None = None,
    resolved_at: datetime | None = None,
    stage_due_at: datetime | None = None,
    moderation: Moderation = Moderation.PASSED,
    assigned: bool | None = None,
    rating: int | None = None,
) -> Complaint:
    """A complaint placed directly in ``status``, with the assignee set as dispatch (or the company's
    own acceptance: ``assigned`` for an accepted one) would set it; a confirmed one rated 4."""
    cat = await Category.get(code=category)
    moment = created_at or clock.now()
    given: dict[str, Any] = {}
    if assigned is None:
        assigned = status not in (Status.SUBMITTED, Status.ACCEPTED)
    if assigned:
        if cat.party is Party.PROPERTY:
            given["company_id"] = world.company.id
        else:
            given["department_id"] = cat.department_id  # type: ignore[attr-defined]
    if rating is None and status is Status.CONFIRMED:
        rating = 4
    if status in (Status.RESOLVED, Status.CONFIRMED, Status.CLOSED):
        resolved_at = resolved_at or moment
    complaint = await Complaint.create(
        compound=world.compound,
        building=world.building,
        unit=world.units[0],
        place_kind=PlaceKind.UNIT,
        category=cat,
        text="楼道灯坏了好几天",
        filer=world.users[filer],
        complainant=world.users[filer],
        status=status,
        moderation=moderation,
        party=cat.party,
        version=1,
        stage_entered_at=moment,
        stage_due_at=stage_due_at,
        created_at=moment,
        resolved_at=resolved_at,
        rating=rating,
        **given,
    )
    await Event.create(
        complaint=complaint,
        seq=1,
        action="seed",
        from_status="",
        to_status=status,
        actor_role="system",
        at=moment,
    )
    return complaint


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat("wx0000000000000000", "fake-wechat-secret")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def wechat(fake_wechat: FakeWeChat, cache: Cache) -> AsyncIterator[WeChatClient]:
    assert fake_wechat.base_url is not None
    client = WeChatClient("wx0000000000000000", "fake-wechat-secret", cache, base_url=fake_wechat.base_url)
    yield client
    await client.aclose()


@pytest.fixture
async def api(serve, wechat: WeChatClient, world: World) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    def photo_sized_bodies(app) -> None:  # type: ignore[no-untyped-def]
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024

    # No periodic jobs in this server: they would close or escalate a test's complaints whenever their
    # period came round (a "resolved long ago" complaint closed in the middle of a test); the tests
    # run those jobs themselves where they mean to.
    server = await serve(photo_sized_bodies, wechat=wechat, background=False)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as http:
        yield http
