"""The demo fund: loading twice adds nothing; the demo compound has its sub-accounts, the developer's
first deposits (the top floor of 3号楼 left to pay online), last year's interest and one application
waiting on its draft matter-5 motion."""

from __future__ import annotations

from accounts.demo import seed_demo
from fund import ledger, subaccounts
from fund.demo import seed_fund
from fund.models import FundEntry, SubAccount, UseApplication
from fund.rules import ApplicationStatus, EntryKind
from tests.fund.conftest import counts
from voting.models import Motion, MotionStatus


async def test_the_demo_fund_loads_once(clean_db: None) -> None:
    assert await seed_fund() == "no demo compound: demo fund not loaded"
    await seed_demo(hmac_key=b"k" * 32)
    first = await seed_fund()
    accounts = await SubAccount.all().count()
    assert first.startswith(f"fund: {accounts} sub-accounts opened, {accounts - 2} developer deposits")
    before = await counts()
    assert (await seed_fund()).startswith("fund: 0 sub-accounts opened, 0 developer deposits, 0 use")
    assert await counts() == before

    account = await SubAccount.filter(room__startswith="3号楼-6").first()
    assert account is not None
    view = await subaccounts.view(account)
    assert (view.due.kind, view.due.amount_fen) == (EntryKind.FIRST_DEPOSIT, account.first_deposit_fen)
    interest = await FundEntry.filter(kind=EntryKind.INTEREST).values_list("amount_fen", flat=True)
    assert sum(interest) == 123_457
    (application,) = await UseApplication.all()
    assert application.status is ApplicationStatus.VOTING
    assert (await Motion.get(id=application.motion_id)).status is MotionStatus.DRAFT
    assert sum(s["share_fen"] for s in application.shares) == 4_800_000
    assert (await ledger.verify(account.compound_id)).ok
