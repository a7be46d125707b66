"""The daily trade-bill reconciliation runs by itself: our real client downloads each payee's bill
from the fake WeChat Pay over loopback, each day once it is ready, and the report is recorded once
per payee and day (a rerun, or two runs at once, make nothing new); a difference is listed for the
company, never corrected; a day that failed is tried again on the next run."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from audit.models import AuditEvent
from core import clock
from notify.models import JobState
from payments import purposes, reconcile
from payments.models import LedgerEntry, Payee, PayeeKind, Reconciliation
from server import jobs
from tests.payments.conftest import Stack
from tests.payments.test_http import _pay_order

DAYS = reconcile.LOOKBACK_DAYS


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=clock.SHANGHAI)


def _noon_today() -> datetime:
    """Today at noon in Beijing: yesterday's bill is ready for us, and the fake (which goes by the
    wall clock) has every bill up to yesterday."""
    return _local(clock.to_local(clock.now()).date(), time(12))


async def _paid_on(stack: Stack, day: date) -> dict[str, Any]:
    """An order paid (at WeChat Pay and in our ledger) at 15:00 on ``day``."""
    paid = await _pay_order(stack)
    no = paid["order"]["out_trade_no"]
    await stack.fake.pay(no, deliver=False)
    stack.fake.order(no).success_time = _local(day, time(15))
    assert (await stack.fake.notify_transaction(no)).status == 204
    return paid


def _job(name: str) -> jobs.PeriodicJob:
    return next(job for job in jobs.PERIODIC if job.name == name)


def test_due_days_wait_for_ten_oclock_beijing_time() -> None:
    today = date(2026, 3, 10)
    before = reconcile.due_days(_local(today, time(9, 59, 59)))
    after = reconcile.due_days(_local(today, time(10)))
    assert (before[-1], after[-1]) == (date(2026, 3, 8), date(2026, 3, 9))
    assert after == [date(2026, 3, 9) - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    # 01:30 UTC on the 10th is 09:30 in Beijing: still the 8th
    assert reconcile.due_days(datetime(2026, 3, 10, 1, 30, tzinfo=UTC))[-1] == date(2026, 3, 8)


async def test_daily_run_records_each_day_once_and_a_rerun_makes_nothing(stack: Stack) -> None:
    now = _noon_today()
    yesterday = now.date() - timedelta(days=1)
    paid = await _paid_on(stack, yesterday)
    payee = await Payee.get(id=stack.fees.contract.payee_id)
    events = await AuditEvent.filter(stream=f"payments:payee:{payee.id}").count()

    assert await reconcile.run_daily(stack.client, now=now) == DAYS
    assert stack.fake.calls["tradebill"] == DAYS
    reports = {r.bill_date: r for r in await Reconciliation.filter(payee_id=payee.id)}
    assert sorted(reports) == reconcile.due_days(now)
    assert (reports[yesterday].matched, reports[yesterday].differences) == (1, [])
    assert all((r.matched, r.differences) == (0, []) for d, r in reports.items() if d != yesterday)
    assert reports[yesterday].daily_key == f"{payee.id}:{yesterday.isoformat()}"
    assert reports[yesterday].by_id is None
    assert await AuditEvent.filter(stream=f"payments:payee:{payee.id}").count() == events + DAYS
    assert paid["order"]["out_trade_no"]

    # running again (later the same day, or tomorrow before the bill is ready) makes nothing new
    assert await reconcile.run_daily(stack.client, now=now) == 0
    assert await reconcile.run_daily(stack.client, now=now + timedelta(hours=6)) == 0
    assert stack.fake.calls["tradebill"] == DAYS  # and asks WeChat Pay for nothing
    assert await Reconciliation.all().count() == DAYS
    assert await AuditEvent.filter(stream=f"payments:payee:{payee.id}").count() == events + DAYS


async def test_a_difference_is_listed_for_the_company_and_not_fixed(stack: Stack) -> None:
    now = _noon_today()
    yesterday = now.date() - timedelta(days=1)
    await _paid_on(stack, yesterday)
    stack.fake.edit_bill(yesterday, lambda rows: [replace(rows[0], order_total_fen=13000)])
    entries = await LedgerEntry.all().values_list("id", "amount_fen")

    assert await reconcile.run_daily(stack.client, now=now) == DAYS

    base = f"/api/v1/admin/compounds/{stack.fees.compound.id}/fees"
    r = await stack.http.get(f"{base}/reconciliations", headers=stack.fees.headers("property_staff"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["bill_date"] for i in items] == [d.isoformat() for d in reversed(reconcile.due_days(now))]
    assert all(i["daily"] for i in items)
    listed = items[0]
    assert (listed["bill_date"], listed["matched"]) == (yesterday.isoformat(), 0)
    assert [(d["difference"], d["bill_fen"], d["ledger_fen"]) for d in listed["differences"]] == [
        ("amount_differs", 13000, 13320)
    ]
    assert await LedgerEntry.all().values_list("id", "amount_fen") == entries  # listed, not fixed
    # a person's own request for the same day is another report, listed beside the daily one
    r = await stack.http.post(
        f"{base}/reconciliations",
        json={"bill_date": yesterday.isoformat()},
        headers=stack.fees.headers("property_staff"),
    )
    assert r.status_code == 201, r.text
    r = await stack.http.get(f"{base}/reconciliations?limit=2", headers=stack.fees.headers("property_staff"))
    assert [(i["bill_date"], i["daily"]) for i in r.json()["items"]] == [
        (yesterday.isoformat(), False),
        (yesterday.isoformat(), True),
    ]
    assert r.json()["next_cursor"] is not None
    # and another company's staff sees none of it
    r = await stack.http.get(f"{base}/reconciliations", headers=stack.fees.headers("other_property_staff"))
    assert r.status_code == 403


async def test_a_refused_payee_waits_while_the_others_go_on(stack: Stack) -> None:
    now = _noon_today()
    yesterday = now.date() - timedelta(days=1)
    await _paid_on(stack, yesterday)
    fee_payee = stack.fees.contract.payee_id
    provider = await purposes.payee_for(PayeeKind.SERVICE_PROVIDER, name="好帮手家政", sub_mchid="1900000666")
    assert fee_payee < provider.id  # asked in this order
    # the fee payee's first day is refused (its others are not asked this run); then the provider's
    # first day is still being made
    stack.fake.fail_next("tradebill", 400, "INVALID_REQUEST", "子商户号无权限")
    stack.fake.fail_next("tradebill", 400, "STATEMENT_CREATING", "账单生成中")

    with pytest.raises(
        reconcile.DailyReconciliationFailed, match=f"{fee_payee}:{reconcile.due_days(now)[0]}"
    ):
        await reconcile.run_daily(stack.client, now=now)
    assert stack.fake.calls["tradebill"] == 1 + DAYS
    assert not await Reconciliation.filter(payee_id=fee_payee).exists()
    days = await Reconciliation.filter(payee_id=provider.id).values_list("bill_date", flat=True)
    assert sorted(days) == reconcile.due_days(now)[1:]

    assert await reconcile.run_daily(stack.client, now=now) == DAYS + 1  # every day now
    mine = Reconciliation.filter(payee_id=fee_payee)
    assert sorted(await mine.values_list("bill_date", flat=True)) == reconcile.due_days(now)
    report = await mine.get(bill_date=yesterday)
    assert (report.matched, report.differences) == (1, [])
    assert await reconcile.run_daily(stack.client, now=now) == 0


async def test_wechat_pay_down_ends_the_run_and_the_next_run_does_the_days(stack: Stack) -> None:
    now = _noon_today()
    await _paid_on(stack, now.date() - timedelta(days=1))
    stack.fake.fail_next("tradebill", 500, "SYSTEM_ERROR", "系统繁忙")

    with pytest.raises(reconcile.DailyReconciliationFailed, match="wechat_pay_busy"):
        await reconcile.run_daily(stack.client, now=now)
    assert stack.fake.calls["tradebill"] == 1  # not asked again and again while it is down
    assert await Reconciliation.all().count() == 0

    assert await reconcile.run_daily(stack.client, now=now) == DAYS
    assert await Reconciliation.all().count() == DAYS


async def test_two_runs_at_once_record_each_day_once(stack: Stack) -> None:
    now = _noon_today()
    await _paid_on(stack, now.date() - timedelta(days=1))

    made = await asyncio.gather(*(reconcile.run_daily(stack.client, now=now) for _ in range(2)))

    assert sum(made) == DAYS
    assert await Reconciliation.all().count() == DAYS
    assert await AuditEvent.filter(action="payments.reconciled").count() == DAYS


async def test_the_periodic_job_runs_it_once_per_period_and_records_a_failure(stack: Stack) -> None:
    job = _job("trade_bills")
    ctx = jobs.JobContext(wechat=None, wechat_pay=stack.client)  # type: ignore[arg-type]
    payees = await Payee.all().count()
    stack.fake.fail_next("tradebill", 500, "SYSTEM_ERROR", "系统繁忙")

    with pytest.raises(reconcile.DailyReconciliationFailed):
        await jobs.run_claimed(job, ctx, now=1_000_000.0)
    state = await JobState.get(name="trade_bills")
    assert state.failures == 1 and "DailyReconciliationFailed" in state.last_error
    assert await Reconciliation.all().count() == 0  # WeChat Pay was busy: the run stopped there
    assert not await jobs.run_claimed(job, ctx, now=1_000_000.0)  # this period is done

    assert await jobs.run_claimed(job, ctx, now=1_000_000.0 + job.period_seconds())
    assert (await JobState.get(name="trade_bills")).failures == 0
    assert await Reconciliation.all().count() == payees * DAYS
    assert await job.run(ctx) == 0  # nothing new however often it runs
    assert await Reconciliation.all().count() == payees * DAYS
    without_pay = jobs.JobContext(wechat=None)  # type: ignore[arg-type]
    assert await job.run(without_pay) == 0
