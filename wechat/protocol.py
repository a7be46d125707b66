"""The narrow interface the rest of the product uses to talk to WeChat, and its result types.

``WeChatClient`` (wechat/client.py) implements it over HTTP; ``FakeWeChat`` (wechat/fake.py) is a local
HTTP server speaking the same protocol, so tests and fake-mode development run the real client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal, Protocol

Suggest = Literal["pass", "review", "risky"]


class Scene(IntEnum):
    """Content-security scene (WeChat ``scene``)."""

    PROFILE = 1
    COMMENT = 2
    FORUM = 3
    SOCIAL_LOG = 4


class MediaType(IntEnum):
    """Content-security media type (WeChat ``media_type``)."""

    AUDIO = 1
    IMAGE = 2


@dataclass(frozen=True, slots=True)
class LoginSession:
    openid: str
    # The session key decrypts the user's encrypted data; it must never leave the server, so it is kept
    # out of repr (and therefore out of log lines and error reports that print the object).
    session_key: str = field(repr=False)
    unionid: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    phone: str  # as WeChat shows it; foreign numbers carry their country prefix
    pure_phone: str  # without the country prefix
    country_code: str


@dataclass(frozen=True, slots=True)
class SecurityVerdict:
    suggest: Suggest
    label: int  # 100 normal, 10001 ads, 20001 politics, 20002 porn, 20003 abuse, ... 21000 other
    trace_id: str

    @property
    def passed(self) -> bool:
        return self.suggest == "pass"


class WeChatApi(Protocol):
    async def code2session(self, code: str) -> LoginSession: ...

    async def phone_number(self, code: str) -> PhoneNumber: ...

    async def access_token(self) -> str: ...

    async def msg_sec_check(self, *, openid: str, content: str, scene: int) -> SecurityVerdict: ...

    async def media_check_async(self, *, openid: str, media_url: str, media_type: int, scene: int) -> str:
        """Submit media for an asynchronous check; the verdict arrives later through the message-push
        URL, keyed by the returned trace_id."""
        ...

    async def send_subscribe(
        self, *, openid: str, template_id: str, data: Mapping[str, str], page: str | None = None
    ) -> None:
        """Send one subscribe message; ``data`` maps a template key ("thing1") to its text."""
        ...

    async def aclose(self) -> None: ...
