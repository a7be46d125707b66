"""Seeding the responsibility table, the departments of the plan and the 2026 working calendar.
Idempotent: rows are found by their natural key before they are created."""

from __future__ import annotations

from accounts.models import Department
from complaints import calendar
from complaints.catalog import CATEGORIES, DEPARTMENTS
from complaints.models import Category


async def seed_complaints_catalog() -> dict[str, int]:
    departments = {}
    for name in DEPARTMENTS:
        department, _ = await Department.get_or_create(name=name)
        departments[name] = department.id
    added = 0
    for sort, seed in enumerate(CATEGORIES):
        _, created = await Category.get_or_create(
            code=seed.code,
            defaults={
                "name": seed.name,
                "party": seed.party,
                "department_id": departments[seed.department] if seed.department else None,
                "resolve_hours": seed.resolve_hours,
                "sort": sort,
            },
        )
        added += created
    return {
        "departments": len(departments),
        "categories_added": added,
        "calendar_added": await calendar.seed(),
    }
