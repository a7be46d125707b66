"""Everything a booking checks before it takes a place, read in one statement.

Booking a slot asks: is the service active (its row is read here too), is the unit in the
service's compound and does the caller act for it (a verified owner or a resident, accounts' rule,
folded in through ``accounts.acts_for_unit_sql``), is the service's board entry live now (notices'
rule, ``notices.rules.live``, applied here to the row read), and how full is the slot, counting the
holds of it that have run out. Asked one query at a time that was up to seven round trips per
booking (the service, the unit, two household checks, the board entry, the slot, its lapsed
holds); this is one. It only reads (on PostgreSQL it also draws the booking's id): a place is
still taken only by the guarded update of the slot's counter (bookings.batch, bookings.booking),
the one way into a slot."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from accounts.service import acts_for_unit_sql
from bookings.catalogue import LIFE_SERVICES
from bookings.models import Service, Slot
from bookings.rules import State
from core import clock
from core.batching import Batcher
from core.loops import PerLoop
from notices.rules import Scope, Status, live

_SQL = """
SELECT {service_columns},
  n.status AS notice_status, n.publish_at AS publish_at, n.expires_at AS expires_at,
  CASE WHEN EXISTS (SELECT 1 FROM unit u WHERE u.id = :unit AND u.compound_id = svc.compound_id)
    AND {household} THEN 1 ELSE 0 END AS member,
  s.id AS slot_id, s.taken AS taken, s.capacity AS slot_capacity,
  (SELECT COUNT(*) FROM bk_booking b WHERE b.slot_id = s.id AND b.state = :held
     AND b.hold_expires_at <= :now) AS lapsed, {booking_id} AS booking_id
FROM bk_service svc
LEFT JOIN notice n ON n.id = svc.notice_id AND n.scope = :scope AND n.compound_id = svc.compound_id
  AND n.category = :category
LEFT JOIN bk_slot s ON s.service_id = svc.id AND s.starts_at = :starts_at
WHERE svc.id = :service AND svc.active = :active"""


# PostgreSQL: the bookers of one slot reading at once, in one statement (one row each, in their
# order): what they share (service, board entry, slot) is read once per statement, not per booker.
# Their units, users and moments travel as text arrays (see bookings.batch_pg._text).
_MANY_SQL = """
SELECT w.ord AS ord, {service_columns},
  n.status AS notice_status, n.publish_at AS publish_at, n.expires_at AS expires_at,
  CASE WHEN EXISTS (SELECT 1 FROM unit u WHERE u.id = w.unit AND u.compound_id = svc.compound_id)
    AND {household} THEN 1 ELSE 0 END AS member,
  s.id AS slot_id, s.taken AS taken, s.capacity AS slot_capacity,
  (SELECT COUNT(*) FROM bk_booking b WHERE b.slot_id = s.id AND b.state = $1
     AND b.hold_expires_at <= w.now) AS lapsed, {booking_id} AS booking_id
FROM (SELECT x.unit::int AS unit, x.usr::int AS usr, x.now::timestamptz AS now, x.ord
      FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS x(unit, usr, now, ord)) w
JOIN bk_service svc ON svc.id = $5 AND svc.active = $6
LEFT JOIN notice n ON n.id = svc.notice_id AND n.scope = $7 AND n.compound_id = svc.compound_id
  AND n.category = $8
LEFT JOIN bk_slot s ON s.service_id = svc.id AND s.starts_at = $9
ORDER BY w.ord"""
MAX_READERS = 64  # bookers per statement


def _positional(sql: str, dialect: str) -> tuple[str, list[str]]:
    """``:name`` placeholders as the driver's positional ones ($1... or ?), in text order."""
    names: list[str] = []

    def mark(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return f"${len(names)}" if dialect == "postgres" else "?"

    return re.sub(r":([a-z_]+)", mark, sql), names


_BY_DIALECT: dict[str, tuple[str, list[str]]] = {}
# On PostgreSQL the booking's id is drawn here, so that its write (bookings.batch_pg) can render the
# booking's notification before the statement that inserts both; a booking refused after this read
# leaves a gap in the ids, as a rolled back insert does.
_NEXT_ID = "nextval(pg_get_serial_sequence('bk_booking', 'id'))"


def _statement(dialect: str) -> tuple[str, list[str]]:
    """Built on first use: the service's columns are known once Tortoise has set its models up."""
    found = _BY_DIALECT.get(dialect)
    if found is None:
        columns = ", ".join(f"svc.{c} AS svc__{c}" for c in Service._meta.db_fields)
        sql = _SQL.format(
            service_columns=columns,
            household=acts_for_unit_sql(":user", ":unit"),
            booking_id=_NEXT_ID if dialect == "postgres" else "NULL",
        )
        found = _BY_DIALECT[dialect] = _positional(sql, dialect)
    return found


def _many_statement() -> str:
    if not _MANY:
        columns = ", ".join(f"svc.{c} AS svc__{c}" for c in Service._meta.db_fields)
        _MANY.append(
            _MANY_SQL.format(
                service_columns=columns, household=acts_for_unit_sql("w.usr", "w.unit"), booking_id=_NEXT_ID
            )
        )
    return _MANY[0]


_MANY: list[str] = []


@dataclass(frozen=True, slots=True)
class Gate:
    service: Service  # the service row, as Service.get would have read it
    posted: bool  # the service's board entry is live now
    member: bool  # the unit is of the service's compound and the caller acts for it
    slot_id: int | None  # None: the slot has no row yet
    taken: int
    slot_capacity: int
    lapsed: int  # holds of the slot that have run out (their places are free to whoever books)
    booking_id: int | None  # PostgreSQL: the id of the booking this read is for (None elsewhere)


async def read(
    service_id: int, *, unit_id: int, user_id: int, starts_at: datetime, now: datetime
) -> Gate | None:
    """None when there is no such active service. On PostgreSQL the reads of one slot that arrive
    together go in one statement (_readers)."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        return await _readers().ask((service_id, starts_at), _Ask(unit_id, user_id, now))
    sql, names = _statement(conn.capabilities.dialect)
    values: dict[str, Any] = {
        "unit": unit_id, "user": user_id, "held": State.HELD.value, "now": now,
        "scope": Scope.COMPOUND.value, "category": LIFE_SERVICES, "service": service_id,
        "starts_at": starts_at, "active": True,
    }  # fmt: skip
    rows = await conn.execute_query_dict(sql, [values[n] for n in names])
    if not rows:
        return None
    row = rows[0]
    return _gate(row, _service(row), _posted(row))


def _service(row: Mapping[str, Any]) -> Service:
    return Service._init_from_db(**{c: row[f"svc__{c}"] for c in Service._meta.db_fields})


def _posted(row: Mapping[str, Any]) -> bool:
    if row["notice_status"] is None:
        return False
    instant = Slot._meta.fields_map["starts_at"].to_python_value
    return live(  # at the time now, as notices.is_posted has it
        Status(row["notice_status"]),
        instant(row["publish_at"]) if row["publish_at"] is not None else None,
        instant(row["expires_at"]) if row["expires_at"] is not None else None,
        clock.now(),
    )


def _gate(row: Mapping[str, Any], service: Service, posted: bool) -> Gate:
    return Gate(
        service=service,
        posted=posted,
        member=bool(row["member"]),
        slot_id=None if row["slot_id"] is None else int(row["slot_id"]),
        taken=int(row["taken"] or 0),
        slot_capacity=int(row["slot_capacity"] or 0),
        lapsed=int(row["lapsed"] or 0),
        booking_id=None if row["booking_id"] is None else int(row["booking_id"]),
    )


@dataclass(frozen=True, slots=True)
class _Ask:
    unit_id: int
    user_id: int
    now: datetime


_Key = tuple[int, datetime]  # service, start


# The gate reads of one event loop on PostgreSQL, by slot (core.batching, as the slot's writes are
# batched, bookings.batch): under contention the bookers of a slot come together, and one statement
# answers them all, for about the time of one (the rows they share are read once, the server and this
# process each handle one statement). The answers are each booker's own, as its own read would have
# given them (its household, its moment for the holds that ran out, its booking id).
def _readers_of_loop() -> Batcher[_Key, _Ask, Gate | None]:
    return Batcher(lambda key, asks: _read_many(key, asks), limit=MAX_READERS)


_readers = PerLoop(_readers_of_loop).get


async def _read_many(key: _Key, asks: list[_Ask]) -> list[Gate | None]:
    service_id, starts_at = key
    args: list[Any] = [
        State.HELD.value,
        [str(a.unit_id) for a in asks],
        [str(a.user_id) for a in asks],
        [a.now.isoformat() for a in asks],
        service_id, True, Scope.COMPOUND.value, LIFE_SERVICES, starts_at,
    ]  # fmt: skip
    rows = await connections.get("default").execute_query_dict(_many_statement(), args)
    if not rows:  # no such active service
        return [None] * len(asks)
    service, posted = _service(rows[0]), _posted(rows[0])  # the same for all: read once, shared
    return [_gate(row, service, posted) for row in rows]
