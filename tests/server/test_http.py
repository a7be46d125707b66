"""The HTTP contract every endpoint shares: error envelope, request ids, body limits, OpenAPI."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import BaseModel, Field
from sanic import Blueprint, Request, Sanic

from miniprogram_api.endpoint import PUBLIC, Call, endpoint


class EchoIn(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    count: int = Field(ge=0)


class EchoOut(BaseModel):
    greeting: str


def add_echo(app: Sanic) -> None:
    bp = Blueprint("echo_test", url_prefix="/api/v1/echo")

    @endpoint(bp, "POST", "", summary="echo", access=PUBLIC, body=EchoIn, response=EchoOut)
    async def echo(request: Request, call: Call[EchoIn, None]) -> EchoOut:
        assert call.body is not None
        return EchoOut(greeting=f"你好，{call.body.name} x{call.body.count}")

    @endpoint(bp, "GET", "/boom", summary="boom", access=PUBLIC)
    async def boom(request: Request, call: Call[None, None]) -> None:
        raise RuntimeError("secret internals")

    app.blueprint(bp)


@pytest.fixture
async def echo_client(serve) -> httpx.AsyncClient:
    server = await serve(add_echo)
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield http


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "request_id", "details"}
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), "message is for people: Chinese"
    return body


async def test_valid_request_is_served_in_utf8(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post("/api/v1/echo", json={"name": "张三", "count": 2})
    assert response.status_code == 200
    assert response.json() == {"greeting": "你好，张三 x2"}
    assert "你好".encode() in response.content  # not \\u escapes


async def test_malformed_json_is_400(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post(
        "/api/v1/echo", content=b'{"name": "a",', headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "malformed_json")


async def test_schema_violation_is_400_with_field_details(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post("/api/v1/echo", json={"name": "", "count": -1})
    body = assert_envelope(response, 400, "invalid")
    assert sorted(d["field"] for d in body["details"]) == ["count", "name"]


async def test_wrong_content_type_is_415(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post(
        "/api/v1/echo", content=b"name=a", headers={"content-type": "text/plain"}
    )
    assert_envelope(response, 415, "unsupported_media_type")


async def test_json_body_over_the_json_limit_is_413(echo_client: httpx.AsyncClient) -> None:
    big = {"name": "a", "count": 1, "pad": "x" * 20_000}  # json_max_size is 16 KiB in tests
    response = await echo_client.post("/api/v1/echo", json=big)
    assert_envelope(response, 413, "payload_too_large")


async def test_body_over_the_request_limit_is_413_before_reading_it(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.post(
        "/api/v1/echo", content=b"x" * (256 * 1024), headers={"content-type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_unknown_route_is_404(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.get("/api/v1/no-such-thing", headers={"accept": "text/html"})
    assert_envelope(response, 404, "not_found")


async def test_wrong_method_is_405(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.delete("/api/v1/echo", headers={"accept": "text/html"})
    assert_envelope(response, 405, "method_not_allowed")


async def test_unexpected_error_is_500_envelope_without_internals(echo_client: httpx.AsyncClient) -> None:
    response = await echo_client.get("/api/v1/echo/boom")
    body = assert_envelope(response, 500, "internal_error")
    assert "secret internals" not in response.text
    assert body["details"] is None


async def test_request_id_is_echoed_when_sane_and_replaced_when_not(echo_client: httpx.AsyncClient) -> None:
    good = await echo_client.get("/health", headers={"x-request-id": "abc12345-trace"})
    assert good.headers["x-request-id"] == "abc12345-trace"
    bad = await echo_client.get("/health", headers={"x-request-id": "<script>"})
    assert bad.headers["x-request-id"] != "<script>"
    assert len(bad.headers["x-request-id"]) == 32


async def test_concurrent_requests_keep_their_own_request_ids(echo_client: httpx.AsyncClient) -> None:
    ids = [f"req-{i:04d}-abcdef" for i in range(30)]
    responses = await asyncio.gather(
        *(echo_client.post("/api/v1/echo", json={"name": "x"}, headers={"x-request-id": rid}) for rid in ids)
    )
    assert [r.json()["request_id"] for r in responses] == ids


async def test_health_and_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {
        "status": "ready",
        "database": True,
        "cache": True,
        "queue": "in_process",  # no QUEUE_URL: this process runs the periodic jobs
    }


async def test_ready_is_503_when_the_cache_is_down(serve) -> None:
    class DownCache:
        async def ping(self) -> bool:
            return False

        async def close(self) -> None:
            return None

    server = await serve(cache=DownCache())
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get("/ready")
    body = assert_envelope(response, 503, "unavailable")
    assert body["details"] == {"database": True, "cache": False, "queue": "in_process"}


async def test_openapi_documents_every_route_with_schemas(client: httpx.AsyncClient, server) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    for route in server.app.router.routes:
        if route.path.startswith("docs") or hasattr(route.handler, "__console__"):
            continue  # the console's pages are not API (tests/console/test_routes.py)
        for method in route.methods - {"HEAD", "OPTIONS"}:
            path = "/" + route.path.rstrip("/")
            path = path.replace("<", "{").replace(">", "}")
            path = "/".join(p.split(":")[0] + ("}" if ":" in p else "") for p in path.split("/"))
            assert (path, method) in documented, f"{method} {path} missing from OpenAPI"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            assert {"200", "201", "204"} & set(op["responses"]), f"{method} {path} has no success schema"
    docs_page = await client.get("/docs")
    assert docs_page.status_code == 200


async def test_head_answers_as_get_without_the_body(client: httpx.AsyncClient) -> None:
    """HEAD routes are added while the app is built (server.app._add_head_routes), not by sanic-ext
    after the server starts: the same status and headers as GET, no body, and not in the document."""
    document = await client.get("/docs/openapi.json")
    head = await client.head("/docs/openapi.json")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == document.headers["content-length"]
    assert all("head" not in operations for operations in document.json()["paths"].values())
    guarded = await client.head("/api/v1/me")
    assert (guarded.status_code, guarded.content) == ((await client.get("/api/v1/me")).status_code, b"")
    assert guarded.status_code == 401
