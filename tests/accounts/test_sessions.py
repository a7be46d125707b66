"""Sessions survive a cache restart (issue 11, item 4): the database holds them, the cache fronts them."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from accounts.models import User, UserSession
from core.cache import Cache, MemoryCache, RedisCache


@pytest.fixture
async def api(server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as http:
        yield http


async def flush(cache: Cache) -> None:
    """What a Redis restart without persistence (or a worker restart with the in-process cache) does."""
    if isinstance(cache, RedisCache):
        await cache.flush_prefix()
    else:
        assert isinstance(cache, MemoryCache)
        cache._data.clear()


async def login(api: httpx.AsyncClient, openid: str) -> tuple[str, dict[str, str]]:
    response = await api.post("/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    return token, {"authorization": f"Bearer {token}"}


async def test_a_session_survives_a_cache_flush_and_logout_revokes_it_for_good(
    api: httpx.AsyncClient, cache: Cache
) -> None:
    _, auth = await login(api, "openid-survivor")
    assert (await api.get("/me", headers=auth)).status_code == 200

    await flush(cache)
    me = await api.get("/me", headers=auth)
    assert me.status_code == 200 and me.json()["id"] == (await User.get(openid="openid-survivor")).id

    assert (await api.post("/auth/logout", headers=auth)).status_code == 200
    refused = await api.get("/me", headers=auth)
    assert (refused.status_code, refused.json()["code"]) == (401, "session_invalid")
    await flush(cache)  # the revocation lives in the database, not only in a deleted cache entry
    refused = await api.get("/me", headers=auth)
    assert (refused.status_code, refused.json()["code"]) == (401, "session_invalid")


async def test_a_restarted_server_with_a_fresh_cache_keeps_everyone_logged_in(serve) -> None:
    first = await serve(cache=MemoryCache(), background=False)
    async with httpx.AsyncClient(base_url=first.url + "/api/v1", timeout=30) as api:
        _, auth = await login(api, "openid-restart")
    restarted = await serve(cache=MemoryCache(), background=False)  # another process, nothing cached
    async with httpx.AsyncClient(base_url=restarted.url + "/api/v1", timeout=30) as api:
        assert (await api.get("/me", headers=auth)).status_code == 200
        assert (await api.post("/auth/logout", headers=auth)).status_code == 200
        assert (await api.get("/me", headers=auth)).status_code == 401
    again = await serve(cache=MemoryCache(), background=False)
    async with httpx.AsyncClient(base_url=again.url + "/api/v1", timeout=30) as api:
        assert (await api.get("/me", headers=auth)).status_code == 401


async def test_only_a_hash_of_the_token_is_stored(api: httpx.AsyncClient, cache: Cache) -> None:
    token, _ = await login(api, "openid-hashed")
    rows = await UserSession.all().values("token_hash", "revoked_at")
    assert rows == [{"token_hash": hashlib.sha256(token.encode()).hexdigest(), "revoked_at": None}]
    assert await cache.get("session:" + token) is None
    assert all(token not in str(v) for v in (await UserSession.all().values())[0].values())
