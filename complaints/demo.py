"""Seeding the responsibility table, the departments of the plan and the 2026 working calendar for
the demo: the same catalogue a real deployment installs (complaints.catalog.install)."""

from __future__ import annotations

from complaints.catalog import install


async def seed_complaints_catalog() -> dict[str, int]:
    return await install()
