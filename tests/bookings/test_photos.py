"""Photos of a service over HTTP: the provider's manager adds photos uploaded through the photos
pipeline (at most nine, also when added at once), each goes to WeChat's media check at a link on
the configured public address, residents see them in the catalogue and the service's detail only
once they passed, as absolute signed links on that address whatever Host the request named; a
removed photo is seen by nobody but its uploader."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from bookings.models import ServicePhoto
from core.cache import Cache
from photos import records
from photos.models import Photo
from tests.bookings.conftest import World, publish
from wechat import WeChatClient
from wechat.fake import FakeWeChat

BASE = "https://wuye.example.cn"
EVIL = {"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"}


def jpeg(seed: int = 0, size: tuple[int, int] = (800, 600)) -> bytes:
    buffer = io.BytesIO()
    noise = [Image.effect_noise(size, 40 + seed) for _ in range(3)]
    Image.merge("RGB", noise).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat("wx0000000000000000", "fake-wechat-secret")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def api(
    serve: Any, world: World, fake_wechat: FakeWeChat, cache: Cache
) -> AsyncIterator[httpx.AsyncClient]:
    assert fake_wechat.base_url is not None
    wechat = WeChatClient("wx0000000000000000", "fake-wechat-secret", cache, base_url=fake_wechat.base_url)

    def configure(app: Any) -> None:
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024
        app.ctx.settings = dataclasses.replace(app.ctx.settings, public_base_url=BASE)

    server = await serve(configure, wechat=wechat)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=120) as client:
        yield client
    await wechat.aclose()


async def upload(api: httpx.AsyncClient, world: World, who: str, seed: int = 0) -> int:
    r = await api.post(
        "/photos", content=jpeg(seed), headers={**world.headers(who), "content-type": "image/jpeg"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def local(link: str) -> str:
    """The path of an absolute link on BASE, to fetch it from the test server."""
    assert link.startswith(BASE + "/api/v1/photos/"), link
    return link.removeprefix(BASE + "/api/v1")


async def test_added_photos_are_checked_then_shown_to_residents_with_links_on_the_public_base(
    api: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat
) -> None:
    service = await publish(world)
    photo_ids = [await upload(api, world, "property_staff", seed) for seed in range(3)]
    path = f"/admin/providers/{world.company_provider.id}/services/{service.id}/photos"
    added = await api.post(
        path, json={"photo_ids": photo_ids}, headers={**world.headers("property_staff"), **EVIL}
    )
    assert added.status_code == 201, added.text
    shown = added.json()["photos"]
    assert [(p["id"], p["moderation"]) for p in shown] == [(i, "pending") for i in photo_ids]
    assert all(p["display_url"].startswith(BASE + "/api/v1/photos/") for p in shown)

    # each photo went to the media check, at a link on the configured address, as the uploader
    checks = fake_wechat.media_requests
    assert [(c.openid, c.media_url.startswith(BASE + "/api/v1/photos/")) for c in checks] == [
        ("openid-property_staff", True)
    ] * 3
    catalogue = f"/bookings/compounds/{world.compound.id}/services"
    before = (await api.get(catalogue, headers=world.headers("resident"))).json()["items"]
    assert [s["photos"] for s in before] == [[]]  # nothing shown before the verdicts
    for check in checks:
        fetched = await api.get(local(check.media_url))  # WeChat's crawler fetches without a session
        assert (fetched.status_code, fetched.headers["content-type"]) == (200, "image/jpeg")
    verdicts = {checks[0].trace_id: "pass", checks[1].trace_id: "risky", checks[2].trace_id: "pass"}
    for trace_id, suggest in verdicts.items():
        assert await records.record_verdict(trace_id, suggest) is True

    listed = await api.get(catalogue, headers={**world.headers("resident"), **EVIL})
    [item] = listed.json()["items"]
    assert [p["id"] for p in item["photos"]] == [photo_ids[0], photo_ids[2]]
    detail = await api.get(f"/bookings/services/{service.id}", headers={**world.headers("resident"), **EVIL})
    assert detail.status_code == 200, detail.text
    assert detail.json()["photos"] == item["photos"]
    first = item["photos"][0]
    display = await api.get(local(first["display_url"]))  # a signed link: no session needed
    thumbnail = await api.get(local(first["thumbnail_url"]))
    assert (display.status_code, thumbnail.status_code) == (200, 200)
    with Image.open(io.BytesIO(display.content)) as img:
        assert (img.format, img.size) == ("JPEG", (800, 600))  # within the display bound: its size
    with Image.open(io.BytesIO(thumbnail.content)) as img:
        assert max(img.size) == 320
    # the provider sees every photo with its state; someone of another compound sees none
    mine = await api.get(
        f"/admin/providers/{world.company_provider.id}/services", headers=world.headers("property_staff")
    )
    assert [(p["id"], p["moderation"]) for p in mine.json()["items"][0]["photos"]] == [
        (photo_ids[0], "passed"), (photo_ids[1], "rejected"), (photo_ids[2], "passed")
    ]  # fmt: skip
    far = await api.get(f"/photos/{photo_ids[0]}/display", headers=world.headers("far_resident"))
    assert far.status_code == 404
    far_detail = await api.get(f"/bookings/services/{service.id}", headers=world.headers("far_resident"))
    assert far_detail.status_code == 404

    removed = await api.delete(f"{path}/{photo_ids[0]}", headers=world.headers("property_staff"))
    assert (removed.status_code, [p["id"] for p in removed.json()["photos"]]) == (200, photo_ids[1:])
    gone = await api.get(local(first["display_url"]))  # the resident's link no longer opens
    assert gone.status_code == 404
    again = await api.delete(f"{path}/{photo_ids[0]}", headers=world.headers("property_staff"))
    assert (again.status_code, again.json()["code"]) == (404, "service_photo_not_found")
    after = (await api.get(catalogue, headers=world.headers("resident"))).json()["items"][0]["photos"]
    assert [p["id"] for p in after] == [photo_ids[2]]


async def test_a_service_never_has_more_than_nine_photos_even_when_added_at_once(
    api: httpx.AsyncClient, world: World
) -> None:
    service = await publish(world)
    path = f"/admin/providers/{world.company_provider.id}/services/{service.id}/photos"
    staff = world.headers("property_staff")
    first = [await upload(api, world, "property_staff", seed) for seed in range(7)]
    assert (await api.post(path, json={"photo_ids": first}, headers=staff)).status_code == 201
    racers = [await upload(api, world, "property_staff", 10 + seed) for seed in range(6)]
    too_many = await api.post(path, json={"photo_ids": racers[:3]}, headers=staff)
    assert (too_many.status_code, too_many.json()["code"]) == (409, "service_photos_full")
    assert await ServicePhoto.filter(service_id=service.id).count() == 7  # all or nothing

    answers = await asyncio.gather(
        *(api.post(path, json={"photo_ids": [photo_id]}, headers=staff) for photo_id in racers)
    )
    codes = sorted((a.status_code, a.json().get("code", "")) for a in answers)
    assert codes == [(201, ""), (201, "")] + [(409, "service_photos_full")] * 4
    rows = await ServicePhoto.filter(service_id=service.id).order_by("position")
    assert [r.position for r in rows] == list(range(9))
    attached = await Photo.filter(id__in=racers, attached_to__isnull=False).count()
    assert attached == 2  # the refused photos stay free for another use

    # someone else's upload cannot be added, and nothing changes
    theirs = await upload(api, world, "resident", 30)
    await ServicePhoto.filter(service_id=service.id, position=8).delete()
    refused = await api.post(path, json={"photo_ids": [theirs]}, headers=staff)
    assert (refused.status_code, refused.json()["code"]) == (409, "photo_not_attachable")
    assert await ServicePhoto.filter(service_id=service.id).count() == 8
    assert (await Photo.get(id=theirs)).attached_to is None
