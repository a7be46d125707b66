"""Every registered periodic job survives a single failure (issue 11 for the clock, issue 16 for the
worker): each job's real function fails once, the scheduler keeps going, the next period runs it for
real (against WeChat and WeChat Pay fakes), and supervisors see the failure with its error."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import replace
from typing import Any

import pytest

from core.cache import Cache
from notify.models import JobState
from server import jobs
from tests.conftest import REDIS_URL
from tests.payments.conftest import SP_APPID, SP_MCHID, pay_keys  # noqa: F401
from wechat import WeChatClient
from wechat.fake import FakeWeChat
from wechat.pay.client import WeChatPayClient
from wechat.pay.fake import FakeWeChatPay

APP_ID, SECRET = "wx0000000000000000", "fake-wechat-secret"


@pytest.fixture
async def context(cache: Cache, pay_keys) -> AsyncIterator[jobs.JobContext]:  # type: ignore[no-untyped-def]  # noqa: F811
    wechat_fake = FakeWeChat(APP_ID, SECRET)
    merchant, platform, stranger = pay_keys
    pay_fake = FakeWeChatPay(SP_MCHID, SP_APPID, merchant=merchant, platform=platform, wrong_key=stranger)
    wechat = WeChatClient(APP_ID, SECRET, cache, base_url=await wechat_fake.start())
    await pay_fake.start()
    pay = WeChatPayClient(**pay_fake.client_options(), notify_url="http://127.0.0.1:9/notify", cache=cache)
    yield jobs.JobContext(wechat, pay)
    await pay.aclose()
    await wechat.aclose()
    await pay_fake.stop()
    await wechat_fake.stop()


def _failing_once(job: jobs.PeriodicJob, calls: dict[str, int]) -> jobs.PeriodicJob:
    async def run(ctx: jobs.JobContext) -> object:
        calls[job.name] = calls.get(job.name, 0) + 1
        if calls[job.name] == 1:
            raise RuntimeError(f"{job.name} broke once")
        return await job.run(ctx)

    return replace(job, run=run)


@pytest.fixture
def failing_jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    calls: dict[str, int] = {}
    monkeypatch.setattr(jobs, "PERIODIC", [_failing_once(job, calls) for job in jobs.PERIODIC])
    jobs.override_periods(1)
    yield calls
    jobs.override_periods(None)


async def _each_ran_after_failing(deadline: float) -> list[JobState]:
    names = {job.name for job in jobs.PERIODIC}
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while loop.time() < end:
        states = await JobState.filter(name__in=names, total_failures=1, failures=0, runs__gte=2)
        if len(states) == len(names):
            return states
        await asyncio.sleep(0.2)
    raise AssertionError({s.name: (s.runs, s.failures, s.last_error) for s in await JobState.all()})


async def _run_until_done(scheduler: Callable[[], Coroutine[Any, Any, None]], calls: dict[str, int]) -> None:
    task = asyncio.get_running_loop().create_task(scheduler())
    try:
        states = await _each_ran_after_failing(30)
        assert not task.done()  # the scheduler is still running: no failure stopped it
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for state in states:
        assert state.last_error == f"RuntimeError: {state.name} broke once"
    assert set(calls) == {job.name for job in jobs.PERIODIC} and min(calls.values()) >= 2


async def test_the_in_process_clock_survives_a_single_failure_of_every_job(
    clean_db: None, context: jobs.JobContext, failing_jobs: dict[str, int]
) -> None:
    await _run_until_done(lambda: jobs.clock_loop(context, tick=lambda: 0.2), failing_jobs)


@pytest.mark.skipif(not REDIS_URL, reason="the arq worker needs Redis")
async def test_the_arq_worker_survives_a_single_failure_of_every_job(
    clean_db: None, context: jobs.JobContext, failing_jobs: dict[str, int]
) -> None:
    from arq.worker import Worker

    from tests.server.test_jobs_processes import _flush_queue

    assert REDIS_URL is not None
    await _flush_queue(REDIS_URL)

    async def make_context() -> jobs.JobContext:
        return context

    worker = Worker(**jobs.worker_settings(REDIS_URL, make_context))

    async def run() -> None:
        try:
            await worker.async_run()
        finally:
            await worker.close()

    await _run_until_done(run, failing_jobs)
