"""Tortoise configuration: one app ("models") holding every domain's models, migrations in
server/migrations (Tortoise 1.x built-in migrations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as migrate_api

# One Tortoise app per domain that owns tables, each with its own migrations package; the core app
# ("models": audit and the registry) keeps its historical label, so other apps refer to "models.Unit".
APPS: dict[str, tuple[list[str], str]] = {
    "models": (["audit.models", "accounts.models"], "server.migrations"),
    "photos": (["photos.models"], "photos.migrations"),
    "complaints": (["complaints.models"], "complaints.migrations"),
    "voting": (["voting.models"], "voting.migrations"),
    "notices": (["notices.models"], "notices.migrations"),
}
CLI_CONFIG: dict[str, Any] = {}  # filled by `python -m server makemigrations`


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


async def ping() -> bool:
    from tortoise import connections

    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True
