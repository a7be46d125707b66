"""The payments jobs run twice at once (two workers, or a run overlapping the next): each unit of work
is done exactly once. The jobs' own functions from server.jobs, bypassing their once-per-period
claim, run concurrently on the test database (PostgreSQL in CI: separate connections, real row
locks), against the fake WeChat Pay over loopback, whose calls are counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from core import clock
from notify.models import Notification
from payments import billing, purposes, refunds, reminders
from payments.models import Bill, PayeeKind, PaymentOrder, RefundRecord
from payments.purposes import PurposeEvent
from server import jobs
from tests.payments.conftest import ACTOR, Fees, Stack

PURPOSE = "test_jobs"
ORDERS = 4


def _job(name: str) -> Any:
    return next(job for job in jobs.PERIODIC if job.name == name)


async def _twice(stack: Stack, name: str) -> int:
    """The job run twice at once; what the two runs did together."""
    ctx = jobs.JobContext(wechat=None, wechat_pay=stack.client)  # type: ignore[arg-type]
    done = await asyncio.gather(_job(name).run(ctx), _job(name).run(ctx))
    return sum(int(d) for d in done)


@pytest.fixture
async def heard() -> AsyncIterator[list[PurposeEvent]]:
    events: list[PurposeEvent] = []

    async def hear(event: PurposeEvent) -> None:
        events.append(event)

    purposes.register(PURPOSE, on_paid=hear, on_closed=hear, on_refunded=hear, on_refund_failed=hear)
    yield events
    purposes.unregister(PURPOSE)


async def _orders(stack: Stack) -> list[PaymentOrder]:
    payee = await purposes.payee_for(PayeeKind.SERVICE_PROVIDER, name="好帮手家政", sub_mchid="1900000666")
    user = stack.fees.users["resident"]
    made = []
    for i in range(ORDERS):
        created = await purposes.create_order(
            stack.client,
            purpose=PURPOSE,
            reference=str(i),
            payee_id=payee.id,
            amount_fen=1000 + i,
            description="上门维修",
            user_id=user.id,
            openid=user.openid,
            compound_id=stack.fees.compound.id,
            unit_id=stack.fees.units[0].id,
        )
        made.append(created.order)
    return made


async def test_two_expiry_runs_at_once_close_each_order_once(stack: Stack, heard: list[PurposeEvent]) -> None:
    made = await _orders(stack)
    await PaymentOrder.filter(id__in=[o.id for o in made]).update(
        expires_at=clock.now() - timedelta(seconds=1)
    )
    assert await _twice(stack, "payment_orders") == ORDERS
    assert stack.fake.calls["close"] == ORDERS  # WeChat Pay asked once per order
    assert sorted(e.order_id for e in heard if e.kind == "closed") == sorted(o.id for o in made)
    assert await PaymentOrder.filter(state="closed").count() == ORDERS
    assert await _twice(stack, "payment_orders") == 0


async def test_two_refund_polls_at_once_settle_each_refund_once(
    stack: Stack, heard: list[PurposeEvent]
) -> None:
    made = await _orders(stack)
    for order in made:
        assert (await stack.fake.pay(order.out_trade_no)).status == 204
    records = [
        await purposes.refund(
            stack.client, ACTOR, order=await PaymentOrder.get(id=o.id), reason="取消", user_id=None
        )
        for o in made
    ]
    stack.fake.hold = True  # WeChat Pay's notifications never arrive: only the polling job learns
    for record in records:
        await stack.fake.complete_refund(record.out_refund_no, "SUCCESS")
    stack.fake.hold, stack.fake.held = False, []
    await RefundRecord.all().update(created_at=clock.now() - refunds.POLL_AFTER - timedelta(seconds=1))
    assert await _twice(stack, "refund_status") == ORDERS
    assert stack.fake.calls["query_refund"] == ORDERS  # each refund queried by one run only
    assert sorted(e.out_refund_no or "" for e in heard if e.kind == "refunded") == sorted(
        r.out_refund_no for r in records
    )
    assert await RefundRecord.filter(state="success").count() == ORDERS
    assert await _twice(stack, "refund_status") == 0


async def test_two_overdue_runs_at_once_tell_each_payer_once(fees: Fees) -> None:
    for period in ("2026-01", "2026-02"):
        await billing.run_billing(
            ACTOR, compound_id=fees.compound.id, period_text=period, metered_fen={}, user_id=None
        )
    bills = await Bill.all().count()

    async def drain() -> int:  # a run in batches of one bill, until nothing is left
        marked = 0
        while n := await reminders.notify_overdue(today=date(2026, 4, 1), limit=1):
            marked += n
        return marked

    assert sum(await asyncio.gather(drain(), drain())) == bills == 6
    rows = await Notification.filter(event="bill.overdue").values_list("user_id", "key")
    assert len(rows) == len(set(rows)) == 8  # two payers of unit 1, one of each other unit, two periods
    assert await Bill.filter(overdue_notified_at__isnull=True).count() == 0
    assert await _twice_overdue() == 0


async def _twice_overdue() -> int:
    ctx = jobs.JobContext(wechat=None)  # type: ignore[arg-type]
    done = await asyncio.gather(_job("bill_reminders").run(ctx), _job("bill_reminders").run(ctx))
    return sum(int(d) for d in done)
