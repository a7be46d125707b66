"""The ratings demo: loading twice adds nothing; the demo county then has its templates, a finished
inspection of 阳光花园 with its star grade, and a demo company whose credit explains itself."""

from __future__ import annotations

from decimal import Decimal

from accounts.demo import seed_demo
from accounts.models import Compound, PropertyCompany
from ratings import credit
from ratings.demo import seed_ratings
from ratings.grades import current_grades
from ratings.models import CreditRecord, Inspection, Template
from ratings.rules import InspectionStatus


async def test_the_ratings_demo_loads_once_and_explains_itself(clean_db: None) -> None:
    assert await seed_ratings() == "ratings demo skipped (no demo county)"
    await seed_demo(hmac_key=b"k" * 32)
    first = await seed_ratings()
    assert first == "ratings: 2 templates, 1 finished inspection, 1 base credit records, 1 commendation"
    counts = [await m.all().count() for m in (Template, Inspection, CreditRecord)]
    assert (
        await seed_ratings()
        == "ratings: 0 templates, 0 finished inspection, 0 base credit records, 0 commendation"
    )
    assert [await m.all().count() for m in (Template, Inspection, CreditRecord)] == counts
    compound = await Compound.get(name="阳光花园")
    [inspection] = await Inspection.filter(compound_id=compound.id)
    # full marks but public order (weight 10) at 16/20 and cleaning (weight 15) at 18/20: 100 - 2 - 1.5
    assert (inspection.status, inspection.total, inspection.stars) == (
        InspectionStatus.FINISHED,
        Decimal("96.50"),
        5,
    )
    grades = (await current_grades(compound_ids=[compound.id]))[compound.id]
    assert grades.star is not None and (grades.star.stars, grades.star.score) == (5, Decimal("96.50"))
    company = await PropertyCompany.get(credit_code="91510000MA0000002Y")
    explained = await credit.explain(company.id)
    parts = sorted((r["source"], r["part"], r["points"]) for r in explained.records)
    assert explained.credit is not None and explained.credit.score == sum(Decimal(p) for *_, p in parts)
    assert [(s, p) for s, p, _ in parts] == [
        ("commendation", "good"),
        ("contract", "base"),
        ("inspection", "good"),
    ]
