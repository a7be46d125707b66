"""Two residents and a supervisor with sessions, the fake WeChat and our real client talking to it,
and a server without the clock (tests run the relay themselves, or start the clock on purpose)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from accounts.models import RoleGrant, User
from accounts.sessions import open_session
from core.cache import Cache
from wechat import WeChatClient
from wechat.fake import FakeWeChat

APP_ID, SECRET = "wx0000000000000000", "fake-wechat-secret"


@dataclass
class People:
    users: dict[str, User]
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
async def people(clean_db: None, cache: Cache) -> People:
    users = {name: await User.create(openid=f"openid-{name}") for name in ("alice", "bob", "supervisor")}
    await RoleGrant.create(user=users["supervisor"], role="supervisor", scope_type="county", scope_id=0)
    tokens = {name: (await open_session(cache, u.id, 3600)).token for name, u in users.items()}
    return People(users, tokens)


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat(APP_ID, SECRET)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def wechat(fake_wechat: FakeWeChat, cache: Cache) -> AsyncIterator[WeChatClient]:
    assert fake_wechat.base_url is not None
    client = WeChatClient(APP_ID, SECRET, cache, base_url=fake_wechat.base_url)
    yield client
    await client.aclose()


@pytest.fixture
async def api(serve, wechat: WeChatClient, people: People) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    server = await serve(wechat=wechat, background=False)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as http:
        yield http
