"""One suite, two backends: SQLite and the in-process cache by default; PostgreSQL and Redis when
TEST_DATABASE_URL / TEST_REDIS_URL are set (make test runs a second pytest process for those).

Everything shares one event loop (pytest-asyncio session scope), so fixtures, the real Sanic server
listening on a loopback port, and the real HTTP client all see the same database connections.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic
from tortoise import Tortoise, connections

from config.settings import Settings
from core.cache import Cache, MemoryCache, RedisCache
from server import db
from server.app import create_app

Sanic.test_mode = True

DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
REDIS_URL = os.environ.get("TEST_REDIS_URL") or ""
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "asyncpg://", "psql://"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DATABASE_URL:
        return DATABASE_URL
    return f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[str]:
    """The schema comes from the committed migrations, exactly as in production."""
    await db.migrate(database_url)
    await db.init_db(database_url, pool_max=30)
    yield database_url
    await db.close_db()


async def _table_names() -> list[str]:
    names = []
    for app in Tortoise.apps.values():
        for model in app.values():
            names.append(model._meta.db_table)
    return names


@pytest.fixture
async def clean_db(database: str) -> AsyncIterator[None]:
    """Each test starts from empty tables (truncation is faster than re-migrating)."""
    conn = connections.get("default")
    tables = await _table_names()
    if ON_POSTGRES:
        await conn.execute_script(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f"DELETE FROM {t};" for t in tables)
            + "DELETE FROM sqlite_sequence;PRAGMA foreign_keys=ON;"
        )
    yield


@pytest.fixture(scope="session")
async def session_cache() -> AsyncIterator[Cache]:
    if REDIS_URL:
        cache: Cache = RedisCache(REDIS_URL, prefix=f"test:{secrets.token_hex(4)}:")
    else:
        cache = MemoryCache()
    yield cache
    if isinstance(cache, RedisCache):
        await cache.flush_prefix()
    await cache.close()


@pytest.fixture
async def cache(session_cache: Cache) -> AsyncIterator[Cache]:
    yield session_cache
    if isinstance(session_cache, RedisCache):
        await session_cache.flush_prefix()
    else:
        assert isinstance(session_cache, MemoryCache)
        session_cache._data.clear()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=REDIS_URL or None,
        media_dir=tmp_path_factory.mktemp("media"),
        request_max_size=64 * 1024,
        json_max_size=16 * 1024,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """A Sanic app served on a loopback port inside the test's event loop."""

    def __init__(self, app: Sanic, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: Any = None

    async def start(self) -> None:
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        await self._server.start_serving()

    async def stop(self) -> None:
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()


@pytest.fixture
async def serve(
    settings: Settings, cache: Cache, clean_db: None
) -> AsyncIterator[Callable[..., Awaitable[RunningServer]]]:
    """Start an app (optionally customised before it starts) and stop it after the test."""
    started: list[RunningServer] = []

    async def start(customise: Callable[[Sanic], None] | None = None, **app_kwargs: Any) -> RunningServer:
        app = create_app(settings, cache=app_kwargs.pop("cache", cache), manage_db=False, **app_kwargs)
        if customise:
            customise(app)
        server = RunningServer(app, free_port())
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def server(serve: Callable[..., Awaitable[RunningServer]]) -> RunningServer:
    return await serve()


@pytest.fixture
async def client(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    """Run `python -m server ...` as a user would, in a subprocess."""
    import subprocess
    import sys

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


async def gather_limited(coros: list[Awaitable[Any]], limit: int = 50) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))
