"""Identify an upload by its leading bytes (magic numbers), never by its name or declared type."""

from __future__ import annotations

from enum import StrEnum


class PhotoFormat(StrEnum):
    """The formats accepted as uploads."""

    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIF = "heif"


# ISO-BMFF brands of HEVC-coded HEIF images (iPhone photos are "heic"; "mif1"/"msf1" are generic
# brands that must list an HEVC brand among the compatible ones, otherwise it may be AVIF).
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})

# Formats we recognise only to refuse them with a precise ``details``.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "pdf"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"PK\x03\x04", "zip"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"<?xml", "xml"),
    (b"<svg", "svg"),
)


def sniff(data: bytes) -> PhotoFormat | str:
    """Return the accepted format of ``data``, or a short name (``"pdf"``, ``"unknown"``...) to refuse."""
    if data.startswith(b"\xff\xd8\xff"):
        return PhotoFormat.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PhotoFormat.PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return PhotoFormat.WEBP
    if data[4:8] == b"ftyp":
        return _sniff_ftyp(data)
    for signature, name in _REFUSED_SIGNATURES:
        if data.startswith(signature):
            return name
    return "unknown"


def _sniff_ftyp(data: bytes) -> PhotoFormat | str:
    box_size = int.from_bytes(data[:4], "big")
    if box_size < 16 or box_size > min(len(data), 4096) or box_size % 4:
        return "unknown"
    major = data[8:12]
    compatible = {data[i : i + 4] for i in range(16, box_size, 4)}
    if major in _HEVC_BRANDS or (major in _GENERIC_BRANDS and compatible & _HEVC_BRANDS):
        return PhotoFormat.HEIF
    if major in {b"avif", b"avis"} or b"avif" in compatible:
        return "avif"
    return "isobmff"
