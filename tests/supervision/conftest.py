"""A small county for supervision: two communities with compounds in every state the dashboard
counts (committees formed, filed, pending, expired; contracts current, ended, not yet begun),
complaints spread over months (resolved, overdue, rated, held by moderation, outside the period),
patrols, and someone in every role. ``County`` keeps what it created, so tests count independently."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from PIL import Image

from accounts.models import (
    Building,
    Committee,
    Community,
    Compound,
    FilingStatus,
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
from complaints.models import Category, Complaint, Event, Moderation, PlaceKind, Status
from core.cache import Cache
from supervision.models import Patrol

SINCE = date(2026, 6, 1)  # a Monday
UNTIL = date(2026, 11, 29)  # a Sunday: 26 whole weeks
PEOPLE = (
    "grid_worker",
    "other_grid_worker",
    "community_admin",
    "other_community_admin",
    "supervisor",
    "resident",
    "property_staff",
    "department_staff",
    "outsider",
)


def beijing(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=8)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((320, 240), 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class County:
    communities: dict[str, Community]
    compounds: dict[str, Compound]
    buildings: dict[str, Building]
    companies: dict[str, PropertyCompany]
    users: dict[str, User]
    tokens: dict[str, str]
    # what was created, as plain facts for independent counting
    contracts: list[tuple[str, str, date, date]] = field(default_factory=list)  # compound, company, from, to
    committees: list[tuple[str, date, date, FilingStatus, date | None]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    patrols: list[tuple[str, str, datetime]] = field(default_factory=list)  # compound, worker, started

    def headers(self, who: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}

    def community_of(self, compound: str) -> str:
        return "A" if compound.startswith("a") else "B"


COMPOUNDS = {
    "a1": "阳光花园",
    "a2": "锦绣家园",
    "a3": "翠苑小区",
    "a4": "和平新村",
    "b1": "幸福苑",
    "b2": "金桂公寓",
    "b3": "银杏花园",
}


@pytest.fixture
async def county(clean_db: None, cache: Cache) -> County:
    await seed_complaints_catalog()
    communities = {"A": await Community.create(name="东街社区"), "B": await Community.create(name="西街社区")}
    compounds = {
        key: await Compound.create(community=communities[key[0].upper()], name=name, standalone=key == "a4")
        for key, name in COMPOUNDS.items()
    }
    buildings = {key: await Building.create(compound=c, name="1号楼") for key, c in compounds.items()}
    unit = await Unit.create(
        compound=compounds["a1"], building=buildings["a1"], number="101", area=Decimal("88.80")
    )
    companies = {
        "X": await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y"),
        "Y": await PropertyCompany.create(name='=HYPERLINK("x")物业', credit_code="91510000MA0000003Y"),
    }
    users = {name: await User.create(openid=f"openid-{name}", nickname=name) for name in PEOPLE}
    await Resident.create(unit=unit, user=users["resident"], relation=ResidentRelation.TENANT)
    grants = [
        ("grid_worker", "grid_worker", "community", communities["A"].id),
        ("other_grid_worker", "grid_worker", "community", communities["B"].id),
        ("community_admin", "community_admin", "community", communities["A"].id),
        ("other_community_admin", "community_admin", "community", communities["B"].id),
        ("supervisor", "supervisor", "county", 0),
        ("property_staff", "property_staff", "company", companies["X"].id),
        ("department_staff", "department_staff", "department", 1),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    tokens = {name: (await open_session(cache, user.id, 3600)).token for name, user in users.items()}
    world = County(communities, compounds, buildings, companies, users, tokens)

    for key, company, starts, ends in [
        ("a1", "X", date(2024, 1, 1), date(2027, 12, 31)),
        ("a2", "Y", date(2026, 2, 1), date(2028, 1, 31)),
        ("a3", "X", date(2023, 1, 1), date(2026, 3, 1)),  # ended before the period
        ("b1", "X", date(2025, 7, 1), date(2027, 6, 30)),
        ("b3", "Y", date(2026, 11, 1), date(2029, 10, 31)),  # began in the period
    ]:
        await ServiceContract.create(
            company=companies[company],
            compound=compounds[key],
            starts_on=starts,
            ends_on=ends,
            price_fen_per_m2=150,
        )
        world.contracts.append((key, company, starts, ends))
    for key, starts, ends, status, filed_on in [
        ("a1", date(2026, 3, 1), date(2031, 2, 28), FilingStatus.FILED, date(2026, 4, 1)),
        ("a2", date(2026, 10, 15), date(2031, 10, 14), FilingStatus.PENDING, None),
        ("a3", date(2021, 5, 2), date(2026, 5, 1), FilingStatus.FILED, date(2021, 6, 1)),  # term over
        ("b1", date(2026, 8, 1), date(2031, 7, 31), FilingStatus.FILED, date(2026, 10, 20)),
        ("b3", date(2026, 9, 1), date(2031, 8, 31), FilingStatus.REJECTED, None),
    ]:
        await Committee.create(
            compound=compounds[key], term_starts_on=starts, term_ends_on=ends, filing_status=status,
            filed_at=beijing(filed_on) if filed_on else None,
        )  # fmt: skip
        world.committees.append((key, starts, ends, status, filed_on))

    repair = await Category.get(code="repair")
    plan = [
        # compound, day filed, hours to resolve (None: open), overdue, rating, moderation
        ("a1", date(2026, 6, 3), 20, False, 5, Moderation.PASSED),
        ("a1", date(2026, 6, 20), 50, True, 2, Moderation.PASSED),
        ("a1", date(2026, 8, 9), None, True, None, Moderation.PASSED),
        ("a1", date(2026, 11, 28), 3, False, None, Moderation.PASSED),
        ("a2", date(2026, 7, 1), 10, False, 4, Moderation.PASSED),
        ("a2", date(2026, 7, 2), None, False, None, Moderation.HELD),  # staff never saw it: not counted
        ("a3", date(2026, 9, 30), 72, True, 1, Moderation.PASSED),
        ("b1", date(2026, 10, 5), 8, False, 5, Moderation.PASSED),
        ("b1", date(2026, 10, 6), 30, False, 3, Moderation.PASSED),
        ("b2", date(2026, 5, 31), 5, False, 5, Moderation.PASSED),  # the day before the period
        ("b3", date(2026, 11, 30), 5, False, 5, Moderation.PASSED),  # the day after it
    ]
    for key, day, hours, overdue, rating, moderation in plan:
        created = beijing(day, 23)  # 23:00 Beijing is 15:00 UTC: the Beijing day decides the month
        resolved = created + timedelta(hours=hours) if hours is not None else None
        status = Status.CLOSED if resolved else Status.IN_PROGRESS
        complaint = await Complaint.create(
            compound=compounds[key], building=buildings[key], place_kind=PlaceKind.BUILDING, category=repair,
            text="楼道灯坏了好几天", filer=users["resident"], status=status, moderation=moderation,
            party=repair.party, company=companies["X"], version=1, stage_entered_at=created,
            created_at=created, resolved_at=resolved, closed_at=resolved, overdue=overdue, rating=rating,
        )  # fmt: skip
        await Event.create(complaint=complaint, seq=1, action="seed", from_status="", to_status=status,
                           actor_role="system", at=created)  # fmt: skip
        world.complaints.append(
            {"id": complaint.id, "compound": key, "day": day, "created": created, "resolved": resolved,
             "overdue": overdue, "rating": rating, "moderation": moderation, "status": status}
        )  # fmt: skip
    for key, worker, day in [
        ("a1", "grid_worker", date(2026, 6, 2)),
        ("a1", "grid_worker", date(2026, 6, 4)),  # same week twice: one covered week
        ("a1", "grid_worker", date(2026, 11, 27)),  # the last week
        ("a2", "grid_worker", date(2026, 7, 15)),
        ("a4", "grid_worker", date(2026, 11, 23)),  # the last week's Monday
        ("b1", "other_grid_worker", date(2026, 10, 10)),
        ("b2", "other_grid_worker", date(2026, 5, 30)),  # before the period
    ]:
        started = beijing(day, 9)
        await Patrol.create(
            compound=compounds[key], community_id=compounds[key].community_id, worker=users[worker],  # type: ignore[attr-defined]
            started_at=started, ended_at=started + timedelta(hours=1), created_at=started,
        )  # fmt: skip
        world.patrols.append((key, worker, started))
    return world


@pytest.fixture
async def api(server: Any) -> Any:
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as http:
        yield http
