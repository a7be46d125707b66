"""A minimal HTTP/1.1 server on asyncio streams, for the fake WeChat and the fake WeChat Pay (no extra
dependency).

Enough of HTTP for our clients and curl: request line, headers, a Content-Length body (no chunked
requests), keep-alive by default in HTTP/1.1, ``Connection: close`` honoured. The handler sees the
request target exactly as sent (WeChat Pay's request signature covers it) and sets its own headers and
body bytes; ``JsonHttpServer`` adapts a handler that answers (status, JSON-able payload).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("wechat.fake")

MAX_BODY = 1 << 20
MAX_HEADERS = 100


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # path and query as sent
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def _plain_error(status: int) -> Response:
    return Response(status)


class HttpServer:
    """``error(status)`` is the answer to a malformed request (4xx) or to a handler that failed (500):
    each fake answers those in its own service's error format."""

    def __init__(self, handler: Handler, error: Callable[[int], Response] = _plain_error) -> None:
        self._handler = handler
        self._error = error
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = await asyncio.start_server(self._serve, host, port)
        bound_host, bound_port = self._server.sockets[0].getsockname()[:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        return f"http://{shown}:{bound_port}"

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Idle keep-alive connections would otherwise hold wait_closed() open.
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                try:
                    request, keep_alive = await _read_request(reader)
                except _BadRequest as bad:
                    await _write(writer, self._error(bad.status), False)
                    return
                if request is None:
                    return
                try:
                    response = await self._handler(request)
                except Exception:  # a fake bug must show up as an answer, not a hung client
                    log.exception("fake server handler failed on %s", request.path)
                    response = self._error(HTTPStatus.INTERNAL_SERVER_ERROR)
                await _write(writer, response, keep_alive)
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> tuple[Request | None, bool]:
    try:
        line = await reader.readline()
    except ValueError as exc:
        raise _BadRequest(HTTPStatus.REQUEST_URI_TOO_LONG) from exc
    if not line.strip():
        return None, False
    parts = line.decode("latin-1").strip().split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(HTTPStatus.BAD_REQUEST)
    method, target, version = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        try:
            raw = await reader.readline()
        except ValueError as exc:
            raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE) from exc
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise _BadRequest(HTTPStatus.BAD_REQUEST)
        headers[name.strip().lower()] = value.strip()
    else:
        raise _BadRequest(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _BadRequest(HTTPStatus.LENGTH_REQUIRED)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise _BadRequest(HTTPStatus.BAD_REQUEST) from exc
    if length < 0 or length > MAX_BODY:
        raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    body = await reader.readexactly(length) if length else b""
    connection = headers.get("connection", "").lower()
    keep_alive = connection == "keep-alive" if version == "HTTP/1.0" else connection != "close"
    split = urlsplit(target)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    return Request(method.upper(), target, split.path, query, headers, body), keep_alive


async def _write(writer: asyncio.StreamWriter, response: Response, keep_alive: bool) -> None:
    head = [f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
    head += [f"{name}: {value}" for name, value in response.headers.items()]
    if response.status != 204:
        head.append(f"Content-Length: {len(response.body)}")
    head.append(f"Connection: {'keep-alive' if keep_alive else 'close'}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
    await writer.drain()


JsonHandler = Callable[[Request], Awaitable[tuple[int, Any]]]  # -> (status, JSON-able payload)


def _json(status: int, payload: Any) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, {"Content-Type": "application/json; charset=utf-8"})


def _wechat_error(status: int) -> Response:
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return _json(status, {"errcode": -1, "errmsg": "system error"})
    return _json(status, {"errcode": status, "errmsg": "bad request"})


class JsonHttpServer(HttpServer):
    """The fake WeChat's server: JSON answers, errors in WeChat's errcode/errmsg form."""

    def __init__(self, handler: JsonHandler) -> None:
        async def answer(request: Request) -> Response:
            return _json(*await handler(request))

        super().__init__(answer, _wechat_error)
