"""The photo endpoints over real HTTP with real image bytes: what comes back, who sees it, and that a
refused upload leaves nothing behind (no file, no row)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from PIL import ExifTags, Image

from accounts.models import User
from accounts.sessions import open_session
from core.cache import Cache
from photos import records
from photos.access import Sight, register_viewer
from photos.models import Moderation, Photo

RED, BLUE = (255, 0, 0), (0, 0, 255)


def jpeg(img: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", **params)
    return buffer.getvalue()


def noisy(size: tuple[int, int]) -> Image.Image:
    return Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)])


def gps_jpeg() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "secret phone"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (35.0, 32.0, 9.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (106.0, 40.0, 0.0),
    }
    data = jpeg(noisy((640, 480)), exif=exif)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.fixture
async def api(serve) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    def production_body_limit(app) -> None:  # type: ignore[no-untyped-def]
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024  # the production default; tests use 64 KiB

    server = await serve(production_body_limit)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        http.app = server.app  # type: ignore[attr-defined]
        yield http


async def auth(cache: Cache, openid: str) -> tuple[User, dict[str, str]]:
    user = await User.create(openid=openid)
    token = (await open_session(cache, user.id, 600)).token
    return user, {"authorization": f"Bearer {token}"}


async def test_gps_jpeg_comes_back_without_any_exif(api: httpx.AsyncClient, cache: Cache) -> None:
    _, alice = await auth(cache, "alice")
    data = gps_jpeg()

    response = await api.post("/api/v1/photos", content=data, headers={**alice, "content-type": "image/jpeg"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["width"], body["height"], body["moderation"]) == (640, 480, "pending")
    for kind in ("display", "thumbnail"):
        served = await api.get(f"/api/v1/photos/{body['id']}/{kind}", headers=alice)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/jpeg"
        assert b"Exif" not in served.content and b"secret" not in served.content
        assert len(Image.open(io.BytesIO(served.content)).getexif()) == 0
    photo = await Photo.get(id=body["id"])
    stored_original = (api.app.ctx.photo_storage.path(photo.original_key)).read_bytes()  # type: ignore[attr-defined]
    assert stored_original == data  # the evidence is kept byte for byte, privately


async def test_orientation_6_photo_comes_back_upright(api: httpx.AsyncClient, cache: Cache) -> None:
    _, alice = await auth(cache, "alice")
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    img = Image.new("RGB", (400, 200), BLUE)
    img.paste(RED, (0, 0, 200, 200))

    response = await api.post(
        "/api/v1/photos",
        content=jpeg(img, exif=exif, quality=95),
        headers={**alice, "content-type": "image/jpeg"},
    )

    assert (response.json()["width"], response.json()["height"]) == (200, 400)
    served = await api.get(response.json()["display_url"])  # the signed link, no session needed
    upright = Image.open(io.BytesIO(served.content)).convert("RGB")
    assert upright.size == (200, 400)
    top, bottom = upright.getpixel((100, 50)), upright.getpixel((100, 350))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60


async def test_multipart_upload_as_wx_upload_file_sends_it(api: httpx.AsyncClient, cache: Cache) -> None:
    _, alice = await auth(cache, "alice")

    response = await api.post(
        "/api/v1/photos", files={"file": ("tmp_abc.jpg", gps_jpeg(), "image/jpeg")}, headers=alice
    )

    assert response.status_code == 201, response.text


def bilevel_png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", size, 1).save(buffer, "PNG")
    return buffer.getvalue()


TRUNCATED = jpeg(noisy((800, 600)))[:60_000]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" * 20


@pytest.mark.parametrize(
    ("name", "data", "how", "status", "code"),
    [
        ("pixel bomb", "bomb", "raw", 413, "photo_too_many_pixels"),
        ("truncated", TRUNCATED, "raw", 400, "photo_corrupt"),
        ("pdf named .jpg", PDF, "multipart", 415, "photo_unsupported_format"),
        ("pdf sent as image/jpeg", PDF, "raw", 415, "photo_unsupported_format"),
        ("just over 10 MB", "10mb+", "raw", 413, "photo_too_large"),
        ("empty", b"", "raw", 400, "empty_body"),
        ("text/plain", b"hello", "text", 415, "unsupported_media_type"),
    ],
)
async def test_refused_uploads_store_nothing(
    api: httpx.AsyncClient, cache: Cache, settings, name: str, data: object, how: str, status: int, code: str
) -> None:  # type: ignore[no-untyped-def]
    _, alice = await auth(cache, "alice")
    if data == "bomb":
        data = bilevel_png((12000, 12000))  # 144 MP in a few KiB: Pillow itself only warns
    elif data == "10mb+":
        data = b"\xff\xd8\xff\xe0" + b"\0" * (10 * 1024 * 1024)
    assert isinstance(data, bytes)
    before = files_under(settings.media_dir)

    if how == "multipart":
        response = await api.post(
            "/api/v1/photos", files={"file": ("photo.jpg", data, "image/jpeg")}, headers=alice
        )
    else:
        content_type = "text/plain" if how == "text" else "image/jpeg"
        response = await api.post(
            "/api/v1/photos", content=data, headers={**alice, "content-type": content_type}
        )

    assert (response.status_code, response.json()["code"]) == (status, code), name
    assert response.json()["message"]  # a Chinese sentence for the user
    assert files_under(settings.media_dir) == before
    assert await Photo.all().count() == 0


async def test_20_mb_upload_is_refused_on_its_content_length(
    api: httpx.AsyncClient, cache: Cache, settings
) -> None:  # type: ignore[no-untyped-def]
    """Sanic refuses at the header and closes while a client is still sending, which httpx reports as
    a reset; a raw socket shows what the client is told: 413 in the JSON envelope."""
    _, alice = await auth(cache, "alice")
    before = files_under(settings.media_dir)
    host, port = api.base_url.host, api.base_url.port
    reader, writer = await asyncio.open_connection(host, port)
    size = 20 * 1024 * 1024
    head = (
        f"POST /api/v1/photos HTTP/1.1\r\nHost: {host}\r\nContent-Type: image/jpeg\r\n"
        f"Authorization: {alice['authorization']}\r\nContent-Length: {size}\r\n\r\n"
    )
    writer.write(head.encode() + b"\xff\xd8\xff\xe0" + b"\0" * 65536)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413")
    assert b'"code":"payload_too_large"' in rest
    assert files_under(settings.media_dir) == before
    assert await Photo.all().count() == 0


async def test_upload_needs_a_session(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/photos", content=gps_jpeg(), headers={"content-type": "image/jpeg"})
    assert response.status_code == 401


async def test_who_sees_a_photo(api: httpx.AsyncClient, cache: Cache) -> None:
    """Uploader always; others only through the subject's viewer, and only once it passed checks."""
    alice_user, alice = await auth(cache, "alice")
    bob_user, bob = await auth(cache, "bob")
    _, carol = await auth(cache, "carol")

    async def viewer(user_id: int, subject_id: int) -> Sight:
        return Sight.VIEW if user_id == bob_user.id and subject_id == 7 else Sight.NONE

    register_viewer("testcase", viewer)
    uploaded = await api.post(
        "/api/v1/photos", content=gps_jpeg(), headers={**alice, "content-type": "image/png"}
    )
    photo_id = uploaded.json()["id"]
    path = f"/api/v1/photos/{photo_id}/display"

    assert (await api.get(path, headers=bob)).status_code == 404  # not attached: uploader only
    await records.attach([photo_id], uploader_id=alice_user.id, subject="testcase:7")
    assert (await api.get(path, headers=bob)).status_code == 404  # attached, verdict pending
    await Photo.filter(id=photo_id).update(moderation=Moderation.PASSED)
    assert (await api.get(path, headers=bob)).status_code == 200
    assert (await api.get(path, headers=carol)).status_code == 404
    assert (await api.get(path, headers=alice)).status_code == 200
    assert (await api.get(path)).status_code == 401
    assert (await api.get(f"/api/v1/photos/{photo_id}/original", headers=alice)).status_code == 404


async def test_signed_links_are_bound_to_photo_kind_and_time(api: httpx.AsyncClient, cache: Cache) -> None:
    _, alice = await auth(cache, "alice")
    body = (
        await api.post("/api/v1/photos", content=gps_jpeg(), headers={**alice, "content-type": "image/jpeg"})
    ).json()
    display = body["display_url"]

    assert (await api.get(display)).status_code == 200
    forged_kind = display.replace("/display?", "/thumbnail?")
    assert (await api.get(forged_kind)).json()["code"] == "photo_link_invalid"
    expired = display.replace("&e=", "&e=1").replace("&s=", "&s=0")
    assert (await api.get(expired)).status_code == 403


async def test_attach_is_all_or_nothing_and_only_once(api: httpx.AsyncClient, cache: Cache) -> None:
    alice_user, alice = await auth(cache, "alice")
    bob_user, bob = await auth(cache, "bob")
    mine = (
        await api.post("/api/v1/photos", content=gps_jpeg(), headers={**alice, "content-type": "image/jpeg"})
    ).json()
    theirs = (
        await api.post(
            "/api/v1/photos", content=jpeg(noisy((50, 50))), headers={**bob, "content-type": "image/jpeg"}
        )
    ).json()

    with pytest.raises(records.PhotoNotAttachable):
        await records.attach([mine["id"], theirs["id"]], uploader_id=alice_user.id, subject="testcase:1")
    # Outside a transaction the partial claim would stay; callers always attach inside theirs.
    await Photo.filter(id=mine["id"]).update(attached_to=None)

    claimed = await records.attach([mine["id"]], uploader_id=alice_user.id, subject="testcase:1")
    assert [p.attached_to for p in claimed] == ["testcase:1"]
    with pytest.raises(records.PhotoNotAttachable):
        await records.attach([mine["id"]], uploader_id=alice_user.id, subject="testcase:2")
    assert bob_user.id != alice_user.id


async def test_purge_originals_after_retention_keeps_shared_files(
    api: httpx.AsyncClient, cache: Cache
) -> None:
    from datetime import timedelta

    from core import clock

    alice_user, alice = await auth(cache, "alice")
    _, bob = await auth(cache, "bob")
    data = gps_jpeg()
    first = (
        await api.post("/api/v1/photos", content=data, headers={**alice, "content-type": "image/jpeg"})
    ).json()
    second = (
        await api.post("/api/v1/photos", content=data, headers={**bob, "content-type": "image/jpeg"})
    ).json()
    storage = api.app.ctx.photo_storage  # type: ignore[attr-defined]
    photo = await Photo.get(id=first["id"])
    await Photo.filter(id=first["id"]).update(original_keep_until=clock.now() - timedelta(days=1))

    assert await records.purge_originals(storage) == 1
    assert await storage.exists(photo.original_key)  # the second upload of the same bytes still needs it
    await Photo.filter(id=second["id"]).update(original_keep_until=clock.now() - timedelta(days=1))
    assert await records.purge_originals(storage) == 1
    assert not await storage.exists(photo.original_key)
    assert await storage.exists(photo.display_key)  # renditions stay viewable
    assert (await api.get(first["display_url"])).status_code == 200
    assert alice_user.id
