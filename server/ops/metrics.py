"""Prometheus metrics at GET /metrics, for a scraper holding METRICS_TOKEN (no token set: no route).

Why a bearer token on the web port rather than a port of its own: with several Sanic workers a
separate port needs one process that serves it (the manager process, or one worker elected for it),
and that process sees no request; on the web port every worker answers a scrape from the files all
workers share (prometheus_client's multiprocess mode, in METRICS_DIR). The token keeps it from the
public, and the reverse proxy answers 404 for /metrics anyway (deploy/Caddyfile): Prometheus scrapes
web:8000 from inside the network.

What is measured:
- per request, in the worker that served it: ``wuye_http_requests_total{route,method,status}`` and
  ``wuye_http_request_duration_seconds{route,method}``; route is the route's name (``voting.cast``),
  never the raw path, so label values are bounded by the route table; ``wuye_errors_total{code}``
  counts error envelopes by their stable code and ``wuye_cache_errors_total`` the cache's
  (``cache_unavailable``, ``busy``); ``wuye_db_pool_connections{state}`` summed over live workers;
- at scrape time, from the database (so every worker reports the same, across restarts):
  ``wuye_ballots_cast_total``, ``wuye_complaints_overdue``, and whatever ``add_sampler`` adds.

Other parts add their gauges with ``add_sampler`` (an async function yielding prometheus_client metric
families, run at each scrape), e.g. the job queue's depth and failures, the payments taken:

    from prometheus_client.core import GaugeMetricFamily
    async def outbox() -> list[Metric]:
        g = GaugeMetricFamily("wuye_jobs_queued", "jobs waiting in the outbox")
        g.add_metric([], await Job.filter(done_at=None).count())
        return [g]
    metrics.add_sampler(outbox)
"""

from __future__ import annotations

import hmac
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse, HTTPResponse

from config.settings import Settings

log = logging.getLogger("wuye.metrics")

Metric = Any  # prometheus_client.core.Metric (imported lazily, after the multiprocess directory is set)
Sampler = Callable[[], Awaitable[Iterable[Metric]]]
CACHE_ERROR_CODES = frozenset({"cache_unavailable", "busy"})
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_samplers: list[Sampler] = []


def add_sampler(sampler: Sampler) -> None:
    """Run ``sampler`` at every scrape and expose what it yields (idempotent per function)."""
    if sampler not in _samplers:
        _samplers.append(sampler)


class _Instruments:
    """The per-request instruments, created once per process after multiprocess mode is on."""

    def __init__(self, directory: Path) -> None:
        # prometheus_client takes its multiprocess directory from this variable only, read when each
        # value is created; we set it from Settings (config reads the environment, we only write it).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
        from prometheus_client import Counter, Gauge, Histogram, values

        values.ValueClass = values.MultiProcessValue()
        self.directory = directory
        self.requests = Counter(
            "wuye_http_requests", "HTTP requests answered", ["route", "method", "status"], registry=None
        )
        self.duration = Histogram(
            "wuye_http_request_duration_seconds",
            "Time from request to response",
            ["route", "method"],
            buckets=DURATION_BUCKETS,
            registry=None,
        )
        self.errors = Counter("wuye_errors", "Error envelopes by code", ["code"], registry=None)
        self.cache_errors = Counter(
            "wuye_cache_errors", "Requests failed because the cache was unreachable or busy", registry=None
        )
        self.pool = Gauge(
            "wuye_db_pool_connections",
            "Database pool connections (summed over live workers)",
            ["state"],
            multiprocess_mode="livesum",
            registry=None,
        )


_instruments: _Instruments | None = None


def instruments(directory: Path) -> _Instruments:
    global _instruments
    if _instruments is None:
        directory.mkdir(parents=True, exist_ok=True)
        _instruments = _Instruments(directory.resolve())
    return _instruments


def wipe(directory: Path) -> None:
    """Remove the previous run's files (prometheus_client: once, before the workers start)."""
    if directory.is_dir():
        for path in directory.iterdir():
            if path.is_file() and path.suffix == ".db":
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)


def route_label(request: Request, app_name: str) -> str:
    route = request.route
    if route is None:
        return "unmatched"
    name = str(route.name)
    return name.removeprefix(f"{app_name}.")


def _pool_sizes() -> dict[str, int] | None:
    from tortoise import connections

    try:
        pool = getattr(connections.get("default"), "_pool", None)
    except Exception:  # no database configured in this process
        return None
    if pool is None or not hasattr(pool, "get_size"):
        return None  # SQLite: one connection, no pool
    size, idle = pool.get_size(), pool.get_idle_size()
    return {"in_use": size - idle, "idle": idle, "max": pool.get_max_size()}


async def _ballots_cast() -> Iterable[Metric]:
    from prometheus_client.core import CounterMetricFamily

    from voting.models import Ballot

    family = CounterMetricFamily("wuye_ballots_cast", "Ballots cast (every change of a vote counts once)")
    family.add_metric([], await Ballot.all().count())
    return [family]


async def _complaints_overdue() -> Iterable[Metric]:
    from prometheus_client.core import GaugeMetricFamily

    from complaints.models import Complaint
    from complaints.rules import OPEN
    from core import clock

    overdue = await Complaint.filter(status__in=list(OPEN), stage_due_at__lt=clock.now()).count()
    family = GaugeMetricFamily("wuye_complaints_overdue", "Open complaints past their stage's time limit")
    family.add_metric([], overdue)
    return [family]


add_sampler(_ballots_cast)
add_sampler(_complaints_overdue)


async def render(directory: Path) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess
    from prometheus_client.core import GaugeMetricFamily

    sampled: list[Metric] = []
    failed = GaugeMetricFamily(
        "wuye_metrics_sampler_failed", "1 when a sampler failed at this scrape", labels=["sampler"]
    )
    for sampler in _samplers:
        name = getattr(sampler, "__qualname__", repr(sampler))
        try:
            sampled.extend(await sampler())
            failed.add_metric([name], 0)
        except Exception:
            log.warning("metrics sampler %s failed", name, exc_info=True)
            failed.add_metric([name], 1)
    sampled.append(failed)

    class _Sampled:
        def collect(self) -> Iterable[Metric]:
            return sampled

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    registry.register(_Sampled())
    return generate_latest(registry)


def install(app: Sanic, settings: Settings) -> None:
    """Measure every request and serve /metrics; nothing at all when METRICS_TOKEN is empty."""
    if not settings.metrics_token:
        return
    directory = Path(settings.metrics_dir)
    expected = f"Bearer {settings.metrics_token}".encode()

    @app.main_process_start
    async def _fresh_directory(app: Sanic) -> None:
        wipe(directory)

    @app.before_server_start
    async def _open(app: Sanic) -> None:
        app.ctx.metrics = instruments(directory)

    @app.after_server_stop
    async def _dead(app: Sanic) -> None:
        # A worker process the manager started is going away: its live gauges leave the sums. Not in
        # a single process (tests start and stop servers in one process that lives on).
        if multiprocessing.parent_process() is not None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid(), path=str(directory))

    async def _start(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    async def _measure(request: Request, response: BaseHTTPResponse) -> None:
        measured: _Instruments | None = getattr(request.app.ctx, "metrics", None)
        started = getattr(request.ctx, "started", None)
        if measured is None or started is None:
            return
        route, method = route_label(request, request.app.name), request.method
        measured.requests.labels(route, method, str(response.status)).inc()
        measured.duration.labels(route, method).observe(time.perf_counter() - started)
        if response.status >= 400 and (response.content_type or "").startswith("application/json"):
            code = _error_code(response.body)
            if code:
                measured.errors.labels(code).inc()
                if code in CACHE_ERROR_CODES:
                    measured.cache_errors.inc()
        sizes = _pool_sizes()
        if sizes:
            for state, value in sizes.items():
                measured.pool.labels(state).set(value)

    app.register_middleware(_start, "request", priority=100)
    app.register_middleware(_measure, "response", priority=-100)

    async def metrics(request: Request) -> HTTPResponse:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            from core.errors import Unauthenticated

            raise Unauthenticated()  # the usual 401 envelope, with the request id
        return HTTPResponse(await render(directory), content_type=CONTENT_TYPE)

    from sanic_ext import openapi

    # Operational, for Prometheus: not part of the mini-program API, so not in its OpenAPI document
    # (tests/server/test_conventions.py accepts a handler marked __operational__, and only that).
    handler = openapi.exclude()(metrics)
    handler.__operational__ = "Prometheus scrape, bearer METRICS_TOKEN"  # type: ignore[attr-defined]
    app.add_route(handler, "/metrics", methods=["GET"], name="metrics")


def _error_code(body: bytes | None) -> str | None:
    from core.jsonutil import loads

    if not body or len(body) > 64 * 1024:
        return None
    try:
        document = loads(body)
    except ValueError:
        return None
    code = document.get("code") if isinstance(document, dict) else None
    # stable snake-case codes from the error tree only: a bounded label
    return code if isinstance(code, str) and len(code) <= 64 and code.replace("_", "").isalnum() else None
