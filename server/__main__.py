"""Command line: python -m server serve | worker | migrate | makemigrations | bootstrap | seed-demo | audit verify"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from functools import partial
from pathlib import Path

from config.settings import Settings, SettingsError, load_settings

# Sanic's worker manager shuts everything down when a worker has not reported ready within 30 s (a
# class constant, in tenths of a second). A worker imports the whole app and connects to the database
# first; on a loaded host that can take longer, and a server that kills itself at start helps nobody.
WORKER_START_SECONDS = 120


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from server.app import create_app

    if workers == 1:
        # One process, no worker manager: starts faster and stops cleanly on SIGINT/SIGTERM.
        app = create_app(settings, name="wuye", freeze_heap=True)
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
    from sanic.worker.manager import WorkerManager
    from sanic.worker.process import WorkerProcess

    WorkerManager.THRESHOLD = WorkerProcess.THRESHOLD = WORKER_START_SECONDS * 10
    loader = AppLoader(factory=partial(create_app, settings, name="wuye", freeze_heap=True))
    app = loader.load()
    app.prepare(host=host, port=port, workers=workers, access_log=False)
    Sanic.serve(primary=app, app_loader=loader)


async def _seed(settings: Settings, if_empty: bool) -> str:
    """The demo county, then what each domain adds to it (notices, the complaints catalogue)."""
    from accounts.demo import seed_demo
    from bookings.demo import seed_bookings
    from complaints.demo import seed_complaints_catalog
    from fund.demo import seed_fund
    from notices.demo import seed_notices
    from payments.demo import seed_payments
    from ratings.demo import seed_ratings
    from server import db
    from supervision.demo import seed_supervision

    await db.init_db(settings.database_url)
    try:
        message = await seed_demo(hmac_key=settings.hmac_key.encode(), only_if_empty=if_empty)
        if "not loaded" in message:
            return message
        catalog = await seed_complaints_catalog()
        notices = await seed_notices()
        fees = await seed_payments()
        extra = [await seed_fund(), await seed_bookings(), await seed_ratings(), await seed_supervision()]
        return "; ".join(
            [f"{message}; {notices} demo notices; complaints catalogue {catalog}; {fees}", *extra]
        )
    finally:
        await db.close_db()


async def _bootstrap(settings: Settings, file: str) -> int:
    """A real deployment's first data from FILE (accounts.bootstrap), then the complaint catalogue:
    no demo code. Problems are printed one per line, in Chinese, with the field and line."""
    from accounts.bootstrap import apply, read
    from complaints.catalog import install
    from core.errors import DomainError
    from server import db

    try:
        plan = read(Path(file))
    except DomainError as exc:
        print(exc.user_message, file=sys.stderr)
        for problem in exc.details if isinstance(exc.details, list) else []:
            print(f"  {problem}", file=sys.stderr)
        return 1
    await db.init_db(settings.database_url)
    try:
        try:
            report = await apply(plan)
        except DomainError as exc:
            print(exc.user_message, file=sys.stderr)
            return 1
        catalog = await install()
    finally:
        await db.close_db()
    print(report.text())
    print(
        f"投诉类别与责任单位：新增 {catalog['categories_added']} 类，工作日历新增 {catalog['calendar_added']} 天"
    )
    return 0


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


async def _backup(settings: Settings, directory: str) -> int:
    from server.media import close_media, media_storage
    from server.ops.backup import BackupError, backup

    store = media_storage(settings)
    try:
        result = await backup(settings.database_url, store, Path(directory))
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    finally:
        await close_media(store)
    media = result.manifest["media"]
    print(
        f"backup written to {directory}: {result.manifest['backend']} database, "
        f"{media['count']} media files ({media['bytes']} bytes), migrations {result.manifest['heads']}"
    )
    for problem in result.problems:
        print(f"WARNING: {problem}", file=sys.stderr)
    return 3 if result.problems else 0


async def _restore(settings: Settings, directory: str, force: bool) -> int:
    from server.media import close_media, media_storage
    from server.ops.backup import BackupError, restore
    from server.ops.migrations import pending

    store = media_storage(settings)
    try:
        result = await restore(settings.database_url, store, Path(directory), force=force)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    finally:
        await close_media(store)
    taken, heads = result.manifest["created_at"], result.manifest["heads"]
    print(f"restored {directory} (taken {taken}, migrations {heads})")
    steps = await pending(settings.database_url)
    if steps:
        later = ", ".join(map(str, steps))
        print(f"the restored schema is older than the code: run `python -m server migrate` ({later})")
    return 0


async def _check(settings: Settings) -> int:
    from server.ops.migrations import pending

    steps = await pending(settings.database_url)
    if not steps:
        print("OK: configuration valid, database schema current (no pending migrations)")
        return 0
    print(f"PENDING: {len(steps)} migration steps; run `python -m server migrate`:")
    for step in steps:
        print(f"  {step}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    sub.add_parser("migrate", help="apply the committed migrations")
    sub.add_parser("worker", help="run the periodic jobs and the outbox relay (QUEUE_URL, or in process)")
    mk = sub.add_parser("makemigrations", help="write a migration for model changes (developers)")
    mk.add_argument("--name")
    mk.add_argument("--app", action="append", help="only this app label (repeatable): models, voting, ...")
    boot = sub.add_parser(
        "bootstrap", help="a real deployment's first data from a TOML or JSON file (idempotent)"
    )
    boot.add_argument(
        "file", help="county, communities (and compounds), departments, first supervisor's openid"
    )
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
    backup_cmd = sub.add_parser("backup", help="back up the database and the media store into a new DIR")
    backup_cmd.add_argument("directory", metavar="DIR")
    restore_cmd = sub.add_parser("restore", help="restore a backup DIR into an empty database and media")
    restore_cmd.add_argument("directory", metavar="DIR")
    restore_cmd.add_argument("--force", action="store_true", help="replace a database and media holding data")
    sub.add_parser("check", help="check the configuration and report pending migrations (exit 1 if any)")
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
    if args.command == "worker":
        from server import worker

        asyncio.run(worker.run(settings, freeze_heap=True))
        return 0
    if args.command == "migrate":
        from server import db

        asyncio.run(db.migrate(settings.database_url))
        return 0
    if args.command == "makemigrations":
        asyncio.run(_makemigrations(settings, args.name, args.app))
        return 0
    if args.command == "bootstrap":
        return asyncio.run(_bootstrap(settings, args.file))
    if args.command == "backup":
        return asyncio.run(_backup(settings, args.directory))
    if args.command == "restore":
        return asyncio.run(_restore(settings, args.directory, args.force))
    if args.command == "check":
        return asyncio.run(_check(settings))
    if args.command == "seed-demo":
        print(asyncio.run(_seed(settings, args.if_empty)))
        return 0
    if args.audit_command == "verify":
        return asyncio.run(_verify(settings, args.file, args.stream))
    asyncio.run(_export(settings, args.out, args.stream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
