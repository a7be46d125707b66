"""WeChat Pay's signed messages, both ends: what WeChat Pay sends (``sign``, ``encrypt_resource``,
``signed_notification``, used by the fake) and what we accept (``authenticate``, ``remember``,
``decode``, used by the client).

A notification (and every answer to our requests) carries ``Wechatpay-Timestamp``, ``-Nonce``,
``-Serial``, ``-Signature`` and ``-Signature-Type``; the signature is RSA-SHA256 (PKCS#1 v1.5) with the
platform key over ``timestamp\\nnonce\\nbody\\n``. In public-key mode the serial is the platform public
key id configured beside the key. WeChat Pay sometimes sends a deliberately wrong signature starting
``WECHATPAY/SIGNTEST/`` to check that merchants verify; it must be refused. The resource is
AEAD_AES_256_GCM-encrypted with the API v3 key (12-byte nonce and associated data given beside it).

A delivery is accepted once: its nonce is remembered in the cache (atomic set-if-absent) for as long
as its timestamp could be accepted. WeChat Pay's retries are new deliveries (a new nonce and
timestamp, the same notification ``id``): recognising those is the caller's idempotency, by order.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256

from core.cache import Cache
from core.jsonutil import dumpb, loads
from wechat.pay.errors import (
    PayNotifyBodyInvalid,
    PayNotifyProbe,
    PayNotifyReplayed,
    PayNotifySerialUnknown,
    PayNotifySignatureInvalid,
    PayNotifyStale,
    PayNotifyUndecryptable,
)
from wechat.pay.protocol import EVENT_TYPES, NOTIFICATION_MAX_SKEW, EventType, PayNotification
from wechat.pay.shapes import refund_of, transaction_of

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
PROBE_PREFIX = "WECHATPAY/SIGNTEST/"
MAX_NONCE = 64
MAX_SIGNATURE = 1024


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(private_key.sign(message.encode(), padding.PKCS1v15(), SHA256())).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def signed_headers(
    private_key: rsa.RSAPrivateKey,
    serial: str,
    body: str,
    *,
    timestamp: str | None = None,
    nonce: str | None = None,
    signature: str | None = None,
) -> dict[str, str]:
    """The Wechatpay-* headers of an answer or a notification with this body."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or secrets.token_hex(16)
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
        "Wechatpay-Signature": signature or sign(private_key, f"{timestamp}\n{nonce}\n{body}\n"),
    }


def encrypt_resource(apiv3_key: str, plain: Mapping[str, Any], *, original_type: str) -> dict[str, str]:
    nonce = secrets.token_hex(6)  # 12 characters, used as 12 bytes, as WeChat Pay does
    associated_data = original_type
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), dumpb(dict(plain)), associated_data.encode()
    )
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "associated_data": associated_data,
        "original_type": original_type,
        "nonce": nonce,
    }


def notification_body(
    apiv3_key: str,
    *,
    event_type: str,
    payload: Mapping[str, Any],
    notification_id: str | None = None,
    create_time: str | None = None,
) -> str:
    refund = event_type.startswith("REFUND.")
    summary = {
        "TRANSACTION.SUCCESS": "支付成功",
        "REFUND.SUCCESS": "退款成功",
        "REFUND.ABNORMAL": "退款异常",
        "REFUND.CLOSED": "退款关闭",
    }.get(event_type, "通知")
    envelope = {
        "id": notification_id or secrets.token_hex(18),
        "create_time": create_time or datetime.now().astimezone().isoformat(timespec="seconds"),
        "resource_type": "encrypt-resource",
        "event_type": event_type,
        "summary": summary,
        "resource": encrypt_resource(apiv3_key, payload, original_type="refund" if refund else "transaction"),
    }
    return dumpb(envelope).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name, "")


def authenticate(
    headers: Mapping[str, str],
    body: bytes,
    *,
    public_key: rsa.RSAPublicKey,
    public_key_id: str,
    now: datetime,
) -> tuple[str, str]:
    """(nonce, text) of a notification signed by the platform key just now; raises
    PayNotificationRejected otherwise. ``headers`` may be in any case."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = _header(lowered, "wechatpay-signature")
    if signature.startswith(PROBE_PREFIX):
        raise PayNotifyProbe()
    if _header(lowered, "wechatpay-serial") != public_key_id:
        raise PayNotifySerialUnknown()
    if _header(lowered, "wechatpay-signature-type") not in ("", SIGNATURE_TYPE):
        raise PayNotifySignatureInvalid(details={"reason": "signature type"})
    timestamp = _header(lowered, "wechatpay-timestamp")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise PayNotifyStale(details={"reason": "no timestamp"})
    if abs(now.timestamp() - int(timestamp)) > NOTIFICATION_MAX_SKEW:
        raise PayNotifyStale()
    nonce = _header(lowered, "wechatpay-nonce")
    if not nonce or len(nonce) > MAX_NONCE or not nonce.isascii() or not nonce.isprintable():
        raise PayNotifySignatureInvalid(details={"reason": "nonce"})
    if not signature or len(signature) > MAX_SIGNATURE:
        raise PayNotifySignatureInvalid(details={"reason": "no signature"})
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayNotifySignatureInvalid(details={"reason": "body is not UTF-8"}) from None
    if not verify(public_key, f"{timestamp}\n{nonce}\n{text}\n", signature):
        raise PayNotifySignatureInvalid()
    return nonce, text


def nonce_key(nonce: str) -> str:
    return f"wechatpay:notify:{nonce}"


async def remember(cache: Cache, nonce: str) -> str:
    """Accept a delivery's nonce once; returns its cache key."""
    key = nonce_key(nonce)
    # as long as a timestamp passes authenticate (up to the skew ahead of our clock), and a minute more
    if not await cache.add(key, b"1", ttl=2 * NOTIFICATION_MAX_SKEW + 60):
        raise PayNotifyReplayed()
    return key


def _body_invalid(reason: str) -> PayNotifyBodyInvalid:
    return PayNotifyBodyInvalid(details={"reason": reason[:200]})


def decrypt_resource(apiv3_key: str, resource: Mapping[str, Any]) -> bytes:
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise PayNotifyUndecryptable(details={"reason": "algorithm"})
    nonce, ciphertext = resource.get("nonce"), resource.get("ciphertext")
    associated = resource.get("associated_data") or ""
    if not isinstance(nonce, str) or not isinstance(ciphertext, str) or not isinstance(associated, str):
        raise _body_invalid("resource nonce, ciphertext or associated_data")
    try:
        return AESGCM(apiv3_key.encode()).decrypt(
            nonce.encode(), base64.b64decode(ciphertext, validate=True), associated.encode()
        )
    except (InvalidTag, binascii.Error, ValueError):
        raise PayNotifyUndecryptable() from None


def _json(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = loads(data)
    except ValueError:
        raise _body_invalid(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise _body_invalid(f"{what} is not a JSON object")
    return value


def decode(text: str, apiv3_key: str) -> PayNotification:
    """The decrypted notification in an authenticated body."""
    envelope = _json(text, "body")
    event_type = envelope.get("event_type")
    if event_type not in EVENT_TYPES:
        raise _body_invalid(f"event_type {str(event_type)[:40]!r}")
    if envelope.get("resource_type") != "encrypt-resource":
        raise _body_invalid("resource_type")
    resource = envelope.get("resource")
    if not isinstance(resource, dict):
        raise _body_invalid("resource")
    plain = _json(decrypt_resource(apiv3_key, resource), "resource")
    notification_id = envelope.get("id")
    if not isinstance(notification_id, str) or not 0 < len(notification_id) <= 64:
        raise _body_invalid("id")
    create_time = None
    if isinstance(envelope.get("create_time"), str):
        try:
            create_time = datetime.fromisoformat(envelope["create_time"])
        except ValueError:
            raise _body_invalid("create_time") from None
    summary = envelope.get("summary")
    common: dict[str, Any] = {
        "id": notification_id,
        "event_type": cast(EventType, event_type),
        "create_time": create_time,
        "resource_type": "encrypt-resource",
        "summary": summary[:64] if isinstance(summary, str) else "",
    }
    if str(event_type).startswith("TRANSACTION."):
        return PayNotification(**common, transaction=transaction_of(plain, _body_invalid))
    return PayNotification(**common, refund=refund_of(plain, _body_invalid, status_key="refund_status"))
