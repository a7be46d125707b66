"""The operator's commands as an operator runs them (subprocesses, a scratch SQLite file): check
reports pending migrations until migrate has run; backup and restore answer with their exit status
and say why they refuse."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.conftest import run_cli


async def test_check_migrate_backup_restore_from_the_command_line(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TEST_")},
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite://{tmp_path / 'ops.sqlite3'}",
        "MEDIA_DIR": str(tmp_path / "media"),
    }

    async def cli(*args: str, **override: str):  # type: ignore[no-untyped-def]
        return await asyncio.to_thread(run_cli, *args, env={**env, **override})

    pending = await cli("check")
    assert pending.returncode == 1
    assert pending.stdout.startswith("PENDING:") and "  apply models.0001_initial" in pending.stdout
    assert (await cli("migrate")).returncode == 0
    current = await cli("check")
    assert (current.returncode, current.stdout.strip()) == (
        0,
        "OK: configuration valid, database schema current (no pending migrations)",
    )

    (tmp_path / "media" / "public").mkdir(parents=True)
    (tmp_path / "media" / "public" / "a.jpg").write_bytes(b"\xff\xd8jpeg")
    made = await cli("backup", str(tmp_path / "b1"))
    assert made.returncode == 0, made.stderr
    assert "sqlite database, 1 media files (6 bytes)" in made.stdout
    again = await cli("backup", str(tmp_path / "b1"))
    assert again.returncode == 1 and "is not empty" in again.stderr

    over = await cli("restore", str(tmp_path / "b1"))
    assert over.returncode == 1 and "refusing to restore over data" in over.stderr
    (tmp_path / "b1" / "media" / "public" / "a.jpg").write_bytes(b"\xff\xd8JPEG")
    elsewhere = {"DATABASE_URL": f"sqlite://{tmp_path / 'new.sqlite3'}", "MEDIA_DIR": str(tmp_path / "m2")}
    tampered = await cli("restore", str(tmp_path / "b1"), **elsewhere)
    assert tampered.returncode == 1
    assert "media/public/a.jpg: checksum does not match the manifest" in tampered.stderr
    assert not (tmp_path / "new.sqlite3").exists() and not (tmp_path / "m2").exists()
