"""Shared pieces of the permission-matrix tests: the routes an app declares, and the shape of a path,
so each domain's matrix can assert that it covers exactly the routes under its prefixes.

A path's shape replaces every parameter segment (Sanic's "<x>" / "<x:int>", a template's "{x}", or
a literal number standing in for an id) with "<>", so "/motions/<motion_id:int>/close",
"/motions/{m}/close" and "/motions/17/close" all have the shape "/motions/<>/close"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

API = "/api/v1"


def shape(path: str) -> str:
    path = path.split("?", 1)[0]
    parts = [p for p in path.strip("/").split("/") if p]
    return "/" + "/".join("<>" if p[0] in "<{" or p.isdigit() else p for p in parts)


def declared(app: Any, *prefixes: str, excluding: Iterable[str] = ()) -> set[tuple[str, str]]:
    """(method, shape) of every route of ``app`` whose shape starts with the shape of one of
    ``prefixes`` ("/api/v1/admin/compounds/{c}/fees"), leaving out those whose shape contains any of
    ``excluding``."""
    wanted = tuple(shape(p) for p in prefixes)
    return {
        (method, routed)
        for route in app.router.routes
        for routed in [shape(route.path)]
        if any(routed == w or routed.startswith(w + "/") for w in wanted)
        and not any(part in routed for part in excluding)
        for method in route.methods - {"HEAD", "OPTIONS"}
    }


def covered(rows: Iterable[tuple[Any, ...]]) -> set[tuple[str, str]]:
    """(method, shape) of a matrix's rows, each starting (method, path, ...)."""
    return {(str(row[0]), shape(str(row[1]))) for row in rows}


# What the scheduler writes on its own, whoever calls (one row per periodic job, the first time it
# runs; the marks of clock-driven events, such as the fund's daily and hourly scans): not a change a
# refused request made.
SCHEDULER_TABLES = frozenset({"notify_job_state", "notify_event_mark"})


async def row_counts() -> dict[str, int]:
    """Rows per table of every model, but the scheduler's own bookkeeping: what a refused request
    must leave unchanged."""
    from tortoise import Tortoise

    return {
        model._meta.db_table: await model.all().count()
        for app in Tortoise.apps.values()
        for model in app.values()
        if model._meta.db_table not in SCHEDULER_TABLES
    }
