"""Property: after any sequence of deposits (online and the developer's), uses, corrections and
interest, every balance the ledger computes equals the sum of its entries, equals an independent
model of the accounts kept by this test, and is never negative; the disclosure's closing balances are
the same numbers and the chain verifies."""

from __future__ import annotations

import secrets
from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.service import Actor
from core import clock
from fund import applications, corrections, disclosure, errors, interest, ledger, subaccounts
from fund import payments as deposits
from fund.models import FundEntry, SubAccount
from fund.rules import EmergencyCategory, allocate_interest, split_cost
from payments.purposes import PurposeEvent
from tests.fund.conftest import FundWorld

ACTOR = Actor("user:test", "测试")

unit_index = st.integers(min_value=0, max_value=6)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("online"), unit_index, st.integers(min_value=1, max_value=900_000)),
        st.tuples(st.just("developer"), unit_index, st.just(0)),
        st.tuples(
            st.just("use"),
            st.sets(unit_index, min_size=1, max_size=7),
            st.integers(min_value=1, max_value=2_000_000),
        ),
        st.tuples(
            st.just("correction"), unit_index, st.integers(min_value=-500_000, max_value=500_000).filter(bool)
        ),
        st.tuples(st.just("interest"), st.just(0), st.integers(min_value=1, max_value=50_000)),
    ),
    min_size=1,
    max_size=8,
)


class Model:
    """What the balances must be, computed here without the ledger's SQL."""

    def __init__(self, accounts: list[SubAccount], start: dict[int, int], first_paid: set[int]) -> None:
        self.by_unit = {a.unit_id: a for a in accounts}
        self.balance = defaultdict(int, start)
        self.first_paid = first_paid


async def _run(world: FundWorld, model: Model, op: tuple[Any, ...], n: int) -> None:
    kind, target, amount = op
    units = world.units
    if kind == "online":
        account = model.by_unit[units[target].id]
        paid = account.id in model.first_paid
        reference = f"topup:{account.id}:{n}" if paid else f"first:{account.id}"
        event = PurposeEvent(
            kind="paid", purpose=deposits.PURPOSE, reference=reference, order_id=n, out_trade_no=secrets.token_hex(8),
            payee_id=1, payer_id=1, compound_id=world.compound.id, unit_id=account.unit_id, amount_fen=amount,
            at=clock.now(), transaction_id="42",
        )  # fmt: skip
        await deposits._paid(event)  # what payments calls once per paid order
        model.balance[account.id] += amount
        model.first_paid.add(account.id)
    elif kind == "developer":
        account = model.by_unit[units[target].id]
        try:
            await subaccounts.record_developer_deposit(
                ACTOR, unit_id=account.unit_id, voucher=f"P{n}", amount_fen=account.first_deposit_fen
            )
        except errors.AlreadyDeposited:
            assert account.id in model.first_paid
            return
        assert account.id not in model.first_paid
        model.balance[account.id] += account.first_deposit_fen
        model.first_paid.add(account.id)
    elif kind == "use":
        sharing = sorted({units[i].id for i in target})
        shares = split_cost(amount, [(u, Decimal(model.by_unit[u].area)) for u in sharing])
        short = any(s.share_fen > model.balance[model.by_unit[s.unit_id].id] for s in shares)
        proposal = applications.Proposal(f"维修{n}", "工程", amount, applications.Scope([], sharing))
        try:
            app = await applications.apply_emergency(
                ACTOR, compound_id=world.compound.id, user_id=world.uid("committee"), proposal=proposal,
                category=EmergencyCategory.DRAIN, as_committee=True,
            )  # fmt: skip
        except errors.BalanceShort:
            assert short
            return
        assert not short
        app = await applications.complete(ACTOR, app, cost_fen=amount)
        await applications.pay_out(ACTOR, app, user_id=world.uid("fund_office"))
        for s in shares:
            model.balance[model.by_unit[s.unit_id].id] -= s.share_fen
    elif kind == "correction":
        account = model.by_unit[units[target].id]
        asked = await corrections.request(
            ACTOR, unit_id=account.unit_id, amount_fen=amount, reason="核对", user_id=world.uid("fund_office")
        )
        try:
            await corrections.decide(
                ACTOR, correction_id=asked.id, approve=True, user_id=world.uid("fund_office2")
            )
        except errors.BalanceShort:
            assert model.balance[account.id] + amount < 0
            return
        model.balance[account.id] += amount
    else:
        weights = [(a.id, model.balance[a.id]) for a in model.by_unit.values()]
        expected = allocate_interest(amount, weights)
        try:
            await interest.allocate(
                ACTOR, compound_id=world.compound.id, period=f"P{secrets.token_hex(3)}",
                period_end=clock.to_local(clock.now()).date(), total_fen=amount, user_id=world.uid("fund_office"),
            )  # fmt: skip
        except errors.InterestPeriodInvalid:
            assert all(fen == 0 for _, fen in expected)
            return
        for account_id, fen in expected:
            model.balance[account_id] += fen


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_balances_are_the_sum_of_entries(world: FundWorld, ops: list[tuple[Any, ...]]) -> None:
    # examples follow one another on the same compound: the model starts from what the ledger holds
    accounts = await SubAccount.filter(compound_id=world.compound.id).order_by("id")
    start = await ledger.balances(world.compound.id)
    model = Model(accounts, start, {a.id for a in accounts if await subaccounts.first_paid(a.id)})
    base = await FundEntry.all().count()
    for n, op in enumerate(ops, start=base + 1):
        await _run(world, model, op, n)

    computed = await ledger.balances(world.compound.id)
    summed: dict[int, int] = defaultdict(int)
    for account_id, amount in await FundEntry.filter(compound_id=world.compound.id).values_list(
        "account_id", "amount_fen"
    ):
        summed[int(account_id)] += int(amount)
    expected = {a: b for a, b in model.balance.items() if a in computed or b}
    assert computed == dict(summed) == expected
    assert all(b >= 0 for b in computed.values())
    for a in accounts:
        assert await ledger.balance(a.id) == model.balance[a.id]
    document = await disclosure.annual_document(world.compound.id, clock.to_local(clock.now()).year)
    rooms = {a.room: a.id for a in accounts}
    assert {u["room"]: u["closing"] for u in document["units"]} == {
        r: model.balance[i] for r, i in rooms.items()
    }
    assert (await ledger.verify(world.compound.id)).ok
