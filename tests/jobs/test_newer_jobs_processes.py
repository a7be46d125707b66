"""The newer periodic jobs (payments, fund, bookings, ratings, supervision: everything registered in
server.jobs) across processes, on PostgreSQL + Redis: two `python -m server worker` processes with
QUEUE_URL and JOB_PERIOD_SECONDS (every job comes round in seconds), one of them SIGKILLed mid-run.
One shared world: expired payment orders, a refund WeChat Pay finished without telling us, overdue
bills, booking holds that ran out, fund accounts below their top-up threshold, an outbox to deliver.
Each unit of work is done once, nothing is lost, every job keeps running."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from bookings import booking as bookings
from bookings import catalogue as services
from bookings import providers
from bookings.models import Booking, BookingEvent, ServiceHours, Slot
from core import clock
from core.cache import Cache
from fund import ledger, subaccounts
from fund.rules import BuildingType, EntryKind
from notify import catalogue, sender, service
from notify.models import JobState, Notification, State
from payments import billing, claims, orders, refunds
from payments.models import PaymentOrder, RefundRecord
from server import jobs
from tests.bookings.conftest import ALL_DAY, terms, tomorrow_at
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
TOP_UP = catalogue.BY_EVENT["fund.topup_due"].template_id
HOLDERS = ("resident", "neighbour", "committee")  # of units 0, 1, 2: one lapsed booking hold each
SHORT = ("owner", "committee")  # owners of units 0 and 2: their fund accounts are below 30 %


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
        # three booking holds that ran out unpaid (booking_holds expires them and frees their places)
        holds = await _lapsed_holds(fees)
        # two units' fund accounts below 30 % of their first deposit (fund_top_ups tells their owners)
        await _short_fund_accounts(fees)
        for who in SHORT:
            await service.record_consent(fees.uid(who), {TOP_UP: "accept"}, [TOP_UP])

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
                expired=await Booking.filter(id__in=holds, state="expired").count(),
                top_ups=await Notification.filter(event="fund.topup_due").count(),
                unfinished=await _unfinished(),
            )
            return progress == {
                "closed": 2, "refunded": True, "overdue": 3, "expired": 3, "top_ups": 2, "unfinished": 0
            }  # fmt: skip

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
        expiries = await BookingEvent.filter(booking_id__in=holds, action="expire").values_list(
            "booking_id", flat=True
        )
        assert sorted(expiries) == sorted(holds)  # each hold expired once
        taken = await Slot.filter(id__in=await _slots(holds)).values_list("taken", flat=True)
        assert list(taken) == [0, 0, 0]  # each place given back once
        top_ups = await Notification.filter(event="fund.topup_due").values_list("user_id", flat=True)
        assert sorted(top_ups) == sorted(fees.uid(w) for w in SHORT)
        sent = await Notification.filter(state=State.SENT).count()
        interrupted = await Notification.filter(state=State.FAILED, last_error=sender.INTERRUPTED).count()
        assert sent + interrupted == 9 and interrupted <= sender.CONCURRENCY
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


async def _lapsed_holds(world: Fees) -> list[int]:
    """A paid service of the company's provider, a hold of it for each of HOLDERS (through the
    bookings service, as a resident's request makes it), each hold run out a second ago."""
    provider = await providers.provider_of_company(world.company.id)
    offered = await services.publish(
        ACTOR, provider, compound_id=world.compound.id, terms=terms(), user_id=world.uid("property_staff")
    )
    for weekday, start, end in ALL_DAY:
        await ServiceHours.create(service_id=offered.id, weekday=weekday, start_minute=start, end_minute=end)
    ids = []
    for n, who in enumerate(HOLDERS):
        held = await bookings.book(
            bookings.NewBooking(offered.id, world.units[n].id, tomorrow_at(10 + n)), user_id=world.uid(who)
        )
        assert held.state.value == "held", held.state
        ids.append(held.id)
    await Booking.filter(id__in=ids).update(hold_expires_at=clock.now() - timedelta(seconds=1))
    return ids


async def _slots(booking_ids: list[int]) -> list[int]:
    return [int(str(i)) for i in await Booking.filter(id__in=booking_ids).values_list("slot_id", flat=True)]


async def _short_fund_accounts(world: Fees) -> None:
    """Sub-accounts for the compound's units, each first deposit paid by the developer, then 80 %
    of the first deposit of units 0 and 2 used."""
    await subaccounts.set_rate(
        ACTOR, building_type=BuildingType.NO_LIFT, fen_per_m2=Decimal(5000),
        effective_from=date(2020, 1, 1), user_id=world.uid("supervisor"),
    )  # fmt: skip
    building_id = world.units[0].building_id  # type: ignore[attr-defined]
    await subaccounts.open_accounts(
        ACTOR,
        compound_id=world.compound.id,
        buildings={building_id: BuildingType.NO_LIFT},
        on=date(2024, 1, 1),
    )
    for n, unit in enumerate(world.units):
        account = await subaccounts.account_of_unit(unit.id)
        await subaccounts.record_developer_deposit(
            ACTOR, unit_id=unit.id, voucher=f"V{unit.id:06d}", amount_fen=account.first_deposit_fen
        )
        if n in (0, 2):
            used = ledger.NewEntry(
                f"test-use:{account.id}", EntryKind.USE, account.id, -account.first_deposit_fen * 8 // 10
            )
            await ledger.append(world.compound.id, [used], actor="test")


async def _any_sent() -> bool:
    return await Notification.filter(state=State.SENT).exists()


async def _all_ran_since(moment) -> bool:  # type: ignore[no-untyped-def]
    names = {job.name for job in jobs.PERIODIC}
    done = await JobState.filter(name__in=names, last_finished_at__gt=moment).count()
    return done == len(names)


async def _job_states() -> list[tuple[str, int, int, str | None]]:
    return [(s.name, s.runs, s.total_failures, s.last_error) for s in await JobState.all().order_by("name")]
