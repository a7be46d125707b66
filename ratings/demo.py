"""Ratings in the demo county (after accounts.demo): the star-rating templates of both kinds, a
finished daily inspection of 阳光花园 by the 东街 community, and the credit records of the demo
company (its base record, the inspection's, a commendation by the supervisor). Idempotent: a second run
adds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from accounts.models import Compound, PropertyCompany, User
from accounts.roles import Role
from audit import service as audit
from core import clock
from ratings import credit, inspections, templates
from ratings.models import CreditRecord, Inspection, Template
from ratings.rules import (
    Aspect,
    AspectSpec,
    CreditPart,
    CreditSource,
    InspectionKind,
    InspectionStatus,
    Item,
    Threshold,
)

DEMO = audit.Actor("system:demo", "演示数据")
COMPOUND = "阳光花园"
COMMENDATION = "获评县级“红色物业”示范项目"

# (aspect, weight %, items: code, text, points)
STANDARD: tuple[tuple[Aspect, int, tuple[tuple[str, str, int], ...]], ...] = (
    (Aspect.INTERNAL_MANAGEMENT, 15, (("im1", "制度健全、岗位职责明确", 10), ("im2", "档案资料完整", 10))),
    (
        Aspect.PUBLIC_RELATIONS,
        10,
        (("pr1", "服务信息公示栏内容齐全、及时更新", 10), ("pr2", "投诉处理及时、回访", 10)),
    ),
    (Aspect.FACILITIES, 15, (("fe1", "电梯、消防设施维保记录齐全", 10), ("fe2", "共用设施完好", 10))),
    (Aspect.SECURITY, 15, (("se1", "门岗值守、巡逻记录", 10), ("se2", "消防通道畅通", 10))),
    (Aspect.PUBLIC_ORDER, 10, (("po1", "车辆停放有序", 10), ("po2", "无乱搭乱建、占用公共部位", 10))),
    (Aspect.CLEANING, 15, (("cl1", "公共区域清洁", 10), ("cl2", "垃圾分类与清运", 10))),
    (Aspect.GREENING, 10, (("gr1", "绿化养护", 10), ("gr2", "无毁绿占绿", 10))),
    (Aspect.SMART_MANAGEMENT, 10, (("sm1", "线上报修与缴费", 10), ("sm2", "信息系统数据及时", 10))),
)
THRESHOLDS = (
    Threshold(5, Decimal(90)),
    Threshold(4, Decimal(80)),
    Threshold(3, Decimal(70)),
    Threshold(2, Decimal(60)),
    Threshold(1, Decimal(50)),
)
# the inspection's findings: every item full marks except these
DEDUCTIONS = {"po1": (6, "东门外机动车占用消防通道"), "cl2": (8, "3号楼垃圾桶满溢未及时清运")}


def _aspects() -> list[AspectSpec]:
    return [
        AspectSpec(aspect, weight, tuple(Item(code, text, points) for code, text, points in items))
        for aspect, weight, items in STANDARD
    ]


async def seed_ratings() -> str:
    supervisor = await User.get_or_none(openid="demo-supervisor")
    inspector = await User.get_or_none(openid="demo-community")
    compound = await Compound.get_or_none(name=COMPOUND)
    if supervisor is None or inspector is None or compound is None:
        return "ratings demo skipped (no demo county)"
    made_templates = 0
    for kind, name in (
        (InspectionKind.DAILY, "物业项目日常管理考核"),
        (InspectionKind.ANNUAL, "物业服务年度综合评定"),
    ):
        if not await Template.exists(kind=kind):
            await templates.create(
                DEMO, user_id=supervisor.id, kind=kind, name=name, aspects=_aspects(), thresholds=THRESHOLDS
            )
            made_templates += 1
    now = clock.now()
    today = clock.to_local(now).date()
    based = await credit.grant_base(today)
    finished = 0
    if not await Inspection.exists(compound_id=compound.id, status=InspectionStatus.FINISHED):
        await _finished_inspection(compound.id, inspector.id, now)
        finished = 1
    company = await PropertyCompany.filter(contracts__compound_id=compound.id).first()
    commended = 0
    if company is not None and not await CreditRecord.exists(company_id=company.id, reason=COMMENDATION):
        await credit.add_record(
            DEMO, user_id=supervisor.id, company_id=company.id, source=CreditSource.COMMENDATION,
            part=CreditPart.GOOD, points=Decimal(3), reason=COMMENDATION, valid_from=today - timedelta(days=30),
        )  # fmt: skip
        commended = 1
    return (
        f"ratings: {made_templates} templates, {finished} finished inspection, "
        f"{based} base credit records, {commended} commendation"
    )


async def _finished_inspection(compound_id: int, inspector_id: int, now: datetime) -> None:
    """A daily inspection submitted eight days ago: its objection period is over, so it finishes."""
    submitted_at = now - timedelta(days=8)
    row = await inspections.open_inspection(
        DEMO, user_id=inspector_id, role=Role.COMMUNITY_ADMIN, compound_id=compound_id,
        kind=InspectionKind.DAILY, inspected_on=clock.to_local(submitted_at).date(),
    )  # fmt: skip
    items = [
        inspections.ItemScore(
            code, DEDUCTIONS.get(code, (points, ""))[0], note=DEDUCTIONS.get(code, (0, ""))[1]
        )
        for _, _, entries in STANDARD
        for code, _, points in entries
    ]
    await inspections.set_scores(
        DEMO, user_id=inspector_id, compound_id=compound_id, inspection_id=row.id, items=items
    )
    await inspections.submit(
        DEMO, user_id=inspector_id, compound_id=compound_id, inspection_id=row.id, now=submitted_at
    )
    await inspections.finish_due(now=now)
