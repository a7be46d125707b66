"""payments.settle's short path (one UPDATE … RETURNING finds and moves the order; on PostgreSQL the
receipt counter and the receipt are one statement) writes what the long path wrote, on both backends;
and the reasons a result moved nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import clock
from payments import errors, ledger, orders, settle
from payments.models import Bill, LedgerEntry, Payee, PaymentOrder, Receipt
from payments.rules import BillStatus, OrderState
from tests.payments.conftest import SP_APPID, SP_MCHID, Fees, StubPay, counts
from tests.payments.test_service import _order


async def test_the_paid_order_as_stored_is_the_order_returned(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    txn = stub_pay.pay_now(order.out_trade_no)
    assert await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID) == "applied"
    stored = await PaymentOrder.get(id=order.id)
    assert (stored.state, stored.paid_at, stored.transaction_id) == (
        OrderState.PAID,
        txn.success_time,
        txn.transaction_id,
    )
    # the entry and receipt carry the order's own fields (read from the UPDATE's RETURNING)
    (entry,) = await LedgerEntry.all()
    assert (entry.order_id, entry.payee_id, entry.compound_id, entry.at) == (
        order.id,
        order.payee_id,
        order.compound_id,
        txn.success_time,
    )
    receipt = await Receipt.get(order_id=order.id)
    assert (receipt.unit_id, receipt.amount_fen, receipt.issued_at) == (
        order.unit_id,
        order.amount_fen,
        txn.success_time,
    )


async def test_receipt_numbers_past_seven_digits_are_written_whole(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    await Payee.filter(id=order.payee_id).update(receipt_seq=9_999_999)
    txn = stub_pay.pay_now(order.out_trade_no)
    await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    receipt = await Receipt.get(order_id=order.id)
    year = clock.to_local(txn.success_time).year  # type: ignore[arg-type]
    assert (receipt.seq, receipt.number) == (10_000_000, f"{order.payee_id:04d}-{year}-10000000")
    assert receipt.number == settle.receipt_number(order.payee_id, txn.success_time, 10_000_000)  # type: ignore[arg-type]
    assert (await Payee.get(id=order.payee_id)).receipt_seq == 10_000_000
    assert (await ledger.verify(order.payee_id)).ok


async def test_a_result_not_paid_changes_nothing(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    txn = replace(stub_pay.pay_now(order.out_trade_no), trade_state="NOTPAY")
    before = await counts()
    assert await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID) == "not_paid"
    assert await counts() == before
    assert (await PaymentOrder.get(id=order.id)).state is OrderState.CREATED
    assert await Bill.filter(status=BillStatus.PAID).count() == 0


async def test_a_mismatch_on_a_paid_order_is_refused_not_taken(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    txn = stub_pay.pay_now(order.out_trade_no)
    await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    with pytest.raises(errors.NotificationMismatch):
        await orders.apply_result(replace(txn, amount_total=1), sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    assert await LedgerEntry.all().count() == 1


async def test_an_order_still_created_that_did_not_move_is_retried(fees: Fees, stub_pay: StubPay) -> None:
    # What a result meets when the order changed between its UPDATE and the read (a close rolled
    # back): refused, so that WeChat Pay sends it again.
    order = await _order(fees, stub_pay)
    txn = stub_pay.pay_now(order.out_trade_no)
    with pytest.raises(errors.OrderStateConflict) as caught:
        await settle._not_moved(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    assert caught.value.error_code == "order_state_changing"
    assert (await PaymentOrder.get(id=order.id)).state is OrderState.CREATED
