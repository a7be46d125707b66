"""Appending to and reading the audit log. Callers own their transaction: append inside it, so the
event exists exactly when the change it records does."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit.chain import GENESIS, Report, event_hash, verify
from audit.models import AuditEvent, AuditHead
from core import clock
from core.errors import Unavailable
from core.jsonutil import dumps, loads

EXPORT_FORMAT = "wuye-audit-export/1"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: an id like "user:42" or "system", and the name shown in the log."""

    id: str
    name: str
    request_id: str | None = None


SYSTEM = Actor("system", "系统")


def compound_stream(compound_id: int) -> str:
    return f"compound:{compound_id}"


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "stream": event.stream,
        "seq": event.seq,
        "at": clock.iso_utc(event.at),
        "actor": event.actor,
        "actor_name": event.actor_name,
        "action": event.action,
        "subject": event.subject,
        "payload": event.payload,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


async def append(
    stream: str,
    action: str,
    *,
    actor: Actor,
    subject: str = "",
    payload: dict[str, Any] | None = None,
    at: datetime | None = None,
    savepoint: bool = True,
) -> dict[str, Any]:
    """Append one event to ``stream`` and return it (with its hash: a receipt for the caller).

    The stream's head row is locked (SELECT … FOR UPDATE on PostgreSQL), so concurrent appenders
    queue instead of forking. SQLite serialises writers itself; the unique (stream, seq) constraint
    is the last line of defence, and a collision there is retried.

    ``savepoint=False``: the caller's own transaction (required) takes the event directly, without a
    savepoint around it (two statements fewer, for hot paths whose caller holds the lock of the
    stream's head until its commit anyway). A failure then fails the caller's transaction instead of
    being retried inside it; only a new stream's head, created in its own savepoint, is retried.
    """
    # Store exactly what is hashed: Decimal becomes text once, here, before both.
    normal = loads(dumps(payload or {}))
    for attempt in range(8):
        try:
            if not savepoint:
                conn = connections.get("default")
                if not isinstance(conn, TransactionalDBClient):
                    raise RuntimeError("audit.append(savepoint=False) needs the caller's transaction")
                return await _append_locked(conn, stream, action, actor, subject, normal, at)
            async with in_transaction() as conn:
                return await _append_locked(conn, stream, action, actor, subject, normal, at)
        except IntegrityError:
            await asyncio.sleep(0.002 * (attempt + 1))
    raise Unavailable(details={"stream": stream, "reason": "audit append contention"})


async def _append_locked(
    conn: Any,
    stream: str,
    action: str,
    actor: Actor,
    subject: str,
    payload: dict[str, Any],
    at: datetime | None,
) -> dict[str, Any]:
    head = await _locked_head(conn, stream)
    moment = at or clock.now()
    event: dict[str, Any] = {
        "stream": stream,
        "seq": head.seq + 1,
        "at": clock.iso_utc(moment),
        "actor": actor.id,
        "actor_name": actor.name,
        "action": action,
        "subject": subject,
        "payload": payload,
        "request_id": actor.request_id,
        "prev_hash": head.hash,
    }
    event["hash"] = event_hash(event)
    await AuditEvent.create(using_db=conn, **{**event, "at": moment})
    updated = (
        await AuditHead.filter(stream=stream, seq=head.seq)
        .using_db(conn)
        .update(seq=event["seq"], hash=event["hash"], updated_at=clock.now())
    )
    if updated != 1:
        raise IntegrityError("audit head moved underneath us")
    return event


async def _locked_head(conn: Any, stream: str) -> AuditHead:
    head = await AuditHead.filter(stream=stream).using_db(conn).select_for_update().first()
    if head is None:
        # A new stream: create the head inside a savepoint. If another appender created it first,
        # our insert fails (once theirs is committed) and only the savepoint rolls back: lock theirs.
        try:
            async with in_transaction() as sp:
                await AuditHead.create(
                    stream=stream, seq=0, hash=GENESIS, updated_at=clock.now(), using_db=sp
                )
        except IntegrityError:
            pass
        head = await AuditHead.filter(stream=stream).using_db(conn).select_for_update().first()
        assert head is not None
    return head


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of ``append_many``."""

    action: str
    subject: str
    payload: dict[str, Any]
    at: datetime


# The head's move (h: one row only if the head was still at $2) and the events' insert (e), as items
# of a WITH; ``{after}`` lets a caller that locks other rows first in the same statement make the
# head wait for them (a condition on its CTEs, evaluated before the head's row is touched).
EVENTS_PG = """h AS (
  UPDATE audit_head SET seq = $3, hash = $4, updated_at = $5 WHERE stream = $1 AND seq = $2{after}
  RETURNING seq
), e AS (
  -- once the head is ours: a statement chained from the same head waits there, not on these rows
  INSERT INTO audit_event (stream, seq, at, actor, actor_name, action, subject, payload, request_id,
                           prev_hash, hash)
  SELECT $1, x.seq, x.at, $8, $9, x.action, x.subject, x.payload::jsonb, $13, x.prev_hash, x.hash
  FROM unnest($6::bigint[], $7::timestamptz[], $10::text[], $11::text[], $12::text[], $14::text[],
              $15::text[]) AS x(seq, at, action, subject, payload, prev_hash, hash)
  WHERE EXISTS (SELECT 1 FROM h)
)"""
_APPEND_MANY_PG = "WITH " + EVENTS_PG.replace("{after}", "") + "{then}\nSELECT seq FROM h"
APPEND_MANY_PARAMS = 15  # a caller's ``then`` numbers its parameters from $16

# What a caller writes in the statement that appends its events (PostgreSQL): more items of its
# WITH (", name AS (...)" ...; parameters numbered from $16) and their parameters, made from the
# events (their hashes).
Then = Callable[[list[dict[str, Any]]], tuple[str, list[Any]]]


def chained(
    stream: str, entries: list[Entry], *, actor: Actor, head: tuple[int, str]
) -> list[dict[str, Any]]:
    """``entries`` as the events that follow ``head`` (its seq and hash) on ``stream``, hashed and
    not yet written."""
    seq, prev, events = head[0], head[1], []
    for entry in entries:
        seq += 1
        event: dict[str, Any] = {
            "stream": stream,
            "seq": seq,
            "at": clock.iso_utc(entry.at),
            "actor": actor.id,
            "actor_name": actor.name,
            "action": entry.action,
            "subject": entry.subject,
            "payload": loads(dumps(entry.payload)),
            "request_id": actor.request_id,
            "prev_hash": prev,
        }
        event["hash"] = prev = event_hash(event)
        events.append(event)
    return events


def events_pg_args(
    head: tuple[int, str], events: list[dict[str, Any]], entries: list[Entry], actor: Actor
) -> list[Any]:
    """EVENTS_PG's parameters $1-$15 for ``events`` (``chained`` from ``head``; at least one)."""
    payload = AuditEvent._meta.fields_map["payload"]
    return [
        events[0]["stream"],
        head[0],
        events[-1]["seq"],
        events[-1]["hash"],
        clock.now(),
        [e["seq"] for e in events],
        [x.at for x in entries],
        actor.id,
        actor.name,
        [e["action"] for e in events],
        [e["subject"] for e in events],
        [payload.to_db_value(e["payload"], AuditEvent) for e in events],
        actor.request_id,
        [e["prev_hash"] for e in events],
        [e["hash"] for e in events],
    ]


async def append_many(
    stream: str,
    entries: list[Entry],
    *,
    actor: Actor,
    then: Then | None = None,
    head: tuple[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Append ``entries`` to ``stream`` in order, in the caller's transaction (required, as for
    ``append(savepoint=False)``): the head is locked and read once, the events are one insert and
    the head is moved once. A failure fails the caller's transaction.

    ``then`` (PostgreSQL only; elsewhere the caller writes its rows itself): the caller's own
    writes that go with the events, in the same statement (one round trip fewer inside the head's
    lock).

    ``head``: the head's seq and hash as the caller read them under its lock (``SELECT … FOR UPDATE``
    of the stream's audit_head row in this transaction, e.g. within a statement of its own);
    without it the head is locked and read here."""
    conn = connections.get("default")
    if not isinstance(conn, TransactionalDBClient):
        raise RuntimeError("audit.append_many needs the caller's transaction")
    if head is None:
        locked = await _locked_head(conn, stream)
        head = (locked.seq, locked.hash)
    events = chained(stream, entries, actor=actor, head=head)
    if not events:
        return []
    if conn.capabilities.dialect == "postgres":  # the events and the head's move, one statement
        more, values = then(events) if then is not None else ("", [])
        rows = await conn.execute_query_dict(
            _APPEND_MANY_PG.format(then=more), [*events_pg_args(head, events, entries, actor), *values]
        )
        updated = len(rows)
    else:
        if then is not None:
            raise RuntimeError("audit.append_many(then=...) is for PostgreSQL")
        await AuditEvent.bulk_create(
            [AuditEvent(**{**e, "at": x.at}) for e, x in zip(events, entries, strict=True)], using_db=conn
        )
        updated = (
            await AuditHead.filter(stream=stream, seq=head[0])
            .using_db(conn)
            .update(seq=events[-1]["seq"], hash=events[-1]["hash"], updated_at=clock.now())
        )
    if updated != 1:
        raise IntegrityError("audit head moved underneath us")
    return events


async def events(stream: str, *, after_seq: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    query = AuditEvent.filter(stream=stream, seq__gt=after_seq).order_by("seq")
    if limit is not None:
        query = query.limit(limit)
    return [_row(e) for e in await query]


async def head(stream: str) -> dict[str, Any] | None:
    row = await AuditHead.get_or_none(stream=stream)
    if row is None:
        return None
    return {"stream": row.stream, "seq": row.seq, "hash": row.hash}


@asynccontextmanager
async def snapshot() -> AsyncIterator[None]:
    """Every read inside sees one state of the database, so heads and events read in separate
    queries agree while others append (without it a verification running beside voting reports a
    "tail missing" that is not there): a read-only REPEATABLE READ transaction on PostgreSQL; on
    SQLite one read transaction (WAL gives it one snapshot, and the process's transactions, appends
    included, take turns). Inside a caller's transaction, that transaction is the snapshot."""
    if isinstance(connections.get("default"), TransactionalDBClient):
        yield
        return
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "postgres":
            await conn.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


async def export(streams: list[str] | None = None) -> dict[str, Any]:
    """Everything needed to verify offline: the events in order and each stream's head, read in
    one snapshot."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    async with snapshot():  # queries built inside, so that they run on the snapshot's connection
        query = AuditEvent.all().order_by("stream", "seq")
        head_query = AuditHead.all()
        if streams:
            query = query.filter(stream__in=streams)
            head_query = head_query.filter(stream__in=streams)
        rows = await query
        found_heads = await head_query
    for event in rows:
        grouped[event.stream].append(_row(event))
    heads = {h.stream: {"seq": h.seq, "hash": h.hash} for h in found_heads}
    return {
        "format": EXPORT_FORMAT,
        "exported_at": clock.iso_utc(clock.now()),
        "heads": heads,
        "streams": grouped,
    }


def verify_export(document: dict[str, Any]) -> Report:
    if document.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not an audit export (format {document.get('format')!r})")
    return verify(document.get("streams", {}), document.get("heads"))


async def verify_database(streams: list[str] | None = None) -> Report:
    return verify_export(await export(streams))
