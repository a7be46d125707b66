"""Issue 12 item 9: photo links are absolute, on the configured public base (PUBLIC_BASE_URL), never
on what a request's Host or X-Forwarded-* headers say; without one (development) on the address the
connection reached, from the socket."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import httpx

from accounts.models import User
from accounts.sessions import open_session
from core.cache import Cache

from .test_http import gps_jpeg

BASE = "https://wuye.example.cn"
EVIL = {"host": "evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "http"}


async def _upload(url: str, cache: Cache, openid: str) -> dict[str, str]:
    user = await User.create(openid=openid)
    token = (await open_session(cache, user.id, 600)).token
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        response = await http.post(
            "/api/v1/photos",
            content=gps_jpeg(),
            headers={"authorization": f"Bearer {token}", "content-type": "image/jpeg", **EVIL},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        # the link works on this server, path and signature as given
        parts = urlsplit(body["display_url"])
        assert (await http.get(f"{parts.path}?{parts.query}")).status_code == 200
        return body


async def test_links_are_on_the_configured_base_whatever_the_headers(serve, cache: Cache) -> None:  # type: ignore[no-untyped-def]
    def configured(app) -> None:  # type: ignore[no-untyped-def]
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024  # a photo's size (the tests' default is 64 KiB)
        app.ctx.settings = replace(app.ctx.settings, public_base_url=BASE, trusted_proxies=("127.0.0.1/32",))

    server = await serve(configured)
    body = await _upload(server.url, cache, "links-a")
    for key in ("display_url", "thumbnail_url"):
        assert body[key].startswith(f"{BASE}/api/v1/photos/{body['id']}/"), body[key]
        assert "evil" not in body[key]


async def test_without_a_configured_base_links_name_the_socket_address(serve, cache: Cache) -> None:  # type: ignore[no-untyped-def]
    def proxied(app) -> None:  # type: ignore[no-untyped-def]
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024
        app.ctx.settings = replace(app.ctx.settings, public_base_url="", trusted_proxies=("127.0.0.1/32",))

    server = await serve(proxied)
    body = await _upload(server.url, cache, "links-b")
    assert body["display_url"].startswith(f"{server.url}/api/v1/photos/"), (server.url, body["display_url"])
