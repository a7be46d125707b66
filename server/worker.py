"""`python -m server worker`: the process that runs the periodic jobs (server.jobs) on the queue.

With QUEUE_URL it runs an arq worker (restarted after a lost Redis; the jobs' work waits in the
database meanwhile); without one it runs the in-process clock, as a web worker would."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from config.settings import Settings
from core.cache import Cache
from server import db, jobs, pay
from wechat import WeChatApi, WeChatClient
from wechat.fake import FakeWeChat

log = logging.getLogger("wuye.worker")
RESTART_SECONDS = 1.0


async def _wechat(settings: Settings, cache: Cache) -> tuple[WeChatApi, FakeWeChat | None]:
    fake = None
    base_url = settings.wechat_api_base
    if settings.wechat_mode == "fake":
        fake = FakeWeChat(settings.wechat_app_id, settings.wechat_app_secret)
        base_url = await fake.start()
    client = WeChatClient(settings.wechat_app_id, settings.wechat_app_secret, cache, base_url=base_url)
    return client, fake


async def run(settings: Settings, *, stop: asyncio.Event | None = None, freeze_heap: bool = False) -> None:
    from arq.worker import Worker

    from core.cache import make_cache
    from server import app as server_app
    from server.app import configure_logging

    configure_logging()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    cache = make_cache(settings.redis_url)
    server_app.apply_template_ids(settings)  # the same template ids as the web workers
    jobs.override_periods(settings.job_period_seconds)
    await db.init_db(settings.database_url, pool_max=settings.db_pool_max)
    wechat, fake = await _wechat(settings, cache)
    # A worker in fake mode has no WeChat Pay: its own fake would know none of the web workers' orders
    # (those web workers' clocks expire them); in real mode it closes expired orders itself.
    wechat_pay = pay.real_client(settings, cache, "") if settings.wechat_pay_mode == "real" else None
    ctx = jobs.JobContext(wechat, wechat_pay)
    if freeze_heap:  # `python -m server worker`: what start-up loaded stays out of full collections
        from server import heap

        heap.freeze()
    try:
        while not stop.is_set():
            if settings.queue_url:

                async def make_context() -> jobs.JobContext:
                    return ctx

                worker = Worker(**jobs.worker_settings(settings.queue_url, make_context))
                runner = asyncio.create_task(worker.async_run())
            else:
                runner = asyncio.create_task(jobs.clock_loop(ctx, tick=lambda: server_app.CLOCK_SECONDS))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if settings.queue_url:
                with contextlib.suppress(Exception):
                    await worker.close()
            runner.cancel()
            with contextlib.suppress(BaseException):
                await runner
            if not stop.is_set():  # the worker died (Redis went away): start another in a moment
                log.warning("job worker stopped; restarting in %.0f s", RESTART_SECONDS)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RESTART_SECONDS)
    finally:
        await wechat.aclose()
        if wechat_pay is not None:
            await wechat_pay.aclose()
        if fake is not None:
            await fake.stop()
        await cache.close()
        await db.close_db()
