"""Tortoise configuration: one app ("models") holding every domain's models, migrations in
server/migrations (Tortoise 1.x built-in migrations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tortoise import Tortoise
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


def _with_defaults(url: str, pool_max: int) -> str:
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "asyncpg", "psql"):
        query = dict(parse_qsl(parts.query))
        query.setdefault("maxsize", str(pool_max))
        query.setdefault("minsize", "1")
        return urlunsplit(parts._replace(query=urlencode(query)))
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
