"""The access token, shared by every worker through the cache.

WeChat limits how often a token may be fetched, so it lives in the central cache with a ttl five minutes
short of its expiry. A miss is refreshed by one coroutine per worker (single flight) and by one worker at
a time (a cache lock, then a second look at the cache, since another worker may have refreshed while we
waited).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from core.cache import Cache, lock

EXPIRY_MARGIN = 300  # seconds; stable_token hands out a new token in the last five minutes

Fetch = Callable[[], Awaitable[tuple[str, int]]]  # -> (token, expires_in seconds)


class AccessTokenCache:
    def __init__(self, cache: Cache, app_id: str, fetch: Fetch, *, lock_wait: float, lock_ttl: float) -> None:
        self._cache = cache
        self._key = token_cache_key(app_id)
        self._fetch = fetch
        self._lock_wait = lock_wait
        self._lock_ttl = lock_ttl
        self._inflight: asyncio.Future[str] | None = None

    async def get(self) -> str:
        cached = await self._cache.get(self._key)
        if cached is not None:
            return cached.decode()
        if self._inflight is None:
            self._inflight = asyncio.ensure_future(self._refresh())
            self._inflight.add_done_callback(self._landed)
        # shield: one caller giving up (cancelled) must not cancel the refresh the others wait for
        return await asyncio.shield(self._inflight)

    async def drop(self, token: str) -> None:
        """Forget ``token`` after WeChat refused it, unless someone already replaced it."""
        await self._cache.release_if(self._key, token.encode())

    def _landed(self, future: asyncio.Future[str]) -> None:
        self._inflight = None
        if not future.cancelled():
            future.exception()  # mark retrieved: the waiters got it, or nobody was left to care

    async def _refresh(self) -> str:
        async with lock(self._cache, self._key, ttl=self._lock_ttl, wait=self._lock_wait):
            cached = await self._cache.get(self._key)
            if cached is not None:
                return cached.decode()
            token, expires_in = await self._fetch()
            await self._cache.set(self._key, token.encode(), ttl=_ttl(expires_in))
            return token


def token_cache_key(app_id: str) -> str:
    return f"wechat:access_token:{app_id}"


def _ttl(expires_in: int) -> float:
    if expires_in > 2 * EXPIRY_MARGIN:
        return float(expires_in - EXPIRY_MARGIN)
    return max(1.0, expires_in / 2)
