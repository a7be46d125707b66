"""The newer periodic jobs (payments, fund, bookings, ratings, supervision: everything registered in
server.jobs) across processes, on PostgreSQL + Redis: two `python -m server worker` processes with
QUEUE_URL and JOB_PERIOD_SECONDS (every job comes round in seconds), one of them SIGKILLed mid-run.
One shared world: expired payment orders, a refund WeChat Pay finished without telling us, overdue
bills, an outbox to deliver. Each unit of work is done once, nothing is lost, every job keeps running."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest

from core import clock
from core.cache import Cache
from notify import catalogue, sender, service
from notify.models import JobState, Notification, State
from payments import billing, claims, orders, refunds
from payments.models import PaymentOrder, RefundRecord
from server import jobs
from tests.conftest import ON_POSTGRES, REDIS_URL
from tests.payments.conftest import ACTOR, SP_APPID, SP_MCHID, Fees, fees, pay_keys  # noqa: F401
from tests.server.test_jobs_processes import _env, _flush_queue, _until, fake, processes  # noqa: F401
from wechat.fake import FakeWeChat
from wechat.pay.client import WeChatPayClient
from wechat.pay.fake import FakeWeChatPay

pytestmark = pytest.mark.skipif(
    not (ON_POSTGRES and REDIS_URL), reason="processes share the database and the queue: PostgreSQL + Redis"
)
PERIOD = 2  # JOB_PERIOD_SECONDS: every job every 2 s
BILL_TEMPLATES = {catalogue.BY_EVENT[e].template_id for e in ("bill.issued", "bill.overdue")}


def _pay_env(fake_pay: FakeWeChatPay) -> dict[str, str]:
    options = fake_pay.client_options()
    return {
        "WECHAT_PAY_MODE": "real",
        "WECHAT_PAY_API_BASE": options["base_url"],
        "WECHAT_PAY_SP_MCHID": options["sp_mchid"],
        "WECHAT_PAY_SP_APPID": options["sp_appid"],
        "WECHAT_PAY_PRIVATE_KEY": options["private_key"],
        "WECHAT_PAY_CERT_SERIAL": options["cert_serial"],
        "WECHAT_PAY_APIV3_KEY": options["apiv3_key"],
        "WECHAT_PAY_PUBLIC_KEY": options["public_key"],
        "WECHAT_PAY_PUBLIC_KEY_ID": options["public_key_id"],
    }


async def _unfinished() -> int:
    return await Notification.filter(state__in=[State.PENDING, State.CLAIMED, State.SENDING]).count()


async def test_two_job_workers_do_each_unit_of_the_newer_jobs_once_though_one_is_killed(
    fees: Fees,  # noqa: F811
    cache: Cache,
    pay_keys,  # noqa: F811
    database_url: str,
    fake: FakeWeChat,  # noqa: F811
    processes,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    merchant, platform, stranger = pay_keys
    fake_pay = FakeWeChatPay(SP_MCHID, SP_APPID, merchant=merchant, platform=platform, wrong_key=stranger)
    await fake_pay.start()
    pay = WeChatPayClient(**fake_pay.client_options(), notify_url="http://127.0.0.1:9/notify", cache=cache)
    try:
        # given: a billing run long past its due date (4 "bill.issued" rows), payers who consented
        result = await billing.run_billing(
            ACTOR, compound_id=fees.compound.id, period_text="2026-03", metered_fen={}, user_id=None
        )
        assert result.created == 3
        payers = {fees.uid(w) for w in ("owner", "resident", "neighbour", "committee")}
        for uid in payers:
            await service.record_consent(uid, dict.fromkeys(BILL_TEMPLATES, "accept"), BILL_TEMPLATES)
        bills = {b.unit_id: b.id for b in await billing_bills()}
        # two orders left unpaid past their time: the payment_orders job closes them
        expired = [
            (await orders.create_order(pay, user_id=fees.uid(who), openid=f"openid-{who}", bill_ids=[bills[u.id]]))
            .order.id
            for who, u in (("resident", fees.units[0]), ("committee", fees.units[2]))
        ]  # fmt: skip
        await PaymentOrder.filter(id__in=expired).update(expires_at=clock.now() - timedelta(seconds=1))
        # one paid order, refunded; WeChat Pay finished the refund but never notified: refund_status
        paid = await orders.create_order(
            pay, user_id=fees.uid("neighbour"), openid="openid-neighbour", bill_ids=[bills[fees.units[1].id]]
        )
        await fake_pay.pay(paid.order.out_trade_no, deliver=False)
        order = await orders.refresh(pay, await PaymentOrder.get(id=paid.order.id))
        refund = await refunds.request_refund(
            pay, ACTOR, order=order, amount_fen=1000, reason="多收", user_id=None
        )
        fake_refund = fake_pay.refund(refund.out_refund_no)
        fake_refund.status, fake_refund.success_time = "SUCCESS", clock.now()
        await RefundRecord.filter(id=refund.id).update(
            created_at=clock.now() - refunds.POLL_AFTER - timedelta(seconds=5)
        )
        closes_before = fake_pay.calls["close"]

        # when: two job workers run every job every PERIOD seconds, and the first is killed mid-run
        await _flush_queue(REDIS_URL)
        env = _env(database_url, REDIS_URL, fake, JOB_PERIOD_SECONDS=str(PERIOD), **_pay_env(fake_pay))
        started = time.time()
        first = processes("worker", env=env)
        processes("worker", env=env)
        await _until(lambda: _any_sent(), 40)
        first.kill()  # SIGKILL: no clean-up
        first.wait()

        progress: dict[str, object] = {}

        async def all_done() -> bool:
            progress.update(
                closed=await PaymentOrder.filter(id__in=expired, state="closed").count(),
                refunded=await RefundRecord.filter(id=refund.id, state="success").exists(),
                overdue=await Notification.filter(event="bill.overdue").count(),
                unfinished=await _unfinished(),
            )
            return progress == {"closed": 2, "refunded": True, "overdue": 3, "unfinished": 0}

        try:
            # an order or refund the killed worker had claimed waits for its claim to lapse
            await _until(all_done, claims.CLAIM_FOR.total_seconds() + 40)
        except AssertionError:
            raise AssertionError(f"timed out at {progress}, jobs: {await _job_states()}") from None
        # every registered job has come round again on the surviving worker after the kill
        killed_at = clock.now()
        await _until(lambda: _all_ran_since(killed_at), 30)
        ended = time.time()

        # then: each unit of work once
        assert fake_pay.calls["close"] - closes_before in (2, 3)  # 3: the killed worker's close was cut off
        assert (await PaymentOrder.get(id=order.id)).refunded_fen == 1000
        assert await RefundRecord.filter(order_id=order.id).count() == 1
        overdue = await Notification.filter(event="bill.overdue").values_list("user_id", flat=True)
        assert sorted(overdue) == sorted(fees.uid(w) for w in ("owner", "resident", "committee"))
        assert await Notification.filter(event="bill.issued").count() == 4
        sent = await Notification.filter(state=State.SENT).count()
        interrupted = await Notification.filter(state=State.FAILED, last_error=sender.INTERRUPTED).count()
        assert sent + interrupted == 7 and interrupted <= sender.CONCURRENCY
        received = Counter((m.openid, m.template_id, m.page) for m in fake.sent_messages)
        assert max(received.values()) == 1 and sent <= len(received) <= sent + interrupted
        # and every job ran at most once per period, never failing
        states = {s.name: s for s in await JobState.all()}
        assert set(states) == {job.name for job in jobs.PERIODIC}
        periods = int(ended // PERIOD) - int(started // PERIOD) + 1
        for state in states.values():
            assert 2 <= state.runs <= periods, (state.name, state.runs, periods)
            assert state.total_failures == 0, (state.name, state.last_error)
    finally:
        await pay.aclose()
        await fake_pay.stop()


async def billing_bills() -> list:  # type: ignore[type-arg]
    from payments.models import Bill

    return list(await Bill.filter(period="2026-03"))


async def _any_sent() -> bool:
    return await Notification.filter(state=State.SENT).exists()


async def _all_ran_since(moment) -> bool:  # type: ignore[no-untyped-def]
    names = {job.name for job in jobs.PERIODIC}
    done = await JobState.filter(name__in=names, last_finished_at__gt=moment).count()
    return done == len(names)


async def _job_states() -> list[tuple[str, int, int, str | None]]:
    return [(s.name, s.runs, s.total_failures, s.last_error) for s in await JobState.all().order_by("name")]
