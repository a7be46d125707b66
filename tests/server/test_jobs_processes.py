"""Jobs across processes, on PostgreSQL + Redis: two web workers and two job workers
(`python -m server worker` with QUEUE_URL) - each periodic job runs once per period, every outbox row
is delivered once though a job worker is killed mid-run, and Redis stopped for 10 s while events
happen loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from accounts.models import User
from notify import catalogue, sender, service
from notify.models import Consent, JobState, Notification, State
from server import app as server_app
from server import jobs
from tests.conftest import ON_POSTGRES, REDIS_URL, free_port
from tests.server.test_faults import _wait_for_port, own_redis  # noqa: F401 (a fixture)
from wechat.fake import FakeWeChat

pytestmark = pytest.mark.skipif(
    not (ON_POSTGRES and REDIS_URL), reason="processes share the database and the queue: PostgreSQL + Redis"
)
APP_ID, SECRET = "wx0000000000000000", "fake-wechat-secret"
OPENING = catalogue.BY_EVENT["motion.opening"].template_id


def _env(database_url: str, queue_url: str, fake: FakeWeChat, **extra: str) -> dict[str, str]:
    assert fake.base_url is not None
    return {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "QUEUE_URL": queue_url,
        "WECHAT_MODE": "real",
        "WECHAT_API_BASE": fake.base_url,
        "WECHAT_APP_ID": APP_ID,
        "WECHAT_APP_SECRET": SECRET,
        "MIN_ANNOUNCE_DAYS": "0",
        **extra,
    }


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        # a session of its own: Sanic's worker manager signals its whole process group when it stops;
        # what it logs goes to a file of its own, which a failing check shows (_serving)
        log = (tmp_path / f"{len(started)}-{args[0]}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        proc.log = Path(log.name)  # type: ignore[attr-defined]
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # What a killed or stuck manager left behind (its web workers, in its session's group) would
        # outlive the test and the run.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    server = FakeWeChat(APP_ID, SECRET)
    await server.start()
    yield server
    await server.stop()


async def _flush_queue(url: str) -> None:
    client = aioredis.from_url(url)
    # arq's keys, and the queue itself: entries a previous test left would name jobs whose keys are gone
    keys = [k async for k in client.scan_iter("arq:*")] + [jobs.QUEUE_NAME]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def _users_with_consent(n: int) -> list[int]:
    await User.bulk_create([User(openid=f"o-{k}") for k in range(n)])
    ids = [u.id for u in await User.filter(openid__in=[f"o-{k}" for k in range(n)])]
    for uid in ids:
        await service.record_consent(uid, {OPENING: "accept"}, [OPENING])
    assert len(ids) == n
    return ids


async def _enqueue(user_ids: list[int], motion: int) -> None:
    from datetime import UTC, datetime

    params = {"motion_id": motion, "title": "表决", "closes_at": datetime(2026, 12, 20, tzinfo=UTC)}
    await service.enqueue("motion.opening", subject=f"motion:{motion}", user_ids=user_ids, params=params)


async def _until(check: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():  # type: ignore[misc]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("timed out")


async def _serving(port: int, server: subprocess.Popen[bytes], seconds: float) -> dict[str, object]:
    """/ready's answer once it is 200 (within ``seconds``; a web worker still starting, on a loaded
    host, leaves the connection waiting in the listen queue), else the server's log in the failure."""
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                ready = await http.get("/ready")
                if ready.status_code == 200:
                    return dict(ready.json())
            await asyncio.sleep(0.5)
    log = server.log.read_text(errors="replace")  # type: ignore[attr-defined]
    raise AssertionError(
        f"/ready not 200 within {seconds} s (exit code {server.poll()}); its log:\n{log[-4000:]}"
    )


async def _unfinished() -> int:
    return await Notification.filter(state__in=[State.PENDING, State.CLAIMED, State.SENDING]).count()


async def test_two_web_and_two_job_workers_run_each_job_once_per_period_and_deliver_each_row_once(
    clean_db: None, database_url: str, fake: FakeWeChat, processes
) -> None:  # type: ignore[no-untyped-def]
    queue_url = REDIS_URL
    await _flush_queue(queue_url)
    users = await _users_with_consent(100)
    for motion in range(4):
        await _enqueue(users, motion)  # 400 rows waiting before anything runs
    env = _env(database_url, queue_url, fake)
    port = free_port()
    web = processes("serve", "--workers", "2", "--port", str(port), env=env)
    started = time.time()
    first = processes("worker", env=env)
    processes("worker", env=env)

    # five processes start first: slow on a loaded machine
    await _until(lambda: Notification.filter(state=State.SENT).exists(), 60)
    up = time.time()  # the workers are running jobs
    first.kill()  # mid-run: SIGKILL, no clean-up
    first.wait()
    processes("worker", env=env)  # a replacement, as a supervisor would start
    await _until(lambda: _unfinished_is(0), 40)
    await asyncio.sleep(server_app.CLOCK_SECONDS * 2)  # a few more periods with everything idle
    ended = time.time()

    sent = await Notification.filter(state=State.SENT).count()
    interrupted = await Notification.filter(state=State.FAILED, last_error=sender.INTERRUPTED).count()
    assert sent + interrupted == 400
    assert interrupted <= sender.CONCURRENCY  # only what the killed worker was sending at that instant
    received = Counter((m.openid, m.page) for m in fake.sent_messages)
    assert max(received.values()) == 1  # never twice
    assert sent <= len(received) <= sent + interrupted

    periods = int(ended // server_app.CLOCK_SECONDS) - int(started // server_app.CLOCK_SECONDS) + 1
    periods_up = int(ended // server_app.CLOCK_SECONDS) - int(up // server_app.CLOCK_SECONDS) + 1
    states = {s.name: s for s in await JobState.all()}
    registered = {job.name: job for job in jobs.PERIODIC}
    on_the_clock = {name for name, job in registered.items() if job.every is None}
    assert on_the_clock <= set(states) <= set(registered)  # a job with a longer period may not be due yet
    for state in states.values():
        every = registered[state.name].every
        if every is None:
            # at most one run per period (the database claim), and hardly a period missed once the workers
            # were up (the one the kill cut short; a run that outlasts its period on a loaded machine)
            assert periods_up - 3 <= state.runs <= periods, (state.name, state.runs, periods_up, periods)
        else:
            assert state.runs <= int(ended // every) - int(started // every) + 1, (state.name, state.runs)
        assert state.failures == 0, state.last_error
    # two web workers, three job workers and this test on two cores: /ready may wait its turn
    assert (await _serving(port, web, 60))["queue"] == "up"


async def _unfinished_is(n: int) -> bool:
    return await _unfinished() == n


OUTAGE_SECONDS = 10.0  # issue 16: "Redis stopped for 10 s while events happen"
EVENT_EVERY = 0.5


async def _users_with_counted_consent(n: int, accepts: int) -> list[int]:
    """Users who each accepted the template ``accepts`` times (no "always"): one send per accept."""
    await User.bulk_create([User(openid=f"c-{k}") for k in range(n)])
    ids = [u.id for u in await User.filter(openid__in=[f"c-{k}" for k in range(n)])]
    for uid in ids:
        for _ in range(accepts):
            await service.record_consent(uid, {OPENING: "accept"})
    assert await Consent.filter(user_id__in=ids, template_id=OPENING, remaining=accepts).count() == n
    return ids


async def test_redis_stopped_for_10_s_while_events_happen_loses_nothing(
    clean_db: None,
    database_url: str,
    fake: FakeWeChat,
    processes,
    own_redis,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    port, redis_procs = own_redis
    queue_url = f"redis://127.0.0.1:{port}/0"
    during = int(OUTAGE_SECONDS / EVENT_EVERY)  # events while Redis is down: one every 0.5 s
    # each user gets one event before the outage and ``during`` in it: exactly that many accepts, so
    # every row can be sent, and a row sent twice (or not at all) shows in what is left
    users = await _users_with_counted_consent(20, accepts=1 + during)
    processes("worker", env=_env(database_url, queue_url, fake))
    await _enqueue(users, 1)
    await _until(lambda: _unfinished_is(0), 60)  # the worker is up and relaying
    assert await Notification.filter(state=State.SENT).count() == 20

    redis_procs[-1].kill()
    redis_procs[-1].wait()
    stopped = time.monotonic()
    for k in range(during):  # events happen the whole time: their rows wait in the database
        await asyncio.sleep(max(0.0, stopped + k * EVENT_EVERY - time.monotonic()))
        await _enqueue(users, 2 + k)
    last_event = time.monotonic() - stopped
    await asyncio.sleep(max(0.0, stopped + OUTAGE_SECONDS - time.monotonic()))
    assert await _unfinished() == 20 * during  # nothing went out (or was lost) while Redis was down
    assert await Notification.filter(state=State.SENT).count() == 20
    redis_procs.append(
        subprocess.Popen(  # noqa: ASYNC220
            ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
    )
    outage = time.monotonic() - stopped
    assert outage >= OUTAGE_SECONDS and last_event >= OUTAGE_SECONDS - 2 * EVENT_EVERY, (outage, last_event)
    await _wait_for_port(port)
    await _until(lambda: _unfinished_is(0), 90)

    total = 20 * (1 + during)
    assert await Notification.all().count() == total
    assert await Notification.filter(state=State.SENT).count() == total  # none failed, none unconsented
    received = Counter((m.openid, m.page) for m in fake.sent_messages)
    assert len(received) == total and max(received.values()) == 1  # every row delivered exactly once
    assert len(fake.sent_messages) == total
    left = await Consent.filter(user_id__in=users, template_id=OPENING).values_list("remaining", flat=True)
    assert sorted(left) == [0] * 20  # each accept spent by exactly one send
