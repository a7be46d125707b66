"""Content security (v2) and subscribe messages: the real WeChatClient against the fake WeChat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.cache import MemoryCache
from core.errors import Conflict
from wechat.client import WeChatClient
from wechat.errors import WeChatBusy, WeChatRateLimited, WeChatSubscribeRefused
from wechat.fake import FakeWeChat, MediaRequest, SentMessage
from wechat.protocol import MediaType, Scene, SecurityVerdict

APP_ID = "wx00content0tests"
SECRET = "s3cret-content-tests"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    server = FakeWeChat(APP_ID, SECRET)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeWeChat) -> AsyncIterator[WeChatClient]:
    assert fake.base_url is not None
    wechat = WeChatClient(APP_ID, SECRET, MemoryCache(), base_url=fake.base_url)
    yield wechat
    await wechat.aclose()


@pytest.mark.parametrize(
    ("content", "suggest", "label"),
    [
        ("小区东门的路灯坏了，请尽快维修", "pass", 100),
        ("这条内容待审一下", "review", 21000),
        ("这里有违禁内容", "risky", 20001),
    ],
)
async def test_msg_sec_check_verdicts(client: WeChatClient, content: str, suggest: str, label: int) -> None:
    verdict = await client.msg_sec_check(openid="o-alice", content=content, scene=Scene.COMMENT)

    assert (verdict.suggest, verdict.label) == (suggest, label)
    assert verdict.passed is (suggest == "pass")
    assert len(verdict.trace_id) > 10


async def test_risky_words_are_configurable(fake: FakeWeChat, client: WeChatClient) -> None:
    fake.risky_words.add("代开发票")

    verdict = await client.msg_sec_check(openid="o-alice", content="代开发票找我", scene=Scene.FORUM)

    assert verdict.suggest == "risky"


async def test_media_check_is_recorded_and_judged_later(fake: FakeWeChat, client: WeChatClient) -> None:
    clean = await client.media_check_async(
        openid="o-alice", media_url="https://cdn.example.com/a.jpg", media_type=MediaType.IMAGE, scene=2
    )
    risky = await client.media_check_async(
        openid="o-bob", media_url="https://cdn.example.com/risky.jpg", media_type=MediaType.IMAGE, scene=2
    )

    assert clean != risky
    assert fake.media_requests == [
        MediaRequest(clean, "o-alice", "https://cdn.example.com/a.jpg", 2, 2),
        MediaRequest(risky, "o-bob", "https://cdn.example.com/risky.jpg", 2, 2),
    ]
    assert fake.verdict_for(clean) == SecurityVerdict("pass", 100, clean)
    assert fake.verdict_for(risky).suggest == "risky"
    with pytest.raises(KeyError):
        fake.verdict_for("no-such-trace")


async def test_busy_content_check_is_wechat_busy(fake: FakeWeChat, client: WeChatClient) -> None:
    fake.fail_next("/wxa/msg_sec_check", -1)

    with pytest.raises(WeChatBusy) as caught:
        await client.msg_sec_check(openid="o-alice", content="你好", scene=Scene.COMMENT)

    assert caught.value.error_code == "wechat_busy"
    assert await client.msg_sec_check(openid="o-alice", content="你好", scene=Scene.COMMENT)


async def test_subscribe_message_is_sent(fake: FakeWeChat, client: WeChatClient) -> None:
    await client.send_subscribe(
        openid="o-alice",
        template_id="tpl-vote",
        data={"thing1": "业主大会表决", "time2": "2025-01-01 10:00"},
        page="pages/vote/index?id=7",
    )

    assert fake.sent_messages == [
        SentMessage(
            openid="o-alice",
            template_id="tpl-vote",
            page="pages/vote/index?id=7",
            data={"thing1": "业主大会表决", "time2": "2025-01-01 10:00"},
        )
    ]


async def test_subscribe_without_authorization_is_refused(fake: FakeWeChat, client: WeChatClient) -> None:
    fake.unauthorized_openids.add("o-carol")

    with pytest.raises(WeChatSubscribeRefused) as caught:
        await client.send_subscribe(openid="o-carol", template_id="tpl-vote", data={"thing1": "表决"})

    assert isinstance(caught.value, Conflict)
    assert caught.value.error_code == "wechat_subscribe_refused"
    assert caught.value.details["errcode"] == 43101
    assert fake.sent_messages == []


async def test_subscribe_rate_limited(fake: FakeWeChat, client: WeChatClient) -> None:
    fake.fail_next("/cgi-bin/message/subscribe/send", 45011)

    with pytest.raises(WeChatRateLimited) as caught:
        await client.send_subscribe(openid="o-alice", template_id="tpl-vote", data={"thing1": "表决"})

    assert caught.value.error_code == "wechat_rate_limited"
    assert fake.sent_messages == []
