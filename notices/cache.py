"""The board cache, shared by every worker through the cache backend (Redis with several workers).

A page of a board is stored under a key that carries the compound's version token; every change to
a notice a compound shows replaces that token, so the next read misses and rebuilds. Community and
county notices replace the token of every compound in their scope. A cached page also expires at the
next scheduled publication or expiry among the notices it could show, so time-driven changes need no
writer at all. ``BOARD_TTL`` bounds how long a missed invalidation (a write with no cache at hand,
such as the demo seeding) can be visible.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from core.cache import Cache
from core.jsonutil import dumpb, loads

BOARD_TTL = 60.0
READS_TTL = 300.0
ROLES_TTL = 30.0

# A process-wide default for callers that have no cache at hand (post_system_notice from another
# feature's service). The HTTP layer registers the app's cache when the server starts.
_default: Cache | None = None


def use_cache(cache: Cache | None) -> None:
    global _default
    _default = cache


def default_cache() -> Cache | None:
    return _default


def _version_key(compound_id: int) -> str:
    return f"notices:v:{compound_id}"


async def version(cache: Cache, compound_id: int) -> str:
    key = _version_key(compound_id)
    token = await cache.get(key)
    if token is None:
        await cache.add(key, secrets.token_hex(8).encode())
        token = await cache.get(key) or b"0"
    return token.decode()


async def bump(cache: Cache | None, compound_ids: Iterable[int]) -> None:
    """Replace the version token: every cached page of these boards becomes unreachable."""
    if cache is None:
        return
    for compound_id in compound_ids:
        await cache.set(_version_key(compound_id), secrets.token_hex(8).encode())


def page_key(
    compound_id: int, token: str, level: str, category: str | None, cursor: str | None, limit: int
) -> str:
    return f"notices:board:{compound_id}:{token}:{level}:{category or '*'}:{cursor or '-'}:{limit}"


def reads_key(user_id: int) -> str:
    return f"notices:reads:{user_id}"


def roles_key(user_id: int, compound_id: int) -> str:
    return f"notices:roles:{user_id}:{compound_id}"


async def get_json(cache: Cache, key: str) -> object | None:
    raw = await cache.get(key)
    return None if raw is None else loads(raw)


async def set_json(cache: Cache, key: str, value: object, ttl: float) -> None:
    if ttl > 0:
        await cache.set(key, dumpb(value), ttl=ttl)
