"""The ratings job (server/jobs.py "ratings"): objection periods run out, base records are granted,
and the quarter just over gets its complaint-handling records (read from complaints) and a draft of
its lists; a second run changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from complaints.models import Category, Complaint, Party, PlaceKind, Status
from core import clock
from ratings import credit, inspections, periodic, rules
from ratings.models import CreditRecord, Inspection, QuarterList
from ratings.rules import CreditPart, CreditSource, InspectionKind, InspectionStatus
from tests.ratings.conftest import ACTOR, County, all_codes


async def _complaints(county: County, n: int, *, overdue: int, reopened: int, rating: int) -> None:
    category = await Category.create(code="repair", name="物业维修", party=Party.PROPERTY, resolve_hours=48)
    at = datetime(2026, 8, 15, 10, tzinfo=clock.SHANGHAI)
    for i in range(n):
        await Complaint.create(
            compound_id=county.compound.id,
            place_kind=PlaceKind.COMMON,
            place_note="一号楼门厅",
            category=category,
            text="门禁损坏",
            filer_id=county.uid("resident"),
            party=Party.PROPERTY,
            company_id=county.company.id,
            status=Status.CLOSED,
            stage_entered_at=at,
            created_at=at + timedelta(hours=i),
            closed_at=at + timedelta(days=2),
            overdue=i < overdue,
            reopen_count=1 if i < reopened else 0,
            rating=rating,
        )


async def test_the_job_finishes_grants_records_and_drafts_once(county: County) -> None:
    # given a submitted inspection, and ten complaints of last quarter: 3 overdue, 2 reopened, rated 2
    admin = county.uid("community_admin")
    row = await inspections.open_inspection(
        ACTOR,
        user_id=admin,
        role=inspections.Role.COMMUNITY_ADMIN,
        compound_id=county.compound.id,
        kind=InspectionKind.DAILY,
    )
    items = [inspections.ItemScore(c, 10) for c in all_codes()]
    await inspections.set_scores(
        ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id, items=items
    )
    await inspections.submit(ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id)
    await _complaints(county, 10, overdue=3, reopened=2, rating=2)
    later = clock.now() + timedelta(days=8)
    # when the job runs a week later
    done = await periodic.run_periodic(now=later)
    assert (done["finished"], done["base_records"], done["drafted"]) == (1, 2, 1)
    assert done["quarter"] == rules.previous_quarter(clock.to_local(later).date())
    assert (await Inspection.get(id=row.id)).status == InspectionStatus.FINISHED
    # complaint handling of the quarter: overdue 30 % (-5), reopened 20 % (-3), ratings average 2 (-3)
    handled = await CreditRecord.filter(source=CreditSource.COMPLAINTS).order_by("key")
    assert [(r.company_id, r.part, r.points) for r in handled] == [
        (county.company.id, CreditPart.BAD, Decimal(5)),
        (county.company.id, CreditPart.BAD, Decimal(3)),
        (county.company.id, CreditPart.BAD, Decimal(3)),
    ]
    assert "超时办理占比 30%" in handled[0].reason
    assert await QuarterList.filter(quarter=done["quarter"]).count() == 1
    # then again: nothing more
    again = await periodic.run_periodic(now=later + timedelta(minutes=1))
    assert (again["finished"], again["base_records"], again["complaint_records"], again["drafted"]) == (
        0,
        0,
        0,
        0,
    )
    assert await CreditRecord.filter(source=CreditSource.COMPLAINTS).count() == 3
    # the company's credit now explains those records (base 80, +1 for the daily 100, -11)
    explained = await credit.explain(county.company.id, clock.to_local(later).date())
    assert explained.credit is not None and explained.credit.score == Decimal(70)
