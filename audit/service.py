"""Appending to and reading the audit log. Callers own their transaction: append inside it, so the
event exists exactly when the change it records does."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
) -> dict[str, Any]:
    """Append one event to ``stream`` and return it (with its hash: a receipt for the caller).

    The stream's head row is locked (SELECT … FOR UPDATE on PostgreSQL), so concurrent appenders
    queue instead of forking. SQLite serialises writers itself; the unique (stream, seq) constraint
    is the last line of defence, and a collision there is retried.
    """
    # Store exactly what is hashed: Decimal becomes text once, here, before both.
    normal = loads(dumps(payload or {}))
    for attempt in range(8):
        try:
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
    head = await AuditHead.filter(stream=stream).using_db(conn).select_for_update().first()
    if head is None:
        # A new stream: create the head inside a savepoint. If another appender created it first,
        # our insert fails; retry from the top and lock theirs.
        async with in_transaction() as sp:
            await AuditHead.create(stream=stream, seq=0, hash=GENESIS, updated_at=clock.now(), using_db=sp)
        head = await AuditHead.filter(stream=stream).using_db(conn).select_for_update().first()
        assert head is not None
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


async def export(streams: list[str] | None = None) -> dict[str, Any]:
    """Everything needed to verify offline: the events in order and each stream's head."""
    query = AuditEvent.all().order_by("stream", "seq")
    head_query = AuditHead.all()
    if streams:
        query = query.filter(stream__in=streams)
        head_query = head_query.filter(stream__in=streams)
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in await query:
        grouped[event.stream].append(_row(event))
    heads = {h.stream: {"seq": h.seq, "hash": h.hash} for h in await head_query}
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
