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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic
from sanic.router import Router
from sanic_ext.extensions.openapi.builders import OperationStore
from tortoise import Tortoise, connections

from config.settings import Settings
from core.cache import Cache, MemoryCache, RedisCache
from server import db
from server.app import create_app

Sanic.test_mode = True

DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or ""
REDIS_URL = os.environ.get("TEST_REDIS_URL") or ""
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "asyncpg://", "psql://"))


XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER") or ""


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database beside the given one (created
    fresh), since every test truncates every table."""
    import asyncio as _asyncio
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{XDIST_WORKER}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres", query=""))

    async def recreate() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    _asyncio.run(recreate())
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(autouse=True)
def _forget_apps() -> Iterator[None]:
    """Sanic keeps every app ever made: in a class-level registry, and in each module-level blueprint
    (the set of apps it was registered on, and every route it made on each). Without this a test's apps,
    with their routers and contexts, stayed in memory (about 6 MB a test), and a whole run grew past the
    machine's memory and was killed."""
    before = set(Sanic._app_registry)
    yield
    for name in set(Sanic._app_registry) - before:
        app = Sanic._app_registry.pop(name, None)
        if app is not None:
            _detach_blueprints(app)


def _detach_blueprints(app: Sanic) -> None:
    for bp in app.blueprints.values():
        bp._apps.discard(app)
        bp.routes = [route for route in bp.routes if route.router is not app.router]
        bp.websocket_routes = [r for r in bp.websocket_routes if r.router is not app.router]
        if not bp._apps:
            bp.middlewares.clear()
            bp.exceptions.clear()
    # Sanic's router caches lookups in class-level LRU caches keyed by the router: up to 2 x 1024 apps.
    Router.get.cache_clear()
    Router.find_route_by_view_name.cache_clear()
    # sanic-ext's OpenAPI store (a process-wide singleton keyed by handler) points each operation at
    # the last app that documented it.
    for operation in OperationStore().values():
        if operation._app is app:
            operation._app = None


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DATABASE_URL:
        return _worker_database(DATABASE_URL) if XDIST_WORKER and ON_POSTGRES else DATABASE_URL
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


_CLEAN_SCRIPT: list[str] = []


async def _postgres_clean_script(conn: Any, tables: list[str]) -> str:
    """Row deletes with the triggers off (foreign keys, and our own append-only and immutability
    triggers) and each table's sequence set back to 1: what ``TRUNCATE ... RESTART IDENTITY CASCADE``
    does to these near-empty tables, in a tenth of the time (truncating ~100 tables costs a file
    operation per table, per test). Needs a superuser, as CI and this machine have; else TRUNCATE."""
    _, rows = await conn.execute_query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not rows or not rows[0]["rolsuper"]:
        return f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"
    _, sequences = await conn.execute_query(
        "SELECT quote_ident(s.relname) AS name FROM pg_class s"
        " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
        " JOIN pg_class t ON t.oid = d.refobjid"
        " WHERE s.relkind = 'S' AND t.relname = ANY($1::text[])",
        [tables],
    )
    restart = ", ".join(f"setval('{row['name']}', 1, false)" for row in sequences)
    return (
        "SET session_replication_role = replica;"
        + "".join(f"DELETE FROM {t};" for t in tables)
        + (f"SELECT {restart};" if restart else "")
        + "SET session_replication_role = origin;"
    )


@pytest.fixture
async def clean_db(database: str) -> AsyncIterator[None]:
    """Each test starts from empty tables, their ids from 1 (faster than re-migrating)."""
    conn = connections.get("default")
    tables = await _table_names()
    if ON_POSTGRES:
        if not _CLEAN_SCRIPT:
            _CLEAN_SCRIPT.append(await _postgres_clean_script(conn, tables))
        await conn.execute_script(_CLEAN_SCRIPT[0])
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
        min_announce_days=0,  # tests run whole votes in seconds; production refuses this (config.settings)
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
        self.app.ctx.self_url = self.url  # Sanic knows no serve_location under create_server
        self._server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        await self._server.start_serving()

    async def stop(self) -> None:
        """Stop serving; a server a test has already stopped is left alone at teardown."""
        if self._server is None:
            return
        server, self._server = self._server, None
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


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
        timeout=300,  # `migrate` from nothing takes ~20 s of CPU (Tortoise replays every migration's state)
        check=False,
    )


async def gather_limited(coros: list[Awaitable[Any]], limit: int = 50) -> list[Any]:
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Awaitable[Any]) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))
