"""The permission matrix over every fund route: who gets through, everyone else refused with nothing
changed. The property company has no route that moves fund money (and reads nothing of it but the
published rates); a resident sees nothing of the owner's sub-account; no one reaches another compound."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from accounts.roles import Role
from audit.service import Actor
from core import clock
from fund import applications, corrections, subaccounts
from fund.rules import EmergencyCategory
from miniprogram_api.endpoint import EndpointSpec
from tests.fund.conftest import PEOPLE, FundWorld, counts
from tests.matrix import covered, declared, shape
from voting.models import Motion

ACTOR = Actor("user:test", "测试")
EVERYONE = ("anonymous", *PEOPLE)
READERS = {"committee", "community_admin", "fund_office", "fund_office2", "supervisor"}
OFFICE = {"fund_office", "fund_office2"}
WATCHERS = {*OFFICE, "supervisor"}
PREFIXES = ("/api/v1/fund", "/api/v1/admin/fund", "/api/v1/admin/compounds/<>/fund")
# paying needs WeChat Pay: person by person in test_deposit_http (owner only; resident, outsider,
# property staff and committee refused with nothing created)
OUTSIDE = {("POST", "/api/v1/fund/units/<>/deposits"), ("GET", "/api/v1/fund/units/<>/deposits/<>")}


async def _state() -> dict[str, int]:
    return {**await counts(), "Motion": await Motion.all().count()}


async def _fixtures(world: FundWorld) -> dict[str, int]:
    """Every unit deposited but the last walk-up flat; an ordinary application being voted on, an
    emergency approved, one completed; a pending correction."""
    last = world.walkup_units[2]
    for unit in world.units[:-1]:
        account = await subaccounts.account_of_unit(unit.id)
        await subaccounts.record_developer_deposit(
            ACTOR, unit_id=unit.id, voucher=f"W{unit.id}", amount_fen=account.first_deposit_fen
        )
    lift = applications.Scope([world.lift.id], [])
    now = clock.now()
    ordinary = await applications.apply_ordinary(
        ACTOR,
        compound_id=world.compound.id,
        user_id=world.uid("committee"),
        proposal=applications.Proposal("电梯维修", "1号楼", 10_000, lift),
        opens_at=now + timedelta(days=30),
        closes_at=now + timedelta(days=40),
        min_announce_days=0,
    )

    async def emergency(title: str) -> int:
        app = await applications.apply_emergency(
            ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"),
            proposal=applications.Proposal(title, "抢修", 5_000, lift), category=EmergencyCategory.LIFT_FAULT,
            as_committee=True,
        )  # fmt: skip
        return app.id

    approved = await emergency("电梯困人抢修")
    completed_id = await emergency("电梯门机抢修")
    await applications.complete(ACTOR, await applications.get(completed_id), cost_fen=5_000)
    correction = await corrections.request(
        ACTOR, unit_id=world.lift_units[0].id, amount_fen=1, reason="测试", user_id=world.uid("fund_office")
    )
    return {
        "ordinary": ordinary.id,
        "approved": approved,
        "completed": completed_id,
        "correction": correction.id,
        "undeposited": last.id,
    }


def _routes(world: FundWorld, ids: dict[str, int]) -> list[tuple[str, str, Any, set[str], tuple[int, ...]]]:
    c, u0, u1 = world.compound.id, world.lift_units[0].id, world.lift_units[1].id
    admin = f"/api/v1/admin/compounds/{c}/fund"
    office = "/api/v1/admin/fund"
    scope = {"buildings": [world.lift.id]}
    last_year = clock.to_local(clock.now()).year - 1
    return [
        ("GET", "/api/v1/fund/units", None, set(PEOPLE), (200,)),
        ("GET", f"/api/v1/fund/units/{u0}", None, {"owner"}, (200,)),
        ("GET", f"/api/v1/fund/units/{u0}/entries", None, {"owner"}, (200,)),
        ("GET", f"{admin}/report", None, READERS, (200,)),
        ("GET", f"{admin}/arrears", None, READERS, (200,)),
        ("GET", f"{admin}/ledger/verify", None, READERS, (200,)),
        ("POST", f"{admin}/split-preview", {"scope": scope, "total_fen": 999}, READERS, (200,)),
        ("GET", f"{admin}/applications", None, READERS, (200,)),
        ("GET", f"{admin}/applications/{ids['ordinary']}", None, READERS, (200,)),
        (
            "POST",
            f"{admin}/applications",
            {
                "title": "外墙修缮",
                "works": "1号楼外墙",
                "budget_fen": 3_000,
                "scope": scope,
                "opens_at": "2099-01-01T00:00:00+08:00",
                "closes_at": "2099-01-10T00:00:00+08:00",
                "announce_days": 0,
            },
            {"committee"},
            (201,),
        ),
        (
            "POST",
            f"{admin}/applications/emergency",
            {
                "title": "水泵抢修",
                "works": "二次供水",
                "budget_fen": 1_000,
                "scope": scope,
                "category": "water_pump_main",
            },
            {"committee"},  # the community only where there is no committee: 403 here
            (201,),
        ),
        # authorised, and refused by the state: the motion's result is not final yet
        ("POST", f"{admin}/applications/{ids['ordinary']}/vote-result", None, {"committee"}, (409,)),
        (
            "POST",
            f"{admin}/applications/{ids['approved']}/completion",
            {"cost_fen": 4_000},
            {"committee", "community_admin"},
            (200, 409),  # the second one finds it completed
        ),
        ("GET", f"{office}/rates", None, set(PEOPLE), (200,)),
        (
            "PUT",
            f"{office}/rates",
            {"building_type": "lift", "fen_per_m2": "7200", "effective_from": "2030-01-01"},
            OFFICE,
            (200,),
        ),
        ("PUT", f"{office}/special-account", {"name": "专户", "sub_mchid": "1900000209"}, OFFICE, (200,)),
        (
            "POST",
            f"{office}/compounds/{c}/accounts",
            {"buildings": [{"building_id": world.lift.id, "building_type": "lift"}], "on": "2025-01-01"},
            OFFICE,
            (201,),
        ),
        (
            "POST",
            f"{office}/compounds/{c}/interest",
            {
                "period": str(last_year),
                "period_end": clock.to_local(clock.now()).date().isoformat(),
                "total_fen": 500,
            },
            OFFICE,
            (201, 409),
        ),
        ("POST", f"{office}/compounds/{c}/disclosures", {"year": last_year}, OFFICE, (201, 409)),
        (
            "POST",
            f"{office}/units/{ids['undeposited']}/developer-deposits",
            {"voucher": "A-1", "amount_fen": 499_950},
            OFFICE,
            (201, 409),
        ),
        ("POST", f"{office}/units/{u1}/transfers", {"note": "办理转移登记"}, OFFICE, (201,)),
        ("GET", f"{office}/report", None, WATCHERS, (200,)),
        ("GET", f"{office}/applications", None, WATCHERS, (200,)),
        ("POST", f"{office}/applications/{ids['completed']}/payout", None, OFFICE, (200, 409)),
        ("GET", f"{office}/corrections", None, OFFICE, (200,)),
        (
            "POST",
            f"{office}/corrections",
            {"unit_id": u0, "amount_fen": -5, "reason": "录入有误"},
            OFFICE,
            (201,),
        ),
        # the requester may not approve their own: only the second person gets through
        (
            "POST",
            f"{office}/corrections/{ids['correction']}/decision",
            {"approve": True},
            {"fund_office2"},
            (200,),
        ),
    ]


@pytest.fixture
async def matrix(world: FundWorld, serve: Any) -> Any:
    ids = await _fixtures(world)
    server = await serve()
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        yield http, ids


async def test_every_route_for_every_person(world: FundWorld, matrix: Any) -> None:
    http, ids = matrix
    problems = []
    for method, path, body, allowed, ok in _routes(world, ids):
        for who in sorted(EVERYONE, key=lambda w: w in allowed):
            before = await _state()
            r = await http.request(method, path, json=body, headers=world.headers(who))
            if who in allowed:
                if r.status_code not in ok:
                    problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:160]}")
                continue
            expected = (401,) if who == "anonymous" else (403, 404)
            if r.status_code not in expected:
                problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:160]}")
            if await _state() != before:
                problems.append(f"{method} {path} as {who}: refused but changed something")
    assert problems == []


def test_every_fund_route_is_in_the_matrix(world: FundWorld, server: Any) -> None:
    ids = dict.fromkeys(("ordinary", "approved", "completed", "correction", "undeposited"), 1)
    assert declared(server.app, *PREFIXES) - OUTSIDE == covered(_routes(world, ids))


def test_no_fund_route_lets_the_property_company_through(server: Any) -> None:
    """By declaration: no fund route names property staff among who may call it; the routes open to
    every logged-in user are reads, and the deposit (which checks ownership itself)."""
    wanted = declared(server.app, *PREFIXES)
    checked = 0
    for route in server.app.router.routes:
        spec: EndpointSpec | None = getattr(route.handler, "__endpoint__", None)
        methods = {(m, shape(route.path)) for m in route.methods - {"HEAD", "OPTIONS"}}
        if spec is None or not methods <= wanted:
            continue
        checked += len(methods)
        allowed = getattr(spec.access, "allowed", None)
        assert allowed is None or Role.PROPERTY_STAFF not in allowed, route.path
        if allowed is None:
            assert all(m == "GET" for m, _ in methods) or methods <= OUTSIDE, route.path
    assert checked == len(wanted)


async def test_the_property_company_cannot_move_fund_money(world: FundWorld, matrix: Any) -> None:
    http, ids = matrix
    before = await _state()
    for method, path, body, _, _ in _routes(world, ids):
        if method == "GET":
            continue
        r = await http.request(method, path, json=body, headers=world.headers("property_staff"))
        assert r.status_code == 403, (method, path, r.status_code)
    r = await http.post(
        f"/api/v1/fund/units/{world.lift_units[0].id}/deposits", headers=world.headers("property_staff")
    )
    assert r.status_code == 403
    assert await _state() == before
