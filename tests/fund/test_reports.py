"""The fund office's county report and the committee's compound report over real HTTP: every figure
equals what this test counts and sums itself from a known set of entries across two compounds
(first deposits assessed from area × rate here, the known totals of a use, an interest run, an online
top-up and a correction; per-unit balances summed here from the ledger's rows, not the report's SQL)."""

from __future__ import annotations

import secrets
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from accounts.models import Building, Owner, Ownership, Unit
from core import clock
from fund import applications, corrections, interest, subaccounts
from fund import payments as deposits
from fund.models import FundEntry, SubAccount
from fund.rules import BuildingType, EmergencyCategory
from payments.purposes import PurposeEvent
from tests.fund.conftest import ACTOR, RATES, FundWorld

HIGH_RISE_AREAS = [Decimal("50.00"), Decimal("66.66"), Decimal("101.01")]  # 101.01 × 8550 ends in .5 fen
USE_A, USE_B = 2_000_000, 100_001
INTEREST_A, INTEREST_B = 12_345, 777
CORRECTION = -1_000


def _assessed(area: Decimal, kind: BuildingType) -> int:
    return int((area * RATES[kind]).quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def _use(
    world: FundWorld, compound_id: int, scope: applications.Scope, cost: int, *, committee: bool
) -> None:
    proposal = applications.Proposal("抢修", "抢修工程", cost, scope)
    app = await applications.apply_emergency(
        ACTOR, compound_id=compound_id, user_id=world.uid("committee" if committee else "other_community_admin"),
        proposal=proposal, category=EmergencyCategory.WATER_PUMP_MAIN, as_committee=committee,
    )  # fmt: skip
    app = await applications.complete(ACTOR, app, cost_fen=cost)
    await applications.pay_out(ACTOR, app, user_id=world.uid("fund_office"))


@pytest.fixture
async def ledger_world(world: FundWorld) -> dict[str, Any]:
    """Compound A (the world's, 7 units): all but the last walk-up flat paid by the developer; an
    emergency use of 2,000,000 over the lift building (its four flats fall below 30 %); lift 201's top-up
    paid online; interest of 12,345; a correction of -1,000 on walk-up 101, approved.
    Compound B (the far one): its no-lift flat and a new high-rise of three, all but the last paid; a
    use of 100,001 over the high-rise's two paid flats; interest of 777."""
    far_tower = await Building.create(compound=world.far_compound, name="2号楼")
    tower = []
    for i, area in enumerate(HIGH_RISE_AREAS):
        unit = await Unit.create(
            compound=world.far_compound, building=far_tower, number=f"{i + 1}01", area=area
        )
        owner = await Owner.create(name=f"高层业主{i}", compound=world.far_compound)
        await Ownership.create(unit=unit, owner=owner)
        tower.append(unit)
    await subaccounts.open_accounts(
        ACTOR, compound_id=world.far_compound.id, buildings={far_tower.id: BuildingType.HIGH_RISE},
        on=clock.to_local(clock.now()).date(),
    )  # fmt: skip
    kinds = {u.id: BuildingType.LIFT for u in world.lift_units}
    kinds |= {u.id: BuildingType.NO_LIFT for u in [*world.walkup_units, world.far_unit]}
    kinds |= {u.id: BuildingType.HIGH_RISE for u in tower}
    a_units, b_units = world.units, [world.far_unit, *tower]
    unpaid = {world.walkup_units[2].id, tower[2].id}
    for unit in [*a_units, *b_units]:
        if unit.id not in unpaid:
            account = await subaccounts.account_of_unit(unit.id)
            await subaccounts.record_developer_deposit(
                ACTOR, unit_id=unit.id, voucher=f"R{unit.id}", amount_fen=account.first_deposit_fen
            )
    await _use(world, world.compound.id, applications.Scope([world.lift.id], []), USE_A, committee=True)
    paid_flats = applications.Scope([], [tower[0].id, tower[1].id])  # no share of an empty account
    await _use(world, world.far_compound.id, paid_flats, USE_B, committee=False)  # no committee there

    topped = await subaccounts.account_of_unit(world.lift_units[1].id)
    view = await subaccounts.view(topped)
    assert view.due.amount_fen > 0
    await deposits._paid(
        PurposeEvent(
            kind="paid", purpose=deposits.PURPOSE, reference=f"topup:{topped.id}:1", order_id=1,
            out_trade_no=secrets.token_hex(8), payee_id=1, payer_id=world.uid("owner2"),
            compound_id=world.compound.id, unit_id=topped.unit_id, amount_fen=view.due.amount_fen,
            at=clock.now(), transaction_id="42",
        )
    )  # fmt: skip
    today = clock.to_local(clock.now()).date()
    for compound, total in ((world.compound, INTEREST_A), (world.far_compound, INTEREST_B)):
        await interest.allocate(
            ACTOR, compound_id=compound.id, period="2025", period_end=today, total_fen=total,
            user_id=world.uid("fund_office"),
        )  # fmt: skip
    correction = await corrections.request(
        ACTOR, unit_id=world.walkup_units[0].id, amount_fen=CORRECTION, reason="重复入账",
        user_id=world.uid("fund_office"),
    )  # fmt: skip
    await corrections.decide(
        ACTOR, correction_id=correction.id, approve=True, user_id=world.uid("fund_office2")
    )
    return {
        "units": {world.compound.id: a_units, world.far_compound.id: b_units},
        "kinds": kinds,
        "unpaid": unpaid,
        "use": {world.compound.id: USE_A, world.far_compound.id: USE_B},
        "interest": {world.compound.id: INTEREST_A, world.far_compound.id: INTEREST_B},
        "top_up": {world.compound.id: view.due.amount_fen, world.far_compound.id: 0},
        "correction": {world.compound.id: CORRECTION, world.far_compound.id: 0},
    }


async def _expected(compound_id: int, known: dict[str, Any]) -> dict[str, int]:
    units: list[Unit] = known["units"][compound_id]
    assessed = {u.id: _assessed(Decimal(u.area), known["kinds"][u.id]) for u in units}
    deposited = sum(fen for unit_id, fen in assessed.items() if unit_id not in known["unpaid"])
    balances: dict[int, int] = defaultdict(int)  # unit id -> the sum of its rows, added up here
    accounts = {a.id: a.unit_id for a in await SubAccount.filter(compound_id=compound_id)}
    for account_id, amount in await FundEntry.filter(compound_id=compound_id).values_list(
        "account_id", "amount_fen"
    ):
        balances[accounts[int(account_id)]] += int(amount)
    dues = {}
    for unit_id, first in assessed.items():
        if unit_id in known["unpaid"]:
            dues[unit_id] = first
        elif balances[unit_id] * 10 < first * 3:
            dues[unit_id] = first - balances[unit_id]
    use, interest_total = known["use"][compound_id], known["interest"][compound_id]
    top_up, correction = known["top_up"][compound_id], known["correction"][compound_id]
    expected = {
        "compound_id": compound_id,
        "accounts": len(units),
        "first_deposit_assessed_fen": sum(assessed.values()),
        "deposits_fen": deposited + top_up,
        "interest_fen": interest_total,
        "used_fen": use,
        "balance_fen": deposited + top_up + interest_total - use + correction,
        "first_unpaid": sum(1 for u in dues if u in known["unpaid"]),
        "top_up_due": sum(1 for u in dues if u not in known["unpaid"]),
        "due_fen": sum(dues.values()),
    }
    assert expected["balance_fen"] == sum(balances.values())  # the totals and the rows agree
    return expected


@pytest.fixture
async def http(world: FundWorld, serve: Any) -> Any:
    server = await serve()
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        yield client


async def test_the_county_report_shows_the_ledger_figures(
    world: FundWorld, ledger_world: dict[str, Any], http: httpx.AsyncClient
) -> None:
    a, b = world.compound.id, world.far_compound.id
    expected = {a: await _expected(a, ledger_world), b: await _expected(b, ledger_world)}
    # the fixture's story, as counted here: A owes its last walk-up's first deposit and three lift
    # flats' top-ups (201 topped up); B its last high-rise flat's first deposit only
    assert [(expected[c]["first_unpaid"], expected[c]["top_up_due"]) for c in (a, b)] == [(1, 3), (1, 0)]
    assert expected[b]["first_deposit_assessed_fen"] == 350_000 + 427_500 + 569_943 + 863_636

    for who in ("fund_office", "supervisor"):
        r = await http.get("/api/v1/admin/fund/report", headers=world.headers(who))
        assert r.status_code == 200, r.text
        assert r.json() == {"items": [expected[a], expected[b]], "next_cursor": None}, who

    first = await http.get("/api/v1/admin/fund/report?limit=1", headers=world.headers("fund_office"))
    assert first.json()["items"] == [expected[a]] and first.json()["next_cursor"]
    rest = await http.get(
        "/api/v1/admin/fund/report",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=world.headers("fund_office"),
    )
    assert rest.json() == {"items": [expected[b]], "next_cursor": None}

    mine = await http.get(f"/api/v1/admin/compounds/{a}/fund/report", headers=world.headers("committee"))
    assert mine.json() == expected[a]
