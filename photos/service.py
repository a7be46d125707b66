"""Process an upload and store the original (private) and its renditions (public)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from photos.keys import PRIVATE_PREFIX, PUBLIC_PREFIX, content_key, sha256_key
from photos.process import MAX_BYTES, MAX_PIXELS, ProcessedPhoto, process_upload_async
from photos.sniff import PhotoFormat
from photos.storage import PhotoStorage


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    content_type: str
    byte_size: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    sha256: str  # of the original upload
    format: PhotoFormat
    original: StoredFile  # private: evidence, never served publicly
    display: StoredFile
    thumbnail: StoredFile
    written: tuple[str, ...]  # keys this call wrote; empty when the same bytes were stored before


async def store_photo(
    storage: PhotoStorage, data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> StoredPhoto:
    """Check and process ``data`` off the event loop, then store the three files.

    Nothing is stored when processing fails (the photos.errors error propagates). Keys are content
    hashes: the same bytes again give the same keys, and files already present are not rewritten.
    If a write fails half-way the files already written stay: they are complete (atomic writes),
    content-addressed, and reused by a retry.
    """
    photo = await process_upload_async(data, max_bytes=max_bytes, max_pixels=max_pixels)
    return await store_processed(storage, photo)


async def store_processed(storage: PhotoStorage, photo: ProcessedPhoto) -> StoredPhoto:
    original = StoredFile(
        content_key(PRIVATE_PREFIX, "original", photo.sha256, photo.original_extension),
        photo.original_content_type,
        len(photo.original),
        photo.width,
        photo.height,
    )
    renditions = {"display": photo.display, "thumbnail": photo.thumbnail}
    stored = {
        kind: StoredFile(
            sha256_key(PUBLIC_PREFIX, kind, rendition.data, rendition.extension),
            rendition.content_type,
            rendition.byte_size,
            rendition.width,
            rendition.height,
        )
        for kind, rendition in renditions.items()
    }
    blobs = [
        (original, photo.original),
        (stored["display"], photo.display.data),
        (stored["thumbnail"], photo.thumbnail.data),
    ]
    written = await asyncio.gather(*(_put_if_absent(storage, file, data) for file, data in blobs))
    return StoredPhoto(
        sha256=photo.sha256,
        format=photo.format,
        original=original,
        display=stored["display"],
        thumbnail=stored["thumbnail"],
        written=tuple(key for key in written if key is not None),
    )


async def _put_if_absent(storage: PhotoStorage, file: StoredFile, data: bytes) -> str | None:
    if await storage.exists(file.key):
        return None
    await storage.put(file.key, data, file.content_type)
    return file.key
