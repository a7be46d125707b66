"""The WeChat mini-program adapter: a narrow protocol, our async client, and a fake server for tests.

Nothing here reads configuration: app id, secret, cache and base URL come in through constructors.
"""

from wechat.client import WeChatClient
from wechat.protocol import LoginSession, MediaType, PhoneNumber, Scene, SecurityVerdict, WeChatApi

__all__ = [
    "LoginSession",
    "MediaType",
    "PhoneNumber",
    "Scene",
    "SecurityVerdict",
    "WeChatApi",
    "WeChatClient",
]
