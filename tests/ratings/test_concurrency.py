"""One objection per inspection and one template version per number, under real concurrent HTTP
requests (the unique constraints and conditional updates decide, not a check before the insert)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from ratings import inspections
from ratings.models import Inspection, Objection, Template
from ratings.rules import InspectionStatus
from tests.ratings.conftest import ACTOR, County, all_codes, template_body


async def test_concurrent_objections_make_exactly_one(county: County, server: Any) -> None:
    admin = county.uid("community_admin")
    row = await inspections.open_inspection(
        ACTOR,
        user_id=admin,
        role=inspections.Role.COMMUNITY_ADMIN,
        compound_id=county.compound.id,
        kind=inspections.InspectionKind.DAILY,
    )
    items = [inspections.ItemScore(c, 7) for c in all_codes()]
    await inspections.set_scores(
        ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id, items=items
    )
    await inspections.submit(ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id)
    path = f"/api/v1/admin/compounds/{county.compound.id}/inspections/{row.id}/objection"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        answers = await asyncio.gather(
            *(
                http.post(path, json={"reasons": f"理由 {i}"}, headers=county.headers("property_staff"))
                for i in range(10)
            )
        )
    statuses = Counter(r.status_code for r in answers)
    assert statuses == Counter({201: 1, 409: 9}), [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} <= {
        "objection_taken",
        "inspection_state_conflict",
    }
    assert await Objection.filter(inspection_id=row.id).count() == 1
    stored = await Inspection.get(id=row.id)
    assert stored.status == InspectionStatus.OBJECTED


async def test_concurrent_template_versions_get_distinct_numbers(county: County, server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    "/api/v1/admin/ratings/templates",
                    json=template_body("daily"),
                    headers=county.headers("supervisor"),
                )
                for _ in range(6)
            )
        )
    assert [r.status_code for r in answers] == [201] * 6, [r.text for r in answers]
    versions = sorted(await Template.filter(kind="daily").values_list("version", flat=True))
    assert versions == list(range(1, 8))  # the fixture's version 1 and six more, none twice
