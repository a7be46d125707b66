"""Liveness and readiness, outside /api/v1 so load balancers need no version."""

from __future__ import annotations

from pydantic import BaseModel
from sanic import Blueprint, Request

from miniprogram_api.endpoint import PUBLIC, Call, endpoint

bp = Blueprint("health")


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    database: bool
    cache: bool
    queue: str = "in_process"  # in_process (no QUEUE_URL: web workers run the jobs), up or down


@endpoint(bp, "GET", "/health", summary="存活检查", access=PUBLIC, response=HealthOut)
async def health(request: Request, call: Call[None, None]) -> HealthOut:
    return HealthOut(status="ok")


@endpoint(
    bp, "GET", "/ready", summary="就绪检查（数据库与缓存可达，否则 503）", access=PUBLIC, response=ReadyOut
)
async def ready(request: Request, call: Call[None, None]) -> ReadyOut:
    from core.errors import Unavailable

    database = await request.app.ctx.db_ping()
    cache = await request.app.ctx.cache.ping()
    queue_ping = getattr(request.app.ctx, "queue_ping", None)
    queue = "in_process" if queue_ping is None else ("up" if await queue_ping() else "down")
    if not (database and cache) or queue == "down":
        raise Unavailable(details={"database": database, "cache": cache, "queue": queue})
    return ReadyOut(status="ready", database=database, cache=cache, queue=queue)
