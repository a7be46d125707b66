"""Bill payments of one payee settled in one statement (payments.settle_pg, PostgreSQL): taken once
each, the chain whole and the receipts gapless; a chain head gone stale (another process, a payment
the general way) or an order that moves between the read and the write undoes the statement, and
the payments are still taken exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from payments import ledger, orders, settle_batch, settle_pg
from payments.models import Bill, LedgerEntry, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState
from tests.conftest import ON_POSTGRES
from tests.payments.conftest import SP_APPID, SP_MCHID, Fees, StubPay
from tests.payments.test_settle_batch import _orders, _receipt_seqs

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the one statement is PostgreSQL's")


class Writes:
    """settle_pg.write, counted: how many statements ran, and how many were undone."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ran = self.undone = 0
        self.real = settle_pg.write
        self.before: Any = None  # a coroutine function run before each statement
        monkeypatch.setattr(settle_pg, "write", self.write)

    async def write(self, payee_id: int, batch: Any, start: tuple[int, str]) -> tuple[int, str]:
        self.ran += 1
        if self.before is not None:
            await self.before()
        try:
            return await self.real(payee_id, batch, start)
        except Exception:
            self.undone += 1
            raise


async def _apply(stub_pay: StubPay, made: list[PaymentOrder], times: int = 1) -> list[Any]:
    txns = [stub_pay.pay_now(o.out_trade_no) for o in made]
    return await asyncio.gather(
        *(orders.apply_result(t, sp_mchid=SP_MCHID, sp_appid=SP_APPID) for t in txns * times),
        return_exceptions=True,
    )


async def _whole(payee_id: int, paid: int) -> None:
    check = await ledger.verify(payee_id)
    assert (check.ok, check.entries, check.problems) == (True, paid, [])
    assert await _receipt_seqs(payee_id) == list(range(1, paid + 1))
    assert await LedgerEntry.filter(payee_id=payee_id).count() == paid


async def test_results_arriving_together_are_one_statement_and_each_taken_once(
    fees: Fees, stub_pay: StubPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _orders(fees, stub_pay)
    assert await _apply(stub_pay, made[:1]) == ["applied"]  # the payee's first entry: its head made
    writes = Writes(monkeypatch)
    before = settle_batch.transactions()
    outcomes = await _apply(stub_pay, made[1:], times=3)  # each result three times, all at once
    assert (settle_batch.transactions() - before, writes.ran, writes.undone) == (1, 1, 0)
    assert outcomes == ["applied"] * 5 + ["already_paid"] * 10
    for order in made:
        stored = await PaymentOrder.get(id=order.id)
        bill = await Bill.get(paid_order_id=order.id)
        assert (stored.state, bill.status, bill.pending_order_id, bill.paid_at) == (
            OrderState.PAID, BillStatus.PAID, None, stored.paid_at,
        )  # fmt: skip
    await _whole(made[0].payee_id, len(made))
    receipt = await Receipt.get(order_id=made[3].id)
    bill = await Bill.get(paid_order_id=made[3].id)
    assert receipt.lines == [
        {"bill_id": bill.id, "item": "物业服务费", "period": bill.period, "amount_fen": 13320}
    ]


async def test_a_head_moved_by_someone_else_undoes_the_statement_once_then_it_lands(
    fees: Fees, stub_pay: StubPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _orders(fees, stub_pay)
    assert await _apply(stub_pay, made[:1]) == ["applied"]
    writes = Writes(monkeypatch)
    assert await _apply(stub_pay, made[1:3]) == ["applied"] * 2  # this loop now knows the head
    assert (writes.ran, writes.undone) == (1, 0)
    # the head moves elsewhere (the general way here, as another process's payment would)
    await _paid_the_general_way(stub_pay, made[3])
    assert await _apply(stub_pay, made[4:]) == ["applied"] * 2
    assert (writes.ran, writes.undone) == (3, 1)  # from the head it knew: undone; from the head as it is
    await _whole(made[0].payee_id, len(made))


async def test_an_order_paid_between_the_read_and_the_statement_is_taken_once(
    fees: Fees, stub_pay: StubPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _orders(fees, stub_pay)
    assert await _apply(stub_pay, made[:1]) == ["applied"]
    writes = Writes(monkeypatch)
    racing = made[2]

    async def paid_elsewhere() -> None:  # a query of our own, in another process, takes it first
        if writes.ran == 1:
            await _paid_the_general_way(stub_pay, racing)

    writes.before = paid_elsewhere
    outcomes = await _apply(stub_pay, made[1:])
    # from the head as it is (none known yet): undone, an order no longer created; then the general way
    assert (writes.ran, writes.undone) == (1, 1)
    assert outcomes == ["applied", "already_paid", "applied", "applied", "applied"]
    await _whole(made[0].payee_id, len(made))
    assert await LedgerEntry.filter(order_id=racing.id).count() == 1
    assert await Receipt.filter(order_id=racing.id).count() == 1


async def test_two_statements_from_the_same_head_one_lands_the_other_is_undone(
    fees: Fees, stub_pay: StubPay
) -> None:
    # two processes settling payments of one payee at once, each from the head as it read it
    made = await _orders(fees, stub_pay)
    assert await _apply(stub_pay, made[:1]) == ["applied"]
    payee_id = made[0].payee_id
    start = await settle_pg.head(payee_id)
    assert start is not None
    found = await settle_pg.read([o.out_trade_no for o in made[1:]])
    batches = [[(found[o.out_trade_no], _paying(stub_pay, o)) for o in made[k : k + 2]] for k in (1, 3)]
    results = await asyncio.gather(
        *(settle_pg.write(payee_id, batch, start) for batch in batches), return_exceptions=True
    )
    landed = [r for r in results if not isinstance(r, BaseException)]
    undone = [r for r in results if isinstance(r, BaseException)]
    assert len(landed) == 1 and len(undone) == 1
    assert "deadlock" not in str(undone[0]).lower()
    await _whole(payee_id, 3)


def _paying(stub_pay: StubPay, order: PaymentOrder) -> settle_batch.Paying:
    txn = stub_pay.pay_now(order.out_trade_no)
    return settle_batch.Paying(txn, txn.success_time)  # type: ignore[arg-type]


async def _paid_the_general_way(stub_pay: StubPay, order: PaymentOrder) -> None:
    """``order`` paid in a transaction of its own (as another process, or our own query, would)."""
    assert await settle_batch.settle_together([_paying(stub_pay, order)]) == [True]
