"""The fund's work that runs by itself, through the jobs registered in server/jobs.py: a final vote
moves its application on (once, audited), owners below 30 % are told a top-up is due (once a day,
once per round), and each compound's annual statement is posted once per year, with its buildings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import httpx

from audit.models import AuditEvent
from fund import disclosure, ledger, periodic
from fund.models import AnnualDisclosure, SubAccount, UseApplication
from fund.rules import EntryKind
from notices.models import Notice
from notify.models import Notification
from server import jobs
from tests.fund.conftest import ACTOR, FILED_AT, FundWorld, deposit_all
from tests.fund.test_http_use import _apply, _fund, _vote, http  # noqa: F401 (the fixture)
from voting import lifecycle
from voting.models import Motion
from wechat.fake import FakeWeChat


async def _job(name: str) -> Any:
    """Run the job as registered (the clock or `python -m server worker` runs it the same way)."""
    (job,) = [j for j in jobs.PERIODIC if j.name == name]
    return await job.run(jobs.JobContext(FakeWeChat()))


async def _voted_events(application_id: int) -> list[AuditEvent]:
    return await AuditEvent.filter(action="fund.application_voted", subject=f"application:{application_id}")


async def test_a_final_vote_moves_its_application_by_itself_once(
    http: httpx.AsyncClient,  # noqa: F811
    world: FundWorld,
) -> None:
    passing, cancelled = await _apply(http, world), await _apply(http, world)
    assert await _job("fund_votes") == 0  # drafts: nothing is decided yet
    assert (await UseApplication.get(id=passing["id"])).status.value == "voting"

    await _vote(
        http, world, passing["motion_id"], {"owner": "agree", "owner2": "agree", "committee": "agree"}
    )
    await lifecycle.cancel(ACTOR, await Motion.get(id=cancelled["motion_id"]), "撤回申请")
    assert await _job("fund_votes") == 2
    approved = await UseApplication.get(id=passing["id"])
    assert approved.status.value == "approved" and approved.vote_result["passed"] is True
    assert (
        approved.vote_result["participating"]
        == (await Motion.get(id=passing["motion_id"])).result["participating"]
    )
    assert (await UseApplication.get(id=cancelled["id"])).status.value == "rejected"
    (event,) = await _voted_events(passing["id"])
    assert event.actor == "system" and event.payload["passed"] is True

    # once: the next run and the committee's button change nothing
    assert await _job("fund_votes") == 0
    late = await http.post(
        f"{_fund(world)}/applications/{passing['id']}/vote-result", headers=world.headers("committee")
    )
    assert (late.status_code, late.json()["code"]) == (409, "fund_application_state")
    assert len(await _voted_events(passing["id"])) == 1 and len(await _voted_events(cancelled["id"])) == 1


async def _take(world: FundWorld, unit_index: int, amount_fen: int, at: datetime | None = None) -> int:
    account = await SubAccount.get(unit_id=world.walkup_units[unit_index].id)
    await ledger.append(
        world.compound.id,
        [ledger.NewEntry(f"test-use:{account.id}", EntryKind.USE, account.id, -amount_fen, "测试")],
        actor="test",
        at=at,
    )
    return account.id


async def test_top_ups_due_are_told_once_a_day_and_once_per_round(world: FundWorld) -> None:
    await deposit_all(world)
    below = await _take(world, 0, 210_001)  # first deposit 300,000: 89,999 left, below 30 %
    await _take(world, 1, 264_250)  # first deposit 377,500: exactly 30 % left, not due
    # the far unit never paid its first deposit: that is a first deposit due, not a top-up
    assert await periodic.accounts_below_threshold() == [below]

    today = date(2026, 3, 2)
    assert await periodic.notify_top_ups_due(today) == 1
    told = await Notification.filter(event="fund.topup_due").values("user_id", "summary", "page")
    assert [t["user_id"] for t in told] == [world.uid("owner2")]
    assert told[0]["summary"].startswith("2号楼-101") and "2100.01" in told[0]["summary"], told
    assert told[0]["page"] == f"pages/fund/unit?id={world.walkup_units[0].id}"
    assert await periodic.notify_top_ups_due(today) == 0  # today's scan ran
    assert await periodic.notify_top_ups_due(date(2026, 3, 3)) == 1  # still short: scanned again ...
    assert await Notification.filter(event="fund.topup_due").count() == 1  # ... but told once a round


async def test_the_annual_statement_is_posted_once_per_compound_with_its_buildings(world: FundWorld) -> None:
    await deposit_all(world)  # 2025-03-01
    await SubAccount.all().update(opened_at=ledger.clock.now().replace(year=2024))
    await _take(world, 0, 1_234, at=FILED_AT)
    await _take(world, 1, 4_321)  # this year's: not in last year's statement
    assert await periodic.post_annual_disclosures(date(2026, 1, 2)) == 2  # both compounds, 2025
    assert await _job("fund_disclosures") == 0  # once a year

    posted = await AnnualDisclosure.get(compound_id=world.compound.id, year=2025)
    notice = await Notice.get(id=posted.notice_id)
    assert (notice.category, notice.compound_id) == ("fund_use", world.compound.id)  # type: ignore[attr-defined]
    balances = await ledger.balances(world.compound.id, until=disclosure.year_bounds(2025)[1])
    by_building: dict[int, int] = {}
    for account in await SubAccount.filter(compound_id=world.compound.id):
        by_building[account.building_id] = by_building.get(account.building_id, 0) + balances[account.id]
    buildings = notice.data["buildings"]
    assert [(b["building"], b["units"], b["closing"]) for b in buildings] == [
        ("1号楼", 4, by_building[world.lift.id]),
        ("2号楼", 3, by_building[world.walkup.id]),
    ]
    assert buildings[1]["used"] == -1_234 and sum(b["closing"] for b in buildings) == sum(balances.values())
    assert notice.data["totals"]["closing"] == sum(balances.values())
    assert await AnnualDisclosure.all().count() == 2
