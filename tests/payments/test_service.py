"""Service flows: billing runs, orders, payment results applied once, refunds, expiry, the ledger
chain and reconciliation."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import Building, Unit
from core import clock
from payments import billing, errors, ledger, orders, reconcile, refunds, setup
from payments.models import Bill, BillingStart, LedgerEntry, PaymentOrder, Receipt
from payments.rules import BillStatus, ItemKind, OrderState, RefundState
from tests.conftest import ON_POSTGRES
from tests.payments.conftest import (
    ACTOR,
    SP_APPID,
    SP_MCHID,
    SUB_MCHID,
    Fees,
    StubPay,
    counts,
    post_fee_standard,
)
from wechat.pay.protocol import BillRow


async def run(fees: Fees, period: str = "2026-03", **kw: object) -> billing.RunResult:
    return await billing.run_billing(
        ACTOR,
        compound_id=fees.compound.id,
        period_text=period,
        metered_fen=kw.get("metered", {}),
        user_id=None,  # type: ignore[arg-type]
    )


async def test_billing_run_once_per_unit_and_repeat_creates_nothing(fees: Fees) -> None:
    first = await run(fees)
    assert (first.created, first.units) == (3, 3)
    # 88.80 m² × 150 fen = 13320 fen each
    assert sorted(await Bill.all().values_list("amount_fen", flat=True)) == [13320, 13320, 13320]
    assert first.total_fen == 39960
    again = await run(fees)
    assert (again.created, again.total_fen) == (0, 39960)
    assert await Bill.all().count() == 3
    # concurrent runs of the same period create nothing more either
    results = await asyncio.gather(*(run(fees) for _ in range(5)))
    assert [r.created for r in results] == [0] * 5
    assert await Bill.all().count() == 3


async def test_concurrent_first_runs_bill_each_unit_once(fees: Fees) -> None:
    results = await asyncio.gather(*(run(fees, "2026-04") for _ in range(4)))
    assert await Bill.filter(period="2026-04").count() == 3
    assert sum(r.created for r in results) >= 3  # counted per run; the table holds the truth


async def test_unit_delivered_mid_period_billed_pro_rata(fees: Fees) -> None:
    await BillingStart.create(unit=fees.units[1], starts_on=date(2026, 4, 16))  # 15 of 30 days
    await BillingStart.create(unit=fees.units[2], starts_on=date(2026, 5, 2))  # after the period
    await run(fees, "2026-04")
    amounts = dict(await Bill.filter(period="2026-04").values_list("unit_id", "amount_fen"))
    assert amounts == {fees.units[0].id: 13320, fees.units[1].id: 6660}


async def test_unposted_item_is_not_billed(fees: Fees) -> None:
    item = await setup.add_fee_item(
        ACTOR,
        fees.contract,
        setup.ItemTerms(
            name="车位管理费", kind=ItemKind.FIXED_MONTHLY, monthly_fen=5000, notice_id=fees.notice_id
        ),
    )
    from notices.models import Notice

    await Notice.filter(id=fees.notice_id).update(status="withdrawn")
    result = await run(fees)
    assert result.created == 0
    assert [s["item_id"] for s in result.skipped] == [fees.item.id, item.id]
    assert await Bill.all().count() == 0


async def test_item_needs_a_posted_standard(fees: Fees) -> None:
    with pytest.raises(errors.FeeStandardNotPosted):
        await setup.add_fee_item(
            ACTOR,
            fees.contract,
            setup.ItemTerms(name="其他", kind=ItemKind.BY_AREA, notice_id=fees.notice_id + 99),
        )


async def test_metered_item_split_by_area_adds_up(fees: Fees) -> None:
    notice = await post_fee_standard(fees.compound.id, "公共用电分摊")
    item = await setup.add_fee_item(
        ACTOR,
        fees.contract,
        setup.ItemTerms(name="公共用电", kind=ItemKind.METERED_BY_AREA, notice_id=notice),
    )
    skipped = await run(fees)
    assert [s["item_id"] for s in skipped.skipped] == [item.id]
    await Bill.all().delete()
    await run(fees, metered={item.id: 1001})
    parts = sorted(await Bill.filter(item_id=item.id).values_list("amount_fen", flat=True))
    assert parts == [333, 334, 334]


async def test_contract_price_outside_band_refused(fees: Fees) -> None:
    terms = setup.ContractTerms(
        fees.compound.id, fees.company.id, 2, Decimal("180.01"), date(2027, 1, 1), date(2028, 1, 1), SUB_MCHID
    )
    with pytest.raises(errors.PriceOutsideBand) as caught:
        await setup.set_fee_contract(ACTOR, terms)
    assert "1.20–1.80" in caught.value.user_message
    edge = await setup.set_fee_contract(ACTOR, replace(terms, price_fen=Decimal(180)))
    assert edge.price_fen == Decimal(180)


async def _order(fees: Fees, pay: StubPay, who: str = "resident") -> PaymentOrder:
    await run(fees)
    bill = await Bill.get(unit_id=fees.units[0].id, period="2026-03")
    created = await orders.create_order(
        pay, user_id=fees.uid(who), openid=f"openid-{who}", bill_ids=[bill.id]
    )
    return created.order


async def test_order_for_own_bill_and_refused_for_another_unit(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    assert order.amount_fen == 13320 and order.state is OrderState.CREATED
    assert stub_pay.orders[order.out_trade_no].sub_mchid == SUB_MCHID
    bill = await Bill.get(unit_id=fees.units[1].id)
    before = await counts()
    with pytest.raises(errors.NotPayerOfUnit):
        await orders.create_order(stub_pay, user_id=fees.uid("resident"), openid="x", bill_ids=[bill.id])
    assert await counts() == before


async def test_same_bills_again_return_the_pending_order(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    bill = await Bill.get(unit_id=fees.units[0].id)
    again = await orders.create_order(stub_pay, user_id=fees.uid("resident"), openid="x", bill_ids=[bill.id])
    assert again.order.id == order.id
    with pytest.raises(errors.BillsNotPayable):  # the owner, while the resident's order is pending
        await orders.create_order(stub_pay, user_id=fees.uid("owner"), openid="y", bill_ids=[bill.id])


async def test_prepay_failure_frees_the_bills(fees: Fees, stub_pay: StubPay) -> None:
    await run(fees)
    stub_pay.fail_prepay = True
    bill = await Bill.get(unit_id=fees.units[0].id)
    with pytest.raises(Exception):
        await orders.create_order(stub_pay, user_id=fees.uid("owner"), openid="y", bill_ids=[bill.id])
    assert (await Bill.get(id=bill.id)).pending_order_id is None
    assert await PaymentOrder.all().count() == 0  # WeChat Pay refused: nothing was written
    stub_pay.fail_prepay = False
    created = await orders.create_order(stub_pay, user_id=fees.uid("owner"), openid="y", bill_ids=[bill.id])
    assert created.order.state is OrderState.CREATED


async def test_payment_applied_once_with_one_entry_and_receipt(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    txn = stub_pay.pay_now(order.out_trade_no)
    assert await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID) == "applied"
    assert await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID) == "already_paid"
    paid = await PaymentOrder.get(id=order.id)
    assert paid.state is OrderState.PAID and paid.transaction_id == txn.transaction_id
    bill = await Bill.get(unit_id=fees.units[0].id)
    assert (bill.status, bill.paid_order_id, bill.pending_order_id) == (BillStatus.PAID, order.id, None)
    entries = await LedgerEntry.all()
    assert [(e.kind.value, e.amount_fen, e.debit, e.credit, e.bill_id) for e in entries] == [
        ("payment", 13320, f"unit:{fees.units[0].id}", f"payee:{order.payee_id}", bill.id)
    ]
    receipt = await Receipt.get(order_id=order.id)
    assert receipt.number == f"{order.payee_id:04d}-{clock.to_local(txn.success_time).year}-0000001"  # type: ignore[arg-type]
    assert receipt.lines == [
        {"bill_id": bill.id, "item": "物业服务费", "period": "2026-03", "amount_fen": 13320}
    ]
    check = await ledger.verify(order.payee_id)
    assert (check.ok, check.entries) == (True, 1)


@pytest.mark.parametrize(
    "change",
    [
        {"amount_total": 13319},
        {"sp_mchid": "1230000999"},
        {"sub_mchid": "1900000999"},
        {"sp_appid": "wx9999999999999999"},
    ],
)
async def test_mismatched_result_refused_and_nothing_changed(
    fees: Fees, stub_pay: StubPay, change: dict[str, object]
) -> None:
    order = await _order(fees, stub_pay)
    txn = replace(stub_pay.pay_now(order.out_trade_no), **change)  # type: ignore[arg-type]
    before = await counts()
    with pytest.raises(errors.NotificationMismatch):
        await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    assert await counts() == before
    assert (await PaymentOrder.get(id=order.id)).state is OrderState.CREATED
    assert await Bill.filter(status=BillStatus.PAID).count() == 0


async def test_unknown_order_refused(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    txn = replace(stub_pay.pay_now(order.out_trade_no), out_trade_no="WY00000000000000nothere")
    before = await counts()
    with pytest.raises(errors.OrderNotFound):
        await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    assert await counts() == before


async def test_fifty_concurrent_results_pay_once(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    txn = stub_pay.pay_now(order.out_trade_no)
    outcomes = await asyncio.gather(
        *(orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID) for _ in range(50))
    )
    assert sorted(outcomes).count("applied") == 1
    assert outcomes.count("already_paid") == 49
    assert await LedgerEntry.all().count() == 1
    assert await Receipt.all().count() == 1
    assert (await ledger.verify(order.payee_id)).ok


async def test_status_query_takes_the_payment(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    assert (await orders.refresh(stub_pay, order)).state is OrderState.CREATED
    stub_pay.pay_now(order.out_trade_no)
    assert (await orders.refresh(stub_pay, order)).state is OrderState.PAID
    assert await LedgerEntry.all().count() == 1


async def test_expired_order_closed_there_then_here(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    await PaymentOrder.filter(id=order.id).update(expires_at=clock.now() - timedelta(seconds=1))
    assert await orders.expire_due(stub_pay) == 1
    assert stub_pay.closed == [order.out_trade_no]
    assert (await PaymentOrder.get(id=order.id)).state is OrderState.CLOSED
    assert (await Bill.get(unit_id=fees.units[0].id)).pending_order_id is None
    # a late payment result for the closed order is refused for a person, and changes nothing
    txn = stub_pay.pay_now(order.out_trade_no)
    with pytest.raises(errors.OrderStateConflict):
        await orders.apply_result(txn, sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    assert await LedgerEntry.all().count() == 0


async def test_expiry_of_an_order_paid_meanwhile_takes_the_payment(fees: Fees, stub_pay: StubPay) -> None:
    order = await _order(fees, stub_pay)
    stub_pay.pay_now(order.out_trade_no)
    await PaymentOrder.filter(id=order.id).update(expires_at=clock.now() - timedelta(seconds=1))
    assert await orders.expire_due(stub_pay) == 0
    assert (await PaymentOrder.get(id=order.id)).state is OrderState.PAID


async def _paid(fees: Fees, pay: StubPay) -> PaymentOrder:
    order = await _order(fees, pay)
    await orders.apply_result(pay.pay_now(order.out_trade_no), sp_mchid=SP_MCHID, sp_appid=SP_APPID)
    return await PaymentOrder.get(id=order.id)


async def test_partial_refund_then_rest(fees: Fees, stub_pay: StubPay) -> None:
    order = await _paid(fees, stub_pay)
    first = await refunds.request_refund(
        stub_pay, ACTOR, order=order, amount_fen=3000, reason="多收", user_id=None
    )  # type: ignore[arg-type]
    assert first.state is RefundState.PROCESSING
    with pytest.raises(errors.RefundInvalid):
        await refunds.request_refund(stub_pay, ACTOR, order=order, amount_fen=10321, reason="x", user_id=None)  # type: ignore[arg-type]
    answer = replace(stub_pay.refunds[first.out_refund_no], status="SUCCESS", success_time=clock.now())
    assert await refunds.apply_refund_result(answer) == "applied"
    assert await refunds.apply_refund_result(answer) == "already"
    assert (await PaymentOrder.get(id=order.id)).state is OrderState.PARTIALLY_REFUNDED
    rest = await refunds.request_refund(
        stub_pay, ACTOR, order=order, amount_fen=10320, reason="退清", user_id=None
    )  # type: ignore[arg-type]
    await refunds.apply_refund_result(replace(stub_pay.refunds[rest.out_refund_no], status="SUCCESS"))
    done = await PaymentOrder.get(id=order.id)
    assert (done.state, done.refunded_fen) == (OrderState.REFUNDED, 13320)
    kinds = await LedgerEntry.all().order_by("id").values_list("kind", "amount_fen")
    assert [(str(k), a) for k, a in kinds] == [("payment", 13320), ("refund", 3000), ("refund", 10320)]
    assert (await ledger.verify(order.payee_id)).entries == 3


async def test_closed_refund_gives_the_amount_back(fees: Fees, stub_pay: StubPay) -> None:
    order = await _paid(fees, stub_pay)
    refund = await refunds.request_refund(
        stub_pay, ACTOR, order=order, amount_fen=13320, reason="误退", user_id=None
    )  # type: ignore[arg-type]
    await refunds.apply_refund_result(replace(stub_pay.refunds[refund.out_refund_no], status="CLOSED"))
    after = await PaymentOrder.get(id=order.id)
    assert (after.state, after.refunded_fen) == (OrderState.PAID, 0)
    assert await LedgerEntry.all().count() == 1


async def test_concurrent_refunds_never_exceed_the_payment(fees: Fees, stub_pay: StubPay) -> None:
    order = await _paid(fees, stub_pay)
    results = await asyncio.gather(
        *(
            refunds.request_refund(stub_pay, ACTOR, order=order, amount_fen=5000, reason="并发", user_id=None)  # type: ignore[arg-type]
            for _ in range(6)
        ),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 2
    assert (await PaymentOrder.get(id=order.id)).refunded_fen == 10000


async def test_tampered_ledger_entry_detected(fees: Fees, stub_pay: StubPay) -> None:
    order = await _paid(fees, stub_pay)
    await LedgerEntry.filter(order_id=order.id).update(amount_fen=1)
    check = await ledger.verify(order.payee_id)
    assert not check.ok and "does not match its chained event" in check.problems[0]


async def test_reconciliation_lists_every_difference(fees: Fees, stub_pay: StubPay) -> None:
    order = await _paid(fees, stub_pay)
    day = clock.to_local(order.paid_at).date()  # type: ignore[arg-type]
    base = dict(
        trade_time=clock.now(), sp_appid=SP_APPID, sp_mchid=SP_MCHID, sub_mchid=SUB_MCHID, device_info="",
        transaction_id="4200", openid="o", trade_type="JSAPI", trade_state="SUCCESS", bank_type="OTHERS",
        currency="CNY", settlement_total_fen=0, coupon_fen=0, refund_id="", out_refund_no="", refund_fen=0,
        coupon_refund_fen=0, refund_type="", refund_status="", description="物业费", attach="", fee_yuan=Decimal(0),
        rate="0.60%", refund_request_fen=0,
    )  # fmt: skip
    stub_pay.bill = [
        BillRow(**base, out_trade_no=order.out_trade_no, order_total_fen=13300),  # type: ignore[arg-type]
        BillRow(**base, out_trade_no="WY_not_ours_0001", order_total_fen=500),  # type: ignore[arg-type]
    ]
    report = await reconcile.reconcile(stub_pay, ACTOR, day=day, payee=None, user_id=None)
    assert report.matched == 0
    assert [(d["difference"], d["key"], d["bill_fen"], d["ledger_fen"]) for d in report.differences] == [
        ("amount_differs", order.out_trade_no, 13300, 13320),
        ("missing_here", "WY_not_ours_0001", 500, None),
    ]
    stub_pay.bill = []
    gone = await reconcile.reconcile(stub_pay, ACTOR, day=day, payee=None, user_id=None)
    assert [(d["difference"], d["key"]) for d in gone.differences] == [("missing_there", order.out_trade_no)]
    # nothing was "fixed"
    assert (await PaymentOrder.get(id=order.id)).amount_fen == 13320 and await LedgerEntry.all().count() == 1


async def test_income_summary_from_the_ledger(fees: Fees, stub_pay: StubPay) -> None:
    order = await _paid(fees, stub_pay)
    month = clock.to_local(order.paid_at).strftime("%Y-%m")  # type: ignore[arg-type]
    rows = await ledger.income(
        compound_ids=[fees.compound.id],
        payee_ids=None,
        since=clock.now() - timedelta(days=40),
        until=clock.now() + timedelta(days=1),
    )
    assert [(r.payee_id, r.month, r.received_fen, r.refunded_fen, r.payments) for r in rows] == [
        (order.payee_id, month, 13320, 0, 1)
    ]


async def test_arrears_per_unit_and_compound(fees: Fees, stub_pay: StubPay) -> None:
    await run(fees, "2026-02")
    await _paid(fees, stub_pay)  # runs 2026-03 and pays unit 0's March bill
    assert await billing.unit_arrears(fees.units[0].id) == (1, 13320)
    units, owed, page = await billing.compound_arrears(fees.compound.id, limit=2, after_unit_id=None)
    assert (units, owed) == (3, 13320 * 5)
    assert [(u.unit_id, u.bills, u.owed_fen, u.oldest_period) for u in page] == [
        (fees.units[0].id, 1, 13320, "2026-02"),
        (fees.units[1].id, 2, 26640, "2026-02"),
    ]
    late = await billing.compound_arrears(
        fees.compound.id, limit=10, after_unit_id=None, before_period="2026-03"
    )
    assert (late[0], late[1]) == (3, 13320 * 3)


async def test_billing_run_of_5000_units_takes_seconds(fees: Fees) -> None:
    building = await Building.create(compound=fees.compound, name="大楼")
    await Unit.bulk_create(
        [
            Unit(compound=fees.compound, building=building, number=f"{i:05d}", area=Decimal("90.15"))
            for i in range(4997)
        ],
        batch_size=1000,
    )
    started = time.perf_counter()
    result = await run(fees, "2026-06")
    elapsed = time.perf_counter() - started
    assert result.created == 5000
    assert elapsed < (5 if ON_POSTGRES else 10), elapsed
    started = time.perf_counter()
    assert (await run(fees, "2026-06")).created == 0
    assert time.perf_counter() - started < 5
