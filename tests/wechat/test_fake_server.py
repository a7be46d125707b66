"""The fake WeChat itself: real HTTP/1.1 on loopback, and WeChat's rules for credentials and tokens."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from wechat.fake import FakeWeChat

APP_ID = "wx00fake00tests00"
SECRET = "s3cret-fake-tests"
TOKEN_BODY = {"grant_type": "client_credential", "appid": APP_ID, "secret": SECRET, "force_refresh": False}


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    server = FakeWeChat(APP_ID, SECRET)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(fake: FakeWeChat) -> AsyncIterator[httpx.AsyncClient]:
    assert fake.base_url is not None
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        yield client


async def _raw_exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[str, dict[str, str], Any]:
    writer.write(request)
    await writer.drain()
    status = (await reader.readline()).decode().strip()
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, json.loads(body)


async def test_keep_alive_serves_several_requests_on_one_connection(fake: FakeWeChat) -> None:
    assert fake.base_url is not None
    url = urlsplit(fake.base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    query = f"appid={APP_ID}&secret={SECRET}&js_code=test:o-a&grant_type=authorization_code"
    login = f"GET /sns/jscode2session?{query}"
    body = json.dumps(TOKEN_BODY).encode()
    try:
        first = await _raw_exchange(reader, writer, f"{login} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        second = await _raw_exchange(
            reader,
            writer,
            b"POST /cgi-bin/stable_token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body,
        )
        closed = await asyncio.wait_for(reader.read(), timeout=2)
    finally:
        writer.close()

    assert first[0] == "HTTP/1.1 200 OK"
    assert first[1]["content-type"].startswith("application/json")
    assert first[1]["connection"] == "keep-alive"
    assert first[2]["openid"] == "o-a"
    assert second[1]["connection"] == "close"
    assert second[2]["expires_in"] == 7200
    assert closed == b""  # the server closed the connection after "Connection: close"


async def test_stop_does_not_wait_for_idle_keep_alive_connections() -> None:
    server = FakeWeChat(APP_ID, SECRET)
    base_url = await server.start()
    async with httpx.AsyncClient(base_url=base_url) as client:
        await client.post("/cgi-bin/stable_token", json=TOKEN_BODY)  # leaves a pooled connection open

        await asyncio.wait_for(server.stop(), timeout=2)


async def test_unknown_path_is_404(http: httpx.AsyncClient) -> None:
    response = await http.get("/cgi-bin/nothing-here")

    assert response.status_code == 404
    assert response.json()["errcode"] == 404


@pytest.mark.parametrize(
    ("appid", "secret", "errcode"),
    [("wx-wrong", SECRET, 40013), (APP_ID, "wrong", 40125)],
)
async def test_wrong_credentials_are_refused(
    fake: FakeWeChat, http: httpx.AsyncClient, appid: str, secret: str, errcode: int
) -> None:
    token = await http.post("/cgi-bin/stable_token", json={**TOKEN_BODY, "appid": appid, "secret": secret})
    login = await http.get(
        "/sns/jscode2session",
        params={"appid": appid, "secret": secret, "js_code": "test:o-a", "grant_type": "authorization_code"},
    )

    assert token.json()["errcode"] == login.json()["errcode"] == errcode
    assert "rid:" in token.json()["errmsg"]
    assert fake.token_requests == 1


async def test_stable_token_is_the_same_until_five_minutes_before_expiry(
    fake: FakeWeChat, http: httpx.AsyncClient
) -> None:
    first = (await http.post("/cgi-bin/stable_token", json=TOKEN_BODY)).json()
    fake.advance(7200 - 300 - 10)
    same = (await http.post("/cgi-bin/stable_token", json=TOKEN_BODY)).json()
    fake.advance(10)
    renewed = (await http.post("/cgi-bin/stable_token", json=TOKEN_BODY)).json()
    old_still_works = await http.post(
        "/wxa/msg_sec_check",
        params={"access_token": first["access_token"]},
        json={"content": "你好", "version": 2, "scene": 2, "openid": "o-a"},
    )

    assert same["access_token"] == first["access_token"]
    assert same["expires_in"] == 310  # what is left of it, so callers never cache it too long
    assert renewed["access_token"] != first["access_token"] and renewed["expires_in"] == 7200
    assert old_still_works.json()["errcode"] == 0
    assert fake.token_requests == 3


@pytest.mark.parametrize(
    ("params", "errcode"),
    [({}, 41001), ({"access_token": "made-up"}, 40001)],
)
async def test_calls_need_a_known_token(
    http: httpx.AsyncClient, params: dict[str, str], errcode: int
) -> None:
    response = await http.post(
        "/wxa/msg_sec_check", params=params, json={"content": "x", "version": 2, "scene": 2, "openid": "o"}
    )

    assert response.json()["errcode"] == errcode


async def test_expired_token_is_42001(fake: FakeWeChat, http: httpx.AsyncClient) -> None:
    token = (await http.post("/cgi-bin/stable_token", json=TOKEN_BODY)).json()["access_token"]
    fake.advance(7200)

    response = await http.post(
        "/wxa/msg_sec_check",
        params={"access_token": token},
        json={"content": "x", "version": 2, "scene": 2, "openid": "o"},
    )

    assert response.json()["errcode"] == 42001


async def test_v1_content_check_body_is_refused(http: httpx.AsyncClient) -> None:
    token = (await http.post("/cgi-bin/stable_token", json=TOKEN_BODY)).json()["access_token"]

    response = await http.post("/wxa/msg_sec_check", params={"access_token": token}, json={"content": "x"})

    assert response.json()["errcode"] == 47001


async def test_issued_login_code_expires_after_five_minutes(
    fake: FakeWeChat, http: httpx.AsyncClient
) -> None:
    code = fake.issue_code("o-a")
    fake.advance(301)

    response = await http.get(
        "/sns/jscode2session",
        params={"appid": APP_ID, "secret": SECRET, "js_code": code, "grant_type": "authorization_code"},
    )

    assert response.json()["errcode"] == 40029
