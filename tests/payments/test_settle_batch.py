"""Payments of one payee taken together (payments.settle_batch): concurrent results for several
orders share a transaction, each order is paid once, the payee's chain verifies and its receipts are
numbered without gaps; a payment that fails its batch's transaction fails alone. On both backends
(on PostgreSQL with real concurrent connections)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core import clock
from payments import ledger, orders, settle_batch, settle_pg
from payments.models import Bill, LedgerEntry, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState
from tests.payments.conftest import SP_APPID, SP_MCHID, Fees, StubPay
from tests.payments.test_service import run

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


async def _orders(fees: Fees, pay: StubPay) -> list[PaymentOrder]:
    """One order per bill of the first unit, one bill per period: several orders of one payee."""
    made = []
    for period in PERIODS:
        await run(fees, period)
        bill = await Bill.get(unit_id=fees.units[0].id, period=period)
        created = await orders.create_order(
            pay, user_id=fees.uid("resident"), openid="openid-resident", bill_ids=[bill.id]
        )
        made.append(created.order)
    return made


async def _receipt_seqs(payee_id: int) -> list[int]:
    seqs: list[Any] = await Receipt.filter(payee_id=payee_id).values_list("seq", flat=True)
    return sorted(int(seq) for seq in seqs)


async def test_concurrent_results_of_one_payee_share_a_transaction_and_pay_each_once(
    fees: Fees, stub_pay: StubPay
) -> None:
    made = await _orders(fees, stub_pay)
    txns = [stub_pay.pay_now(o.out_trade_no) for o in made]
    before = settle_batch.transactions()
    # each result three times, all at once
    outcomes = await asyncio.gather(
        *(orders.apply_result(t, sp_mchid=SP_MCHID, sp_appid=SP_APPID) for t in txns * 3)
    )
    assert settle_batch.transactions() - before == 1
    assert outcomes[: len(made)] == ["applied"] * len(made)
    assert outcomes[len(made) :] == ["already_paid"] * (2 * len(made))
    for order, txn in zip(made, txns, strict=True):
        stored = await PaymentOrder.get(id=order.id)
        assert (stored.state, stored.transaction_id, stored.paid_at) == (
            OrderState.PAID,
            txn.transaction_id,
            txn.success_time,
        )
        bill = await Bill.get(paid_order_id=order.id)
        assert (bill.status, bill.pending_order_id, bill.paid_at) == (BillStatus.PAID, None, txn.success_time)
    payee_id = made[0].payee_id
    assert await LedgerEntry.filter(payee_id=payee_id).count() == len(made)
    check = await ledger.verify(payee_id)
    assert (check.ok, check.entries, check.problems) == (True, len(made), [])
    assert await _receipt_seqs(payee_id) == list(range(1, len(made) + 1))
    # receipts follow the chain: the n-th entry's order has the n-th receipt, numbered as one alone is
    entries = await LedgerEntry.filter(payee_id=payee_id).order_by("id")
    receipts = {r.order_id: r for r in await Receipt.filter(payee_id=payee_id)}
    year = clock.to_local(txns[0].success_time).year  # type: ignore[arg-type]
    for seq, entry in enumerate(entries, start=1):
        receipt = receipts[entry.order_id]
        assert (receipt.seq, receipt.number) == (seq, f"{payee_id:04d}-{year}-{seq:07d}")
        assert receipt.lines == [
            {
                "bill_id": entry.bill_id,
                "item": "物业服务费",
                "period": (await Bill.get(id=entry.bill_id)).period,
                "amount_fen": 13320,
            }
        ]
    # and later results keep counting from there
    more = await _orders_after(fees, stub_pay, "2026-07")
    assert (
        await orders.apply_result(stub_pay.pay_now(more.out_trade_no), sp_mchid=SP_MCHID, sp_appid=SP_APPID)
        == "applied"
    )
    assert await _receipt_seqs(payee_id) == list(range(1, len(made) + 2))
    assert (await ledger.verify(payee_id)).ok


async def _orders_after(fees: Fees, pay: StubPay, period: str) -> PaymentOrder:
    await run(fees, period)
    bill = await Bill.get(unit_id=fees.units[0].id, period=period)
    return (
        await orders.create_order(
            pay, user_id=fees.uid("resident"), openid="openid-resident", bill_ids=[bill.id]
        )
    ).order


async def test_a_payment_failing_its_batch_fails_alone(
    fees: Fees, stub_pay: StubPay, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _orders(fees, stub_pay)
    bad = made[2]
    lines = settle_pg.receipt_lines  # what a receipt shows: made for each payment, whichever way

    def failing(order: PaymentOrder, bill_lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if order.id == bad.id:
            raise RuntimeError("its receipt could not be made")
        return lines(order, bill_lines)

    monkeypatch.setattr(settle_pg, "receipt_lines", failing)
    txns = [stub_pay.pay_now(o.out_trade_no) for o in made]
    before = settle_batch.transactions()
    outcomes = await asyncio.gather(
        *(orders.apply_result(t, sp_mchid=SP_MCHID, sp_appid=SP_APPID) for t in txns), return_exceptions=True
    )
    assert settle_batch.transactions() - before == 1  # the batch, then each alone
    assert isinstance(outcomes[2], RuntimeError)
    assert [o for k, o in enumerate(outcomes) if k != 2] == ["applied"] * (len(made) - 1)
    # the failed one changed nothing: still created, its bill still held by it, no entry, no receipt
    stored = await PaymentOrder.get(id=bad.id)
    assert (stored.state, stored.transaction_id) == (OrderState.CREATED, None)
    bill = await Bill.get(pending_order_id=bad.id)
    assert (bill.status, bill.paid_order_id) == (BillStatus.UNPAID, None)
    assert not await LedgerEntry.filter(order_id=bad.id).exists()
    assert not await Receipt.filter(order_id=bad.id).exists()
    payee_id = bad.payee_id
    check = await ledger.verify(payee_id)
    assert (check.ok, check.entries) == (True, len(made) - 1)
    assert await _receipt_seqs(payee_id) == list(range(1, len(made)))
    # WeChat Pay retries it once it can be taken: paid, next number, the chain still whole
    monkeypatch.setattr(settle_pg, "receipt_lines", lines)
    assert await orders.apply_result(txns[2], sp_mchid=SP_MCHID, sp_appid=SP_APPID) == "applied"
    assert await _receipt_seqs(payee_id) == list(range(1, len(made) + 1))
    assert (await ledger.verify(payee_id)).entries == len(made)


async def test_a_mismatch_in_a_batch_is_refused_and_the_others_taken(fees: Fees, stub_pay: StubPay) -> None:
    from dataclasses import replace

    from payments import errors

    made = await _orders(fees, stub_pay)
    txns = [stub_pay.pay_now(o.out_trade_no) for o in made]
    txns[1] = replace(txns[1], amount_total=1)
    outcomes = await asyncio.gather(
        *(orders.apply_result(t, sp_mchid=SP_MCHID, sp_appid=SP_APPID) for t in txns), return_exceptions=True
    )
    assert isinstance(outcomes[1], errors.NotificationMismatch)
    assert [o for k, o in enumerate(outcomes) if k != 1] == ["applied"] * (len(made) - 1)
    assert (await PaymentOrder.get(id=made[1].id)).state is OrderState.CREATED
    assert (await ledger.verify(made[0].payee_id)).entries == len(made) - 1
    assert await _receipt_seqs(made[0].payee_id) == list(range(1, len(made)))


async def test_first_payments_of_a_payee_settled_alone_at_once_all_land(
    fees: Fees, stub_pay: StubPay
) -> None:
    # What a failed batch leaves: each payment alone, concurrently, on a payee with no chain yet (on
    # PostgreSQL they race to create its head; the losers lock the winner's).
    made = await _orders(fees, stub_pay)
    txns = [stub_pay.pay_now(o.out_trade_no) for o in made]
    moved = await asyncio.gather(
        *(settle_batch.settle_together([settle_batch.Paying(t, t.success_time)]) for t in txns)  # type: ignore[arg-type]
    )
    assert moved == [[True]] * len(made)
    check = await ledger.verify(made[0].payee_id)
    assert (check.ok, check.entries) == (True, len(made))
    assert await _receipt_seqs(made[0].payee_id) == list(range(1, len(made) + 1))


async def test_a_writer_cancelled_before_it_ran_cancels_its_payment_and_the_payee_is_taken_after(
    fees: Fees, stub_pay: StubPay
) -> None:
    made = await _orders(fees, stub_pay)
    txn = stub_pay.pay_now(made[0].out_trade_no)
    writer = settle_batch._writer()
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    writer.submit(settle_batch._Job(settle_batch.Paying(txn, txn.success_time), done))  # type: ignore[arg-type]
    writer.writing[txn.sub_mchid].cancel()  # at shutdown, before it ever ran
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(done, 10)
    await asyncio.sleep(0)
    assert txn.sub_mchid not in writer.writing and txn.sub_mchid not in writer.waiting
    assert await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID) == "applied"
