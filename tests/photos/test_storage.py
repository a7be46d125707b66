"""LocalStorage and store_photo on a temporary directory, with real image bytes made by Pillow."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from core.errors import Invalid
from photos import (
    PRIVATE_PREFIX,
    PUBLIC_PREFIX,
    LocalStorage,
    PhotoCorrupt,
    PhotoKeyInvalid,
    PhotoStorage,
    PhotoUnsupportedFormat,
    is_public,
    store_photo,
)

KEY = "public/display/ab/cd/" + "ab" * 32 + ".jpg"


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    img = Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)])
    buffer = io.BytesIO()
    img.save(buffer, "JPEG")
    return buffer.getvalue()


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The storage root, one level below tmp_path so that escapes from it can be seen."""
    return tmp_path / "photos"


@pytest.fixture
def storage(root: Path) -> LocalStorage:
    return LocalStorage(root)


def test_local_storage_is_a_photo_storage(storage: LocalStorage) -> None:
    typed: PhotoStorage = storage  # checked by mypy
    assert typed is storage


async def test_put_get_exists_delete(storage: LocalStorage, root: Path) -> None:
    assert await storage.get(KEY) is None
    assert not await storage.exists(KEY)

    await storage.put(KEY, b"first", "image/jpeg")
    assert await storage.get(KEY) == b"first"
    assert await storage.exists(KEY)
    assert (root / KEY).read_bytes() == b"first"

    await storage.put(KEY, b"second", "image/jpeg")  # replaces
    assert await storage.get(KEY) == b"second"

    await storage.delete(KEY)
    assert not await storage.exists(KEY)
    await storage.delete(KEY)  # deleting a missing key is fine


async def test_put_leaves_no_temporary_file(storage: LocalStorage, root: Path) -> None:
    await storage.put(KEY, b"x" * 100_000, "image/jpeg")
    assert files_under(root) == [root / KEY]


async def test_failed_put_keeps_the_old_file_whole(
    storage: LocalStorage, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await storage.put(KEY, b"old", "image/jpeg")

    def broken_replace(source: str, target: str) -> None:
        raise OSError("disk failure")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk failure"):
        await storage.put(KEY, b"new", "image/jpeg")

    assert (root / KEY).read_bytes() == b"old"
    assert files_under(root) == [root / KEY]  # the temporary file was removed


async def test_public_files_are_world_readable_private_ones_are_not(
    storage: LocalStorage, root: Path
) -> None:
    private = "private/original/ab/cd/" + "ab" * 32 + ".heic"
    await storage.put(KEY, b"p", "image/jpeg")
    await storage.put(private, b"o", "image/heic")

    assert stat.S_IMODE((root / KEY).stat().st_mode) == 0o644
    assert stat.S_IMODE((root / private).stat().st_mode) == 0o600
    assert is_public(KEY) and not is_public(private)


@pytest.mark.parametrize(
    "key",
    [
        "../outside.jpg",
        "public/../../outside.jpg",
        "public/display/../../../etc/passwd",
        "public/./display/x.jpg",
        "/etc/passwd",
        "/tmp/public/x.jpg",
        "public\\..\\x.jpg",
        "public/display/.hidden",
        "public/display/.tmp-123",
        "public//display/x.jpg",
        "public/display/",
        "public/display/x..jpg",
        "public/display/x.jpg\x00.png",
        "other/x.jpg",
        "",
        "public/Display/X.JPG",
        "public/" + "a" * 600,
    ],
)
async def test_unsafe_keys_are_refused(storage: LocalStorage, tmp_path: Path, key: str) -> None:
    (tmp_path / "outside.jpg").write_bytes(b"keep")
    for call in (
        storage.put(key, b"x", "image/jpeg"),
        storage.get(key),
        storage.delete(key),
        storage.exists(key),
    ):
        with pytest.raises(PhotoKeyInvalid) as caught:
            await call
        assert isinstance(caught.value, Invalid)
        assert caught.value.error_code == "photo_key_invalid"
    assert files_under(tmp_path) == [tmp_path / "outside.jpg"]
    assert (tmp_path / "outside.jpg").read_bytes() == b"keep"


async def test_store_photo_stores_three_files_in_their_areas(storage: LocalStorage, root: Path) -> None:
    data = jpeg()

    stored = await store_photo(storage, data)

    assert stored.original.key.startswith(PRIVATE_PREFIX + "original/")
    assert stored.original.key.endswith(f"/{stored.sha256}.jpg")
    assert stored.original.key.split("/")[2:4] == [stored.sha256[:2], stored.sha256[2:4]]
    assert stored.display.key.startswith(PUBLIC_PREFIX + "display/")
    assert stored.thumbnail.key.startswith(PUBLIC_PREFIX + "thumbnail/")
    assert stored.sha256 not in stored.display.key  # a public URL does not reveal the original's key
    assert await storage.get(stored.original.key) == data
    display = await storage.get(stored.display.key)
    assert display is not None and len(display) == stored.display.byte_size
    assert Image.open(io.BytesIO(display)).size == (stored.display.width, stored.display.height)
    assert set(stored.written) == {stored.original.key, stored.display.key, stored.thumbnail.key}
    assert len(files_under(root)) == 3


async def test_store_photo_is_idempotent(storage: LocalStorage, root: Path) -> None:
    data = jpeg()
    first = await store_photo(storage, data)
    mtimes = {path: path.stat().st_mtime_ns for path in files_under(root)}

    second = await store_photo(storage, data)

    assert second.written == ()
    assert (second.original, second.display, second.thumbnail) == (
        first.original,
        first.display,
        first.thumbnail,
    )
    assert {path: path.stat().st_mtime_ns for path in files_under(root)} == mtimes


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (jpeg()[:5000], PhotoCorrupt),
        (b"%PDF-1.7\n%%EOF\n", PhotoUnsupportedFormat),
    ],
)
async def test_nothing_is_stored_when_processing_fails(
    storage: LocalStorage, root: Path, data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await store_photo(storage, data)
    assert files_under(root) == []
