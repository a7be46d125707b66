"""process_upload on real image bytes generated here with Pillow (no binary fixtures)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import warnings
import zlib
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms

from core.errors import Invalid, PayloadTooLarge, UnsupportedMedia
from photos import (
    DISPLAY_MAX,
    MAX_PIXELS,
    THUMBNAIL_MAX,
    PhotoCorrupt,
    PhotoEmpty,
    PhotoFormat,
    PhotoHeicUnavailable,
    PhotoTooLarge,
    PhotoTooManyPixels,
    PhotoUnsupportedFormat,
    ProcessedPhoto,
    Rendition,
    process_upload,
    process_upload_async,
)
from photos import process as process_module

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def noisy(size: tuple[int, int]) -> Image.Image:
    """A photo-like image: noise compresses badly, so a cut falls inside the entropy-coded data."""
    return Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)])


def half_red(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """Left half red, right half blue."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img


def opened(rendition: Rendition) -> Image.Image:
    img = Image.open(io.BytesIO(rendition.data))
    img.load()
    return img


def close_to(pixel: Any, expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))


def alpha(img: Image.Image, xy: tuple[int, int]) -> int:
    pixel = img.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel[3]


def assert_no_metadata(rendition: Rendition) -> None:
    img = opened(rendition)
    assert len(img.getexif()) == 0
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "dpi", "photoshop"):
        assert key not in img.info, key
    assert b"Exif" not in rendition.data
    assert b"secret" not in rendition.data


def assert_within_bounds(photo: ProcessedPhoto) -> None:
    for rendition, bound in ((photo.display, DISPLAY_MAX), (photo.thumbnail, THUMBNAIL_MAX)):
        img = opened(rendition)
        assert img.size == (rendition.width, rendition.height)
        assert max(img.size) <= bound


# --- metadata and orientation ---------------------------------------------------------------


def test_gps_exif_xmp_icc_and_comment_are_stripped() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "secret phone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (31.0, 14.0, 9.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 28.0, 0.0),
    }
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret/></x:xmpmeta>'
    data = encode(noisy((640, 480)), "JPEG", exif=exif, icc_profile=icc, xmp=xmp, comment=b"secret note")
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test input must carry GPS"

    photo = process_upload(data)

    assert_no_metadata(photo.display)
    assert_no_metadata(photo.thumbnail)
    assert photo.original == data  # the evidence is kept byte for byte


def test_orientation_6_comes_back_upright() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: rotate 90 degrees clockwise to show
    data = encode(half_red((400, 200)), "JPEG", exif=exif, quality=95)

    photo = process_upload(data)

    assert (photo.width, photo.height) == (200, 400)
    display = opened(photo.display)
    assert display.size == (200, 400)
    # The red left half of the stored pixels is the top half once upright.
    assert close_to(display.getpixel((100, 50)), RED)
    assert close_to(display.getpixel((100, 350)), BLUE)
    thumbnail = opened(photo.thumbnail)
    assert thumbnail.size == (160, 320)
    assert close_to(thumbnail.getpixel((80, 40)), RED)
    assert close_to(thumbnail.getpixel((80, 280)), BLUE)
    assert_no_metadata(photo.display)


def test_orientation_8_on_a_large_jpeg_decoded_by_draft() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8  # rotate 90 degrees counter-clockwise to show
    data = encode(half_red((4000, 3000)), "JPEG", exif=exif)

    photo = process_upload(data)

    assert (photo.width, photo.height) == (3000, 4000)
    display = opened(photo.display)
    assert display.size == (1500, 2000)  # decoded at 1/2 scale, already within DISPLAY_MAX
    # The red left half ends at the bottom once rotated counter-clockwise.
    assert close_to(display.getpixel((750, 1900)), RED)
    assert close_to(display.getpixel((750, 100)), BLUE)


def s15_fixed16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def linear_rgb_profile() -> bytes:
    """A minimal ICC v2 matrix/TRC profile: sRGB primaries with a linear (gamma 1.0) curve."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15_fixed16(x) + s15_fixed16(y) + s15_fixed16(z)

    text = b"Linear RGB test\0"
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0100)
    tags = [
        (b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 79),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, tag in tags:
        tag += b"\0" * (-len(tag) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(tag))
        body += tag
    header = (
        struct.pack(">I", offset + len(body))
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + s15_fixed16(0.9642)
        + s15_fixed16(1.0)
        + s15_fixed16(0.8249)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + body


def grey_value(rendition: Rendition) -> int:
    pixel = opened(rendition).convert("L").getpixel((5, 5))
    assert isinstance(pixel, int)
    return pixel


@pytest.mark.parametrize(
    ("icc_profile", "expected"),
    [
        (linear_rgb_profile(), 188),  # linear 128 is sRGB 188: the profile was applied
        (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), 128),  # left alone
        (b"not a profile at all", 128),  # unusable: pixels kept as they are
    ],
)
def test_embedded_icc_profile_is_converted_to_srgb_then_dropped(icc_profile: bytes, expected: int) -> None:
    data = encode(Image.new("RGB", (64, 64), (128, 128, 128)), "PNG", icc_profile=icc_profile)

    photo = process_upload(data)

    assert abs(grey_value(photo.display) - expected) <= 3
    assert abs(grey_value(photo.thumbnail) - expected) <= 3
    assert_no_metadata(photo.display)


# --- sizes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "display_size", "thumbnail_size"),
    [
        ((4000, 3000), (2000, 1500), (320, 240)),  # JPEG draft at 1/2 keeps a long side >= 1792
        ((3000, 2000), (2048, 1365), (320, 213)),  # 1/2 would give 1500 < 1792: full decode, resize
        ((8000, 1000), (2000, 250), (320, 40)),  # draft at 1/4
        ((1000, 8000), (250, 2000), (40, 320)),
        ((5000, 700), (2048, 287), (320, 45)),  # draft at 1/2 gives 2500x350, then resized
        ((100, 50), (100, 50), (100, 50)),  # never upscaled
    ],
)
def test_display_and_thumbnail_bounds(
    size: tuple[int, int], display_size: tuple[int, int], thumbnail_size: tuple[int, int]
) -> None:
    photo = process_upload(encode(half_red(size), "JPEG"))

    assert (photo.width, photo.height) == size
    assert (photo.display.width, photo.display.height) == display_size
    assert (photo.thumbnail.width, photo.thumbnail.height) == thumbnail_size
    assert_within_bounds(photo)


def test_result_fields() -> None:
    data = encode(half_red(), "PNG")
    photo = process_upload(data)

    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.format is PhotoFormat.PNG
    assert photo.original_content_type == "image/png"
    assert photo.original_extension == "png"
    assert photo.display.content_type == "image/jpeg"  # opaque: JPEG whatever the input
    assert photo.display.extension == "jpg"
    assert photo.display.byte_size == len(photo.display.data)
    assert "data" not in repr(photo.display) and "original=" not in repr(photo)  # no bytes in logs


async def test_async_variant_gives_the_same_result() -> None:
    data = encode(half_red(), "JPEG")
    assert await process_upload_async(data) == process_upload(data)


async def test_concurrent_uploads_leave_the_warning_filters_as_they_were() -> None:
    filters_before = list(warnings.filters)
    good = encode(half_red(), "JPEG")
    bomb = bilevel_png((12000, 12000))

    results = await asyncio.gather(
        *(process_upload_async(data, max_pixels=10**9) for data in [good, bomb] * 4),
        return_exceptions=True,
    )

    assert [isinstance(result, ProcessedPhoto) for result in results] == [True, False] * 4
    assert all(isinstance(result, PhotoTooManyPixels) for result in results[1::2])
    assert list(warnings.filters) == filters_before


# --- accepted formats -------------------------------------------------------------------------


def test_png_with_transparency_stays_png_with_alpha() -> None:
    img = half_red().convert("RGBA")
    img.paste((0, 0, 0, 0), (0, 0, 100, 100))
    photo = process_upload(encode(img, "PNG"))

    assert photo.format is PhotoFormat.PNG
    assert photo.display.content_type == photo.thumbnail.content_type == "image/png"
    display = opened(photo.display)
    assert display.mode == "RGBA"
    assert alpha(display, (10, 10)) == 0
    assert display.getpixel((300, 150)) == (*BLUE, 255)
    assert_no_metadata(photo.display)
    assert_within_bounds(photo)


def test_png_with_an_opaque_alpha_channel_becomes_jpeg() -> None:
    photo = process_upload(encode(half_red().convert("RGBA"), "PNG"))
    assert photo.display.content_type == "image/jpeg"


def test_palette_png_with_transparency() -> None:
    img = half_red().convert("P")
    red_index = img.getpixel((0, 0))
    photo = process_upload(encode(img, "PNG", transparency=red_index))
    assert photo.display.content_type == "image/png"
    display = opened(photo.display)
    assert alpha(display, (10, 10)) == 0
    assert alpha(display, (300, 10)) == 255


def test_rgb_png_with_a_transparent_colour_key() -> None:
    photo = process_upload(encode(half_red(), "PNG", transparency=RED))
    assert photo.display.content_type == "image/png"
    assert alpha(opened(photo.display), (10, 10)) == 0


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize(
    "exif",
    [b"Exif\x00\x00garbage", b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff" + b"\x00" * 30],
)
def test_malformed_exif_is_tolerated_and_dropped(exif: bytes) -> None:
    photo = process_upload(encode(half_red(), "JPEG", exif=exif))
    assert (photo.display.width, photo.display.height) == (400, 200)
    assert_no_metadata(photo.display)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_webp_is_accepted(mode: str) -> None:
    img = half_red().convert(mode)
    if mode == "RGBA":
        img.putpixel((0, 0), (0, 0, 0, 0))
    photo = process_upload(encode(img, "WEBP", quality=90))

    assert photo.format is PhotoFormat.WEBP
    assert photo.display.content_type == ("image/png" if mode == "RGBA" else "image/jpeg")
    assert close_to(opened(photo.display).getpixel((50, 100)), RED)
    assert_within_bounds(photo)


def test_cmyk_and_grayscale_jpeg() -> None:
    cmyk = process_upload(encode(half_red().convert("CMYK"), "JPEG"))
    assert opened(cmyk.display).mode == "RGB"
    assert close_to(opened(cmyk.display).getpixel((50, 100)), RED)
    grey = process_upload(encode(half_red().convert("L"), "JPEG"))
    assert opened(grey.display).mode == "L"


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    img = Image.new("I;16", (64, 64), 32768)
    photo = process_upload(encode(img, "PNG"))
    value = opened(photo.display).getpixel((10, 10))
    assert isinstance(value, int) and 110 < value < 145


def test_heic_is_accepted() -> None:
    pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif is not installed")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("libheif in this pillow-heif has no HEVC encoder to write a test HEIC")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "secret phone"
    heif = pillow_heif.from_pillow(half_red((400, 200)))
    buffer = io.BytesIO()
    heif.save(buffer, quality=90, exif=exif.tobytes())

    photo = process_upload(buffer.getvalue())

    assert photo.format is PhotoFormat.HEIF
    assert photo.original_content_type == "image/heic"
    assert (photo.width, photo.height) == (200, 400)
    display = opened(photo.display)
    assert display.size == (200, 400)
    assert close_to(display.getpixel((100, 50)), RED)
    assert_no_metadata(photo.display)
    assert_no_metadata(photo.thumbnail)


def test_heic_is_refused_clearly_without_pillow_heif(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_module, "_heif_available", lambda: False)
    heic_header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64

    with pytest.raises(PhotoHeicUnavailable) as caught:
        process_upload(heic_header)

    assert isinstance(caught.value, UnsupportedMedia)
    assert caught.value.error_code == "photo_heic_unavailable"
    assert "HEIC" in caught.value.user_message


# --- refused uploads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "pdf"),  # a PDF named photo.jpg
        (b"just some text, named photo.png", "unknown"),
        (encode(half_red(), "GIF"), "gif"),
        (encode(half_red(), "BMP"), "bmp"),
        (encode(half_red(), "TIFF"), "tiff"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 32, "avif"),
    ],
)
def test_other_content_is_refused_whatever_its_name(data: bytes, detected: str) -> None:
    with pytest.raises(PhotoUnsupportedFormat) as caught:
        process_upload(data)

    assert isinstance(caught.value, UnsupportedMedia)
    assert caught.value.error_code == "photo_unsupported_format"
    assert caught.value.details == {"detected": detected}


def test_empty_upload_is_refused() -> None:
    with pytest.raises(PhotoEmpty) as caught:
        process_upload(b"")
    assert isinstance(caught.value, Invalid)


def test_20_mb_upload_is_refused_before_parsing() -> None:
    data = encode(half_red(), "JPEG") + b"\x00" * (20 * 1024 * 1024)

    with pytest.raises(PhotoTooLarge) as caught:
        process_upload(data)

    assert isinstance(caught.value, PayloadTooLarge)
    assert caught.value.error_code == "photo_too_large"
    assert "10 MB" in caught.value.user_message
    assert caught.value.details == {"max_bytes": 10 * 1024 * 1024, "size": len(data)}


def test_max_bytes_is_configurable() -> None:
    data = encode(noisy((200, 200)), "JPEG")
    with pytest.raises(PhotoTooLarge):
        process_upload(data, max_bytes=len(data) - 1)
    assert process_upload(data, max_bytes=len(data)).sha256


def bilevel_png(size: tuple[int, int]) -> bytes:
    """A huge all-white PNG that compresses to a few kilobytes."""
    return encode(Image.new("1", size, 1), "PNG")


@pytest.fixture(scope="module")
def bomb_144_mp() -> bytes:
    data = bilevel_png((12000, 12000))
    assert len(data) < 100_000
    return data


def test_pixel_bomb_is_refused(bomb_144_mp: bytes) -> None:
    with pytest.raises(PhotoTooManyPixels) as caught:
        process_upload(bomb_144_mp)
    assert isinstance(caught.value, PayloadTooLarge)
    assert caught.value.error_code == "photo_too_many_pixels"


def test_pillow_bomb_warning_is_an_error_even_with_a_lax_limit(bomb_144_mp: bytes) -> None:
    # 144 MP is between 1x and 2x Image.MAX_IMAGE_PIXELS, where Pillow only warns.
    assert Image.MAX_IMAGE_PIXELS is not None
    assert Image.MAX_IMAGE_PIXELS < 12000 * 12000 < 2 * Image.MAX_IMAGE_PIXELS
    with pytest.raises(PhotoTooManyPixels):
        process_upload(bomb_144_mp, max_pixels=10**9)


def test_our_own_limit_is_below_pillows() -> None:
    data = bilevel_png((8000, 8000))  # 64 MP: under Pillow's limit, over ours
    assert Image.MAX_IMAGE_PIXELS is not None
    assert MAX_PIXELS < 8000 * 8000 < Image.MAX_IMAGE_PIXELS

    with pytest.raises(PhotoTooManyPixels) as caught:
        process_upload(data)

    assert caught.value.details == {"width": 8000, "height": 8000, "max_pixels": MAX_PIXELS}


def test_forged_jpeg_header_claiming_huge_dimensions_is_refused() -> None:
    data = bytearray(encode(half_red((64, 64)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width in the SOF0 header

    with pytest.raises(PhotoTooManyPixels):
        process_upload(bytes(data))


def test_truncated_jpeg_is_refused() -> None:
    data = encode(noisy((800, 600)), "JPEG")

    with pytest.raises(PhotoCorrupt) as caught:
        process_upload(data[: len(data) // 2])

    assert isinstance(caught.value, Invalid)
    assert caught.value.error_code == "photo_corrupt"


def test_truncated_png_is_refused() -> None:
    data = encode(noisy((300, 300)), "PNG")
    with pytest.raises(PhotoCorrupt):
        process_upload(data[: len(data) // 2])


def test_png_with_a_damaged_chunk_is_refused() -> None:
    data = bytearray(encode(noisy((100, 100)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 40] ^= 0xFF  # the CRC no longer matches: verify() notices

    with pytest.raises(PhotoCorrupt):
        process_upload(bytes(data))


def test_header_only_is_refused() -> None:
    width, height = 100, 100
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    with pytest.raises(PhotoCorrupt):
        process_upload(b"\x89PNG\r\n\x1a\n" + chunk)


def test_jpeg_magic_followed_by_garbage_is_refused() -> None:
    with pytest.raises(PhotoCorrupt):
        process_upload(b"\xff\xd8\xff\xe0" + b"garbage" * 100)


def test_errors_have_stable_codes_and_chinese_messages() -> None:
    errors = [
        PhotoEmpty,
        PhotoTooLarge,
        PhotoTooManyPixels,
        PhotoUnsupportedFormat,
        PhotoHeicUnavailable,
        PhotoCorrupt,
    ]
    codes = [error.code for error in errors]
    assert len(set(codes)) == len(codes)
    for error in errors:
        assert error.code.startswith("photo_") and error.code.replace("_", "").isalpha()
        assert any("\u4e00" <= char <= "\u9fff" for char in error.message)
