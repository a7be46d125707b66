"""The fake WeChat Pay on loopback, our real client against it, and a notify URL of ours that feeds
every delivery to the client's parse_notification (a stand-in for the payments route)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from core.cache import Cache
from core.jsonutil import dumpb
from wechat.fake_http import HttpServer, Request, Response
from wechat.pay.client import WeChatPayClient
from wechat.pay.errors import PayNotificationRejected
from wechat.pay.fake import FakeWeChatPay
from wechat.pay.keys import KeyPair, generate_key_pair
from wechat.pay.protocol import PayNotification, notify_fail, notify_ok

SUB_MCHID = "1900000109"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@dataclass
class Receiver:
    client: WeChatPayClient
    url: str = ""
    accepted: list[PayNotification] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # error codes
    answers: list[tuple[int, bytes]] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        try:
            notification = await self.client.parse_notification(
                request.headers, request.body, now=datetime.now(UTC)
            )
        except PayNotificationRejected as exc:
            self.refused.append(exc.error_code)
            answer = notify_fail(exc.user_message, 401)
        else:
            self.accepted.append(notification)
            answer = notify_ok()
        body = b"" if answer.body is None else dumpb(dict(answer.body))
        self.answers.append((answer.status, body))
        return Response(answer.status, body, {"Content-Type": "application/json"} if body else {})


@pytest.fixture(scope="session")
def key_pairs() -> tuple[KeyPair, KeyPair, KeyPair]:
    """Merchant, platform and a stranger's key pair, generated once (each takes a good part of a second)."""
    return (
        generate_key_pair(),
        generate_key_pair("PUB_KEY_ID_0119000001002026120100000000"),
        generate_key_pair(),
    )


@pytest.fixture
async def fake(key_pairs: tuple[KeyPair, KeyPair, KeyPair]) -> AsyncIterator[FakeWeChatPay]:
    merchant, platform, stranger = key_pairs
    server = FakeWeChatPay(merchant=merchant, platform=platform, wrong_key=stranger)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def receiver_server() -> AsyncIterator[tuple[HttpServer, list[Receiver]]]:
    holder: list[Receiver] = []

    async def handle(request: Request) -> Response:
        return await holder[0].handle(request)

    server = HttpServer(handle)
    yield server, holder
    await server.stop()


@pytest.fixture
async def pay_client(
    fake: FakeWeChatPay, cache: Cache, receiver_server: tuple[HttpServer, list[Receiver]]
) -> AsyncIterator[WeChatPayClient]:
    server, holder = receiver_server
    url = await server.start()
    client = WeChatPayClient(**fake.client_options(), notify_url=url + "/notify", cache=cache)
    holder.append(Receiver(client, url + "/notify"))
    yield client
    await client.aclose()


@pytest.fixture
def receiver(pay_client: WeChatPayClient, receiver_server: tuple[HttpServer, list[Receiver]]) -> Receiver:
    return receiver_server[1][0]
