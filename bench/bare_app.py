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
        # the same query as /api/v1/communities, without our middleware, pydantic or envelope
        from accounts.registry import list_communities

        rows = (await list_communities(limit=50)).items
        return json(
            {
                "items": [
                    {"id": r.id, "name": r.name, "compounds": r.compounds, "standalone": r.standalone}
                    for r in rows
                ]
            }
        )

    @app.post("/insert")
    async def insert(request):  # type: ignore[no-untyped-def]
        # the yardstick for casting: parse a JSON body, insert one row, answer JSON
        from tortoise import connections

        body = request.json
        conn = connections.get("default")
        mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
        await conn.execute_query(f"INSERT INTO bench_insert (payload) VALUES ({mark})", [str(body)])
        return json({"ok": True}, status=201)

    @app.before_server_start
    async def open_db(app: Sanic) -> None:
        await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
        from tortoise import connections

        conn = connections.get("default")
        key = "SERIAL" if conn.capabilities.dialect == "postgres" else "INTEGER"
        await conn.execute_script(
            f"CREATE TABLE IF NOT EXISTS bench_insert (id {key} PRIMARY KEY, payload TEXT)"
        )

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
