"""Work that runs by itself, as periodic jobs on a queue library (arq, on Redis).

PERIODIC is the registry: each job has a name, a period and a function of a JobContext. Other
packages' work joins it with ``periodic(...)`` here (payment-order and booking-hold expiry, billing
and reconciliation runs are added by their issues the same way).

Where they run is the settings' choice:
- QUEUE_URL set: `python -m server worker` processes run them (arq cron: every worker schedules, arq's
  unique job id per scheduled time lets one enqueue win, one worker executes); web workers run none.
- QUEUE_URL empty (the default, `make run`): every web worker runs them in process (server.app._clock).
Either way each run first claims its period in the database (notify.jobstate.claim_period, a
conditional UPDATE), so a job runs once per period however many schedulers there are, and its runs,
consecutive failures and last error are recorded where supervisors can see them.

Nothing is lost when Redis or a worker goes away: the work itself lives in the database (the outbox
rows, the motions, the complaints); a job that did not run this period runs the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from wechat.pay.protocol import WeChatPayApi
from wechat.protocol import WeChatApi

log = logging.getLogger("wuye.jobs")

QUEUE_NAME = "wuye:jobs"  # the arq queue (a Redis sorted set) every worker schedules into
JOB_TIMEOUT = 60.0  # a job stuck on the database is abandoned; the next period tries again
ALERT_FAILURES = 3  # consecutive failures from which a job is listed as failing for supervisors


@dataclass(frozen=True, slots=True)
class JobContext:
    wechat: WeChatApi
    wechat_pay: WeChatPayApi | None = None  # None: a worker without WeChat Pay skips payment jobs


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    run: Callable[[JobContext], Awaitable[object]]
    every: float | None = None  # seconds; None: the clock's period (server.app.CLOCK_SECONDS)

    def period_seconds(self) -> float:
        if _period_override:
            return _period_override[0]
        if self.every is not None:
            return self.every
        from server import app

        return float(app.CLOCK_SECONDS)


PERIODIC: list[PeriodicJob] = []
_period_override: list[float] = []  # JOB_PERIOD_SECONDS: one period for every job (tests, demos)


def override_periods(seconds: float | None) -> None:
    """Run every periodic job each ``seconds`` instead of its own period (None: their own). A worker
    applies JOB_PERIOD_SECONDS with it before it schedules anything."""
    if seconds is not None:
        _seconds_of_minute(seconds)  # refuses a period arq cron cannot schedule
    _period_override[:] = [] if seconds is None else [float(seconds)]


def periodic(
    name: str, every: float | None = None
) -> Callable[[Callable[[JobContext], Awaitable[object]]], Any]:
    """Register a periodic job (a decorator). Names are unique: they key the database's bookkeeping."""

    def register(run: Callable[[JobContext], Awaitable[object]]) -> Callable[[JobContext], Awaitable[object]]:
        if any(job.name == name for job in PERIODIC):
            raise ValueError(f"periodic job {name!r} is registered twice")
        PERIODIC.append(PeriodicJob(name, run, every))
        return run

    return register


# --- the jobs ----------------------------------------------------------------------------------------
# Each looks its function up when it runs (tests replace them), and each is idempotent or a guarded
# transition, so a run repeated after a crash does no harm.


@periodic("outbox")
async def _outbox(ctx: JobContext) -> object:
    from notify import sender

    return await sender.relay(ctx.wechat)


@periodic("motions")
async def _motions(ctx: JobContext) -> object:
    from voting import lifecycle

    return await lifecycle.tick()


@periodic("sealing")
async def _sealing(ctx: JobContext) -> object:
    from voting import sealing

    return await sealing.seal_open_motions()


@periodic("complaints")
async def _complaints(ctx: JobContext) -> object:
    from complaints import service

    return await service.run_periodic()


@periodic("ratings")
async def _ratings(ctx: JobContext) -> object:
    """Inspections past their objection period are finished, base credit records granted, and after
    each quarter its complaint-handling records and the draft of its red and black lists made."""
    from ratings import periodic as ratings_periodic

    return await ratings_periodic.run_periodic()


@periodic("payment_orders", every=60)
async def _payment_orders(ctx: JobContext) -> object:
    """Unpaid payment orders past their time are closed at WeChat Pay, then here."""
    if ctx.wechat_pay is None:
        return 0
    from payments import orders

    return await orders.expire_due(ctx.wechat_pay)


@periodic("refund_status", every=60)
async def _refund_status(ctx: JobContext) -> object:
    """Refunds WeChat Pay has not reported on a while after their request are queried there."""
    if ctx.wechat_pay is None:
        return 0
    from payments import refunds

    return await refunds.poll_processing(ctx.wechat_pay)


@periodic("trade_bills", every=60)
async def _trade_bills(ctx: JobContext) -> object:
    """Once WeChat Pay's bill of yesterday is ready (10:00 Beijing time), each payee's trade bill is
    downloaded and reconciled with the ledger, once per payee and day; a failed day is tried again."""
    if ctx.wechat_pay is None:
        return 0
    from payments import reconcile

    return await reconcile.run_daily(ctx.wechat_pay)


@periodic("bill_reminders", every=60)
async def _bill_reminders(ctx: JobContext) -> object:
    """Payers of unpaid bills past their due date are told once (notify's outbox)."""
    from payments import reminders

    return await reminders.notify_overdue()


@periodic("booking_holds", every=60)
async def _booking_holds(ctx: JobContext) -> object:
    """Holds that ran out unpaid give their places back (their payment orders closed), and money
    paid for a booking that no longer has a place goes back."""
    from bookings import payment

    return await payment.sweep(ctx.wechat_pay)


@periodic("booking_reminders", every=60)
async def _booking_reminders(ctx: JobContext) -> object:
    """Confirmed bookings are reminded before their slot, once per reminder (notify's outbox)."""
    from bookings import reminders

    return await reminders.send_due()


@periodic("fund_votes", every=60)
async def _fund_votes(ctx: JobContext) -> object:
    """Fund-use applications whose matter-5 motion's result became final move on (approved/rejected)."""
    from fund import periodic as fund_periodic

    return await fund_periodic.settle_votes()


@periodic("fund_top_ups", every=60)
async def _fund_top_ups(ctx: JobContext) -> object:
    """Once a day, owners of units below 30 % of their first deposit are told a top-up is due."""
    from core import clock
    from fund import periodic as fund_periodic

    return await fund_periodic.notify_top_ups_due(clock.to_local(clock.now()).date())


@periodic("fund_disclosures", every=60)
async def _fund_disclosures(ctx: JobContext) -> object:
    """From 1 January on, each compound's annual fund statement of the year that ended, once."""
    from core import clock
    from fund import periodic as fund_periodic

    return await fund_periodic.post_annual_disclosures(clock.to_local(clock.now()).date())


@periodic("fund_transfers", every=60)
async def _fund_transfers(ctx: JobContext) -> object:
    """Once an hour, units whose owners changed in the roster (a sale) get their transfer entry."""
    from fund import transfers

    return await transfers.run_hourly()


# --- running one ---------------------------------------------------------------------------------------


def current_period(job: PeriodicJob, now: float | None = None) -> int:
    return int((time.time() if now is None else now) // job.period_seconds())


async def run_claimed(job: PeriodicJob, ctx: JobContext, *, now: float | None = None) -> bool:
    """Run ``job`` if this caller wins its current period; False when another scheduler already had
    it. A failure is recorded (and re-raised for the caller to log); a cancellation propagates."""
    from notify import jobstate

    if not await jobstate.claim_period(job.name, current_period(job, now)):
        return False
    try:
        async with asyncio.timeout(JOB_TIMEOUT):
            await job.run(ctx)
    except Exception as exc:
        with contextlib.suppress(Exception):  # the database may be what failed
            await jobstate.finished(job.name, f"{type(exc).__name__}: {exc}")
        raise
    await jobstate.finished(job.name, None)
    return True


# --- the arq worker ----------------------------------------------------------------------------------


def _seconds_of_minute(every: float) -> set[int]:
    step = max(1, round(every))
    if 60 % step:
        raise ValueError(f"a period of {every} s does not divide the minute (arq cron schedules by second)")
    return set(range(0, 60, step))


def worker_settings(queue_url: str, make_context: Callable[[], Awaitable[JobContext]]) -> dict[str, Any]:
    """arq Worker keyword arguments: one cron job per registered periodic job."""
    from arq import cron
    from arq.connections import RedisSettings

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["job_context"] = await make_context()

    def arq_job(job: PeriodicJob) -> Callable[[dict[str, Any]], Awaitable[bool]]:
        async def run(ctx: dict[str, Any]) -> bool:
            return await run_claimed(job, ctx["job_context"])

        run.__qualname__ = run.__name__ = f"periodic_{job.name}"
        return run

    return {
        "functions": [],
        "cron_jobs": [
            # keep_result: a finished run's result key stops a slower scheduler from enqueuing the same
            # scheduled time again after the first run is already done
            cron(
                arq_job(job),  # type: ignore[arg-type]
                name=f"periodic:{job.name}",
                second=_seconds_of_minute(job.period_seconds()),
                keep_result=max(60.0, job.period_seconds() * 4),
                max_tries=1,
                timeout=JOB_TIMEOUT,
            )
            for job in PERIODIC
        ],
        "redis_settings": RedisSettings.from_dsn(queue_url),
        "queue_name": QUEUE_NAME,
        "on_startup": startup,
        "handle_signals": False,
        "poll_delay": 0.25,
        "max_jobs": 4,
    }


async def ping_queue(queue_url: str) -> bool:
    """The queue's Redis answers within two seconds (for /ready)."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(queue_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(await asyncio.wait_for(client.ping(), 2))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


# --- in process ----------------------------------------------------------------------------------------


async def clock_loop(ctx: JobContext, *, tick: Callable[[], float]) -> None:
    """Without a queue: every ``tick()`` seconds, each periodic job whose period this process wins.

    The loop survives any single failure: each job runs in its own task, in a copy of the context the
    loop started with (so nothing a failed job left behind, such as a transaction the ORM still
    believes open, reaches the next one), bounded in time, and its error is logged."""
    import contextvars

    pristine = contextvars.copy_context()
    me = asyncio.current_task()
    assert me is not None
    while True:
        await asyncio.sleep(tick())
        for job in list(PERIODIC):
            task = asyncio.get_running_loop().create_task(run_claimed(job, ctx), context=pristine.copy())
            try:
                await task
            except asyncio.CancelledError:
                task.cancel()
                raise
            except Exception:  # logged and recorded; the next period tries again
                log.exception("periodic job %s failed", job.name)
            # Cancelling the loop while it awaits a job cancels the job's task instead; a job that
            # finishes at that moment swallows the cancellation, and the loop would tick on for ever
            # (and the server's stop wait for it). A pending cancellation therefore stops it here.
            if me.cancelling():
                raise asyncio.CancelledError
