"""Who may see a photo, decided by the domain that owns what the photo is attached to.

A domain registers a viewer function for its subject kind once, at import of its service module:

    register_viewer("complaint", complaints_can_view)   # async (user_id, subject_id) -> Sight

An attached photo whose kind has no registered viewer is shown to its uploader only (fail closed).
Signed URLs let the mini-program's ``<image>`` component (which cannot send an Authorization header)
fetch a rendition: the signature names the viewer, and access is still checked on every fetch.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from enum import IntEnum


class Sight(IntEnum):
    """How much of a subject's photos a user may see."""

    NONE = 0
    VIEW = 1  # photos that passed content security
    MODERATE = 2  # also photos held for a person, to decide on them


Viewer = Callable[[int, int], Awaitable[Sight]]
_VIEWERS: dict[str, Viewer] = {}


def register_viewer(kind: str, viewer: Viewer) -> None:
    if not kind.isidentifier():
        raise ValueError(f"subject kind must be an identifier, got {kind!r}")
    _VIEWERS[kind] = viewer


def subject(kind: str, subject_id: int) -> str:
    return f"{kind}:{subject_id}"


def parse_subject(value: str) -> tuple[str, int] | None:
    kind, _, raw_id = value.partition(":")
    if not kind or not raw_id.isdigit():
        return None
    return kind, int(raw_id)


async def sight_of(user_id: int, attached_to: str | None) -> Sight:
    """What the owning domain lets ``user_id`` see of the subject (NONE for an unknown kind)."""
    if attached_to is None:
        return Sight.NONE
    parsed = parse_subject(attached_to)
    if parsed is None or parsed[0] not in _VIEWERS:
        return Sight.NONE
    return await _VIEWERS[parsed[0]](user_id, parsed[1])


def signature(key: bytes, photo_id: int, kind: str, viewer_id: int, expires: int) -> str:
    message = f"photo:{photo_id}:{kind}:{viewer_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def signature_valid(
    key: bytes, photo_id: int, kind: str, viewer_id: int, expires: int, given: str, now: int
) -> bool:
    if expires < now:
        return False
    expected = signature(key, photo_id, kind, viewer_id, expires).encode()
    return hmac.compare_digest(expected, given.encode("utf-8", "surrogatepass"))  # any text a link carries
