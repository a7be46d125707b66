"""GET /metrics: only with METRICS_TOKEN set and only for its bearer; counters move under load, per
route name (never a raw path); database-derived values; several processes add up (multiprocess mode);
not in the OpenAPI document."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.settings import Settings
from core.cache import Cache, MemoryCache
from core.errors import CacheUnavailable
from server.app import create_app
from tests.conftest import ON_POSTGRES, RunningServer, free_port
from tests.ops.conftest import World

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "m" * 40
BEARER = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def metrics_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one per test process: prometheus_client's multiprocess directory is fixed once per process
    return tmp_path_factory.mktemp("metrics")


@pytest.fixture
async def metered(
    settings: Settings, cache: Cache, clean_db: None, metrics_dir: Path
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    servers: list[RunningServer] = []
    clients: list[httpx.AsyncClient] = []

    async def start(cache_override: Cache | None = None) -> httpx.AsyncClient:
        with_metrics = replace(settings, metrics_token=TOKEN, metrics_dir=metrics_dir)
        app = create_app(with_metrics, cache=cache_override or cache, manage_db=False, background=False)
        server = RunningServer(app, free_port())
        await server.start()
        servers.append(server)
        clients.append(httpx.AsyncClient(base_url=server.url, timeout=30))
        return clients[-1]

    yield start
    for client in clients:
        await client.aclose()
    for server in servers:
        await server.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def scrape(http: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def requests_of(found: dict, route: str, status: str, method: str = "GET") -> float:
    key = ("wuye_http_requests_total", (("method", method), ("route", route), ("status", status)))
    return found.get(key, 0.0)


async def test_no_token_configured_no_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=BEARER)
    assert response.status_code == 404


async def test_only_the_bearer_of_the_token_may_scrape(metered) -> None:  # type: ignore[no-untyped-def]
    http = await metered()
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        response = await http.get("/metrics", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthenticated"
        assert "wuye_http_requests" not in response.text
    assert (await http.get("/metrics", headers=BEARER)).status_code == 200


async def test_counters_move_per_route_name_under_load(metered) -> None:  # type: ignore[no-untyped-def]
    http = await metered()
    before = await scrape(http)
    for _ in range(7):
        assert (await http.get("/health")).status_code == 200
    for n in range(3):
        assert (await http.get(f"/no/such/path/{n}")).status_code == 404
    assert (await http.get("/api/v1/complaints/123456")).status_code in (401, 404)
    after = await scrape(http)

    assert requests_of(after, "health.health", "200") - requests_of(before, "health.health", "200") == 7
    assert requests_of(after, "unmatched", "404") - requests_of(before, "unmatched", "404") == 3
    duration = ("wuye_http_request_duration_seconds_count", (("method", "GET"), ("route", "health.health")))
    assert after[duration] - before.get(duration, 0.0) == 7
    routes = {dict(labels).get("route") for (name, labels) in after if name.startswith("wuye_http_")}
    assert all(route and "/" not in route and "123456" not in route for route in routes)
    unauthenticated = ("wuye_errors_total", (("code", "unauthenticated"),))
    assert after.get(unauthenticated, 0.0) >= before.get(unauthenticated, 0.0)
    if ON_POSTGRES:
        assert after[("wuye_db_pool_connections", (("state", "max"),))] == 30  # the suite's pool
    else:
        assert not any(name == "wuye_db_pool_connections" for name, _ in after)


async def test_ballots_cast_and_complaints_overdue_come_from_the_database(metered, world: World) -> None:  # type: ignore[no-untyped-def]
    http = await metered()
    before = await scrape(http)
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    for owner_id in (await world.on_roll(motion_id))[:3]:
        assert (await world.cast(motion_id, owner_id, {str(item): "agree"})).status_code == 201
    after = await scrape(http)
    assert after[("wuye_ballots_cast_total", ())] - before[("wuye_ballots_cast_total", ())] == 3
    assert after[("wuye_complaints_overdue", ())] == 0
    assert all(value == 0 for (name, _), value in after.items() if name == "wuye_metrics_sampler_failed")


class DownCache(MemoryCache):
    """Redis gone: every operation is CacheUnavailable, as RedisCache reports it."""

    async def get(self, key: str) -> bytes | None:
        raise CacheUnavailable()

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        raise CacheUnavailable()

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        raise CacheUnavailable()

    async def incr(self, key: str, ttl: float) -> int:
        raise CacheUnavailable()


async def test_cache_errors_are_counted(metered) -> None:  # type: ignore[no-untyped-def]
    http = await metered(DownCache())
    before = await scrape(http)
    response = await http.post("/api/v1/auth/login", json={"code": "test:someone"})
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "cache_unavailable"
    after = await scrape(http)
    assert after[("wuye_cache_errors_total", ())] - before.get(("wuye_cache_errors_total", ()), 0.0) == 1
    code = ("wuye_errors_total", (("code", "cache_unavailable"),))
    assert after[code] - before.get(code, 0.0) == 1


ANOTHER_WORKER = r"""
import sys
from pathlib import Path
from server.ops.metrics import instruments
measured = instruments(Path(sys.argv[1]))
measured.requests.labels("health.health", "GET", "200").inc(5)
"""


async def test_other_worker_processes_add_up(metered, metrics_dir: Path) -> None:  # type: ignore[no-untyped-def]
    http = await metered()
    before = requests_of(await scrape(http), "health.health", "200")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", ANOTHER_WORKER, str(metrics_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert requests_of(await scrape(http), "health.health", "200") - before == 5


async def test_metrics_is_not_in_the_openapi_document(metered) -> None:  # type: ignore[no-untyped-def]
    http = await metered()
    document = (await http.get("/docs/openapi.json")).json()
    assert "/metrics" not in document["paths"]
    assert "/health" in document["paths"]
