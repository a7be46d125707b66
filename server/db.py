"""Tortoise configuration: one app ("models") holding every domain's models, migrations in
server/migrations (Tortoise 1.x built-in migrations)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.client import TransactionalDBClient, TransactionContextPooled
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite import executor as _sqlite_executor  # registers its adapters first
from tortoise.backends.sqlite.client import SqliteTransactionContext
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError
from tortoise.migrations.api import migrate as migrate_api

log = logging.getLogger("wuye.db")

# One Tortoise app per domain that owns tables, each with its own migrations package; the core app
# ("models": audit and the registry) keeps its historical label, so other apps refer to "models.Unit".
APPS: dict[str, tuple[list[str], str]] = {
    "models": (["audit.models", "accounts.models"], "server.migrations"),
    "photos": (["photos.models"], "photos.migrations"),
    "complaints": (["complaints.models"], "complaints.migrations"),
    "voting": (["voting.models"], "voting.migrations"),
    "notices": (["notices.models"], "notices.migrations"),
    "notify": (["notify.models"], "notify.migrations"),
    "payments": (["payments.models"], "payments.migrations"),
    "bookings": (["bookings.models"], "bookings.migrations"),
    "supervision": (["supervision.models"], "supervision.migrations"),
    "fund": (["fund.models"], "fund.migrations"),
    "ratings": (["ratings.models"], "ratings.migrations"),
}
CLI_CONFIG: dict[str, Any] = {}  # filled by `python -m server makemigrations`


def sqlite_instant(value: datetime) -> str:
    """SQLite keeps timestamps as text and compares them as text. Tortoise's adapter writes each
    datetime with its own offset and drops zero microseconds, so 00:09 Beijing ("...00:09:15+08:00")
    sorted before 23:00 UTC of the day before, and a day's range in Beijing time missed rows written in
    UTC. Every instant is written in UTC with microseconds, so text order is time order."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(" ", timespec="microseconds")


assert _sqlite_executor  # imported for its side effect, which the next line overrides
sqlite3.register_adapter(datetime, sqlite_instant)


async def _keep_session(connection: Any) -> None:
    """asyncpg's default pool reset sends a query (unlock advisory locks, CLOSE ALL, UNLISTEN, RESET
    ALL) on every release: one more round trip per statement outside a transaction. We use none of
    those features, and asyncpg still rolls back a transaction left open before calling this."""


def _with_defaults(url: str, pool_max: int) -> str | dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "asyncpg", "psql"):
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_max))
        query.setdefault("minsize", "1")
        config = expand_db_url(urlunsplit(parts._replace(query=urlencode(query))))
        config["credentials"]["reset"] = _keep_session
        return config
    return url


def ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite://") and ":memory:" not in url:
        Path(url.removeprefix("sqlite://").split("?")[0]).parent.mkdir(parents=True, exist_ok=True)


def tortoise_config(url: str, *, pool_max: int = 10) -> dict[str, Any]:
    return {
        "connections": {"default": _with_defaults(url, pool_max)},
        "apps": {
            label: {"models": modules, "default_connection": "default", "migrations": migrations}
            for label, (modules, migrations) in APPS.items()
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# --- Tortoise issue 1438 -------------------------------------------------------------------------
# TransactionContextPooled.__aenter__ acquires a pool connection, points the task's context at the
# transaction, then sends BEGIN. When BEGIN fails (a connection PostgreSQL has just terminated),
# __aexit__ never runs: the connection is never released (ten such failures and the pool is gone,
# every request hangs) and the task keeps believing it is inside the dead transaction (on a kept-alive
# HTTP connection Sanic runs every later request in that same task, so all of them fail; the clock's
# task too). SQLite's context has the same shape and would keep its transaction lock for ever.
# These replacements undo what __aenter__ did when BEGIN fails, and in __aexit__ reset the context
# before releasing, so that a release that fails cannot leave the task inside a finished transaction.
# They are installed once, by importing this module (the composition root and the tests do).


async def _release_quietly(pool: Any, connection: Any) -> None:
    try:
        await pool.release(connection)
    except Exception:  # asyncpg terminates a connection it cannot reset; the pool replaces it
        log.warning("releasing a database connection failed; it was discarded", exc_info=True)


async def _pooled_enter(self: TransactionContextPooled) -> TransactionalDBClient:
    await self.ensure_connection()
    pool = self.client._parent._pool
    self.client._connection = await pool.acquire()
    self.token = get_connections().set(self.connection_name, self.client)
    try:
        await self.client.begin()
    except BaseException:
        get_connections().reset(self.token)
        await _release_quietly(pool, self.client._connection)
        raise
    return self.client


async def _pooled_exit(self: TransactionContextPooled, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
    try:
        if not self.client._finalized:
            if exc_type:
                if exc_type is not TransactionManagementError:  # it cannot be rolled back
                    await self.client.rollback()
            else:
                await self.client.commit()
    finally:
        get_connections().reset(self.token)
        if self.client._parent._pool:
            await _release_quietly(self.client._parent._pool, self.client._connection)


async def _sqlite_enter(self: SqliteTransactionContext) -> TransactionalDBClient:
    await self._trxlock.acquire()
    try:
        await self.ensure_connection()
        self.token = get_connections().set(self.connection_name, self.connection)
        try:
            await self.connection.begin()
        except BaseException:
            get_connections().reset(self.token)
            raise
    except BaseException:
        self._trxlock.release()
        raise
    return self.connection  # type: ignore[no-any-return]


TransactionContextPooled.__aenter__ = _pooled_enter  # type: ignore[method-assign]
TransactionContextPooled.__aexit__ = _pooled_exit  # type: ignore[method-assign]
SqliteTransactionContext.__aenter__ = _sqlite_enter  # type: ignore[method-assign]


async def init_db(url: str, *, pool_max: int = 10) -> None:
    ensure_sqlite_dir(url)
    # The global fallback lets requests served by Sanic see the connections opened here.
    await Tortoise.init(config=tortoise_config(url, pool_max=pool_max), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(url: str) -> None:
    ensure_sqlite_dir(url)
    try:
        await migrate_api(config=tortoise_config(url))
    finally:
        await Tortoise.close_connections()


PING_SECONDS = 2.0


async def ping() -> bool:
    """The database answers a query within PING_SECONDS (so /ready never hangs)."""
    from tortoise import connections

    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), PING_SECONDS)
    except Exception:
        return False
    return True
