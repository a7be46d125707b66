"""Time: stored in UTC, shown to people in Asia/Shanghai. Every timestamp is timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must carry its zone")
    return moment.astimezone(SHANGHAI)


def iso_utc(moment: datetime) -> str:
    """The one canonical text form of an instant (used in hashes): UTC, microseconds, 'Z'."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must carry its zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
