"""Whole-set reads of the dashboards' rows straight from the database, without the ORM's per-field
conversion (ten times faster for a county's year of complaints), on PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise import connections

# Beijing has kept UTC+8 all year since 1991: a fixed shift dates thousands of rows far faster than
# a zone lookup per row (the dashboard's hot loop).
_BEIJING = timedelta(hours=8)


def beijing_date(moment: datetime) -> date:
    """The Beijing date of an instant as read from our tables (both backends give it back in UTC)."""
    return (moment + _BEIJING).date()


def day_of(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value  # SQLite: text


async def patrol_weeks(start: datetime, end: datetime, ids: list[int] | None) -> list[tuple[Any, ...]]:
    """Per compound patrolled in [start, end): how many weeks (Beijing, from Monday) had a patrol, the
    latest such week and the latest patrol; counted by the database, one row per compound."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        # the fixed shift, as beijing_date (UTC+8 all year since 1991): no zone rules applied per row
        week, marks = (
            "date_trunc('week', (started_at AT TIME ZONE 'UTC') + interval '8 hours')::date",
            ("$1", "$2"),
        )
        values: list[Any] = [start, end]
    else:  # text in UTC as server.db writes it; the fraction cut (SQLite rounds it, 23:59:59.9995 → 24:00)
        week, marks = "date(substr(started_at, 1, 19), '+8 hours', 'weekday 0', '-6 days')", ("?", "?")
        values = [sqlite_text(start), sqlite_text(end)]
    where = f"started_at >= {marks[0]} AND started_at < {marks[1]}"
    if ids is not None:
        if not ids:
            return []
        where += " AND compound_id IN (" + ", ".join(str(int(i)) for i in ids) + ")"  # ints only
    sql = (
        "SELECT compound_id, count(*), max(week), max(last) FROM ("  # noqa: S608 - no outside text
        f"SELECT compound_id, {week} AS week, max(started_at) AS last FROM patrol WHERE {where}"
        f" GROUP BY compound_id, {week}) AS weeks GROUP BY compound_id"
    )
    _, found = await conn.execute_query(sql, values)
    return [tuple(r) for r in found]


def postgres() -> bool:
    return bool(connections.get("default").capabilities.dialect == "postgres")


async def complaint_tallies(
    bounds: list[datetime], moderation: str, ids: list[int] | None
) -> list[tuple[int, int, int, int, int, int, list[int]]]:
    """PostgreSQL only: the complaints created in [bounds[0], bounds[-1]) with ``moderation``, tallied by
    the database per compound and slice [bounds[i-1], bounds[i]) (months, as the caller cuts them): rows
    of (compound_id, i, count, overdue, rating sum, ratings, microseconds from filing to resolution of
    each resolved one). Whole microseconds, so the caller's hours are the very floats that
    ``(resolved_at - created_at).total_seconds() / 3600`` gives."""
    if ids is not None and not ids:
        return []
    where = "moderation = $1 AND created_at >= $2 AND created_at < $3"
    if ids is not None:
        where += " AND compound_id IN (" + ", ".join(str(int(i)) for i in ids) + ")"  # ints only
    sql = (
        "SELECT compound_id, width_bucket(created_at, $4::timestamptz[]) AS slice, count(*),"  # noqa: S608
        " count(*) FILTER (WHERE overdue), coalesce(sum(rating), 0), count(rating),"
        # date_part of an interval is exact to the microsecond in a double for any span under a century
        " coalesce(array_agg(round(date_part('epoch', resolved_at - created_at) * 1000000)::bigint)"
        " FILTER (WHERE resolved_at IS NOT NULL), '{}')"
        f" FROM complaint WHERE {where} GROUP BY 1, 2"
    )
    _, found = await connections.get("default").execute_query(
        sql, [moderation, bounds[0], bounds[-1], bounds[:-1]]
    )
    return [(r[0], r[1], r[2], r[3], r[4], r[5], list(r[6])) for r in found]


def instant(value: Any) -> Any:
    """SQLite hands timestamps back as text (written in UTC by server.db); PostgreSQL as datetimes."""
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


async def rows(sql: str, params: list[Any], ids: list[int] | None) -> list[tuple[Any, ...]]:
    """A read of many rows without the ORM's per-field conversion (ten times faster for the county's
    year of complaints); ``{}`` marks each parameter, ``ids`` (None: the whole county) the compounds."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    if ids is not None:
        if not ids:
            return []
        sql += " AND compound_id IN (" + ", ".join(str(int(i)) for i in ids) + ")"  # ints only
    marks = [f"${n}" if postgres else "?" for n in range(1, len(params) + 1)]
    values = [p if postgres or not isinstance(p, datetime) else sqlite_text(p) for p in params]
    _, found = await conn.execute_query(sql.format(*marks), values)
    if postgres:  # asyncpg decodes timestamps itself, in UTC
        return [tuple(r) for r in found]
    return [tuple(instant(v) if i in (1, 2) else v for i, v in enumerate(r)) for r in found]


def sqlite_text(moment: datetime) -> str:
    """As server.db writes instants into SQLite: UTC with microseconds, so text order is time order."""
    return moment.astimezone(UTC).isoformat(" ", timespec="microseconds")
