"""Issue 11, item 6: what is not a fault is not logged as one. A client that goes away before its
answer is no error (it was logged as an unhandled one, hiding the real ones), nor is a request
cut short by the server's own shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sanic import Request, Sanic
from tortoise.transactions import in_transaction

from tests.conftest import free_port
from tests.voting.conftest import World, world  # noqa: F401  (the fixture, from tests/voting)
from voting.models import Ballot
from voting.sealing import SEAL_LOCK_CLASS


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def _until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_a_client_leaving_before_its_answer_is_not_logged_as_an_error(
    world: World,  # noqa: F811
    serve,
    caplog: pytest.LogCaptureFixture,
) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owner = (await world.on_roll(motion_id))[0]
    cast = await world.cast(motion_id, owner, {str(item): "agree"})
    assert cast.status_code == 201
    arrived = asyncio.Event()

    def notice_arrivals(app: Sanic) -> None:
        @app.on_request
        async def arrive(request: Request) -> None:
            if request.path.endswith("/export"):
                arrived.set()

    server = await serve(customise=notice_arrivals, background=False)
    # "wuye" does not propagate to the root logger (server.app.configure_logging); sanic's loggers do.
    wuye = logging.getLogger("wuye")
    wuye.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="wuye")
    caplog.set_level(logging.DEBUG)
    try:
        # The export seals first; holding the sealing (a transaction: on SQLite the process's one
        # connection, on PostgreSQL the motion's advisory lock too) keeps the handler waiting inside.
        async with in_transaction() as conn:
            if conn.capabilities.dialect == "postgres":
                await conn.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [SEAL_LOCK_CLASS, motion_id])
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"GET /api/v1/motions/{motion_id}/export HTTP/1.1\r\nhost: test\r\n"
                f"authorization: {world.chair['authorization']}\r\n\r\n".encode()
            )
            await writer.drain()
            await asyncio.wait_for(arrived.wait(), 10)
            await asyncio.sleep(0.3)  # into the handler, waiting for the sealing
            writer.close()  # the client goes away before the answer
            await writer.wait_closed()
            await _until(
                lambda: any(r.getMessage() == "request cancelled" for r in caplog.records),
                "the server noticed the client leaving",
            )
        # The abandoned handler left nothing held: the same server seals and exports.
        exported = await world.api.get(f"{server.url}/api/v1/motions/{motion_id}/export", headers=world.chair)
    finally:
        wuye.removeHandler(caplog.handler)

    assert exported.status_code == 200, exported.text
    assert [b["batch"] for b in exported.json()["ballots"]] == [1]
    assert await Ballot.filter(motion_id=motion_id, batch_id=None).count() == 0
    cancelled = [r for r in caplog.records if r.getMessage() == "request cancelled"]
    assert [(r.name, r.levelno) for r in cancelled] == [("wuye.errors", logging.DEBUG)]
    assert _errors(caplog) == []
    assert reader.at_eof() or not await reader.read()  # no answer was written to a gone client


def test_sigterm_while_requests_wait_is_not_logged_as_an_error(tmp_path: Path) -> None:
    """`python -m server serve` stopped by a process manager while requests wait on the database: the
    requests cut short by shutdown are no error, and nothing at all is logged at ERROR (the issue saw
    "Handler produced no response" there). With a 1 s grace Sanic aborts the waiting connections."""
    database = tmp_path / "serve.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{database}",
        "REDIS_URL": "",
        "APP_ENV": "development",
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",  # then shutdown cancels the handlers still waiting
    }
    subprocess.run([sys.executable, "-m", "server", "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while "Worker ready" not in log.read_text() or not _answers(f"{url}/health"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        assert httpx.get(f"{url}/api/v1/communities", timeout=5).status_code == 200
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")  # every write of the server now waits for the lock (WAL)
        with ThreadPoolExecutor(8) as pool:
            # A first login creates the user and its session: writes.
            waiting = [pool.submit(_login, url, f"test:waiting-{n}") for n in range(8)]
            time.sleep(0.5)  # the requests are in their handlers, waiting on the database
            assert not any(f.done() for f in waiting)
            proc.send_signal(signal.SIGTERM)
            outcomes = [f.result() for f in waiting]
        blocker.execute("ROLLBACK")
        blocker.close()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert proc.returncode == 0, text
    # Each cut-short request got the shutdown answer or lost its connection; none got a 500.
    assert set(outcomes) <= {503, "disconnected"}, outcomes
    loud = [line for line in text.splitlines() if re.search(r"\b(ERROR|CRITICAL)\b|Traceback", line)]
    assert loud == [], text
    assert "Handler produced no response" not in text or all(
        " INFO" in line for line in text.splitlines() if "Handler produced no response" in line
    )


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _login(url: str, code: str) -> int | str:
    try:
        return httpx.post(f"{url}/api/v1/auth/login", json={"code": code}, timeout=30).status_code
    except httpx.TransportError:
        return "disconnected"
