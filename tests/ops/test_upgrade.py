"""Upgrading: a database made by the previous release (its own code, migrations and demo data, taken
from git) is brought to the current heads by `python -m server migrate`; `check` reports the pending
migrations before and none after; no row of any table is lost and every audit chain still verifies."""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from server.db import APPS
from server.ops.backup import is_postgres, libpq_env, sqlite_path

ROOT = Path(__file__).resolve().parents[2]
# The commit a county runs today; moved forward at each release (README: Running in production).
PREVIOUS_RELEASE = "6b120eeddc91ca906c25fdc0d4b4904621537a09"


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)


def _cli(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


async def _counts(url: str) -> dict[str, int]:
    if is_postgres(url):
        env = libpq_env(url)
        conn = await asyncpg.connect(
            host=env["PGHOST"], port=int(env["PGPORT"]), user=env["PGUSER"], database=env["PGDATABASE"]
        )
        try:
            tables = [
                r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            ]
            return {t: int(await conn.fetchval(f'SELECT count(*) FROM "{t}"')) for t in tables}
        finally:
            await conn.close()
    conn = sqlite3.connect(sqlite_path(url))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
            for t in tables
            if t != "sqlite_sequence"
        }
    finally:
        conn.close()


async def test_upgrade_from_the_previous_release_keeps_every_row(
    tmp_path: Path, scratch_database: Callable[[], str]
) -> None:
    archive = _git("archive", "--format=tar", PREVIOUS_RELEASE)
    if archive.returncode != 0:
        pytest.skip(f"the previous release {PREVIOUS_RELEASE[:7]} is not in this clone's history")
    previous = tmp_path / "previous"
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(previous, filter="data")
    url = scratch_database()
    env: dict[str, Any] = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))},
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "MEDIA_DIR": str(tmp_path / "media"),
    }

    # given the previous release's schema and demo county, written by that release's own code
    for step in (("migrate",), ("seed-demo",)):
        done = await asyncio.to_thread(_cli, previous, env, *step)
        assert done.returncode == 0, done.stderr[-3000:]
    before = await _counts(url)
    assert before["owner"] > 0 and before["audit_event"] > 0

    # when the operator checks, then migrates with the current code
    pending = await asyncio.to_thread(_cli, ROOT, env, "check")
    assert pending.returncode == 1, pending.stdout + pending.stderr
    assert "PENDING" in pending.stdout and "apply models.0006_organisations_proxies" in pending.stdout
    assert (await asyncio.to_thread(_cli, ROOT, env, "migrate")).returncode == 0

    # then nothing is pending, no row is lost, every chain verifies
    current = await asyncio.to_thread(_cli, ROOT, env, "check")
    assert current.returncode == 0, current.stdout + current.stderr
    assert current.stdout.startswith("OK:")
    after = await _counts(url)
    assert {t: after[t] for t in before if t != "tortoise_migrations"} == {
        t: n for t, n in before.items() if t != "tortoise_migrations"
    }
    applied = after["tortoise_migrations"] - before["tortoise_migrations"]
    assert applied == sum(
        len([p for p in (ROOT / package.replace(".", "/")).glob("0*.py")]) for _, package in APPS.values()
    ) - sum(1 for p in previous.rglob("migrations/0*.py"))
    verified = await asyncio.to_thread(_cli, ROOT, env, "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("OK:"), verified.stdout
