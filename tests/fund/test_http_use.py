"""Use of the fund over real HTTP: an ordinary application creates a matter-5 motion whose roll is
exactly the sharing units, the owners' vote decides it, a failed vote blocks the payout; an
emergency skips the vote and is disclosed on the board after payout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from core import clock
from fund.models import FundEntry
from tests.fund.conftest import FundWorld, counts, deposit_all
from voting.models import Motion, Voter


@pytest.fixture
async def http(world: FundWorld, serve: Any) -> Any:
    await deposit_all(world)
    server = await serve()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        yield client


def _fund(world: FundWorld) -> str:
    return f"/api/v1/admin/compounds/{world.compound.id}/fund"


def _motions(world: FundWorld) -> str:
    return f"/api/v1/admin/compounds/{world.compound.id}/motions"


async def _apply(http: httpx.AsyncClient, world: FundWorld) -> dict[str, Any]:
    now = clock.now()
    body = {
        "title": "1号楼电梯更换曳引机",
        "works": "更换1号楼电梯曳引机及钢丝绳",
        "budget_fen": 1_000_001,
        "scope": {"buildings": [world.lift.id]},
        "opens_at": (now + timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(hours=3)).isoformat(),
        "announce_days": 0,
    }
    r = await http.post(f"{_fund(world)}/applications", json=body, headers=world.headers("committee"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _vote(http: httpx.AsyncClient, world: FundWorld, motion_id: int, choices: dict[str, str]) -> None:
    """Announce, open, cast (who → choice), close, count, publish, finalise: as the committee does."""
    chair = world.headers("committee")

    async def step(action: str) -> dict[str, Any]:
        r = await http.post(f"{_motions(world)}/{motion_id}/{action}", headers=chair)
        assert r.status_code == 200, (action, r.text)
        return dict(r.json())

    await step("announce")
    await Motion.filter(id=motion_id).update(opens_at=clock.now())  # as if the hour had passed
    opened = await step("open")
    item = opened["items"][0]["id"]
    for who, choice in choices.items():
        r = await http.post(
            f"/api/v1/motions/{motion_id}/ballots",
            json={"choices": {str(item): choice}},
            headers=world.headers(who),
        )
        assert r.status_code in (200, 201), r.text
    await Motion.filter(id=motion_id).update(closes_at=clock.now(), objection_days=0)
    await step("close")
    await step("count")
    await step("publish")
    await step("finalize")


async def test_an_ordinary_application_is_decided_by_the_sharing_owners(
    http: httpx.AsyncClient, world: FundWorld
) -> None:
    app = await _apply(http, world)
    assert app["status"] == "voting" and app["motion_id"]
    assert sum(s["share_fen"] for s in app["shares"]) == 1_000_001
    assert {s["unit_id"] for s in app["shares"]} == {u.id for u in world.lift_units}
    motion = await Motion.get(id=app["motion_id"])
    assert motion.scope_units == sorted(u.id for u in world.lift_units)
    detail = await http.get(f"{_motions(world)}/{motion.id}", headers=world.headers("committee"))
    assert detail.json()["items"][0]["matter"] == "use_maintenance_fund"

    base = f"{_fund(world)}/applications/{app['id']}"
    early = await http.post(f"{base}/vote-result", headers=world.headers("committee"))
    assert (early.status_code, early.json()["code"]) == (409, "fund_vote_not_decided")

    # owner2 also owns a walk-up flat: on this roll with the lift flat only
    await _vote(http, world, motion.id, {"owner": "agree", "owner2": "agree", "committee": "agree"})
    rolled = sorted(u["unit_id"] for v in await Voter.filter(motion_id=motion.id) for u in v.rooms)
    assert rolled == sorted(u.id for u in world.lift_units)

    decided = await http.post(f"{base}/vote-result", headers=world.headers("committee"))
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["vote_passed"]) == ("approved", True)

    done = await http.post(
        f"{base}/completion", json={"cost_fen": 999_999}, headers=world.headers("committee")
    )
    assert done.status_code == 200, done.text
    paid = await http.post(
        f"/api/v1/admin/fund/applications/{app['id']}/payout", headers=world.headers("fund_office")
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["notice_id"]
    uses = await FundEntry.filter(ref=f"application:{app['id']}").values_list("amount_fen", flat=True)
    assert sum(uses) == -999_999 and len(uses) == 4
    board = await http.get(
        f"/api/v1/compounds/{world.compound.id}/notices/{paid.json()['notice_id']}",
        headers=world.headers("owner"),
    )
    assert board.status_code == 200, board.text


async def test_a_failed_vote_blocks_the_payout(http: httpx.AsyncClient, world: FundWorld) -> None:
    app = await _apply(http, world)
    await _vote(http, world, app["motion_id"], {"owner": "oppose", "owner2": "oppose", "committee": "agree"})
    base = f"{_fund(world)}/applications/{app['id']}"
    decided = await http.post(f"{base}/vote-result", headers=world.headers("committee"))
    assert (decided.json()["status"], decided.json()["vote_passed"]) == ("rejected", False)
    before = await counts()
    done = await http.post(f"{base}/completion", json={"cost_fen": 1_000}, headers=world.headers("committee"))
    assert (done.status_code, done.json()["code"]) == (409, "fund_application_state")
    paid = await http.post(
        f"/api/v1/admin/fund/applications/{app['id']}/payout", headers=world.headers("fund_office")
    )
    assert (paid.status_code, paid.json()["code"]) == (409, "fund_application_state")
    again = await http.post(f"{base}/vote-result", headers=world.headers("committee"))
    assert again.status_code == 409
    assert await counts() == before
    assert not await FundEntry.exists(ref=f"application:{app['id']}")


async def test_an_emergency_skips_the_vote_and_is_disclosed_after(
    http: httpx.AsyncClient, world: FundWorld
) -> None:
    body = {
        "title": "2号楼屋面渗漏抢修",
        "works": "屋面防水层修补",
        "budget_fen": 50_000,
        "scope": {"buildings": [world.walkup.id]},
        "category": "roof_wall_leak",
    }
    r = await http.post(
        f"{_fund(world)}/applications/emergency", json=body, headers=world.headers("committee")
    )
    assert r.status_code == 201, r.text
    app = r.json()
    assert (app["status"], app["motion_id"], app["kind"]) == ("approved", None, "emergency")
    assert not await Motion.exists()
    base = f"{_fund(world)}/applications/{app['id']}"
    await http.post(f"{base}/completion", json={"cost_fen": 48_001}, headers=world.headers("committee"))
    paid = await http.post(
        f"/api/v1/admin/fund/applications/{app['id']}/payout", headers=world.headers("fund_office")
    )
    assert paid.status_code == 200, paid.text
    notice_id = paid.json()["notice_id"]
    board = await http.get(f"/api/v1/compounds/{world.compound.id}/notices", headers=world.headers("owner"))
    assert notice_id in [n["id"] for n in board.json()["items"]]
    shown = await http.get(
        f"/api/v1/compounds/{world.compound.id}/notices/{notice_id}", headers=world.headers("owner")
    )
    assert "480.01" in str(shown.json())
    entries = await http.get(
        f"/api/v1/fund/units/{world.walkup_units[0].id}/entries", headers=world.headers("owner2")
    )
    assert entries.json()["items"][0]["kind"] == "use"
    assert sum(-e for e in await FundEntry.filter(kind="use").values_list("amount_fen", flat=True)) == 48_001
