"""Check an uploaded photo and derive its web renditions. Pure: no HTTP, no database, no storage.

Pipeline (one decode):

1. size in bytes, then the magic number (never the name or the declared type);
2. ``Image.open`` restricted to the sniffed format, with ``DecompressionBombWarning`` as an error,
   then our own width x height check from the header, then ``verify()``;
3. reopen and decode; a JPEG decodes through ``draft`` at the smallest DCT scale that still gives a
   long side of at least ``DRAFT_FLOOR`` (a 12-megapixel 4000x3000 JPEG decodes as 2000x1500);
4. fit into ``DISPLAY_MAX``, apply the EXIF orientation, convert to sRGB, strip every metadata;
5. encode the display version, derive the thumbnail from it.

Output format: JPEG (quality 85) for every opaque image, whatever the input format; PNG only when the
image really has transparent pixels (an alpha channel that is fully opaque is dropped). WebP is not
produced because the mini-program's ``<image>`` component shows WebP on iOS only with ``webp="true"``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import io
import struct
import threading
import warnings
from dataclasses import dataclass, field

from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps

from photos.errors import (
    PhotoCorrupt,
    PhotoEmpty,
    PhotoHeicUnavailable,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnsupportedFormat,
)
from photos.sniff import PhotoFormat, sniff

MAX_BYTES = 10 * 1024 * 1024
# 52 MP: the largest photos that phones write in their 48/50-megapixel modes are 8192x6144
# (50.3 MP). 108/200 MP modes are out, but their JPEGs exceed MAX_BYTES anyway. At the limit a
# non-JPEG decode holds about 210 MB (RGBA); a JPEG decodes at 1/4 scale through draft.
MAX_PIXELS = 52_000_000
DISPLAY_MAX = 2048
THUMBNAIL_MAX = 320
# A JPEG decoded by draft is kept as the display version when its long side is at least this (7/8
# of DISPLAY_MAX): 4000x3000 -> 2000x1500, 4032x3024 -> 2016x1512, without a full-scale decode.
DRAFT_FLOOR = 1792
JPEG_QUALITY = 85

_PIL_FORMATS: dict[PhotoFormat, tuple[str, ...]] = {
    PhotoFormat.JPEG: ("JPEG", "MPO"),
    PhotoFormat.PNG: ("PNG",),
    PhotoFormat.WEBP: ("WEBP",),
    PhotoFormat.HEIF: ("HEIF",),
}
_CONTENT_TYPES: dict[PhotoFormat, str] = {
    PhotoFormat.JPEG: "image/jpeg",
    PhotoFormat.PNG: "image/png",
    PhotoFormat.WEBP: "image/webp",
    PhotoFormat.HEIF: "image/heic",
}
EXTENSIONS: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
}
# What a malformed file can make Pillow (or pillow-heif) raise while parsing or decoding.
_DECODE_ERRORS: tuple[type[Exception], ...] = (
    OSError,  # includes UnidentifiedImageError and "image file is truncated"
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    RuntimeError,
    struct.error,
)
_SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_SRGB = ImageCms.createProfile("sRGB")
# warnings.catch_warnings() swaps process-wide state (before Python 3.14): serialise our own uses.
_open_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Rendition:
    """An encoded derived image, free of any metadata."""

    data: bytes = field(repr=False)
    width: int
    height: int
    content_type: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def byte_size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class ProcessedPhoto:
    """A checked upload: the original bytes (evidence, to store privately) and its renditions."""

    sha256: str  # of the original bytes, hex
    format: PhotoFormat
    width: int  # of the original, after the EXIF orientation
    height: int
    original: bytes = field(repr=False)
    display: Rendition
    thumbnail: Rendition

    @property
    def original_content_type(self) -> str:
        return _CONTENT_TYPES[self.format]

    @property
    def original_extension(self) -> str:
        return EXTENSIONS[self.original_content_type]


def process_upload(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> ProcessedPhoto:
    """Check ``data`` and derive its display version and thumbnail (CPU-bound: see the async variant).

    Raises a ``photos.errors`` error: PhotoEmpty, PhotoTooLarge, PhotoUnsupportedFormat,
    PhotoHeicUnavailable, PhotoTooManyPixels or PhotoCorrupt.
    """
    fmt = _check_bytes(data, max_bytes)
    with _open(data, fmt, max_pixels) as probe:
        header_width, header_height = probe.size
        try:
            probe.verify()
        except _DECODE_ERRORS as exc:
            raise PhotoCorrupt(details={"reason": str(exc)}) from exc
    with _open(data, fmt, max_pixels) as img:
        try:
            display, orientation = _decode_display(img)
        except _DECODE_ERRORS as exc:
            raise PhotoCorrupt(details={"reason": str(exc)}) from exc
        display_rendition = _encode(display, optimize=False)
        thumbnail_rendition = _encode(_fit(display, THUMBNAIL_MAX), optimize=True)
    if orientation in _SWAPPING_ORIENTATIONS:
        header_width, header_height = header_height, header_width
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        width=header_width,
        height=header_height,
        original=data,
        display=display_rendition,
        thumbnail=thumbnail_rendition,
    )


async def process_upload_async(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> ProcessedPhoto:
    """``process_upload`` in a worker thread, so the event loop never blocks on decoding."""
    return await asyncio.to_thread(process_upload, data, max_bytes=max_bytes, max_pixels=max_pixels)


def _check_bytes(data: bytes, max_bytes: int) -> PhotoFormat:
    if not data:
        raise PhotoEmpty()
    if len(data) > max_bytes:
        raise PhotoTooLarge(
            f"图片不能超过 {max_bytes / (1024 * 1024):g} MB，请压缩后重新上传",
            details={"max_bytes": max_bytes, "size": len(data)},
        )
    kind = sniff(data)
    if not isinstance(kind, PhotoFormat):
        raise PhotoUnsupportedFormat(details={"detected": kind})
    if kind is PhotoFormat.HEIF and not _heif_available():
        raise PhotoHeicUnavailable(details={"detected": "heif"})
    return kind


@functools.cache
def _heif_available() -> bool:
    """Register pillow-heif's opener on first need; False when pillow-heif is not installed."""
    try:
        import pillow_heif  # optional dependency, imported on first HEIC upload
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _open(data: bytes, fmt: PhotoFormat, max_pixels: int) -> ImageFile.ImageFile:
    """Parse the header only; refuse pixel bombs before anything is decoded."""
    try:
        with _open_lock, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[fmt][0]])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise PhotoTooManyPixels(details={"max_pixels": max_pixels}) from exc
    except _DECODE_ERRORS as exc:
        raise PhotoCorrupt(details={"reason": str(exc)}) from exc
    width, height = img.size
    if img.format not in _PIL_FORMATS[fmt] or width < 1 or height < 1:
        img.close()
        raise PhotoCorrupt(details={"reason": f"unexpected {img.format} {width}x{height}"})
    if width * height > max_pixels:
        img.close()
        raise PhotoTooManyPixels(details={"width": width, "height": height, "max_pixels": max_pixels})
    return img


def _decode_display(img: ImageFile.ImageFile) -> tuple[Image.Image, int]:
    """Decode once (JPEG at reduced scale), fit into DISPLAY_MAX, orient, convert to sRGB."""
    if img.format in _PIL_FORMATS[PhotoFormat.JPEG]:
        img.draft("RGB", _fit_size(img.size, DRAFT_FLOOR))
    img.load()
    orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    display = _fit(img, DISPLAY_MAX)
    ImageOps.exif_transpose(display, in_place=True)
    return _web_ready(display), orientation


def _fit_size(size: tuple[int, int], bound: int) -> tuple[int, int]:
    width, height = size
    longest = max(width, height)
    if longest <= bound:
        return size
    return max(1, round(width * bound / longest)), max(1, round(height * bound / longest))


def _fit(img: Image.Image, bound: int) -> Image.Image:
    size = _fit_size(img.size, bound)
    if size == img.size:
        return img
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def _web_ready(img: Image.Image) -> Image.Image:
    """sRGB in mode RGB or L, or RGBA when some pixel is transparent; no metadata at all."""
    icc_profile = img.info.get("icc_profile")
    if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N"):  # 16-bit grey PNG: scale, do not clip
        img = img.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:  # tRNS of P, L, RGB
        img = img.convert("RGBA")
        if img.getchannel("A").getextrema() == (255, 255):
            img = img.convert("RGB")
    elif img.mode not in ("L", "RGB", "CMYK"):
        img = img.convert("RGB")
    if icc_profile and img.mode in ("RGB", "RGBA", "CMYK"):
        img = _to_srgb(img, icc_profile)
    if img.mode == "CMYK":
        img = img.convert("RGB")
    img.info = {}
    return img


def _to_srgb(img: Image.Image, icc_profile: bytes) -> Image.Image:
    """Convert from the embedded profile (Display P3 on iPhones) so that stripping it is harmless."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if "srgb" in ImageCms.getProfileDescription(source).lower():
            return img
        output_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # an unusable profile: keep the pixels as they are
    return converted if converted is not None else img


def _encode(img: Image.Image, *, optimize: bool) -> Rendition:
    buffer = io.BytesIO()
    img.info = {}  # nothing from the source (EXIF, XMP, ICC, comments, text chunks) is written
    if img.mode == "RGBA":
        img.save(buffer, "PNG", optimize=optimize)
        content_type = "image/png"
    else:
        img.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=optimize)
        content_type = "image/jpeg"
    return Rendition(buffer.getvalue(), img.width, img.height, content_type)
