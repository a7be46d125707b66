"""Inspections through the services: scored, submitted, objected to once and decided; finished for
good (the database refuses a raw UPDATE); credit recomputed when a record arrives and reproducible
for a past date; the quarterly draft and its publication on the county board."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError, OperationalError

from audit.models import AuditEvent
from core import clock
from notices.models import Notice
from ratings import credit, grades, inspections, lists
from ratings.errors import (
    InspectionStateConflict,
    NotInspectedCompany,
    NotInspector,
    ObjectionTaken,
    ObjectionWindowClosed,
)
from ratings.models import CreditRecord, Inspection, InspectionScore, ListEntry, Objection
from ratings.rules import CreditPart, CreditSource, InspectionKind, InspectionStatus
from tests.ratings.conftest import ACTOR, County, all_codes


def _full(points: int = 10, **changed: int) -> list[inspections.ItemScore]:
    return [inspections.ItemScore(c, changed.get(c, points), note=f"{c} 现场查看") for c in all_codes()]


async def _submitted(
    county: County, kind: InspectionKind = InspectionKind.ANNUAL, **changed: int
) -> Inspection:
    admin = county.uid("community_admin")
    row = await inspections.open_inspection(
        ACTOR, user_id=admin, role=inspections.Role.COMMUNITY_ADMIN, compound_id=county.compound.id, kind=kind
    )
    await inspections.set_scores(
        ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id, items=_full(**changed)
    )
    return await inspections.submit(
        ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id
    )


async def test_an_objection_is_decided_and_the_inspection_is_final(county: County) -> None:
    # given an annual inspection scored 85 (aspect 1, weight 15, at 0): +5 credit would follow
    row = await _submitted(county, **{"1a": 0, "1b": 0})
    assert (row.status, row.total, row.stars) == (InspectionStatus.SUBMITTED, Decimal("85.00"), 4)
    assert row.template_id == county.annual.id
    compound, admin, staff = county.compound.id, county.uid("community_admin"), county.uid("property_staff")
    # another company cannot object; the inspected one can, once
    with pytest.raises(NotInspectedCompany):
        await inspections.object_to(
            ACTOR,
            user_id=county.uid("other_property_staff"),
            company_ids=[county.other_company.id],
            compound_id=compound,
            inspection_id=row.id,
            reasons="不服",
            item_codes=["1a"],
        )
    await inspections.object_to(
        ACTOR,
        user_id=staff,
        company_ids=[county.company.id],
        compound_id=compound,
        inspection_id=row.id,
        reasons="1a 项已于考核前整改完毕，有照片为证",
        item_codes=["1a"],
    )
    with pytest.raises(ObjectionTaken):
        await inspections.object_to(
            ACTOR,
            user_id=staff,
            company_ids=[county.company.id],
            compound_id=compound,
            inspection_id=row.id,
            reasons="再议",
            item_codes=["1b"],
        )
    # only the inspector decides; the supervisor is not this inspection's inspector
    with pytest.raises(NotInspector):
        await inspections.decide(
            ACTOR,
            user_id=county.uid("supervisor"),
            compound_id=compound,
            inspection_id=row.id,
            upheld=True,
            note="采纳",
        )
    # when the inspector upholds it and revises 1a to full marks
    done = await inspections.decide(
        ACTOR,
        user_id=admin,
        compound_id=compound,
        inspection_id=row.id,
        upheld=True,
        note="经复核，1a 项已整改",
        revised=[inspections.ItemScore("1a", 10, "复核后满分")],
    )
    # then 85 + 7.5 = 92.5: five stars, finished, and the +10 annual record follows
    assert (done.status, done.total, done.stars) == (InspectionStatus.FINISHED, Decimal("92.50"), 5)
    objection = await Objection.get(inspection_id=row.id)
    assert (objection.upheld, objection.decided_by_id) == (True, admin)
    record = await CreditRecord.get(inspection_id=row.id)
    assert (record.part, record.points, record.source) == (
        CreditPart.GOOD,
        Decimal(10),
        CreditSource.INSPECTION,
    )
    actions = (
        await AuditEvent.filter(subject=f"inspection:{row.id}")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "rating.inspection_opened",
        "rating.inspection_scored",
        "rating.inspection_submitted",
        "rating.inspection_objected",
        "rating.objection_decided",
        "rating.inspection_finished",
    ]
    # and nothing changes it afterwards, through the services ...
    with pytest.raises(InspectionStateConflict):
        await inspections.set_scores(
            ACTOR, user_id=admin, compound_id=compound, inspection_id=row.id, items=_full(0)
        )


async def _refused(sql: str) -> None:
    with pytest.raises((IntegrityError, OperationalError)) as refused:
        await connections.get("default").execute_query(sql)
    assert "rating_inspection_finished" in str(refused.value)


async def test_the_database_refuses_to_edit_a_finished_inspection(county: County) -> None:
    row = await _submitted(county)
    await inspections.finish_due(now=clock.now() + timedelta(days=8))
    finished = await Inspection.get(id=row.id)
    assert finished.status == InspectionStatus.FINISHED
    # a raw UPDATE of the inspection, of its scores, a score added afterwards: all refused
    await _refused(f"UPDATE rating_inspection SET total = 100, stars = 5 WHERE id = {row.id}")
    await _refused(f"UPDATE rating_inspection SET status = 'draft' WHERE id = {row.id}")
    await _refused(f"UPDATE rating_inspection_score SET points = 0 WHERE inspection_id = {row.id}")
    await _refused(
        "INSERT INTO rating_objection (inspection_id, by_id, reasons, item_codes, at, decision_note) "
        f"VALUES ({row.id}, {county.uid('property_staff')}, 'late', '[]', '2026-01-01 00:00:00+00:00', '')"
    )
    after = await Inspection.get(id=row.id)
    assert (after.total, after.stars, after.status, after.version) == (
        finished.total,
        finished.stars,
        finished.status,
        finished.version,
    )
    assert set(await InspectionScore.filter(inspection_id=row.id).values_list("points", flat=True)) == {10}
    # while a draft of the same compound is still freely written
    draft = await inspections.open_inspection(
        ACTOR,
        user_id=county.uid("community_admin"),
        role=inspections.Role.COMMUNITY_ADMIN,
        compound_id=county.compound.id,
        kind=InspectionKind.DAILY,
    )
    await connections.get("default").execute_query(
        f"UPDATE rating_inspection SET stars = 1 WHERE id = {draft.id}"
    )
    assert (await Inspection.get(id=draft.id)).stars == 1


async def test_no_objection_after_the_period(county: County) -> None:
    row = await _submitted(county)
    with pytest.raises(ObjectionWindowClosed):
        await inspections.object_to(
            ACTOR,
            user_id=county.uid("property_staff"),
            company_ids=[county.company.id],
            compound_id=county.compound.id,
            inspection_id=row.id,
            reasons="迟到的异议",
            item_codes=[],
            now=clock.now() + timedelta(days=7, seconds=1),
        )
    assert not await Objection.exists(inspection_id=row.id)


async def test_credit_is_recomputed_when_a_record_arrives_and_reproducible_for_past_dates(
    county: County,
) -> None:
    company = county.company.id
    today = clock.to_local(clock.now()).date()
    assert await credit.grant_base(today - timedelta(days=30)) == 2  # both contract holders
    assert await credit.grant_base(today) == 0  # already valid
    # as if granted back then, when it was due
    await CreditRecord.filter(part=CreditPart.BASE).update(recorded_at=clock.now() - timedelta(days=30))
    before = await credit.explain(company)
    assert (before.credit.score, before.credit.grade) == (Decimal(80), "AA")  # type: ignore[union-attr]
    _, after = await credit.add_record(
        ACTOR,
        user_id=county.uid("supervisor"),
        company_id=company,
        source=CreditSource.COMMENDATION,
        part=CreditPart.GOOD,
        points=Decimal(5),
        reason="县级表彰",
        valid_from=today - timedelta(days=10),
    )
    assert (after.score, after.grade) == (Decimal(85), "AAA")  # type: ignore[union-attr]
    explained = await credit.explain(company)
    assert [r["reason"] for r in explained.records] == [credit.BASE_REASON, "县级表彰"]
    # a date before the commendation was recorded: as it was then, although it is dated back
    yesterday = await credit.explain(company, today - timedelta(days=1))
    assert yesterday.credit.score == Decimal(80)  # type: ignore[union-attr]
    # the grades other domains read agree
    found = await grades.current_grades(compound_ids=[county.compound.id, county.far_compound.id])
    assert found[county.compound.id].credit == grades.CreditGrade(Decimal("85.00"), "AAA")
    assert found[county.far_compound.id].credit == grades.CreditGrade(Decimal("80.00"), "AA")
    assert found[county.compound.id].star is None


async def test_a_finished_inspection_gives_the_compound_its_star(county: County) -> None:
    row = await _submitted(county, **{"2a": 0})  # 95.00
    await inspections.finish_due(now=clock.now() + timedelta(days=8))
    later = clock.to_local(clock.now() + timedelta(days=8)).date()
    found = await grades.current_grades(compound_ids=[county.compound.id], at=later)
    star = found[county.compound.id].star
    assert star is not None and (star.stars, star.score, star.inspection_id) == (5, Decimal("95.00"), row.id)
    by_company = await grades.current_grades(
        company_ids=[county.company.id, county.idle_company.id], at=later
    )
    assert by_company[county.company.id].star.stars == 5  # type: ignore[union-attr]
    assert by_company[county.idle_company.id].star is None
    # before it was finished the compound had no star
    assert (await grades.current_grades(compound_ids=[county.compound.id]))[county.compound.id].star is None


async def test_the_quarterly_draft_and_its_publication(county: County) -> None:
    day = date(2026, 9, 1)
    for company in (county.company, county.other_company, county.idle_company):
        await credit._create(
            actor=ACTOR,
            company_id=company.id,
            source=CreditSource.CONTRACT,
            part=CreditPart.BASE,
            points=Decimal(80),
            reason="基础分",
            valid_from=day,
        )
    await credit._create(
        actor=ACTOR,
        company_id=county.company.id,
        source=CreditSource.COMMENDATION,
        part=CreditPart.GOOD,
        points=Decimal(10),
        reason="表彰",
        valid_from=day,
    )
    await credit._create(
        actor=ACTOR,
        company_id=county.other_company.id,
        source=CreditSource.SANCTION,
        part=CreditPart.BAD,
        points=Decimal(25),
        reason="行政处罚：擅自停止服务",
        valid_from=day,
    )
    draft = await lists.compute_draft(ACTOR, "2026Q3")
    entries = {e.company_id: e for e in await ListEntry.filter(list_id=draft.id)}
    # three ranked, k = 1: the best (90, AAA) red; the worst (55, C) black
    assert (draft.k, draft.ranked) == (1, 3)
    assert (entries[county.company.id].color, entries[county.other_company.id].color) == ("red", "black")
    assert county.idle_company.id not in entries
    why = entries[county.other_company.id].reasons
    assert "C" in why["clause"] and [r["reason"] for r in why["records"]] == [
        "基础分",
        "行政处罚：擅自停止服务",
    ]
    # recomputing replaces the draft; publishing posts one county notice and keeps the list
    draft = await lists.compute_draft(ACTOR, "2026Q3")
    published = await lists.publish(
        ACTOR, user_id=county.uid("supervisor"), list_id=draft.id, note="审核通过"
    )
    notice = await Notice.get(id=published.notice_id)
    assert (notice.scope, notice.category, notice.status) == ("county", "official", "published")
    assert "安居物业" in notice.summary or "红榜" in notice.summary
    assert notice.data["red"] == [county.company.id] and notice.data["black"] == [county.other_company.id]
    from ratings.errors import ListStateConflict

    with pytest.raises(ListStateConflict):
        await lists.compute_draft(ACTOR, "2026Q3")
    page = await lists.of_company(county.other_company.id, cursor=None, limit=20)
    assert [e.list.quarter for e in page.items] == ["2026Q3"]
