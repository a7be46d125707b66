"""RSA keys for WeChat Pay: generating a pair (the fake's platform key; our merchant key in fake mode and
tests — never in production, where the merchant key comes from the merchant platform) and reading them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_pem: str = field(repr=False)
    public_pem: str
    serial: str  # a certificate serial number (merchant) or a public key id (platform)


def generate_key_pair(serial: str | None = None, *, bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem, serial or secrets.token_hex(20).upper())


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def random_apiv3_key() -> str:
    """A 32-character API v3 key (what the merchant platform asks for), for the fake and tests."""
    return secrets.token_hex(16)
