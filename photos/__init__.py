"""Photo uploads: check the bytes, derive metadata-free renditions, store them. No HTTP, no database.

``await process_upload_async(data)`` gives a ``ProcessedPhoto`` or raises a ``photos.errors`` error;
``await store_photo(LocalStorage(root), data)`` also stores the three files and gives their keys.
"""

from photos.errors import (
    PhotoCorrupt,
    PhotoEmpty,
    PhotoHeicUnavailable,
    PhotoKeyInvalid,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnsupportedFormat,
)
from photos.keys import PRIVATE_PREFIX, PUBLIC_PREFIX, is_public
from photos.process import (
    DISPLAY_MAX,
    MAX_BYTES,
    MAX_PIXELS,
    THUMBNAIL_MAX,
    ProcessedPhoto,
    Rendition,
    process_upload,
    process_upload_async,
)
from photos.service import StoredFile, StoredPhoto, store_photo, store_processed
from photos.sniff import PhotoFormat, sniff
from photos.storage import LocalStorage, PhotoStorage

__all__ = [
    "DISPLAY_MAX",
    "MAX_BYTES",
    "MAX_PIXELS",
    "PRIVATE_PREFIX",
    "PUBLIC_PREFIX",
    "THUMBNAIL_MAX",
    "LocalStorage",
    "PhotoCorrupt",
    "PhotoEmpty",
    "PhotoFormat",
    "PhotoHeicUnavailable",
    "PhotoKeyInvalid",
    "PhotoStorage",
    "PhotoTooLarge",
    "PhotoTooManyPixels",
    "PhotoUnsupportedFormat",
    "ProcessedPhoto",
    "Rendition",
    "StoredFile",
    "StoredPhoto",
    "is_public",
    "process_upload",
    "process_upload_async",
    "sniff",
    "store_photo",
    "store_processed",
]
