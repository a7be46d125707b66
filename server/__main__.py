"""Command line: python -m server serve | migrate | makemigrations | seed-demo | audit verify"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from functools import partial
from pathlib import Path

from config.settings import Settings, SettingsError, load_settings


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from server.app import create_app

    if workers == 1:
        # One process, no worker manager: starts faster and stops cleanly on SIGINT/SIGTERM.
        app = create_app(settings, name="wuye")
        app.prepare(host=host, port=port, access_log=False, single_process=True)
        Sanic.serve_single(primary=app)
        return
    if not settings.redis_url:
        # Sessions, locks and rate limits live in the cache: without Redis each worker has its own.
        print(
            f"warning: {workers} workers without REDIS_URL: each keeps its own sessions and rate limits; "
            "set REDIS_URL for more than one worker",
            file=sys.stderr,
        )
    loader = AppLoader(factory=partial(create_app, settings, name="wuye"))
    app = loader.load()
    app.prepare(host=host, port=port, workers=workers, access_log=False)
    Sanic.serve(primary=app, app_loader=loader)


async def _seed(settings: Settings, if_empty: bool) -> str:
    """The demo county, then what each domain adds to it (notices, the complaints catalogue)."""
    from accounts.demo import seed_demo
    from complaints.demo import seed_complaints_catalog
    from notices.demo import seed_notices
    from server import db

    await db.init_db(settings.database_url)
    try:
        message = await seed_demo(hmac_key=settings.hmac_key.encode(), only_if_empty=if_empty)
        if "not loaded" in message:
            return message
        catalog = await seed_complaints_catalog()
        notices = await seed_notices()
        return f"{message}; {notices} demo notices; complaints catalogue {catalog}"
    finally:
        await db.close_db()


async def _verify(settings: Settings, file: str | None, streams: list[str] | None) -> int:
    from audit.service import verify_database, verify_export

    if file:
        document = json.loads(Path(file).read_text(encoding="utf-8"))
        report = verify_export(document)
        if "ballots" in document:  # a motion export: its ballots and sealed batches too
            from voting.verify import verify_motion_export

            ballot_problems = verify_motion_export(document)
            for text in ballot_problems:
                print(f"BROKEN: {text}")
            if ballot_problems:
                return 1
    else:
        from server import db

        await db.init_db(settings.database_url)
        try:
            report = await verify_database(streams)
        finally:
            await db.close_db()
    if report.ok:
        print(f"OK: {report.streams} streams, {report.events} events, every chain intact")
        return 0
    for problem in report.problems:
        where = f"stream {problem.stream} at seq {problem.seq} (position {problem.index})"
        print(f"BROKEN: {where}: {problem.reason}")
    return 1


async def _export(settings: Settings, out: str, streams: list[str] | None) -> None:
    from audit.service import export
    from core.jsonutil import dumps
    from server import db

    await db.init_db(settings.database_url)
    try:
        Path(out).write_text(dumps(await export(streams)), encoding="utf-8")
    finally:
        await db.close_db()


async def _makemigrations(settings: Settings, name: str | None, apps: list[str] | None) -> None:
    """Like Tortoise's makemigrations, but every app is loaded (domain apps refer to "models.Unit")
    and only the apps asked for get a migration written, so engineers working on different domains
    do not write each other's migrations."""
    from tortoise.cli.cli import _ensure_migrations_package, tortoise_cli_context
    from tortoise.migrations.autodetector import MigrationAutodetector
    from tortoise.migrations.writer import format_migration_name

    from server import db

    db.ensure_sqlite_dir(settings.database_url)
    config = db.tortoise_config(settings.database_url)
    for label, app_config in config["apps"].items():
        _ensure_migrations_package(label, app_config)
    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    for writer in writers:
        if apps and writer.app_label not in apps:
            continue
        if name:
            writer.name = format_migration_name(int(writer.name.split("_", 1)[0]), name)
        print(f"created {writer.app_label}.{writer.name}: {writer.write()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    sub.add_parser("migrate", help="apply the committed migrations")
    mk = sub.add_parser("makemigrations", help="write a migration for model changes (developers)")
    mk.add_argument("--name")
    mk.add_argument("--app", action="append", help="only this app label (repeatable): models, voting, ...")
    seed = sub.add_parser("seed-demo", help="load the demo county (idempotent)")
    seed.add_argument("--if-empty", action="store_true", help="do nothing when the registry has data")
    audit = sub.add_parser("audit", help="audit log tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="verify every hash chain (database, or an exported file)")
    verify.add_argument("--file", help="an exported JSON file to check offline")
    verify.add_argument("--stream", action="append", help="only these streams (repeatable)")
    exp = audit_sub.add_parser("export", help="write the audit log as JSON for offline verification")
    exp.add_argument("--out", required=True)
    exp.add_argument("--stream", action="append")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        settings.check()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2

    if args.command == "serve":
        _serve(
            settings, args.host or settings.host, args.port or settings.port, args.workers or settings.workers
        )
        return 0
    if args.command == "migrate":
        from server import db

        asyncio.run(db.migrate(settings.database_url))
        return 0
    if args.command == "makemigrations":
        asyncio.run(_makemigrations(settings, args.name, args.app))
        return 0
    if args.command == "seed-demo":
        print(asyncio.run(_seed(settings, args.if_empty)))
        return 0
    if args.audit_command == "verify":
        return asyncio.run(_verify(settings, args.file, args.stream))
    asyncio.run(_export(settings, args.out, args.stream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
