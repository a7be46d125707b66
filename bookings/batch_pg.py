"""A batch of bookings of one slot written on PostgreSQL in one statement (bookings.batch).

Its round trips were the batch's cost, not its rows: BEGIN, the slot's locked read, the guarded
update, the ids, the bookings, their events, their notifications, COMMIT, eight on the path every
booker of the slot waits on (plus two to make the slot when it had no row yet). Here they are one
statement, one implicit transaction:

- ``cur`` locks the slot's row if it has one (``FOR UPDATE``: a batch of another process waits,
  then reads the committed count), ``g`` grants as many of the batch as the places the rules give
  it now (``capacity``) leave;
- ``slot`` makes the row or raises its counter by the grant, through an upsert whose update is
  guarded ``taken + granted <= capacity`` on the latest row version: the invariant stays in the
  database, whatever ``g`` believed. A row another transaction made after this statement's snapshot
  is not seen by ``cur``; then the guard may refuse, the statement writes nothing, and the caller
  books each alone (bookings.batch.SlotMoved), so every refusal stays exact;
- the bookings (their ids were drawn by the gate's read, bookings.gate), their events and their
  notifications (rendered by notify.outbox_values, a key already there is skipped as enqueue does)
  are inserted for the granted ones only, from arrays, the bookings pointing at ``slot``'s row.
  Foreign keys are checked at the end of the statement, when the rows exist.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, cast

from tortoise import connections, timezone
from tortoise.fields import (
    BigIntField,
    BooleanField,
    CharField,
    DatetimeField,
    IntField,
    SmallIntField,
    TextField,
)
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.models import Model

from bookings.models import Booking, BookingEvent
from notify.models import Notification

_SLOT = """
WITH cur AS (
  SELECT taken FROM bk_slot WHERE service_id = $1::int AND starts_at = $2::timestamptz FOR UPDATE
), g AS (
  SELECT LEAST($4::int, GREATEST(0, $3::int - COALESCE((SELECT taken FROM cur), 0))) AS granted
), slot AS (
  INSERT INTO bk_slot AS s (service_id, starts_at, ends_at, capacity, taken)
  SELECT $1::int, $2::timestamptz, $5::timestamptz, $3::int, granted FROM g WHERE granted > 0
  ON CONFLICT (service_id, starts_at) DO UPDATE
    SET capacity = EXCLUDED.capacity, taken = s.taken + EXCLUDED.taken
    WHERE s.taken + EXCLUDED.taken <= EXCLUDED.capacity
  RETURNING s.id, s.taken, s.capacity
)"""


Text = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class _Table:
    """How rows of a model go into the statement: its columns (less the generated id unless given,
    less those the statement fills itself) and their types (each column travels as a text array,
    cast in the statement); per column how a value becomes that text and the value it takes when
    none is given, as the ORM would write them."""

    table: str
    names: tuple[str, ...]  # model field names
    fields: tuple[Any, ...]  # their Tortoise fields
    columns: tuple[str, ...]
    types: tuple[str, ...]
    texts: tuple[Text, ...]
    defaults: tuple[Callable[[], Any], ...]

    @classmethod
    def of(cls, model: type[Model], *, skip: tuple[str, ...] = (), with_id: bool = False) -> _Table:
        meta = model._meta
        names, columns, types = [], [], []
        for name, column in meta.fields_db_projection.items():
            if name in skip or (name == meta.pk_attr and not with_id):
                continue
            sql_type = meta.fields_map[name].get_for_dialect("postgres", "SQL_TYPE")
            names.append(name)
            columns.append(column)
            types.append(sql_type.split("(")[0])  # no length in the cast: a long value fails the insert
        fields = tuple(meta.fields_map[n] for n in names)
        return cls(
            meta.db_table, tuple(names), fields, tuple(columns), tuple(types),
            tuple(_text_of(f) for f in fields), tuple(_default_of(f) for f in fields),
        )  # fmt: skip

    def insert(self, first: int, extra: dict[str, str] | None = None, conflict: str = "") -> str:
        """``INSERT … SELECT`` of the arrays from parameter ``first`` on (the ords, then one array
        per column), for the granted ords only; ``extra`` adds columns the statement computes."""
        extra = extra or {}
        arrays = ", ".join(f"${first + k}::text[]" for k in range(1 + len(self.columns)))
        into = ", ".join((*(f'"{c}"' for c in self.columns), *extra))
        values = ", ".join(
            (*(f'x."{c}"::{t}' for c, t in zip(self.columns, self.types, strict=True)), *extra.values())
        )
        aliases = ", ".join(("ord", *(f'"{c}"' for c in self.columns)))
        return (
            f"INSERT INTO {self.table} ({into}) SELECT {values} "  # noqa: S608 - the models' own names
            f"FROM unnest({arrays}) AS x({aliases}), slot, g WHERE x.ord::int <= g.granted{conflict}"
        )

    def complete(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every column's value by field name: the given one, else what the ORM would write (the
        field's default; a creation time now)."""
        return {
            n: given[n] if n in given else default()
            for n, default in zip(self.names, self.defaults, strict=True)
        }

    def row(self, values: Mapping[str, Any]) -> list[str | None]:
        """Values by field name (all of them) as ``insert`` reads them."""
        return [text(values[n]) for n, text in zip(self.names, self.texts, strict=True)]

    def arrays(self, rows: Sequence[tuple[int, list[str | None]]]) -> list[list[str | None]]:
        """(ord, row) pairs as the column arrays ``insert`` reads (the ords first)."""
        out: list[list[str | None]] = [[str(ord_) for ord_, _ in rows]]
        out += [list(column) for column in zip(*(r for _, r in rows), strict=True)] or [
            [] for _ in self.columns
        ]
        return out


def _text(value: Any) -> str | None:
    """A value as PostgreSQL reads it from text (the arrays travel as text[]: asyncpg knows that
    type without asking the server, which it does on each new connection for every other array
    type, some 20-30 ms a type)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _text_of(field: Any) -> Text:
    """How a value of ``field`` becomes the text ``_text`` would make of ``field.to_db_value``, for
    the kinds a booking's rows have without the field's own (slow) conversion: the lengths and
    ranges its validators check are the columns' too, so a value out of them fails the insert (and
    its batch: each is then booked alone, through the ORM)."""
    if isinstance(field, CharEnumFieldInstance):
        enum_type = field.enum_type

        def enum_text(v: Any) -> str | None:
            return None if v is None else str(v.value if isinstance(v, Enum) else enum_type(v).value)

        return enum_text
    if isinstance(field, DatetimeField):

        def moment_text(v: Any) -> str | None:
            if v is None:
                return None
            if v.tzinfo is None:  # as the ORM takes a naive one (it warns, and makes it aware)
                v = field.to_db_value(v, field.model)
            return str(v.isoformat())

        return moment_text
    if isinstance(field, BooleanField):
        return lambda v: None if v is None else ("t" if v else "f")
    if isinstance(field, IntField | SmallIntField | BigIntField):
        return lambda v: None if v is None else str(int(v))
    if isinstance(field, CharField | TextField):
        return lambda v: None if v is None else str(v)
    return lambda v: _text(field.to_db_value(v, field.model))


def _default_of(field: Any) -> Callable[[], Any]:
    """The value Model.__init__ and save give a field not passed (a creation time: now)."""
    if isinstance(field, DatetimeField) and (field.auto_now or field.auto_now_add):
        return timezone.now
    default = field.default
    if callable(default):
        return cast(Callable[[], Any], default)
    if default is not None:
        return lambda: copy.deepcopy(default)
    if field.has_db_default():
        return cast(Callable[[], Any], field.get_db_default_value)
    return lambda: None


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    bookings: _Table
    events: _Table
    notifications: _Table


_BUILT: list[_Statement] = []


def _statement() -> _Statement:
    """Built on first use: the columns are known once Tortoise has set its models up."""
    if not _BUILT:
        bookings = _Table.of(Booking, skip=("slot_id",), with_id=True)
        events = _Table.of(BookingEvent)
        notifications = _Table.of(Notification)
        at = 6
        b = bookings.insert(at, {'"slot_id"': "slot.id"})
        at += 1 + len(bookings.columns)
        e = events.insert(at)
        at += 1 + len(events.columns)
        n = notifications.insert(at, conflict=" ON CONFLICT (key) DO NOTHING")
        sql = (
            f"{_SLOT}, b AS ({b}), e AS ({e}), n AS ({n})\n"
            "SELECT g.granted, slot.id, slot.taken, slot.capacity FROM g LEFT JOIN slot ON true"
        )
        _BUILT.append(_Statement(sql, bookings, events, notifications))
    return _BUILT[0]


@dataclass(frozen=True, slots=True)
class Rows:
    """One booking's rows as the statement takes them: the booking's values (every column but the
    slot's, which the statement fills), and the texts of its row, its event's and its notifications'."""

    values: dict[str, Any]
    booking: list[str | None]
    event: list[str | None]
    notifications: list[list[str | None]]


def rows(fields: Mapping[str, Any], event: Mapping[str, Any], notifications: list[dict[str, Any]]) -> Rows:
    """The rows of a booking of ``fields`` (its id among them) and of its event, made from values,
    not through model instances (their __init__ and field conversions cost most of a booking's
    time in this process when it was so)."""
    st = _statement()
    values = st.bookings.complete(fields)
    return Rows(
        values,
        st.bookings.row(values),
        st.events.row(st.events.complete(event)),
        [st.notifications.row(st.notifications.complete(n)) for n in notifications],
    )


def saved(made: Rows, slot_id: int) -> Booking:
    """The booking the statement wrote, as it would be read back."""
    st = _statement()
    columns = {c: made.values[n] for n, c in zip(st.bookings.names, st.bookings.columns, strict=True)}
    return Booking._init_from_db(**columns, **{Booking._meta.fields_db_projection["slot_id"]: slot_id})


@dataclass(frozen=True, slots=True)
class Outcome:
    granted: int  # the first ``granted`` of the batch have their place, the others none
    slot_id: int | None  # None: nothing was written (no place, or the guard refused: see ``moved``)
    full: bool  # the slot had no place left when the statement committed
    moved: bool  # places were granted but the guarded upsert refused them: nothing was written


async def write(
    *, service_id: int, starts_at: datetime, ends_at: datetime, capacity: int, batch: list[Rows]
) -> Outcome:
    """Write the batch (in order, ord 1 first): the first as many as the slot has places get them,
    with their events and notifications, in one statement."""
    st = _statement()
    args: list[Any] = [service_id, starts_at, capacity, len(batch), ends_at]
    args += st.bookings.arrays([(k, r.booking) for k, r in enumerate(batch, 1)])
    args += st.events.arrays([(k, r.event) for k, r in enumerate(batch, 1)])
    args += st.notifications.arrays([(k, n) for k, r in enumerate(batch, 1) for n in r.notifications])
    conn = connections.get("default")
    _, found = await conn.execute_query(st.sql, args)
    granted, slot_id, taken, slot_capacity = found[0]
    if slot_id is None:
        return Outcome(0, None, granted == 0, granted > 0)
    return Outcome(int(granted), int(slot_id), int(taken) >= int(slot_capacity), False)
