"""The yardstick: a bare Sanic app on the same database, with none of our middleware, error
handling, OpenAPI or pydantic. Run by bench/http_bench.py beside our server."""

from __future__ import annotations

import argparse

from sanic import Sanic
from sanic.response import json
from tortoise import Tortoise

from server.db import tortoise_config


def build(database_url: str) -> Sanic:
    app = Sanic("bare")

    @app.get("/hello")
    async def hello(request):  # type: ignore[no-untyped-def]
        return json({"status": "ok"})

    @app.get("/db")
    async def read(request):  # type: ignore[no-untyped-def]
        from accounts.models import Community

        rows = await Community.all().order_by("id").values("id", "name")
        return json({"items": rows})

    @app.before_server_start
    async def open_db(app: Sanic) -> None:
        await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)

    @app.after_server_stop
    async def close_db(app: Sanic) -> None:
        await Tortoise.close_connections()

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    build(args.database_url).run(host="127.0.0.1", port=args.port, single_process=True, access_log=False)
