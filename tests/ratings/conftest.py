"""A small county for ratings: two communities, a compound in each served by its own company, a
third company with no compound, someone in every role, and an eight-aspect template of each kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import (
    Building,
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
from core.cache import Cache
from ratings import templates
from ratings.models import Template
from ratings.rules import Aspect, AspectSpec, InspectionKind, Item, Threshold

ACTOR = Actor("user:test", "测试")

PEOPLE = (
    "owner",
    "resident",
    "outsider",
    "grid_worker",
    "property_staff",
    "other_property_staff",
    "community_admin",
    "other_community_admin",
    "supervisor",
)

# weights of the eight aspects (percent); each aspect has two items of 10 points: "<n>a", "<n>b"
WEIGHTS = (15, 10, 15, 15, 10, 15, 10, 10)
THRESHOLDS = [
    Threshold(5, Decimal(90)),
    Threshold(4, Decimal(80)),
    Threshold(3, Decimal(70)),
    Threshold(2, Decimal(60)),
    Threshold(1, Decimal(50)),
]


def aspect_specs() -> list[AspectSpec]:
    return [
        AspectSpec(
            aspect, weight, (Item(f"{n}a", f"{aspect.value} 甲", 10), Item(f"{n}b", f"{aspect.value} 乙", 10))
        )
        for n, (aspect, weight) in enumerate(zip(Aspect, WEIGHTS, strict=True), start=1)
    ]


def all_codes() -> list[str]:
    return [i.code for a in aspect_specs() for i in a.items]


def template_body(kind: str = "daily") -> dict[str, Any]:
    return {
        "kind": kind,
        "name": "物业服务星级评定标准",
        "aspects": [
            {
                "aspect": a.aspect.value,
                "weight": a.weight,
                "items": [{"code": i.code, "text": i.text, "max_points": i.max_points} for i in a.items],
            }
            for a in aspect_specs()
        ],
        "thresholds": [{"stars": t.stars, "min_score": str(t.min_score)} for t in THRESHOLDS],
    }


@dataclass
class County:
    users: dict[str, User]
    compound: Compound
    far_compound: Compound
    company: PropertyCompany
    other_company: PropertyCompany
    idle_company: PropertyCompany
    daily: Template
    annual: Template
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def uid(self, who: str) -> int:
        return self.users[who].id


@pytest.fixture
async def county(clean_db: None, cache: Cache) -> County:
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    compound = await Compound.create(community=east, name="阳光花园")
    far = await Compound.create(community=west, name="远方小区")
    building = await Building.create(compound=compound, name="1号楼")
    unit = await Unit.create(compound=compound, building=building, number="101", area=Decimal("88.80"))
    users = {name: await User.create(openid=f"openid-{name}", nickname=name) for name in PEOPLE}
    owner = await Owner.create(name="业主甲", user=users["owner"], compound=compound)
    await Ownership.create(unit=unit, owner=owner)
    await Resident.create(unit=unit, user=users["resident"], relation=ResidentRelation.TENANT)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    other = await PropertyCompany.create(name="别家物业", credit_code="91510000MA0000003Y")
    idle = await PropertyCompany.create(name="闲置物业", credit_code="91510000MA0000004Y")
    for c, where in ((company, compound), (other, far)):
        await ServiceContract.create(
            company=c,
            compound=where,
            starts_on=date(2020, 1, 1),
            ends_on=date(2099, 1, 1),
            price_fen_per_m2=150,
        )
    grants = [
        ("property_staff", "property_staff", "company", company.id),
        ("other_property_staff", "property_staff", "company", other.id),
        ("community_admin", "community_admin", "community", east.id),
        ("other_community_admin", "community_admin", "community", west.id),
        ("grid_worker", "grid_worker", "community", east.id),
        ("supervisor", "supervisor", "county", 0),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    daily = await templates.create(
        ACTOR,
        user_id=users["supervisor"].id,
        kind=InspectionKind.DAILY,
        name="日常考核",
        aspects=aspect_specs(),
        thresholds=THRESHOLDS,
    )
    annual = await templates.create(
        ACTOR,
        user_id=users["supervisor"].id,
        kind=InspectionKind.ANNUAL,
        name="年度综合评定",
        aspects=aspect_specs(),
        thresholds=THRESHOLDS,
    )
    tokens = {name: (await open_session(cache, user.id, 3600)).token for name, user in users.items()}
    return County(users, compound, far, company, other, idle, daily, annual, tokens)
