"""Outages over real HTTP (issue 11): while PostgreSQL refuses connections every answer is 503 with a
stable code and Retry-After, never 500 and never a hang; within a second of the database accepting
again, every answer is 200. The app reaches PostgreSQL through a small TCP proxy on loopback that the
test controls: the proxy closing its listener and resetting every connection is the outage. The Redis
outage (a redis-server of the test's own, killed and restarted) is in test_faults.py and measures its
recovery with the helpers here."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sanic import Blueprint, Request, Sanic
from tortoise.transactions import in_transaction

from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from server import app as server_app
from server import db
from tests.conftest import ON_POSTGRES, RunningServer, free_port

REQUEST_SECONDS = 5.0  # no request may take longer than this, outage or not (a hang fails the test)


class TcpProxy:
    """Forwards loopback connections on ``port`` to ``upstream``. ``refuse()`` is an outage: the
    listener closes (new connections are refused) and every open connection is reset; ``accept()``
    listens on the same port again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    async def accept(self) -> None:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", self.port)

    async def refuse(self) -> None:
        assert self._server is not None
        self._server.close()
        self._server = None
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()
        await asyncio.sleep(0)

    async def close(self) -> None:
        if self._server is not None:
            await self.refuse()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _connected(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            _reset(client_w)
            return
        if self._server is None:  # refused while we were connecting upstream
            _reset(client_w)
            _reset(upstream_w)
            return
        self._open |= {client_w, upstream_w}
        for source, sink in ((client_r, upstream_w), (upstream_r, client_w)):
            pipe = asyncio.get_running_loop().create_task(self._pipe(source, sink))
            self._pipes.add(pipe)
            pipe.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(sink)
            sink.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST, as a crashed server or a dropped link does (not a polite FIN)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(frozen=True, slots=True)
class Answer:
    route: str
    sent: float  # time.monotonic()
    done: float
    status: int  # 0: no answer within REQUEST_SECONDS
    code: str
    retry_after: str | None


async def ask(http: httpx.AsyncClient, route: str, headers: dict[str, str] | None = None) -> Answer:
    sent = time.monotonic()
    try:
        async with asyncio.timeout(REQUEST_SECONDS):
            response = await http.get(route, headers=headers)
    except TimeoutError:
        return Answer(route, sent, time.monotonic(), 0, "hang", None)
    code = "" if response.status_code == 200 else str(response.json().get("code"))
    return Answer(
        route, sent, time.monotonic(), response.status_code, code, response.headers.get("retry-after")
    )


async def keep_asking(
    http: httpx.AsyncClient, routes: list[tuple[str, dict[str, str] | None]], seconds: float, clients: int = 4
) -> list[Answer]:
    """``clients`` loops, each asking the routes in turn, one request at a time, for ``seconds``."""
    answers: list[Answer] = []
    until = time.monotonic() + seconds

    async def loop(offset: int) -> None:
        k = offset
        while time.monotonic() < until:
            route, headers = routes[k % len(routes)]
            answers.append(await ask(http, route, headers))
            k += 1

    await asyncio.gather(*(loop(i) for i in range(clients)))
    return sorted(answers, key=lambda a: a.sent)


@dataclass(frozen=True, slots=True)
class Recovery:
    first_ok: float  # seconds from the recovery to the first 200
    steady: float  # seconds from the recovery to the answer after which every answer is a 200
    total: int
    after_steady: int  # answers (all 200) asked after the steady point


def recovery(answers: list[Answer], back: float) -> Recovery:
    """How long after ``back`` the answers came back. Every answer not a 200 must be the outage's 503
    (checked by the caller); `steady` is when the last of those came in."""
    oks = [a.done for a in answers if a.status == 200]
    assert oks, "no 200 at all after the recovery"
    failed = [a.done for a in answers if a.status != 200]
    steady_at = max(failed, default=back)
    return Recovery(
        first_ok=min(oks) - back,
        steady=steady_at - back,
        total=len(answers),
        after_steady=sum(1 for a in answers if a.sent >= steady_at),
    )


def assert_outage_answers(answers: list[Answer], code: str) -> None:
    """Every answer that is not a 200 is a 503 with Retry-After and this code (/ready has its own,
    unavailable): never a 500, never a hang."""
    bad = [
        a
        for a in answers
        if a.status != 200
        and (a.status, a.retry_after, a.code) != (503, "1", "unavailable" if a.route == "/ready" else code)
    ]
    assert not bad, bad[:5]


def add_transaction_route(app: Sanic) -> None:
    bp = Blueprint("db_probe", url_prefix="/api/v1/db-probe")

    @endpoint(bp, "GET", "", summary="probe", access=PUBLIC)
    async def probe(request: Request, call: Call[None, None]) -> dict[str, int]:
        async with in_transaction() as conn:  # BEGIN on a pooled connection, a query, COMMIT
            rows = await conn.execute_query_dict("SELECT 1 AS one")
        return {"one": rows[0]["one"]}

    app.blueprint(bp)


@pytest.fixture
async def database_through_proxy(database: str) -> AsyncIterator[TcpProxy]:
    """The process's database connection (what DATABASE_URL configures) goes through a TcpProxy for
    the test: Tortoise is closed and opened again on the proxy's address, and on the real one after."""
    if not ON_POSTGRES:
        pytest.skip("the proxy speaks to PostgreSQL")
    parts = urlsplit(database)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    await proxy.accept()
    await db.close_db()
    try:
        # the production pool size (DB_POOL_MAX's default, 10), not the 30 the session's fixture opens
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
        await db.init_db(urlunsplit(parts._replace(netloc=netloc)))
        yield proxy
    finally:
        await db.close_db()
        await proxy.close()
        await db.init_db(database, pool_max=30)  # as the session's `database` fixture opened it


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL outage (the proxy speaks to PostgreSQL)")
async def test_a_database_outage_is_503_with_retry_after_and_service_is_back_within_a_second(
    database_through_proxy: TcpProxy,
    serve: Callable[..., Awaitable[RunningServer]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = database_through_proxy
    monkeypatch.setattr(server_app, "CLOCK_SECONDS", 0.5)  # the clock ticks during the outage too
    server = await serve(add_transaction_route)
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_SECONDS + 5) as http:
        login = await http.post("/api/v1/auth/login", json={"code": "test:outage-owner"})
        assert login.status_code == 200, login.text
        auth = {"authorization": f"Bearer {login.json()['token']}"}
        routes: list[tuple[str, dict[str, str] | None]] = [
            ("/api/v1/communities", None),  # a plain read
            ("/api/v1/db-probe", None),  # BEGIN, a query, COMMIT
            ("/api/v1/me", auth),  # the session, then the profile
        ]
        warm = await keep_asking(http, routes, 1.0)
        assert {a.status for a in warm} == {200}, warm[:5]

        await proxy.refuse()  # pooled connections reset, new ones refused, for 3 s
        down = await keep_asking(http, routes, 3.0)
        assert_outage_answers(down, "database_unavailable")
        late = [a for a in down if a.sent > down[0].sent + 0.5]
        assert late and {a.status for a in late} == {503}, late[:5]  # the outage is real
        ready = await ask(http, "/ready")
        assert (ready.status, ready.code, ready.retry_after) == (503, "unavailable", "1")

        await proxy.accept()
        back = time.monotonic()  # the database accepts connections again
        first = await ask(http, *routes[1])  # alone: BEGIN on a connection made now
        burst = await asyncio.gather(*(ask(http, *routes[k % len(routes)]) for k in range(30)))  # > the pool
        after = await keep_asking(http, [*routes, ("/ready", None)], 1.5)
        answers = [first, *burst, *after]
        assert_outage_answers(answers, "database_unavailable")
        measured = recovery(answers, back)
        slowest = max(a.done - a.sent for a in down)
        print(f"database outage: {len(down)} answers in 3 s, slowest {slowest:.3f} s; after it: {measured}")
        assert measured.steady < 1.0, measured  # after that, only 200s
        assert measured.after_steady >= 30, measured
        assert not server.app.ctx.clock_task.done()  # its failed ticks were logged, and it ticks on
