"""The working calendar from its table, and the 2026 seed (complaints/calendar_2026.csv)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from complaints.models import CalendarDay
from complaints.rules import WorkCalendar

SEED_2026 = Path(__file__).with_name("calendar_2026.csv")


async def load() -> WorkCalendar:
    rows = await CalendarDay.all().values_list("day", "working")
    return WorkCalendar.from_rows((d, bool(w)) for d, w in rows)


def seed_rows(path: Path = SEED_2026) -> list[tuple[date, bool, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return [(date.fromisoformat(r["day"]), r["working"] == "1", r["name"]) for r in csv.DictReader(file)]


async def seed(path: Path = SEED_2026) -> int:
    """Insert the rows that are missing; returns how many were added."""
    added = 0
    for day, working, name in seed_rows(path):
        _, created = await CalendarDay.get_or_create(day=day, defaults={"working": working, "name": name})
        added += created
    return added
