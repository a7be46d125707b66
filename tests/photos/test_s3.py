"""S3Storage against a real S3-compatible server: moto's server mode, started by the test in its own
process on a loopback port, spoken to over HTTP with real SigV4 signatures (aiobotocore)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from PIL import Image

from accounts.models import User
from accounts.sessions import open_session
from config.settings import SettingsError, from_mapping
from core.cache import Cache
from photos import PhotoKeyInvalid, PhotoStorage
from photos.models import Photo
from photos.s3 import S3Location, S3Storage
from server.media import media_storage
from server.ops.backup import BackupError, backup, restore
from tests.conftest import free_port
from tests.ops.conftest import scratch_database  # noqa: F401 (a fixture)

KEY = "public/display/ab/cd/" + "ab" * 32 + ".jpg"
PRIVATE = "private/original/ef/01/" + "ef" * 32 + ".jpg"
CREDENTIALS = {"access_key_id": "testing-key", "secret_access_key": "testing-secret"}


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("moto's S3 server did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _bucket(url: str, name: str) -> Any:
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key_id"],
        aws_secret_access_key=CREDENTIALS["secret_access_key"],
    )
    s3.create_bucket(Bucket=name)
    return s3


_buckets = iter(range(10_000))


@pytest.fixture
async def store(s3_url: str) -> AsyncIterator[tuple[S3Storage, Any, str]]:
    name = f"media-{next(_buckets)}"
    raw = await asyncio.to_thread(_bucket, s3_url, name)
    storage = S3Storage(S3Location(endpoint_url=s3_url, bucket=name, **CREDENTIALS))
    yield storage, raw, name
    await storage.close()


def test_s3_storage_is_a_photo_storage(s3_url: str) -> None:
    typed: PhotoStorage = S3Storage(S3Location(endpoint_url=s3_url, bucket="b", **CREDENTIALS))
    assert isinstance(typed, S3Storage)


async def test_put_get_exists_delete_list(store: tuple[S3Storage, Any, str]) -> None:
    storage, raw, bucket = store
    assert await storage.get(KEY) is None
    assert not await storage.exists(KEY)

    await storage.put(KEY, b"first", "image/jpeg")
    await storage.put(KEY, b"second", "image/jpeg")  # a put replaces
    await storage.put(PRIVATE, b"evidence", "image/jpeg")

    assert await storage.get(KEY) == b"second"
    assert await storage.exists(KEY)
    head = await asyncio.to_thread(raw.head_object, Bucket=bucket, Key=KEY)
    assert head["ContentType"] == "image/jpeg"
    assert sorted([k async for k in storage.list_keys()]) == sorted([KEY, PRIVATE])

    await storage.delete(KEY)
    await storage.delete(KEY)  # deleting what is gone is not an error
    assert await storage.get(KEY) is None and not await storage.exists(KEY)
    assert [k async for k in storage.list_keys()] == [PRIVATE]


async def test_keys_that_could_escape_are_refused_before_any_request(
    store: tuple[S3Storage, Any, str],
) -> None:
    storage, raw, bucket = store
    for bad in ("../x.jpg", "public/../../etc/passwd", "/abs.jpg", "public/display/a b.jpg", ""):
        with pytest.raises(PhotoKeyInvalid):
            await storage.put(bad, b"x", "image/jpeg")
        with pytest.raises(PhotoKeyInvalid):
            await storage.get(bad)
    listed = await asyncio.to_thread(raw.list_objects_v2, Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0


async def test_a_prefix_keeps_two_systems_apart_in_one_bucket(
    s3_url: str, store: tuple[S3Storage, Any, str]
) -> None:
    plain, raw, bucket = store
    county_a = S3Storage(S3Location(endpoint_url=s3_url, bucket=bucket, prefix="county-a/", **CREDENTIALS))
    try:
        await county_a.put(KEY, b"a", "image/jpeg")
        await plain.put(PRIVATE, b"plain", "image/jpeg")
        assert [k async for k in county_a.list_keys()] == [KEY]
        assert await county_a.get(PRIVATE) is None
        listed = await asyncio.to_thread(raw.list_objects_v2, Bucket=bucket)
        assert sorted(o["Key"] for o in listed["Contents"]) == sorted([PRIVATE, "county-a/" + KEY])
    finally:
        await county_a.close()


def test_settings_name_every_s3_value_they_need() -> None:
    with pytest.raises(SettingsError, match="S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY"):
        from_mapping({"MEDIA_STORAGE": "s3", "S3_ENDPOINT_URL": "https://s3.example.cn"})
    with pytest.raises(SettingsError, match="S3_PREFIX"):
        from_mapping({"S3_PREFIX": "../up/"})
    settings = from_mapping(
        {
            "MEDIA_STORAGE": "s3",
            "S3_ENDPOINT_URL": "https://s3.example.cn",
            "S3_BUCKET": "wuye",
            "S3_ACCESS_KEY_ID": "k",
            "S3_SECRET_ACCESS_KEY": "s",
            "S3_PREFIX": "wuye/",
        }
    )
    storage = media_storage(settings)
    assert isinstance(storage, S3Storage) and storage.location.prefix == "wuye/"


def _noisy_jpeg() -> bytes:
    img = Image.merge("RGB", [Image.effect_noise((320, 240), 60) for _ in range(3)])
    buffer = io.BytesIO()
    img.save(buffer, "JPEG")
    return buffer.getvalue()


async def test_the_app_keeps_photos_in_the_bucket_and_backs_them_up(
    s3_url: str,
    settings: Any,
    cache: Cache,
    clean_db: None,
    tmp_path: Path,
    scratch_database: Any,  # noqa: F811
) -> None:
    from server.app import create_app
    from tests.conftest import RunningServer

    bucket = f"media-{next(_buckets)}"
    raw = await asyncio.to_thread(_bucket, s3_url, bucket)
    s3_settings = replace(
        settings,
        media_storage="s3",
        media_dir=tmp_path / "unused-media",
        s3_endpoint_url=s3_url,
        s3_bucket=bucket,
        s3_access_key_id=CREDENTIALS["access_key_id"],
        s3_secret_access_key=CREDENTIALS["secret_access_key"],
        s3_prefix="live/",
    )
    app = create_app(s3_settings, cache=cache, manage_db=False)
    app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024  # the production default; tests use 64 KiB
    server = RunningServer(app, free_port())
    await server.start()
    try:
        user = await User.create(openid="s3-uploader")
        token = (await open_session(cache, user.id, 600)).token
        headers = {"authorization": f"Bearer {token}"}
        data = _noisy_jpeg()
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            uploaded = await http.post(
                "/api/v1/photos", content=data, headers={**headers, "content-type": "image/jpeg"}
            )
            assert uploaded.status_code == 201, uploaded.text
            served = await http.get(f"/api/v1/photos/{uploaded.json()['id']}/display", headers=headers)
        assert served.status_code == 200 and served.content[:2] == b"\xff\xd8"
    finally:
        await server.stop()
    photo = await Photo.get(id=uploaded.json()["id"])
    original = await asyncio.to_thread(raw.get_object, Bucket=bucket, Key="live/" + photo.original_key)
    assert original["Body"].read() == data  # the evidence, byte for byte, in the bucket
    assert not (tmp_path / "unused-media").exists()  # nothing on the local disk

    # backup from the bucket, restore into another prefix (an empty store): every object identical
    live = media_storage(s3_settings)
    result = await backup(settings.database_url, live, tmp_path / "backup")
    assert result.problems == []
    keys = {photo.original_key, photo.display_key, photo.thumbnail_key}
    assert keys <= set(result.manifest["media"]["files"])
    restored = media_storage(replace(s3_settings, s3_prefix="restored/"))
    try:
        await restore(scratch_database(), restored, tmp_path / "backup")
        assert sorted([k async for k in restored.list_keys()]) == sorted(result.manifest["media"]["files"])
        for key in keys:
            assert await restored.get(key) == await live.get(key)
        # a second restore over what is now there is refused, and changes nothing
        with pytest.raises(BackupError, match="not empty"):
            await restore(scratch_database(), restored, tmp_path / "backup")
    finally:
        await close(live, restored)


async def close(*stores: PhotoStorage) -> None:
    for store in stores:
        assert isinstance(store, S3Storage)
        await store.close()
