"""The command line as a newcomer uses it: migrate, seed-demo (idempotent), serve, audit verify."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from server.__main__ import WORKER_START_SECONDS
from server.db import tortoise_config
from tests.conftest import free_port, run_cli


def _env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}", "REDIS_URL": "", "APP_ENV": "development"}


def test_migrate_seed_and_verify_from_nothing(tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert run_cli("migrate", env=env).returncode == 0
    first = run_cli("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "demo data loaded: 336 new rows" in first.stdout and "8 demo notices" in first.stdout
    assert "fund: 36 sub-accounts opened" in first.stdout and "ratings: 2 templates" in first.stdout
    assert "demo life services: 3 published" in first.stdout
    again = run_cli("seed-demo", env=env)
    assert "demo data loaded: 0 new rows" in again.stdout and "0 demo notices" in again.stdout
    assert "fund: 0 sub-accounts opened" in again.stdout and "ratings: 0 templates" in again.stdout
    skipped = run_cli("seed-demo", "--if-empty", env=env)
    assert "not loaded" in skipped.stdout
    assert run_cli("migrate", env=env).returncode == 0  # applying twice is a no-op
    verified = run_cli("audit", "verify", env=env)
    assert (
        verified.returncode == 0
        # county (demo price bands), compounds, fund ledgers per compound, bookings, the inspection
        and verified.stdout.startswith("OK: 10 streams,")
        and "every chain intact" in verified.stdout
    )


def test_production_refuses_to_start_and_names_the_secret(tmp_path: Path) -> None:
    result = run_cli("migrate", env={**_env(tmp_path), "APP_ENV": "production", "WECHAT_MODE": "real"})
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "HMAC_KEY" in result.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_health_with_no_other_service(tmp_path: Path, workers: int) -> None:
    env = {**os.environ, **_env(tmp_path)}
    port = free_port()
    subprocess.run([sys.executable, "-m", "server", "migrate"], env=env, check=True, capture_output=True)
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),  # a file, not a pipe: a pipe could be held open by a stray worker
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS  # what the server itself allows its workers
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "server exited at start"
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)
        assert response.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5)
        assert ready.json() == {"status": "ready", "database": True, "cache": True, "queue": "in_process"}
        # Sanic's worker manager hangs if stopped before every worker has reported ready (seen with
        # 25.12), so stop only once all of them have.
        while log.read_text().count("Worker ready") < workers:
            assert time.monotonic() < deadline, "workers did not all report ready"
            time.sleep(0.1)
        # "Worker ready" is the worker's line; the manager takes the worker's acknowledgement after it,
        # and a SIGTERM before the manager has every one makes it kill the workers and exit 1
        time.sleep(3)
    finally:
        proc.send_signal(signal.SIGTERM)  # what a process manager sends
        try:
            proc.wait(timeout=60)  # about 2 s on a quiet machine; a loaded one is many times slower
        except subprocess.TimeoutExpired:
            proc.kill()
            tail = "\n".join(log.read_text().splitlines()[-15:])
            raise AssertionError(f"server did not stop on SIGTERM; its log ends:\n{tail}") from None
    assert proc.returncode == 0, "\n".join(log.read_text().splitlines()[-25:])


async def test_committed_migrations_match_the_models(database: str) -> None:
    """A model change without its migration fails here, not in production."""
    config = tortoise_config(database)
    detector = MigrationAutodetector(Tortoise.apps, config["apps"])
    writers = await detector.changes()
    assert writers == [], "models changed: run `python -m server makemigrations --name <what>`"
    await asyncio.sleep(0)
