"""Bill reminders through notify's outbox (issued in the billing run's transaction, overdue once per
bill from a periodic job) and the refund polling job against the fake WeChat Pay."""

from __future__ import annotations

from datetime import date, timedelta

from core import clock
from notify.models import Notification
from payments import billing, orders, refunds, reminders
from payments.models import Bill, PaymentOrder, RefundRecord
from server import jobs
from tests.payments.conftest import ACTOR, Fees, Stack


async def _run(fees: Fees, period: str = "2026-03") -> billing.RunResult:
    return await billing.run_billing(
        ACTOR, compound_id=fees.compound.id, period_text=period, metered_fen={}, user_id=None
    )


async def test_a_billing_run_tells_each_payer_of_each_new_bill_once(fees: Fees) -> None:
    result = await _run(fees)
    assert result.created == 3
    rows = await Notification.filter(event="bill.issued").order_by("user_id")
    bills = {b.unit_id: b for b in await Bill.filter(period="2026-03")}
    expected = {
        (fees.uid("owner"), bills[fees.units[0].id].id),
        (fees.uid("resident"), bills[fees.units[0].id].id),
        (fees.uid("neighbour"), bills[fees.units[1].id].id),
        (fees.uid("committee"), bills[fees.units[2].id].id),
    }
    assert {(r.user_id, int(r.page.split("=")[1])) for r in rows} == expected  # type: ignore[attr-defined]
    first = next(r for r in rows if r.user_id == fees.uid("owner"))  # type: ignore[attr-defined]
    assert first.data == {"thing1": "2026-03 物业服务费", "amount2": "133.20元", "date3": "2026-03-31"}
    assert (await _run(fees)).created == 0
    assert await Notification.filter(event="bill.issued").count() == 4
    assert await Notification.filter(user_id=fees.uid("outsider")).count() == 0


async def test_overdue_bills_are_told_once_and_paid_ones_never(fees: Fees, stub_pay: object) -> None:
    await _run(fees)
    paid_bill = await Bill.get(unit_id=fees.units[1].id)
    await Bill.filter(id=paid_bill.id).update(status="paid")
    # still March: not overdue yet
    assert await reminders.notify_overdue(today=date(2026, 3, 31)) == 0
    assert await reminders.notify_overdue(today=date(2026, 4, 1)) == 2
    assert await reminders.notify_overdue(today=date(2026, 4, 2)) == 0
    rows = await Notification.filter(event="bill.overdue")
    assert sorted(r.user_id for r in rows) == sorted(  # type: ignore[attr-defined]
        [fees.uid("owner"), fees.uid("resident"), fees.uid("committee")]
    )
    assert {r.data["date3"] for r in rows} == {"2026-03-31"}


async def test_the_refund_polling_job_settles_a_refund_wechat_pay_did_not_report(stack: Stack) -> None:
    fees = stack.fees
    await _run(fees)
    bill = await Bill.get(unit_id=fees.units[0].id)
    created = await orders.create_order(
        stack.client, user_id=fees.uid("resident"), openid="openid-resident", bill_ids=[bill.id]
    )
    await stack.fake.pay(created.order.out_trade_no)
    order = await PaymentOrder.get(id=created.order.id)
    refund = await refunds.request_refund(
        stack.client, ACTOR, order=order, amount_fen=1000, reason="多收", user_id=fees.uid("property_staff")
    )
    assert refund.state.value == "processing"
    # WeChat Pay finished it but its notification never arrived
    fake_refund = stack.fake.refund(refund.out_refund_no)
    fake_refund.status, fake_refund.success_time = "SUCCESS", clock.now()
    assert await refunds.poll_processing(stack.client) == 0  # too recent: the notification may come
    later = clock.now() + refunds.POLL_AFTER + timedelta(seconds=1)
    assert await refunds.poll_processing(stack.client, now=later) == 1
    assert (await RefundRecord.get(id=refund.id)).state.value == "success"
    assert (await PaymentOrder.get(id=order.id)).refunded_fen == 1000
    assert await refunds.poll_processing(stack.client, now=later) == 0
    assert {"refund_status", "bill_reminders"} <= {job.name for job in jobs.PERIODIC}
