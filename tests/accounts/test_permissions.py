"""Every role against every admin route: allowed, or 403 with nothing changed.

The expected table is written out by hand from the product's rules (not derived from the code), and
the test fails if an admin route exists that the table does not cover."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

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
from core.cache import Cache
from tests.matrix import row_counts

ROLES = [
    "anonymous",
    "nobody",
    "resident",
    "owner",
    "committee",
    "property_staff",
    "community_admin",
    "other_community_admin",
    "grid_worker",
    "department_staff",
    "supervisor",
]

KEEPERS = {"committee", "community_admin"}
READERS = {"committee", "property_staff", "community_admin", "grid_worker", "supervisor"}
COMMUNITY = {"community_admin"}
COMMUNITY_OR_SUPERVISOR = {"community_admin", "supervisor"}
SUPERVISOR = {"supervisor"}

# (method, path, body or None, content type, who may call it)
ROUTES: list[tuple[str, str, object, str, set[str]]] = [
    (
        "POST",
        "/admin/communities/{community}/compounds",
        {"name": "新小区{n}"},
        "json",
        COMMUNITY_OR_SUPERVISOR,
    ),
    ("GET", "/admin/compounds/{compound}", None, "json", READERS),
    ("POST", "/admin/compounds/{compound}/buildings", {"name": "新楼{n}"}, "json", KEEPERS),
    (
        "POST",
        "/admin/compounds/{compound}/roster",
        b"building,unit,area,owner_name,id_number\n",
        "csv",
        KEEPERS,
    ),
    ("GET", "/admin/compounds/{compound}/roster.csv", None, "json", KEEPERS),
    (
        "POST",
        "/admin/compounds/{compound}/committees",
        {"term_starts_on": "2031-01-0{d}", "term_ends_on": "2031-06-0{d}"},
        "json",
        COMMUNITY,
    ),
    (
        "POST",
        "/admin/compounds/{compound}/committees/{committee}/filing",
        {"status": "rejected"},
        "json",
        COMMUNITY,
    ),
    (
        "POST",
        "/admin/compounds/{compound}/committees/{committee}/members",
        {"owner_id": "{spare_owner}"},
        "json",
        COMMUNITY,
    ),
    (
        "DELETE",
        "/admin/compounds/{compound}/committees/{committee}/members/{member_owner}",
        None,
        "json",
        COMMUNITY,
    ),
    (
        "POST",
        "/admin/compounds/{compound}/contracts",
        {"company_id": "{company}", "starts_on": "2040-01-0{d}", "ends_on": "2040-01-0{d}"},
        "json",
        KEEPERS,
    ),
    (
        "POST",
        "/admin/compounds/{compound}/units/{unit}/invitations",
        {"relation": "tenant"},
        "json",
        {"committee"},
    ),
    # issue 12 item 1: the 公示栏's contacts, each section by its own role
    (
        "PUT",
        "/admin/compounds/{compound}/contacts/property",
        {"project_manager": None, "complaint_phone": "0838-2212345", "service_phone": None},
        "json",
        {"property_staff"},
    ),
    ("PUT", "/admin/compounds/{compound}/contacts/committee", {"contact": None}, "json", {"committee"}),
    (
        "PUT",
        "/admin/compounds/{compound}/contacts/community",
        {"contact": None, "grid_worker": {"user_id": "{grantee}", "name": "刘网格", "phone": "13700000003"}},
        "json",
        COMMUNITY,
    ),
    # issue 12: whom a community admin may name as a compound's grid worker
    ("GET", "/admin/communities/{community}/grid-workers", None, "json", COMMUNITY_OR_SUPERVISOR),
    (
        "POST",
        "/admin/companies",
        {"name": "测试物业{n}", "credit_code": "91510000MA00000{n}X"},
        "json",
        SUPERVISOR,
    ),
    (
        "POST",
        "/admin/communities/{community}/grants",
        {"user_id": "{grantee}", "role": "grid_worker"},
        "json",
        COMMUNITY_OR_SUPERVISOR,
    ),
    ("DELETE", "/admin/communities/{community}/grants/{spare_grant}", None, "json", COMMUNITY_OR_SUPERVISOR),
    # issue 12 items 2 and 6: organisation owners' claims, the 从多 setting (committee only)
    ("GET", "/admin/compounds/{compound}/organisation-claims", None, "json", KEEPERS),
    (
        "POST",
        "/admin/compounds/{compound}/organisation-claims/{claim}/decision",
        {"approve": False},
        "json",
        KEEPERS,
    ),
    (
        "GET",
        "/admin/compounds/{compound}/voting-settings/follow-majority",
        None,
        "json",
        {"committee", "community_admin", "supervisor"},
    ),
    (
        "PUT",
        "/admin/compounds/{compound}/voting-settings/follow-majority",
        {"enabled": False},
        "json",
        {"committee"},
    ),
]


async def _user(openid: str) -> User:
    return await User.create(openid=openid)


@pytest.fixture
async def server(serve):  # type: ignore[no-untyped-def]
    """Without the clock: the matrix is about requests, and nothing else should write meanwhile."""
    return await serve(background=False)


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> dict[str, object]:
    """One compound in community A with a person for every role, and a second community B."""
    a = await Community.create(name="东街社区")
    b = await Community.create(name="西街社区")
    compound = await Compound.create(community=a, name="阳光花园")
    building = await Building.create(compound=compound, name="1号楼")
    units = [
        await Unit.create(compound=compound, building=building, number=f"10{i}", area=Decimal("88.80"))
        for i in range(1, 5)
    ]
    users = {role: await _user(f"openid-{role}") for role in ROLES if role != "anonymous"}
    owner = await Owner.create(name="业主甲", user=users["owner"])
    chair = await Owner.create(name="主任乙", user=users["committee"])
    spare = await Owner.create(name="业主丙")
    member = await Owner.create(name="委员丁")
    for person, unit in zip((owner, chair, spare, member), units, strict=True):
        await Ownership.create(unit=unit, owner=person)
    await Resident.create(unit=units[0], user=users["resident"], relation=ResidentRelation.TENANT)
    committee = await Committee.create(
        compound=compound, term_starts_on=date(2020, 1, 1), term_ends_on=date(2099, 1, 1)
    )
    await CommitteeMember.create(committee=committee, owner=chair)
    await CommitteeMember.create(committee=committee, owner=member)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    await ServiceContract.create(
        company=company,
        compound=compound,
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )
    await RoleGrant.create(
        user=users["property_staff"], role="property_staff", scope_type="company", scope_id=company.id
    )
    await RoleGrant.create(
        user=users["community_admin"], role="community_admin", scope_type="community", scope_id=a.id
    )
    await RoleGrant.create(
        user=users["other_community_admin"], role="community_admin", scope_type="community", scope_id=b.id
    )
    await RoleGrant.create(
        user=users["grid_worker"], role="grid_worker", scope_type="community", scope_id=a.id
    )
    await RoleGrant.create(
        user=users["department_staff"], role="department_staff", scope_type="department", scope_id=1
    )
    await RoleGrant.create(user=users["supervisor"], role="supervisor", scope_type="county", scope_id=0)
    tokens = {role: (await open_session(cache, user.id, 3600)).token for role, user in users.items()}
    return {
        "tokens": tokens,
        "ids": {
            "community": a.id,
            "compound": compound.id,
            "committee": committee.id,
            "spare_owner": spare.id,
            "member_owner": member.id,
            "company": company.id,
            "unit": units[2].id,
            "grantee": (await _user("openid-grantee")).id,
            "claim": 999_999,  # no such organisation claim: allowed callers get 404, the others 403
        },
    }


async def snapshot() -> dict[str, int]:
    return await row_counts()


def _fill(value: object, ids: dict[str, int], n: int) -> object:
    if isinstance(value, dict):
        return {k: _fill(v, ids, n) for k, v in value.items()}
    if isinstance(value, str):
        text = value.replace("{n}", str(n % 10)).replace("{d}", str(1 + n % 9))
        for key, number in ids.items():
            if text == "{" + key + "}":
                return number
            text = text.replace("{" + key + "}", str(number))
        return text
    return value


def test_every_admin_route_is_in_the_matrix(server) -> None:
    declared = {
        (method, "/" + route.path.removeprefix("api/v1").strip("/"))
        for route in server.app.router.routes
        if route.path.startswith("api/v1/admin")
        # voting, payments, jobs, fund, bookings, ratings and supervision hold their own matrices
        # (tests/voting, tests/payments, tests/notify, tests/fund, tests/bookings, tests/ratings,
        # tests/supervision)
        and not any(
            part in route.path
            for part in (
                "/motions",
                "/fees",
                "admin/payments",
                "admin/jobs",
                "/fund",
                "/providers",
                "/dashboard",
                "/patrol",
                "/inspections",
                "admin/ratings",
                "/credit",
                "/ratings/lists",
            )
        )
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    covered = set()
    for method, path, *_ in ROUTES:
        parts = ["<" + p[1:-1] + ">" if p.startswith("{") else p for p in path.strip("/").split("/")]
        covered.add((method, "/" + "/".join(parts)))

    def shape(path: str) -> str:
        return "/".join("<>" if p.startswith("<") else p for p in path.split("/"))

    assert {(m, shape(p)) for m, p in declared} == {(m, shape(p)) for m, p in covered}


@pytest.mark.parametrize("role", ROLES)
async def test_permission_matrix(role: str, world: dict, client: httpx.AsyncClient) -> None:
    tokens, ids = world["tokens"], world["ids"]
    spare = await RoleGrant.create(
        user_id=ids["grantee"], role="grid_worker", scope_type="community", scope_id=ids["community"]
    )
    ids["spare_grant"] = spare.id
    headers = {} if role == "anonymous" else {"authorization": f"Bearer {tokens[role]}"}
    failures = []
    for n, (method, template, body, kind, allowed) in enumerate(ROUTES):
        path = "/api/v1" + str(_fill(template, ids, n))
        before = await snapshot()
        if body is None:
            response = await client.request(method, path, headers=headers)
        elif kind == "csv":
            response = await client.request(
                method, path, headers={**headers, "content-type": "text/csv"}, content=body
            )
        else:
            response = await client.request(method, path, headers=headers, json=_fill(body, ids, n))
        if role == "anonymous":
            expected_refusal = 401
        elif role in allowed:
            expected_refusal = None
        else:
            expected_refusal = 403
        if expected_refusal is None:
            if response.status_code in (401, 403):
                failures.append(f"{role} refused {method} {template}: {response.text}")
        else:
            if response.status_code != expected_refusal:
                failures.append(
                    f"{role} got {response.status_code} on {method} {template}, expected {expected_refusal}"
                )
            if await snapshot() != before:
                failures.append(f"{role}'s refused {method} {template} changed the database")
    assert failures == []
