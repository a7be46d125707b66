"""The access token: one stable_token request for all workers, shared through the cache, refreshed once
when WeChat refuses it. Runs on MemoryCache, and on RedisCache when TEST_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest

from core.cache import Cache, MemoryCache, RedisCache
from wechat.client import WeChatClient
from wechat.errors import WeChatError
from wechat.fake import FakeWeChat
from wechat.token import token_cache_key

APP_ID = "wx00token00tests0"
SECRET = "s3cret-token-tests"
KEY = token_cache_key(APP_ID)
REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")),
    ]
)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    assert REDIS_URL is not None
    redis = RedisCache(REDIS_URL, prefix=f"test-wechat:{secrets.token_hex(6)}:")
    try:
        yield redis
    finally:
        await redis.flush_prefix()
        await redis.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    server = FakeWeChat(APP_ID, SECRET)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def workers(fake: FakeWeChat, cache: Cache) -> AsyncIterator[tuple[WeChatClient, WeChatClient]]:
    """Two clients with their own connection pools sharing one cache: two workers of one deployment."""
    assert fake.base_url is not None
    first = WeChatClient(APP_ID, SECRET, cache, base_url=fake.base_url)
    second = WeChatClient(APP_ID, SECRET, cache, base_url=fake.base_url)
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_fifty_concurrent_calls_across_two_workers_fetch_one_token(
    fake: FakeWeChat, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    tokens = await asyncio.gather(*(workers[i % 2].access_token() for i in range(50)))

    assert fake.token_requests == 1
    assert len(set(tokens)) == 1


async def test_token_is_cached_five_minutes_short_of_its_expiry(
    fake: FakeWeChat, cache: Cache, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    token = await workers[0].access_token()

    assert await cache.get(KEY) == token.encode()
    ttl = await cache.ttl(KEY)
    assert ttl is not None and 7200 - 300 - 5 < ttl <= 7200 - 300
    assert await workers[1].access_token() == token
    assert fake.token_requests == 1


async def test_dropped_cache_entry_is_fetched_again(
    fake: FakeWeChat, cache: Cache, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    token = await workers[0].access_token()
    await cache.delete(KEY)

    again = await workers[1].access_token()

    assert fake.token_requests == 2
    assert again == token  # stable_token: the same token while it has more than five minutes left


async def test_token_refused_after_expiry_is_refreshed_once_and_the_call_retried_once(
    fake: FakeWeChat, cache: Cache, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    await workers[0].access_token()
    await cache.delete(KEY)  # the cached token expired
    fake.fail_next("/wxa/msg_sec_check", 40001)

    verdict = await workers[0].msg_sec_check(openid="o-alice", content="你好", scene=2)

    assert verdict.suggest == "pass"
    assert fake.token_requests == 3  # first, after the expiry, after the refusal
    assert fake.calls["/wxa/msg_sec_check"] == 2


async def test_token_revoked_at_wechat_is_replaced(
    fake: FakeWeChat, cache: Cache, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    old = await workers[0].access_token()
    fake.revoke_tokens()  # e.g. a forced refresh elsewhere: WeChat no longer knows it (40001)

    verdict = await workers[1].msg_sec_check(openid="o-alice", content="你好", scene=2)

    assert verdict.suggest == "pass"
    assert fake.token_requests == 2
    assert fake.calls["/wxa/msg_sec_check"] == 2
    new = await cache.get(KEY)
    assert new is not None and new != old.encode()


async def test_token_expired_at_wechat_is_refreshed_once(
    fake: FakeWeChat, cache: Cache, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    old = await workers[0].access_token()
    fake.advance(7200)  # WeChat's clock ran ahead of our cache ttl: 42001

    await workers[1].send_subscribe(openid="o-alice", template_id="tpl-1", data={"thing1": "停水通知"})

    assert fake.token_requests == 2
    assert fake.calls["/cgi-bin/message/subscribe/send"] == 2
    assert await cache.get(KEY) != old.encode()


async def test_many_callers_refused_at_once_cause_one_refresh(
    fake: FakeWeChat, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    await workers[0].access_token()
    fake.revoke_tokens()

    verdicts = await asyncio.gather(
        *(workers[i % 2].msg_sec_check(openid=f"o-{i}", content="你好", scene=2) for i in range(20))
    )

    assert {v.suggest for v in verdicts} == {"pass"}
    # The first token plus exactly one refresh: a refused token is dropped only while it is still the
    # cached one, so late refusals of the old token do not throw away the new one.
    assert fake.token_requests == 2
    assert 20 < fake.calls["/wxa/msg_sec_check"] <= 40


async def test_a_second_refusal_is_not_retried_again(
    fake: FakeWeChat, workers: tuple[WeChatClient, WeChatClient]
) -> None:
    fake.fail_next("/wxa/msg_sec_check", 40001)
    fake.fail_next("/wxa/msg_sec_check", 40001)

    with pytest.raises(WeChatError) as caught:
        await workers[0].msg_sec_check(openid="o-alice", content="你好", scene=2)

    assert caught.value.details["errcode"] == 40001
    assert fake.calls["/wxa/msg_sec_check"] == 2
    assert fake.token_requests == 2
