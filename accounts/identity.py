"""ID and certificate numbers are matched, never stored or shown: we keep only keyed hashes.

HMAC-SHA256 with a server secret, so a leaked table cannot be reversed by hashing every possible ID
number (there are only about 10^11 valid ones)."""

from __future__ import annotations

import hashlib
import hmac
import re

_ID18 = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalise_id_number(raw: str) -> str | None:
    """The canonical form of a mainland resident ID number, or None when it is malformed
    (wrong length, characters, or check digit per GB 11643)."""
    value = re.sub(r"\s", "", raw or "").upper()
    if not _ID18.match(value):
        return None
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17]:
        return None
    return value


def normalise_certificate(raw: str) -> str | None:
    """Property certificate numbers vary by city (e.g. 某(2021)某县不动产权第0001234号); compare them
    without spaces and with unified full-width brackets."""
    value = re.sub(r"\s", "", raw or "").replace("（", "(").replace("）", ")").upper()
    return value if 4 <= len(value) <= 60 else None


def keyed_hash(key: bytes, kind: str, normalised: str) -> str:
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def id_hash(key: bytes, raw: str) -> str | None:
    value = normalise_id_number(raw)
    return None if value is None else keyed_hash(key, "id", value)


def certificate_hash(key: bytes, raw: str) -> str | None:
    value = normalise_certificate(raw)
    return None if value is None else keyed_hash(key, "cert", value)


def make_id_number(prefix17: str) -> str:
    """Complete 17 digits with their check digit (demo data and tests)."""
    total = sum(int(d) * w for d, w in zip(prefix17, _WEIGHTS, strict=True))
    return prefix17 + _CHECK[total % 11]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"
