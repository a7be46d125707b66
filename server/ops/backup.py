"""Backup and restore of the database and the media store together.

A backup is a directory::

    manifest.json        format, time, backend, migrations applied, sha256 and size of every file
    database.dump        PostgreSQL: pg_dump custom format (pg_restore reads it)
    database.sqlite3     SQLite: a copy made with sqlite3's online backup API
    media/...            every object of the media store (photos and notice attachments: MEDIA_DIR's
                         files or the S3 bucket's objects), each at its key

Consistency between the two halves: media files are content-addressed and written before the row that
names them, and removed only after that row stops naming them. So the database is snapshotted first
and the media copied after: every file the snapshot names is still there, unless it was purged in
between (then it is listed under ``missing_media`` and the command exits non-zero). On PostgreSQL the
photo keys and the migrations are read in the very snapshot pg_dump dumps (pg_export_snapshot).

Restore checks every checksum before writing anything, refuses a target database or media directory
that is not empty unless ``force`` is given, and reports how the backup's migrations compare with the
code's (an older backup is brought up to date with ``python -m server migrate``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from photos.keys import PUBLIC_PREFIX
from photos.process import EXTENSIONS
from photos.storage import LocalStorage, PhotoStorage

FORMAT = "wuye-backup/1"
MANIFEST = "manifest.json"
MEDIA = "media"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
MIGRATIONS_TABLE = "tortoise_migrations"
_LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "connect_timeout", "application_name")


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Result:
    directory: Path
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)


# --- where things are ----------------------------------------------------------------------------


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "asyncpg://", "psql://"))


def sqlite_path(url: str) -> Path:
    path = url.removeprefix("sqlite://").split("?", 1)[0]
    if not path or ":memory:" in path:
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(path)


def libpq_env(url: str) -> dict[str, str]:
    """PG* variables for pg_dump/pg_restore/asyncpg: the password stays out of the command line."""
    parts = urlsplit(url)
    env = {
        "PGHOST": parts.hostname or "localhost",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or "postgres"),
        "PGDATABASE": unquote(parts.path.lstrip("/")),
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    options = dict(parse_qsl(parts.query))
    if "sslmode" in options:
        env["PGSSLMODE"] = options["sslmode"]
    if "connect_timeout" in options:
        env["PGCONNECT_TIMEOUT"] = options["connect_timeout"]
    return env


async def _pg_connect(url: str) -> Any:
    import asyncpg

    env = libpq_env(url)
    return await asyncpg.connect(
        host=env["PGHOST"],
        port=int(env["PGPORT"]),
        user=env["PGUSER"],
        password=env.get("PGPASSWORD"),
        database=env["PGDATABASE"],
    )


def _run(command: list[str], url: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed programs, arguments are ours
        command,
        env={**os.environ, **libpq_env(url)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


# --- checksums -----------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _media_files(root: Path) -> Iterator[Path]:
    """Every stored file under root, skipping half-written temporaries (LocalStorage's ``.tmp-*``)."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            yield path


def _describe(path: Path) -> dict[str, Any]:
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


# --- backup --------------------------------------------------------------------------------------


def _rows_to_migrations(rows: list[tuple[str, str]]) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in rows:
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


_KEYS_SQL = "SELECT original_key, display_key, thumbnail_key, original_purged_at FROM photo"
_MIGRATIONS_SQL = f"SELECT app, name FROM {MIGRATIONS_TABLE}"  # noqa: S608 - a constant


def _referenced(rows: list[tuple[Any, ...]]) -> set[str]:
    keys: set[str] = set()
    for original, display, thumbnail, purged_at in rows:
        keys.update((display, thumbnail))
        if purged_at is None:
            keys.add(original)
    return keys


async def _dump_postgres(url: str, target: Path) -> tuple[dict[str, list[str]], set[str]]:
    """pg_dump in an exported snapshot, and what that same snapshot says about migrations and photos."""
    conn = await _pg_connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            migrations = [(r["app"], r["name"]) for r in await conn.fetch(_MIGRATIONS_SQL)]
            has_photos = await conn.fetchval("SELECT to_regclass('public.photo') IS NOT NULL")
            photo_rows = [tuple(r) for r in await conn.fetch(_KEYS_SQL)] if has_photos else []
            # The snapshot lives as long as this transaction: pg_dump runs while it is open.
            await asyncio.to_thread(
                _run,
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={target}"],
                url,
            )
    finally:
        await conn.close()
    return _rows_to_migrations(migrations), _referenced(photo_rows)


def _dump_sqlite(url: str, target: Path) -> tuple[dict[str, list[str]], set[str]]:
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # the online backup API: a consistent copy while the server writes
        tables = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        migrations = list(copy.execute(_MIGRATIONS_SQL)) if MIGRATIONS_TABLE in tables else []
        photo_rows = list(copy.execute(_KEYS_SQL)) if "photo" in tables else []
    finally:
        copy.close()
        source.close()
    return _rows_to_migrations(migrations), _referenced(photo_rows)


def _store(media: PhotoStorage | Path | str) -> PhotoStorage:
    return LocalStorage(Path(media)) if isinstance(media, (str, Path)) else media


async def backup(database_url: str, media: PhotoStorage | Path | str, directory: Path) -> Result:
    """Write a backup into ``directory`` (new or empty). ``media``: the store, or MEDIA_DIR's path."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: give a new directory for each backup")
    directory.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    if is_postgres(database_url):
        backend, name = "postgres", PG_DUMP
        migrations, referenced = await _dump_postgres(database_url, directory / name)
    else:
        backend, name = "sqlite", SQLITE_COPY
        migrations, referenced = await asyncio.to_thread(_dump_sqlite, database_url, directory / name)
    files = await _copy_media(_store(media), directory / MEDIA)
    missing = sorted(referenced - set(files))
    manifest = {
        "format": FORMAT,
        "created_at": started.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "backend": backend,
        "database": {"file": name, **_describe(directory / name)},
        "migrations": migrations,
        "heads": {app: names[-1] for app, names in migrations.items()},
        "media": {"count": len(files), "bytes": sum(f["bytes"] for f in files.values()), "files": files},
        "missing_media": missing,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    problems = [f"photo file named by the database but absent from the media store: {key}" for key in missing]
    return Result(directory, manifest, problems)


async def _copy_media(store: PhotoStorage, target: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
    async for key in store.list_keys():
        data = await store.get(key)
        if data is None:  # deleted since it was listed: no longer named by the snapshot's rows either
            continue
        destination = target / key
        await asyncio.to_thread(_write_copy, destination, data)
        # the checksum of the copy: what restore will compare against
        files[key] = _describe(destination)
    return files


def _write_copy(destination: Path, data: bytes) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    os.chmod(destination, 0o600)


# --- restore -------------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable {MANIFEST} in {directory}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a {FORMAT} manifest")
    return manifest


def verify_backup(directory: Path) -> list[str]:
    """Every file the manifest lists is present with its checksum, and nothing else is in media/."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    problems = []
    expected: dict[str, dict[str, Any]] = {manifest["database"]["file"]: manifest["database"]}
    expected.update({f"{MEDIA}/{k}": v for k, v in manifest["media"]["files"].items()})
    for relative, described in sorted(expected.items()):
        path = directory / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif sha256_file(path) != described["sha256"]:
            problems.append(f"{relative}: checksum does not match the manifest")
    present = {p.relative_to(directory).as_posix() for p in _media_files(directory / MEDIA)}
    problems += [f"{extra}: not in the manifest" for extra in sorted(present - set(expected))]
    return problems


async def database_is_empty(database_url: str) -> bool:
    if is_postgres(database_url):
        conn = await _pg_connect(database_url)
        try:
            count = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        finally:
            await conn.close()
        return int(count) == 0
    path = sqlite_path(database_url)
    if not path.is_file():
        return True
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0] == 0
    finally:
        conn.close()


async def restore(
    database_url: str, media: PhotoStorage | Path | str, directory: Path, *, force: bool = False
) -> Result:
    """Restore a backup into the configured database and media store (the server stopped)."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    problems = await asyncio.to_thread(verify_backup, directory)
    if problems:
        raise BackupError("the backup does not match its manifest; nothing restored: " + "; ".join(problems))
    backend = "postgres" if is_postgres(database_url) else "sqlite"
    if manifest["backend"] != backend:
        raise BackupError(f"a {manifest['backend']} backup cannot be restored into {backend}")
    store = _store(media)
    media_present = await _any_key(store)
    db_empty = await database_is_empty(database_url)
    if not force and (media_present or not db_empty):
        what = [w for w, busy in (("the database", not db_empty), ("the media store", media_present)) if busy]
        raise BackupError(
            f"refusing to restore over data: {' and '.join(what)} not empty "
            "(restore into an empty system, or pass --force to replace what is there)"
        )
    source = directory / manifest["database"]["file"]
    if backend == "postgres":
        await _restore_postgres(database_url, source, wipe=not db_empty)
    else:
        await asyncio.to_thread(_restore_sqlite, database_url, source)
    await _restore_media(directory / MEDIA, store, manifest["media"]["files"])
    return Result(directory, manifest)


async def _any_key(store: PhotoStorage) -> bool:
    async for _ in store.list_keys():
        return True
    return False


async def _restore_postgres(url: str, dump: Path, *, wipe: bool) -> None:
    if wipe:
        conn = await _pg_connect(url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()
    await asyncio.to_thread(
        _run,
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         f"--dbname={libpq_env(url)['PGDATABASE']}", str(dump)],
        url,
    )  # fmt: skip


def _restore_sqlite(url: str, copy_path: Path) -> None:
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(copy_path)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)  # replaces the whole target database, WAL and all, in one step
    finally:
        destination.close()
        source.close()


async def _restore_media(source: Path, store: PhotoStorage, files: dict[str, dict[str, Any]]) -> None:
    stale = [key async for key in store.list_keys()]
    for key in stale:
        await store.delete(key)
    for key in files:
        data = await asyncio.to_thread((source / key).read_bytes)
        # the store applies its own rules (LocalStorage: public renditions 0644, the rest 0600)
        await store.put(key, data, _content_type(key))


# what the store is told an object is, by its key's extension (photos' renditions and originals, PDFs)
_CONTENT_TYPES = {extension: content_type for content_type, extension in EXTENSIONS.items()} | {
    "pdf": "application/pdf"
}


def _content_type(key: str) -> str:
    default = "image/jpeg" if key.startswith(PUBLIC_PREFIX) else "application/octet-stream"
    return _CONTENT_TYPES.get(key.rsplit(".", 1)[-1].lower(), default)
