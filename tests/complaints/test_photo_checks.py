"""Every URL handed to WeChat's media check is built from our configured public address, never from
the request's Host (or an untrusted peer's X-Forwarded-Host); and every photo attached to a complaint,
the staff's included, goes through that check before anyone else sees it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from complaints import service
from complaints.models import Status
from config.settings import Settings
from photos.models import Moderation, Photo
from tests.conftest import RunningServer
from tests.notices.conftest import deliver
from wechat import WeChatClient
from wechat.fake import FakeWeChat

from .conftest import World, make_complaint
from .test_http import body, jpeg

BASE = "https://wuye.example.cn"
EVIL = {"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"}


async def start(
    serve: Callable[..., Awaitable[RunningServer]], wechat: WeChatClient, **settings: Any
) -> RunningServer:
    def configure(app) -> None:  # type: ignore[no-untyped-def]
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024
        app.ctx.settings = dataclasses.replace(app.ctx.settings, **settings)

    return await serve(configure, wechat=wechat)


@pytest.fixture
async def http(serve, wechat: WeChatClient, world: World) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    server = await start(serve, wechat, public_base_url=BASE)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as client:
        yield client


async def upload(http: httpx.AsyncClient, world: World, who: str, **headers: str) -> int:
    response = await http.post(
        "/photos", content=jpeg(), headers={**world.headers(who), "content-type": "image/jpeg", **headers}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_the_checked_url_is_on_the_configured_address_whatever_the_host_header(
    http: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat
) -> None:
    photo = await upload(http, world, "resident")
    filed = await http.post(
        "/complaints", json=body(world, photo_ids=[photo]), headers={**world.headers("resident"), **EVIL}
    )
    assert filed.status_code == 201, filed.text
    [request] = fake_wechat.media_requests
    assert request.media_url.startswith(f"{BASE}/api/v1/photos/{photo}/display?u=0&e=")
    assert "evil" not in request.media_url


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ((), "http://127.0.0.1:{port}"),  # an untrusted peer's X-Forwarded-* are not read
        (("127.0.0.1/32",), "https://proxy.example.cn"),  # a configured proxy's are
    ],
)
async def test_without_a_configured_address_only_a_trusted_proxy_is_believed(
    serve,
    wechat: WeChatClient,
    world: World,
    fake_wechat: FakeWeChat,
    trusted: tuple[str, ...],
    expected: str,
) -> None:  # type: ignore[no-untyped-def]
    server = await start(serve, wechat, public_base_url="", trusted_proxies=trusted)
    forwarded = {"host": "evil.example", "x-forwarded-host": "proxy.example.cn", "x-forwarded-proto": "https"}
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as http:
        photo = await upload(http, world, "resident")
        filed = await http.post(
            "/complaints",
            json=body(world, photo_ids=[photo]),
            headers={**world.headers("resident"), **forwarded},
        )
    assert filed.status_code == 201, filed.text
    [request] = fake_wechat.media_requests
    assert request.media_url.startswith(
        expected.format(port=server.port) + f"/api/v1/photos/{photo}/display?"
    )


async def test_a_staff_step_photo_is_checked_and_hidden_until_it_passes(
    http: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat, settings: Settings
) -> None:
    complaint = await make_complaint(world, status=Status.IN_PROGRESS)
    photo = await upload(http, world, "property_staff")
    resolved = await http.post(
        f"/staff/complaints/{complaint.id}/resolve",
        json={"note": "已修复", "photo_ids": [photo]},
        headers={**world.headers("property_staff"), **EVIL},
    )
    assert resolved.status_code == 200, resolved.text
    [request] = fake_wechat.media_requests
    assert (request.openid, request.media_type) == ("openid-property_staff", 2)
    assert request.media_url.startswith(f"{BASE}/api/v1/photos/{photo}/display?u=0&e=")
    stored = await Photo.get(id=photo)
    assert (stored.moderation, stored.check_trace_id) == (Moderation.PENDING, request.trace_id)
    seen = (await http.get(f"/complaints/{complaint.id}", headers=world.headers("resident"))).json()
    assert seen["photos"] == [] and seen["history"][-1]["photo_ids"] == [photo]
    # WeChat fetches it from that URL (the checker's signed link), then pushes its verdict
    fetched = await http.get(request.media_url.removeprefix(BASE + "/api/v1"))
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
    answer = await deliver(http, settings, fake_wechat.verdict_for(request.trace_id))
    assert (answer.status_code, answer.text) == (200, "success")
    seen = (await http.get(f"/complaints/{complaint.id}", headers=world.headers("resident"))).json()
    assert [p["id"] for p in seen["photos"]] == [photo]


async def test_a_risky_staff_photo_is_never_shown(
    http: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat
) -> None:
    complaint = await make_complaint(world, status=Status.DISPATCHED)
    photo = await upload(http, world, "property_staff")
    started = await http.post(
        f"/staff/complaints/{complaint.id}/progress",
        json={"note": "开始处理", "photo_ids": [photo]},
        headers=world.headers("property_staff"),
    )
    assert started.status_code == 200, started.text
    [request] = fake_wechat.media_requests
    assert await service.record_media_verdict(request.trace_id, "risky") is True
    assert (await Photo.get(id=photo)).moderation == Moderation.REJECTED
    seen = (await http.get(f"/complaints/{complaint.id}", headers=world.headers("resident"))).json()
    assert seen["photos"] == []


async def test_a_staff_photo_is_held_when_wechat_cannot_check_it(
    http: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat
) -> None:
    complaint = await make_complaint(world, status=Status.IN_PROGRESS)
    photo = await upload(http, world, "property_staff")
    fake_wechat.fail_next("/wxa/media_check_async", -1)
    resolved = await http.post(
        f"/staff/complaints/{complaint.id}/resolve",
        json={"note": "已修复", "photo_ids": [photo]},
        headers=world.headers("property_staff"),
    )
    assert resolved.status_code == 200, resolved.text
    assert (await Photo.get(id=photo)).moderation == Moderation.HELD
    seen = (await http.get(f"/complaints/{complaint.id}", headers=world.headers("resident"))).json()
    assert seen["photos"] == []


async def test_a_residents_reopening_photo_is_checked_too(
    http: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat
) -> None:
    complaint = await make_complaint(world, status=Status.RESOLVED)
    photo = await upload(http, world, "resident")
    reopened = await http.post(
        f"/complaints/{complaint.id}/reopen",
        json={"note": "还是不亮", "photo_ids": [photo]},
        headers={**world.headers("resident"), **EVIL},
    )
    assert (reopened.status_code, reopened.json()["status"]) == (200, "reopened")
    [request] = fake_wechat.media_requests
    assert (request.openid, request.media_url.startswith(f"{BASE}/api/v1/photos/{photo}/display?")) == (
        "openid-resident",
        True,
    )
    assert (await Photo.get(id=photo)).moderation == Moderation.PENDING
    assert await service.record_media_verdict(request.trace_id, "pass") is True
    seen = (await http.get(f"/complaints/{complaint.id}", headers=world.headers("property_staff"))).json()
    assert [p["id"] for p in seen["photos"]] == [photo]
