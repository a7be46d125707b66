"""The voting suite's world (a compound with verified owners and a committee) serves here too, and a
scratch database beside the suite's for restores and upgrades (PostgreSQL: `<name>_restore`, created
fresh and dropped by the test; SQLite: a file of the test's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.voting.conftest import World, world

__all__ = ["World", "scratch_database", "world"]


def _admin_and_name(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_restore"
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query="")), name


@pytest.fixture
async def scratch_database(tmp_path: Path) -> AsyncIterator[Callable[[], str]]:
    """A function giving the URL of an empty scratch database (the same one each call within a test)."""
    created: list[str] = []

    def make() -> str:
        if not ON_POSTGRES:
            return f"sqlite://{tmp_path / 'scratch.sqlite3'}"
        _, name = _admin_and_name(DATABASE_URL)
        created.append(name)
        return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{name}", query=""))

    if ON_POSTGRES:
        admin, name = _admin_and_name(DATABASE_URL)
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
    yield make
    if ON_POSTGRES:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
