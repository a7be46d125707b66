"""Our own opaque session tokens. WeChat's openid and session_key never leave the server: the
mini-program holds only this token.

The database (accounts.models.UserSession) is the record of every session, so a cache restart or flush
logs nobody out; the cache fronts it, read through, so the hot path stays one cache read. Both hold only
sha256(token): a table or cache dump cannot be replayed. Logout revokes the row and drops the cached
entry. A cached entry lives at most CACHE_TTL seconds, which bounds how long a revocation can go unseen
where the cache could not be told (an in-process cache of another worker, or a cache unreachable at the
moment of logout). When the cache fails, sessions are read from the database alone.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from accounts.errors import SessionInvalid
from accounts.models import UserSession
from core import clock
from core.cache import Cache
from core.jsonutil import dumpb, loads

log = logging.getLogger("wuye.accounts.sessions")
CACHE_TTL = 300  # seconds a session is trusted from the cache without asking the database


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: int
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(digest: str) -> str:
    return "session:" + digest


async def _cache(cache: Cache, digest: str, user_id: int, expires: datetime) -> None:
    remaining = (expires - clock.now()).total_seconds()
    if remaining <= 0:
        return
    entry = dumpb({"uid": user_id, "exp": clock.iso_utc(expires)})
    try:
        await cache.set(_key(digest), entry, ttl=min(remaining, CACHE_TTL))
    except Exception as exc:  # the database holds the session; the cache is only a shortcut
        log.warning("session cache unavailable, not cached: %s", type(exc).__name__)


async def open_session(cache: Cache, user_id: int, ttl: int) -> Session:
    token = secrets.token_urlsafe(32)
    expires = clock.now() + timedelta(seconds=ttl)
    digest = _digest(token)
    await UserSession.create(token_hash=digest, user_id=user_id, expires_at=expires)
    await _cache(cache, digest, user_id, expires)
    return Session(token, user_id, expires)


async def user_of(cache: Cache, token: str) -> int:
    if not token or len(token) > 100:
        raise SessionInvalid()
    digest = _digest(token)
    try:
        raw = await cache.get(_key(digest))
    except Exception as exc:
        log.warning("session cache unavailable, reading the database: %s", type(exc).__name__)
        raw = None
    if raw is not None:
        return int(loads(raw)["uid"])
    now = clock.now()
    row = await UserSession.get_or_none(token_hash=digest, revoked_at=None, expires_at__gt=now)
    if row is None:
        raise SessionInvalid()
    user_id = int(row.user_id)  # type: ignore[attr-defined]
    await _cache(cache, digest, user_id, row.expires_at)
    return user_id


async def close_session(cache: Cache, token: str) -> None:
    """Revoke in the database first (that is what every worker will read once its cache misses), then
    drop the cached entry; a cache failure here propagates, so the caller knows to retry."""
    digest = _digest(token)
    await UserSession.filter(token_hash=digest, revoked_at=None).update(revoked_at=clock.now())
    await cache.delete(_key(digest))


async def forget_ended(user_id: int) -> None:
    """Delete the user's sessions that have expired or were revoked a day ago or more (called at login,
    so the table holds about one row per live session)."""
    cutoff = clock.now() - timedelta(days=1)
    await UserSession.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff), user_id=user_id).delete()


async def keep_session_key(cache: Cache, user_id: int, session_key: str, ttl: int) -> None:
    """WeChat's session_key is needed later to decrypt data the mini-program sends; it stays here."""
    await cache.set(f"wxsk:{user_id}", session_key.encode(), ttl=ttl)
