"""The same behaviour from both cache backends (in-process here; Redis when TEST_REDIS_URL is set)."""

from __future__ import annotations

import asyncio

import pytest

from core.cache import Cache, LockNotAcquired, hit, lock


async def test_set_get_delete(cache: Cache) -> None:
    await cache.set("k", "值".encode())
    assert await cache.get("k") == "值".encode()
    assert await cache.delete("k", "absent") == 1
    assert await cache.get("k") is None


async def test_values_expire(cache: Cache) -> None:
    await cache.set("short", b"1", ttl=0.05)
    assert await cache.get("short") == b"1"
    ttl = await cache.ttl("short")
    assert ttl is not None and 0 < ttl <= 0.05
    await asyncio.sleep(0.08)
    assert await cache.get("short") is None
    await cache.set("forever", b"1")
    assert await cache.ttl("forever") is None


async def test_add_only_when_absent(cache: Cache) -> None:
    assert await cache.add("once", b"a") is True
    assert await cache.add("once", b"b") is False
    assert await cache.get("once") == b"a"


async def test_incr_is_atomic_and_keeps_its_first_expiry(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.incr("counter", ttl=5) for _ in range(100)))
    assert sorted(results) == list(range(1, 101))
    first = await cache.ttl("counter")
    await asyncio.sleep(0.02)
    await cache.incr("counter", ttl=5)
    later = await cache.ttl("counter")
    assert first is not None and later is not None and later < first


async def test_rate_limit_refuses_the_hit_past_the_limit_then_resets(cache: Cache) -> None:
    decisions = [await hit(cache, "login:u1", limit=3, window=1) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].retry_after == 1
    assert (await hit(cache, "login:u2", limit=3, window=1)).allowed  # another key is independent
    await asyncio.sleep(1.05)
    assert (await hit(cache, "login:u1", limit=3, window=1)).allowed


async def test_lock_excludes_concurrent_holders(cache: Cache) -> None:
    state = {"value": 0, "inside": 0, "max_inside": 0}

    async def critical() -> None:
        async with lock(cache, "counter", ttl=5, wait=10):
            state["inside"] += 1
            state["max_inside"] = max(state["max_inside"], state["inside"])
            value = state["value"]
            await asyncio.sleep(0.001)  # a read-modify-write that would lose updates without the lock
            state["value"] = value + 1
            state["inside"] -= 1

    await asyncio.gather(*(critical() for _ in range(25)))
    assert state == {"value": 25, "inside": 0, "max_inside": 1}
    assert await cache.get("lock:counter") is None


async def test_lock_wait_times_out_with_a_clear_error(cache: Cache) -> None:
    async with lock(cache, "busy", ttl=5):
        with pytest.raises(LockNotAcquired) as caught:
            async with lock(cache, "busy", ttl=5, wait=0.05):
                pass
    assert caught.value.error_code == "busy"


async def test_an_expired_lock_is_not_released_by_its_old_holder(cache: Cache) -> None:
    async with lock(cache, "slow", ttl=0.05):
        await asyncio.sleep(0.08)  # our lock expired ...
        assert await cache.add("lock:slow", b"someone-else", ttl=5)  # ... and another worker took it
    assert await cache.get("lock:slow") == b"someone-else"


async def test_ping(cache: Cache) -> None:
    assert await cache.ping() is True
