"""One small cache / lock / rate-limit interface with two backends.

``RedisCache`` (redis.asyncio) serves any number of workers; ``MemoryCache`` serves a single worker with
no other service running. Both pass the same test suite (tests/core/test_cache.py).

Values are bytes; callers encode. Keys are namespaced by the caller ("session:…", "rl:…", "lock:…").
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar

from core.errors import CacheUnavailable, Unavailable


class LockNotAcquired(Unavailable):
    code = "busy"
    message = "系统繁忙，请稍后再试"


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends


class Cache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    async def delete(self, *keys: str) -> int: ...

    async def incr(self, key: str, ttl: float) -> int:
        """Atomically add one; the expiry is set when the key is created and never extended."""
        ...

    async def ttl(self, key: str) -> float | None: ...

    async def release_if(self, key: str, token: bytes) -> bool:
        """Delete key only if it still holds token (a lock we own); True when deleted."""
        ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


async def hit(cache: Cache, key: str, *, limit: int, window: int) -> RateDecision:
    """Fixed-window rate limit: the (limit+1)-th hit inside ``window`` seconds is refused."""
    count = await cache.incr(f"rl:{key}", ttl=window)
    remaining = await cache.ttl(f"rl:{key}")
    retry = max(1, int(remaining + 0.999)) if remaining is not None else window
    return RateDecision(allowed=count <= limit, count=count, limit=limit, retry_after=retry)


async def spent(cache: Cache, key: str, *, limit: int) -> RateDecision:
    """Whether the window of ``hit(cache, key, ...)`` is used up, without counting a hit: for limits
    on failures only (the caller hits on each failure and asks here before trying)."""
    raw = await cache.get(f"rl:{key}")
    count = int(raw) if raw else 0
    remaining = await cache.ttl(f"rl:{key}") if count else None
    retry = max(1, int(remaining + 0.999)) if remaining is not None else 1
    return RateDecision(allowed=count < limit, count=count, limit=limit, retry_after=retry)


@asynccontextmanager
async def lock(cache: Cache, name: str, *, ttl: float = 10.0, wait: float = 5.0) -> AsyncIterator[None]:
    """A short exclusive lock across workers. The ttl bounds how long a crashed holder blocks others;
    release deletes the key only if it is still ours, so a lock that expired and was taken by someone
    else is never released by us."""
    key = f"lock:{name}"
    token = secrets.token_bytes(16)
    deadline = time.monotonic() + wait
    delay = 0.005
    while not await cache.add(key, token, ttl=ttl):
        if time.monotonic() >= deadline:
            raise LockNotAcquired(details={"lock": name})
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)
    try:
        yield
    finally:
        await cache.release_if(key, token)


class MemoryCache:
    """In-process backend for a single worker. Expired entries are dropped lazily and on a sweep."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._ops = 0

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= time.monotonic():
            del self._data[key]
            return None
        return entry

    def _sweep(self) -> None:
        self._ops += 1
        if self._ops % 1024 == 0:
            now = time.monotonic()
            for key in [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]:
                del self._data[key]

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return None if entry is None else entry[0]

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._sweep()
        self._data[key] = (bytes(value), self._expiry(ttl))

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            if self._live(key) is not None:
                del self._data[key]
                removed += 1
        return removed

    async def incr(self, key: str, ttl: float) -> int:
        entry = self._live(key)
        if entry is None:
            await self.set(key, b"1", ttl)
            return 1
        value = int(entry[0]) + 1
        self._data[key] = (str(value).encode(), entry[1])
        return value

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(0.0, entry[1] - time.monotonic())

    async def release_if(self, key: str, token: bytes) -> bool:
        entry = self._live(key)
        if entry is not None and entry[0] == token:
            del self._data[key]
            return True
        return False

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()


_INCR = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""

_RELEASE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


P = ParamSpec("P")
R = TypeVar("R")


def _unavailable_when_down(
    method: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Redis unreachable (down, restarting, timing out) is CacheUnavailable, one of our errors: the
    HTTP layer answers 503 with Retry-After, and a caller may fall back."""

    @functools.wraps(method)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        try:
            return await method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError) as exc:
            raise CacheUnavailable(details={"reason": type(exc).__name__}) from exc

    return guarded


class RedisCache:
    """redis.asyncio backend (redis-py >= 5; the abandoned aioredis package does not import on 3.11).

    After Redis restarts, every pooled connection is dead, and without care each would fail once
    (20–34 of them: a round of errors for up to 20 s). A command that fails on a connection error is
    retried once on a fresh connection after a short pause, and a connection idle for a few seconds
    is pinged before use; while Redis is really down, both attempts fail at once (connection refused)
    and the caller gets CacheUnavailable."""

    def __init__(self, url: str, *, prefix: str = "wy:") -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=5,
            socket_connect_timeout=2,
            retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries=1),
            retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError, OSError],
            health_check_interval=5,
        )
        self._prefix = prefix
        self._incr = self._redis.register_script(_INCR)
        self._release = self._redis.register_script(_RELEASE_IF)

    def _k(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _ms(ttl: float | None) -> int | None:
        return None if ttl is None else max(1, int(ttl * 1000))

    @_unavailable_when_down
    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._k(key))
        return None if value is None else (value.encode() if isinstance(value, str) else bytes(value))

    @_unavailable_when_down
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._redis.set(self._k(key), value, px=self._ms(ttl))

    @_unavailable_when_down
    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        return bool(await self._redis.set(self._k(key), value, px=self._ms(ttl), nx=True))

    @_unavailable_when_down
    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self._redis.delete(*[self._k(k) for k in keys]))

    @_unavailable_when_down
    async def incr(self, key: str, ttl: float) -> int:
        return int(await self._incr(keys=[self._k(key)], args=[max(1, int(ttl * 1000))]))

    @_unavailable_when_down
    async def ttl(self, key: str) -> float | None:
        ms = await self._redis.pttl(self._k(key))
        return None if ms < 0 else ms / 1000

    @_unavailable_when_down
    async def release_if(self, key: str, token: bytes) -> bool:
        return bool(await self._release(keys=[self._k(key)], args=[token]))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False

    async def flush_prefix(self) -> None:
        """Remove every key of this prefix (tests only; never called by the product)."""
        async for key in self._redis.scan_iter(match=self._prefix + "*", count=500):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()


def make_cache(url: str | None, *, prefix: str = "wy:") -> Cache:
    return RedisCache(url, prefix=prefix) if url else MemoryCache()
