"""Our own opaque session tokens. WeChat's openid and session_key never leave the server: the
mini-program holds only this token. The cache stores sha256(token), so a cache dump cannot be replayed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.errors import SessionInvalid
from core import clock
from core.cache import Cache
from core.jsonutil import dumpb, loads


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: int
    expires_at: datetime


def _key(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


async def open_session(cache: Cache, user_id: int, ttl: int) -> Session:
    token = secrets.token_urlsafe(32)
    expires = clock.now() + timedelta(seconds=ttl)
    await cache.set(_key(token), dumpb({"uid": user_id, "exp": clock.iso_utc(expires)}), ttl=ttl)
    return Session(token, user_id, expires)


async def user_of(cache: Cache, token: str) -> int:
    if not token or len(token) > 100:
        raise SessionInvalid()
    raw = await cache.get(_key(token))
    if raw is None:
        raise SessionInvalid()
    return int(loads(raw)["uid"])


async def close_session(cache: Cache, token: str) -> None:
    await cache.delete(_key(token))


async def keep_session_key(cache: Cache, user_id: int, session_key: str, ttl: int) -> None:
    """WeChat's session_key is needed later to decrypt data the mini-program sends; it stays here."""
    await cache.set(f"wxsk:{user_id}", session_key.encode(), ttl=ttl)
