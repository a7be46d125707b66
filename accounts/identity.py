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


# GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters from 31 (no I, O, S, V, Z);
# the 18th is a check character over the first 17, weights 3^(i) mod 31.
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, ...
_CREDIT = re.compile(rf"^[{CREDIT_CHARSET}]{{18}}$")


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str | None:
    """The canonical form of a unified social credit code, or None when it is malformed (length,
    characters, or the GB 32100-2015 check character)."""
    value = re.sub(r"\s", "", raw or "").upper()
    if not _CREDIT.match(value) or credit_check_char(value[:17]) != value[17]:
        return None
    return value


def credit_code_hash(key: bytes, raw: str) -> str | None:
    value = normalise_credit_code(raw)
    return None if value is None else keyed_hash(key, "org", value)


def make_credit_code(first17: str) -> str:
    """Complete 17 characters with their check character (demo data and tests)."""
    return first17 + credit_check_char(first17)


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
