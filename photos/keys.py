"""Storage keys: content-addressed, with public and private areas separated by prefix.

    public/display/ab/cd/<sha256 of the display bytes>.jpg      served to residents
    public/thumbnail/ab/cd/<sha256 of the thumbnail bytes>.jpg  served to residents
    private/original/ab/cd/<sha256 of the upload>.heic          evidence, never served publicly

The public keys hash the rendition itself, so a public URL tells nothing of the original's key.
"""

from __future__ import annotations

import hashlib
import re

from photos.errors import PhotoKeyInvalid

PUBLIC_PREFIX = "public/"
PRIVATE_PREFIX = "private/"

# Lower-case segments that cannot start with a dot: no "..", no hidden or temporary file names.
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*(?:/[a-z0-9][a-z0-9_-]*(?:\.[a-z0-9_-]+)*)*")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def content_key(area: str, kind: str, sha256: str, extension: str) -> str:
    """``<area>/<kind>/ab/cd/<sha256>.<extension>`` for a hex sha256."""
    if area not in (PUBLIC_PREFIX, PRIVATE_PREFIX) or not _SHA256_HEX.fullmatch(sha256):
        raise PhotoKeyInvalid(details={"area": area, "sha256": sha256})
    return check_key(f"{area}{kind}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}")


def sha256_key(area: str, kind: str, data: bytes, extension: str) -> str:
    return content_key(area, kind, hashlib.sha256(data).hexdigest(), extension)


def check_key(key: str) -> str:
    """Return ``key`` if it is a relative path of safe segments under a known area, else raise."""
    if len(key) > 512 or not key.startswith((PUBLIC_PREFIX, PRIVATE_PREFIX)) or not _KEY.fullmatch(key):
        raise PhotoKeyInvalid(details={"key": key[:100]})
    return key


def is_public(key: str) -> bool:
    return check_key(key).startswith(PUBLIC_PREFIX)
