"""WeChat's message push (消息推送) to our server, both ends of the protocol: what WeChat sends
(``signed_push``, used by the fake) and what we accept (``open_push``, ``remember``, ``media_check_of``).

Plain mode signs only the token, timestamp and nonce (``signature``): the body is not covered. Safe
mode (an EncodingAESKey configured) sends ``{"ToUserName", "Encrypt"}`` with ``msg_signature`` over
token, timestamp, nonce and Encrypt; Encrypt is AES-256-CBC of 16 random bytes, the length, the JSON
event and our appid, PKCS#7-padded (wechatpy's offline crypto). With a key configured, plain pushes
are refused: the body must be authenticated.

Either way a push is accepted once: its (timestamp, nonce) is remembered in the cache for as long
as its timestamp would be accepted, with an atomic set-if-absent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wechatpy.crypto import PrpCrypto
from wechatpy.exceptions import InvalidAppIdException

from core.cache import Cache
from core.errors import Conflict, Forbidden, Invalid
from core.jsonutil import dumpb, loads

MAX_SKEW = 600  # seconds a push's timestamp may differ from our clock
SUGGESTS = frozenset({"pass", "review", "risky"})
MAX_LABEL = 10**9


class PushSignatureInvalid(Forbidden):
    code = "push_signature_invalid"
    message = "消息推送签名无效"


class PushStale(Forbidden):
    code = "push_stale"
    message = "消息推送已过期"


class PushReplayed(Forbidden):
    code = "push_replayed"
    message = "该消息推送已处理过，重复的推送不予接受"


class PushEncryptionRequired(Forbidden):
    code = "push_encryption_required"
    message = "消息推送须使用安全模式（加密）"


class PushBodyInvalid(Invalid):
    code = "push_body_invalid"
    message = "消息推送的内容格式不正确"


class MediaCheckUnknown(Conflict):
    code = "media_check_unknown"
    message = "没有对应的内容安全检测请求"


class MediaCheckDecided(Conflict):
    code = "media_check_decided"
    message = "该内容安全检测已有结果，不再更改"


@dataclass(frozen=True, slots=True)
class PushConfig:
    token: str
    app_id: str
    aes_key: str = ""  # the 43-character EncodingAESKey; empty: plain mode


@dataclass(frozen=True, slots=True)
class MediaCheck:
    """The verdict of one asynchronous media check (event wxa_media_check)."""

    trace_id: str
    suggest: str
    label: int


def signature(token: str, *parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted, concatenated strings."""
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def _cipher(aes_key: str) -> PrpCrypto:
    return PrpCrypto(base64.b64decode(aes_key + "="))


def signed_push(
    config: PushConfig, event: Mapping[str, Any], *, timestamp: str | None = None, nonce: str | None = None
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a push as WeChat sends it: plain JSON, or encrypted when ``config.aes_key``."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(8)
    query = {"signature": signature(config.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    plain = dumpb(dict(event))
    if not config.aes_key:
        return query, plain
    encrypt = _cipher(config.aes_key).encrypt(plain.decode(), config.app_id).decode()
    query |= {"encrypt_type": "aes", "msg_signature": signature(config.token, timestamp, nonce, encrypt)}
    return query, dumpb({"ToUserName": event.get("ToUserName", ""), "Encrypt": encrypt})


def _same(expected: str, given: str) -> bool:
    """Constant-time, for any text a request carries (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def _fresh(timestamp: str, now: float) -> None:
    if not timestamp.isdigit() or len(timestamp) > 12 or abs(now - int(timestamp)) > MAX_SKEW:
        raise PushStale()


def check_url_signature(config: PushConfig, query: Mapping[str, str], now: float) -> None:
    """The console's server-address verification (GET): signed like a plain push."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not _same(signature(config.token, timestamp, nonce), query.get("signature", "")):
        raise PushSignatureInvalid()
    _fresh(timestamp, now)


def open_push(config: PushConfig, query: Mapping[str, str], body: bytes, now: float) -> bytes:
    """The authenticated JSON of a push; raises if it is not signed (and, in safe mode, encrypted) by
    someone holding our token (and key), or is too old."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not config.aes_key:
        check_url_signature(config, query, now)
        return body
    if query.get("encrypt_type") != "aes":
        raise PushEncryptionRequired()
    envelope = _json(body)
    encrypt = envelope.get("Encrypt") if isinstance(envelope, dict) else None
    if not isinstance(encrypt, str) or not encrypt:
        raise PushBodyInvalid(details={"field": "Encrypt"})
    expected = signature(config.token, timestamp, nonce, encrypt)
    if not _same(expected, query.get("msg_signature", "")):
        raise PushSignatureInvalid()
    _fresh(timestamp, now)
    try:
        plain = _cipher(config.aes_key).decrypt(encrypt, config.app_id)
    except InvalidAppIdException:
        raise PushSignatureInvalid("消息推送不是发给本小程序的", code="push_appid_mismatch") from None
    except (ValueError, TypeError, struct.error, binascii.Error, UnicodeDecodeError, IndexError):
        raise PushBodyInvalid(details={"field": "Encrypt"}) from None
    return plain.encode()


async def remember(cache: Cache, query: Mapping[str, str]) -> str:
    """Accept a push's (timestamp, nonce) once; returns the cache key (to forget it again if handling
    failed on our side, so that WeChat's retry is not taken for a replay)."""
    key = f"wechat:push:{query.get('timestamp', '')}:{query.get('nonce', '')[:64]}"
    # Remembered for as long as the timestamp passes _fresh (it could be up to MAX_SKEW ahead of us)
    if not await cache.add(key, b"1", ttl=2 * MAX_SKEW + 60):
        raise PushReplayed()
    return key


def _json(data: bytes) -> Any:
    try:
        return loads(data)
    except ValueError:  # malformed, or nested deeper than the parser allows
        raise PushBodyInvalid("消息推送的内容不是合法的 JSON") from None


def media_check_of(plain: bytes) -> MediaCheck | None:
    """The verdict in a push, or None for another event (acknowledged, nothing to do)."""
    event = _json(plain)
    if not isinstance(event, dict):
        raise PushBodyInvalid(details={"field": "body"})
    if event.get("Event") != "wxa_media_check":
        return None
    trace_id, result, errcode = event.get("trace_id"), event.get("result"), event.get("errcode", 0)
    if not isinstance(trace_id, str) or not 0 < len(trace_id) <= 100:
        raise PushBodyInvalid(details={"field": "trace_id"})
    if result is None and isinstance(errcode, int) and errcode != 0:
        # WeChat could not check the media (e.g. could not fetch it): a person decides
        return MediaCheck(trace_id, "review", 0)
    if not isinstance(result, dict):
        raise PushBodyInvalid(details={"field": "result"})
    suggest, label = result.get("suggest"), result.get("label", 0)
    if suggest not in SUGGESTS:
        raise PushBodyInvalid(details={"field": "result.suggest"})
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label <= MAX_LABEL:
        raise PushBodyInvalid(details={"field": "result.label"})
    return MediaCheck(trace_id, str(suggest), label)
