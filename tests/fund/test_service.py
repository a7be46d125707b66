"""The fund's services against the real database: sub-accounts and first deposits, the developer's
deposit once, the hash chain (and tampering found), interest, corrections with a second person,
emergency use and its disclosure, top-up after use, the balance never negative."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

import pytest

from accounts.models import Committee
from fund import applications, corrections, disclosure, errors, interest, ledger, reports, subaccounts
from fund.models import FundEntry, SubAccount
from fund.rules import ApplicationStatus, EmergencyCategory, EntryKind
from notices.models import Notice
from notify.models import Notification
from tests.fund.conftest import ACTOR, FundWorld, build_world, counts, deposit_all


async def test_first_deposits_are_assessed_per_building_type(world: FundWorld) -> None:
    accounts = {a.unit_id: a for a in await SubAccount.filter(compound_id=world.compound.id)}
    assert [accounts[u.id].first_deposit_fen for u in world.lift_units] == [
        621_600,
        621_600,
        841_750,
        490_000,
    ]
    assert [accounts[u.id].first_deposit_fen for u in world.walkup_units] == [300_000, 377_500, 499_950]
    assert accounts[world.lift_units[0].id].room == "1号楼-101"
    again = await subaccounts.open_accounts(
        ACTOR, compound_id=world.compound.id, buildings={world.lift.id: subaccounts.BuildingType.LIFT},
        on=date(2025, 1, 1),
    )  # fmt: skip
    assert (again.opened, again.already) == (0, 4)


async def test_no_rate_no_account(world: FundWorld) -> None:
    with pytest.raises(errors.NoFundRate):
        await subaccounts.rate_on(subaccounts.BuildingType.LIFT, date(2019, 12, 31))


async def test_the_developer_deposit_lands_once_and_exactly(world: FundWorld) -> None:
    unit = world.lift_units[0]
    with pytest.raises(errors.FundAmountInvalid):
        await subaccounts.record_developer_deposit(ACTOR, unit_id=unit.id, voucher="V1", amount_fen=100)
    entry = await subaccounts.record_developer_deposit(
        ACTOR, unit_id=unit.id, voucher="V1", amount_fen=621_600
    )
    assert (entry.kind, entry.amount_fen, entry.ref) == (EntryKind.DEVELOPER_DEPOSIT, 621_600, "voucher:V1")
    before = await counts()
    with pytest.raises(errors.AlreadyDeposited):
        await subaccounts.record_developer_deposit(ACTOR, unit_id=unit.id, voucher="V2", amount_fen=621_600)
    assert await counts() == before
    view = await subaccounts.view(await subaccounts.account_of_unit(unit.id))
    assert (view.balance_fen, view.first_paid, view.due.amount_fen) == (621_600, True, 0)


async def test_concurrent_developer_deposits_land_once(world: FundWorld) -> None:
    unit = world.walkup_units[2]
    results = await asyncio.gather(
        *[
            subaccounts.record_developer_deposit(ACTOR, unit_id=unit.id, voucher=f"V{i}", amount_fen=499_950)
            for i in range(8)
        ],
        return_exceptions=True,
    )
    assert sum(1 for r in results if isinstance(r, FundEntry)) == 1
    assert all(isinstance(r, FundEntry | errors.AlreadyDeposited) for r in results)
    assert await ledger.balance((await subaccounts.account_of_unit(unit.id)).id) == 499_950
    assert (await ledger.verify(world.compound.id)).ok


async def test_the_chain_finds_an_edited_or_removed_entry(world: FundWorld) -> None:
    await deposit_all(world)
    check = await ledger.verify(world.compound.id)
    assert (check.ok, check.entries) == (True, 7)
    entry = await FundEntry.filter(compound_id=world.compound.id).order_by("seq").offset(2).first()
    assert entry is not None
    await FundEntry.filter(id=entry.id).update(amount_fen=entry.amount_fen + 100)
    check = await ledger.verify(world.compound.id)
    assert not check.ok and any("seq 3" in p for p in check.problems)
    await FundEntry.filter(id=entry.id).update(amount_fen=entry.amount_fen)
    last = await FundEntry.filter(compound_id=world.compound.id).order_by("-seq").first()
    assert last is not None
    await last.delete()
    check = await ledger.verify(world.compound.id)
    assert not check.ok and any("head" in p for p in check.problems)
    assert (await ledger.verify(world.far_compound.id)).ok  # another compound's chain is its own


async def test_interest_is_allocated_by_balance_once_per_period(world: FundWorld) -> None:
    await deposit_all(world)
    run = await interest.allocate(
        ACTOR, compound_id=world.compound.id, period="2025", period_end=date(2025, 12, 31), total_fen=10_001,
        user_id=world.uid("fund_office"),
    )  # fmt: skip
    rows = await FundEntry.filter(kind=EntryKind.INTEREST).values_list("amount_fen", flat=True)
    assert sum(rows) == 10_001 and run.accounts == 7
    with pytest.raises(errors.InterestRunExists):
        await interest.allocate(
            ACTOR, compound_id=world.compound.id, period="2025", period_end=date(2025, 12, 31), total_fen=5,
            user_id=world.uid("fund_office"),
        )  # fmt: skip
    assert await FundEntry.filter(kind=EntryKind.INTEREST).count() == 7


async def test_a_correction_needs_a_second_person(world: FundWorld) -> None:
    await deposit_all(world)
    unit = world.lift_units[0]
    asked = await corrections.request(
        ACTOR, unit_id=unit.id, amount_fen=-1_600, reason="凭证金额录入有误", user_id=world.uid("fund_office")
    )
    before = await counts()
    with pytest.raises(errors.SameApprover):
        await corrections.decide(
            ACTOR, correction_id=asked.id, approve=True, user_id=world.uid("fund_office")
        )
    assert await counts() == before
    done = await corrections.decide(
        ACTOR, correction_id=asked.id, approve=True, user_id=world.uid("fund_office2")
    )
    assert done.status.value == "approved"
    assert await ledger.balance((await subaccounts.account_of_unit(unit.id)).id) == 620_000
    with pytest.raises(errors.CorrectionState):
        await corrections.decide(
            ACTOR, correction_id=asked.id, approve=True, user_id=world.uid("fund_office2")
        )
    too_much = await corrections.request(
        ACTOR, unit_id=unit.id, amount_fen=-620_001, reason="测试", user_id=world.uid("fund_office")
    )
    with pytest.raises(errors.BalanceShort):
        await corrections.decide(
            ACTOR, correction_id=too_much.id, approve=True, user_id=world.uid("fund_office2")
        )
    assert (await corrections.listing(status=None, cursor=None, limit=5)).items[0].status.value == "pending"


def _lift_scope(world: FundWorld) -> applications.Scope:
    return applications.Scope([world.lift.id], [])


async def test_an_emergency_is_paid_without_a_vote_and_disclosed_after(world: FundWorld) -> None:
    await deposit_all(world)
    proposal = applications.Proposal("1号楼电梯抱闸故障维修", "更换抱闸组件", 100_001, _lift_scope(world))
    app = await applications.apply_emergency(
        ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"), proposal=proposal,
        category=EmergencyCategory.LIFT_FAULT, as_committee=True,
    )  # fmt: skip
    assert (app.status, app.motion_id) == (ApplicationStatus.APPROVED, None)
    with pytest.raises(errors.ApplicationState):  # not completed yet
        await applications.pay_out(ACTOR, app, user_id=world.uid("fund_office"))
    with pytest.raises(errors.FundAmountInvalid):  # the final cost is at most the budget
        await applications.complete(ACTOR, app, cost_fen=100_002)
    app = await applications.complete(ACTOR, app, cost_fen=99_999)
    assert await Notice.filter(category="fund_use").count() == 0  # disclosed after completion: at payout
    paid = await applications.pay_out(ACTOR, app, user_id=world.uid("fund_office"))
    assert paid.status is ApplicationStatus.PAID and paid.notice_id is not None
    uses = (
        await FundEntry.filter(kind=EntryKind.USE).order_by("account_id").values_list("amount_fen", flat=True)
    )
    assert sum(uses) == -99_999 and len(uses) == 4
    notice = await Notice.get(id=paid.notice_id)
    assert notice.data["cost_fen"] == 99_999
    assert sorted(s["share_fen"] for s in notice.data["shares"]) == sorted(-u for u in uses)
    assert {s["room"] for s in notice.data["shares"]} == {"1号楼-101", "1号楼-201", "1号楼-301", "1号楼-401"}
    with pytest.raises(errors.ApplicationState):  # paid once
        await applications.pay_out(ACTOR, paid, user_id=world.uid("fund_office"))
    assert (await ledger.verify(world.compound.id)).ok


async def test_concurrent_payouts_pay_once(world: FundWorld) -> None:
    await deposit_all(world)
    proposal = applications.Proposal(
        "屋面渗漏维修", "2号楼屋面防水", 30_000, applications.Scope([world.walkup.id], [])
    )
    app = await applications.apply_emergency(
        ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"), proposal=proposal,
        category=EmergencyCategory.ROOF_WALL_LEAK, as_committee=True,
    )  # fmt: skip
    app = await applications.complete(ACTOR, app, cost_fen=30_000)
    results = await asyncio.gather(
        *[applications.pay_out(ACTOR, app, user_id=world.uid("fund_office")) for _ in range(6)],
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, errors.ApplicationState) for r in results if isinstance(r, Exception))
    assert sum(await FundEntry.filter(kind=EntryKind.USE).values_list("amount_fen", flat=True)) == -30_000


async def test_no_balance_may_go_negative(world: FundWorld) -> None:
    # only the lift building has deposits; a compound-wide use would take from empty accounts
    for unit in world.lift_units:
        account = await subaccounts.account_of_unit(unit.id)
        await subaccounts.record_developer_deposit(
            ACTOR, unit_id=unit.id, voucher=f"V{unit.id}", amount_fen=account.first_deposit_fen
        )
    whole = applications.Scope([], [])
    found = await applications.preview(world.compound.id, whole, 10_000)
    assert {s["unit_id"] for s in found.short} == {u.id for u in world.walkup_units}
    before = await counts()
    with pytest.raises(errors.BalanceShort) as refused:
        await applications.apply_emergency(
            ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"),
            proposal=applications.Proposal("排水管疏通", "全小区", 10_000, whole),
            category=EmergencyCategory.DRAIN, as_committee=True,
        )  # fmt: skip
    assert {u["room"] for u in refused.value.details["units"]} == {"2号楼-101", "2号楼-201", "2号楼-301"}
    assert await counts() == before


async def test_a_use_that_drops_a_balance_below_30_percent_makes_a_top_up_due(world: FundWorld) -> None:
    await deposit_all(world)
    unit = world.walkup_units[0]  # first deposit 300,000; 30 % = 90,000
    proposal = applications.Proposal("水泵更换", "2号楼101水泵", 210_000, applications.Scope([], [unit.id]))
    app = await applications.apply_emergency(
        ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"), proposal=proposal,
        category=EmergencyCategory.WATER_PUMP_MAIN, as_committee=True,
    )  # fmt: skip
    await applications.pay_out(ACTOR, await applications.complete(ACTOR, app, cost_fen=210_000), user_id=1)
    view = await subaccounts.view(await subaccounts.account_of_unit(unit.id))
    assert (view.balance_fen, view.due.kind) == (90_000, None)  # exactly 30 %: not yet
    asked = await corrections.request(
        ACTOR, unit_id=unit.id, amount_fen=-1, reason="测试", user_id=world.uid("fund_office")
    )
    await corrections.decide(ACTOR, correction_id=asked.id, approve=True, user_id=world.uid("fund_office2"))
    view = await subaccounts.view(await subaccounts.account_of_unit(unit.id))
    assert (view.balance_fen, view.due.kind, view.due.amount_fen) == (89_999, EntryKind.TOP_UP, 210_001)
    told = await Notification.filter(event="fund.topup_due").values_list("user_id", flat=True)
    assert list(told) == [world.uid("owner2")]  # the unit's owner, once (not at exactly 30 %)
    report = await reports.compound_report(world.compound.id)
    assert (report["top_up_due"], report["first_unpaid"]) == (1, 0)
    owing = await reports.arrears(world.compound.id, cursor=None, limit=10)
    assert [line.unit_id for line in owing.items] == [unit.id]


async def test_the_community_applies_for_an_emergency_only_where_there_is_no_committee(
    clean_db: None, cache: object
) -> None:
    world = await build_world(cache, with_committee=True)  # type: ignore[arg-type]
    await deposit_all(world)
    proposal = applications.Proposal(
        "外墙脱落", "2号楼外墙", 1_000, applications.Scope([world.walkup.id], [])
    )
    with pytest.raises(errors.EmergencyApplicant):
        await applications.apply_emergency(
            ACTOR, compound_id=world.compound.id, user_id=world.uid("community_admin"), proposal=proposal,
            category=EmergencyCategory.FACADE, as_committee=False,
        )  # fmt: skip
    await Committee.filter(compound_id=world.compound.id).update(term_ends_on=date(2021, 1, 1))
    app = await applications.apply_emergency(
        ACTOR, compound_id=world.compound.id, user_id=world.uid("community_admin"), proposal=proposal,
        category=EmergencyCategory.FACADE, as_committee=False,
    )  # fmt: skip
    assert (app.status, app.applicant_role) == (ApplicationStatus.APPROVED, "community_admin")


async def test_the_annual_disclosure_equals_the_ledger(world: FundWorld) -> None:
    await deposit_all(world)
    await interest.allocate(
        ACTOR, compound_id=world.compound.id, period="2025", period_end=date(2025, 12, 31), total_fen=777,
        user_id=1,
    )  # fmt: skip
    year = disclosure.clock.to_local(disclosure.clock.now()).year
    document = await disclosure.annual_document(world.compound.id, year)
    balances = await ledger.balances(world.compound.id)
    rooms = {a.id: a.room for a in await SubAccount.filter(compound_id=world.compound.id)}
    assert {u["room"]: u["closing"] for u in document["units"]} == {rooms[a]: b for a, b in balances.items()}
    assert document["totals"]["closing"] == sum(balances.values())
    t = document["totals"]
    # deposited in 2025 (the developer, at filing): this year's opening; interest credited this year
    assert (t["opening"], t["deposits"], t["interest"]) == (sum(balances.values()) - 777, 0, 777)
    with pytest.raises(errors.InterestPeriodInvalid):  # this year is not over
        await disclosure.post_annual(ACTOR, compound_id=world.compound.id, year=year)
    posted = await disclosure.post_annual(ACTOR, compound_id=world.compound.id, year=year - 1)
    notice = await Notice.get(id=posted.notice_id)
    assert notice.category == "fund_use" and notice.data["year"] == year - 1
    assert (
        notice.data["totals"]["deposits"] == sum(balances.values()) - 777 == notice.data["totals"]["closing"]
    )
    assert "业主" not in str(notice.data["units"])  # rooms, never names
    with pytest.raises(errors.DisclosureExists):
        await disclosure.post_annual(ACTOR, compound_id=world.compound.id, year=year - 1)


async def test_rates_restated_for_the_same_day(world: FundWorld) -> None:
    rate = await subaccounts.set_rate(
        ACTOR, building_type=subaccounts.BuildingType.LIFT, fen_per_m2=Decimal(7100), effective_from=date(2020, 1, 1),
        user_id=1,
    )  # fmt: skip
    assert Decimal(rate.fen_per_m2) == Decimal(7100)
    assert len([r for r in await subaccounts.rates() if r.building_type.value == "lift"]) == 1
