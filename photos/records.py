"""Photo rows: upload (store files, then the row), attach to a subject, serve, moderate, purge.

These are the use cases other domains call; ``photos.service`` below them only touches files.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from core import clock
from photos.access import Sight, sight_of
from photos.errors import PhotoNotAttachable, PhotoNotFound
from photos.models import Moderation, Photo
from photos.process import MAX_BYTES, MAX_PIXELS
from photos.service import StoredPhoto, store_photo
from photos.storage import PhotoStorage

# Complaint evidence may be needed in a dispute or a lawsuit: three years, the general limitation
# period of the Civil Code (art. 188).
ORIGINAL_RETENTION = timedelta(days=3 * 365)
RENDITIONS = ("display", "thumbnail")
_KEY_COLUMNS = ("original_key", "display_key", "thumbnail_key")


async def upload(
    storage: PhotoStorage,
    data: bytes,
    *,
    uploader_id: int,
    now: datetime | None = None,
    retention: timedelta = ORIGINAL_RETENTION,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
) -> Photo:
    """Check, process and store ``data``, then record it. A refused upload stores nothing at all."""
    stored = await store_photo(storage, data, max_bytes=max_bytes, max_pixels=max_pixels)
    moment = now or clock.now()
    try:
        return await Photo.create(
            **_row(stored), uploader_id=uploader_id, original_keep_until=moment + retention
        )
    except BaseException:
        # Files this call wrote and no row uses are removed again: no orphans from a failed insert.
        with contextlib.suppress(Exception):
            for key in stored.written:
                await _delete_if_unreferenced(storage, key)
        raise


def _row(stored: StoredPhoto) -> dict[str, Any]:
    return {
        "sha256": stored.sha256,
        "format": str(stored.format),
        "width": stored.original.width,
        "height": stored.original.height,
        "byte_size": stored.original.byte_size,
        "original_key": stored.original.key,
        "display_key": stored.display.key,
        "display_width": stored.display.width,
        "display_height": stored.display.height,
        "thumbnail_key": stored.thumbnail.key,
        "thumbnail_width": stored.thumbnail.width,
        "thumbnail_height": stored.thumbnail.height,
    }


async def attach(
    photo_ids: Iterable[int], *, uploader_id: int, subject: str, using_db: Any = None
) -> list[Photo]:
    """Claim unattached photos of ``uploader_id`` for ``subject`` in one conditional UPDATE.

    All or nothing: if any id is unknown, someone else's, or already attached, PhotoNotAttachable is
    raised (the caller's transaction then rolls the claim back). Two subjects can never both claim a
    photo: the second UPDATE finds ``attached_to`` already set.
    """
    ids = sorted(set(photo_ids))
    if not ids:
        return []
    claimed = (
        await Photo.filter(id__in=ids, uploader_id=uploader_id, attached_to__isnull=True)
        .using_db(using_db)
        .update(attached_to=subject)
    )
    if claimed != len(ids):
        raise PhotoNotAttachable(details={"photo_ids": ids})
    return await Photo.filter(id__in=ids).using_db(using_db).order_by("id")


async def photos_of(subject: str, *, using_db: Any = None) -> list[Photo]:
    return await Photo.filter(attached_to=subject).using_db(using_db).order_by("id")


async def get(photo_id: int) -> Photo:
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None:
        raise PhotoNotFound()
    return photo


async def viewable(photo_id: int, user_id: int) -> Photo:
    """The photo if ``user_id`` may see it; PhotoNotFound otherwise (not revealing that it exists)."""
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None:
        raise PhotoNotFound()
    if photo.uploader_id == user_id:  # type: ignore[attr-defined]
        return photo
    sight = await sight_of(user_id, photo.attached_to)
    if sight >= Sight.MODERATE or (sight is Sight.VIEW and photo.moderation == Moderation.PASSED):
        return photo
    raise PhotoNotFound()


async def rendition(storage: PhotoStorage, photo: Photo, kind: str) -> tuple[bytes, str]:
    """The bytes and content type of a public rendition; the original is never returned here."""
    if kind not in RENDITIONS:
        raise PhotoNotFound(details={"kind": kind})
    key: str = getattr(photo, f"{kind}_key")
    data = await storage.get(key)
    if data is None:
        raise PhotoNotFound(details={"reason": "file missing"})
    return data, "image/png" if key.endswith(".png") else "image/jpeg"


# --- content security ---------------------------------------------------------------------------


async def check_submitted(photo_id: int, trace_id: str | None) -> None:
    """Record the WeChat trace id of an asynchronous check; None (the call failed) holds the photo."""
    if trace_id is None:
        await Photo.filter(id=photo_id, moderation=Moderation.PENDING).update(moderation=Moderation.HELD)
    else:
        await Photo.filter(id=photo_id).update(check_trace_id=trace_id)


async def record_verdict(trace_id: str, suggest: str) -> bool | None:
    """Apply a verdict ("pass", "review", "risky") to the photo checked under ``trace_id`` if it is
    still waiting for it: True applied, False already decided (nothing changed), None not ours.
    One conditional UPDATE, so a replayed or second verdict can never overwrite the first."""
    moderation = {"pass": Moderation.PASSED, "review": Moderation.HELD}.get(suggest, Moderation.REJECTED)
    if not trace_id:
        return None
    applied = await Photo.filter(check_trace_id=trace_id, moderation=Moderation.PENDING).update(
        moderation=moderation
    )
    if applied:
        return True
    return False if await Photo.filter(check_trace_id=trace_id).exists() else None


async def moderate(photo_id: int, *, passed: bool) -> Photo:
    """A person's decision on a held photo."""
    photo = await Photo.get_or_none(id=photo_id)
    if photo is None:
        raise PhotoNotFound()
    photo.moderation = Moderation.PASSED if passed else Moderation.REJECTED
    await photo.save(update_fields=["moderation"])
    return photo


# --- retention ----------------------------------------------------------------------------------


async def purge_originals(storage: PhotoStorage, *, now: datetime | None = None) -> int:
    """Delete originals whose retention has ended (renditions stay); returns how many rows ended."""
    moment = (now or clock.now()).astimezone(UTC)  # SQLite compares the text: always UTC
    due = await Photo.filter(original_keep_until__lt=moment, original_purged_at__isnull=True)
    for photo in due:
        await Photo.filter(id=photo.id).update(original_purged_at=moment)
        await _delete_if_unreferenced(storage, photo.original_key)
    return len(due)


async def purge_unattached(
    storage: PhotoStorage, *, older_than: timedelta, now: datetime | None = None
) -> int:
    """Delete uploads never attached to anything (a form abandoned) together with their files."""
    cutoff = (now or clock.now()).astimezone(UTC) - older_than
    abandoned = await Photo.filter(attached_to__isnull=True, created_at__lt=cutoff)
    for photo in abandoned:
        claimed = await Photo.filter(id=photo.id, attached_to__isnull=True).delete()
        if claimed:
            for column in _KEY_COLUMNS:
                await _delete_if_unreferenced(storage, getattr(photo, column))
    return len(abandoned)


async def _delete_if_unreferenced(storage: PhotoStorage, key: str) -> None:
    """Files are shared by content hash: delete one only when no row still needs it."""
    if key.startswith("private/"):
        needed = Q(original_key=key, original_purged_at__isnull=True)
    else:
        needed = Q(display_key=key) | Q(thumbnail_key=key)
    if not await Photo.filter(needed).exists():
        await storage.delete(key)
