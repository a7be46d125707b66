"""Inspections (物业项目日常管理考核 / 年度综合评定) as guarded transitions:

    draft ──submit──▶ submitted ──object (company, once, before objection_due_at)──▶ objected
                          │                                                          │
                          └── objection period over (finish_due) ──▶ finished ◀── decide (inspector)

The inspector (a community admin of the compound's community, or a supervisor) scores every item of
the template version the inspection was opened with, with notes and evidence photos (photos app,
attached to "inspection:<id>"). Every transition is a conditional UPDATE on (id, version) and an audit
event on the compound's stream in the same transaction. Finished is final: the database refuses any
later change (migration 0002); finishing writes the credit record the score earns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Compound, RoleGrant, ServiceContract
from accounts.roles import Role, community_roles, today
from audit import service as audit
from bookings import reviews as booking_reviews
from complaints import stats as complaint_stats
from core import clock, pages
from photos import records as photo_records
from photos.access import Sight, register_viewer, subject
from ratings import credit, templates
from ratings.errors import (
    InspectionNotFound,
    InspectionStateConflict,
    NoCompanyAtCompound,
    NotInspectedCompany,
    NotInspector,
    ObjectionInvalid,
    ObjectionTaken,
    ObjectionWindowClosed,
    ScoresInvalid,
)
from ratings.models import Inspection, InspectionScore, Objection
from ratings.paging import newest_first
from ratings.rules import OBJECTION_DAYS, InspectionKind, InspectionStatus, score

MAX_PHOTOS_PER_ITEM = 9


@dataclass(frozen=True, slots=True)
class ItemScore:
    code: str
    points: int
    note: str = ""
    photo_ids: Sequence[int] = field(default_factory=tuple)


def photo_subject(inspection_id: int) -> str:
    return subject("inspection", inspection_id)


async def _company_at(compound_id: int, on: date) -> int:
    contract = (
        await ServiceContract.filter(compound_id=compound_id, starts_on__lte=on, ends_on__gte=on)
        .order_by("-starts_on", "-id")
        .first()
    )
    if contract is None:
        raise NoCompanyAtCompound()
    return int(contract.company_id)  # type: ignore[attr-defined]


async def load(compound_id: int, inspection_id: int) -> Inspection:
    row = await Inspection.get_or_none(id=inspection_id, compound_id=compound_id)
    if row is None:
        raise InspectionNotFound()
    return row


async def open_inspection(
    actor: audit.Actor,
    *,
    user_id: int,
    role: Role,
    compound_id: int,
    kind: InspectionKind,
    inspected_on: date | None = None,
) -> Inspection:
    template = await templates.latest(kind)
    on = inspected_on or today()
    company_id = await _company_at(compound_id, on)
    async with in_transaction():
        row = await Inspection.create(
            compound_id=compound_id,
            company_id=company_id,
            template_id=template.id,
            kind=kind,
            inspector_id=user_id,
            inspector_role=role.value,
            inspected_on=on,
        )
        await audit.append(
            audit.compound_stream(compound_id),
            "rating.inspection_opened",
            actor=actor,
            subject=f"inspection:{row.id}",
            payload={
                "kind": kind.value,
                "template_id": template.id,
                "company_id": company_id,
                "on": on.isoformat(),
            },
        )
    return row


async def _move(row: Inspection, **changes: Any) -> None:
    """The conditional write every transition makes: nothing moved means someone else moved first."""
    moved = await Inspection.filter(id=row.id, version=row.version).update(version=row.version + 1, **changes)
    if moved != 1:
        raise InspectionStateConflict("考核已被他人修改，请刷新后重试")
    row.version += 1
    for name, value in changes.items():
        setattr(row, name, value)


def _require_inspector(row: Inspection, user_id: int) -> None:
    if row.inspector_id != user_id:
        raise NotInspector()


def _require(row: Inspection, *states: InspectionStatus) -> None:
    if InspectionStatus(row.status) not in states:
        raise InspectionStateConflict(details={"status": str(row.status)})


async def _write_scores(row: Inspection, items: Sequence[ItemScore], *, uploader_id: int) -> None:
    template = await templates.get(row.template_id)
    aspects, _ = templates.specs_of(template)
    known = {i.code: i for a in aspects for i in a.items}
    unknown = sorted({s.code for s in items} - set(known))
    codes = [s.code for s in items]
    if unknown or len(codes) != len(set(codes)):
        raise ScoresInvalid(details={"unknown": unknown})
    bad = sorted(s.code for s in items if not (0 <= s.points <= known[s.code].max_points))
    if bad or any(len(s.photo_ids) > MAX_PHOTOS_PER_ITEM for s in items):
        raise ScoresInvalid("评分超出该项分值范围，或照片过多", details={"items": bad})
    mine = photo_subject(row.id)
    held = {p.id for p in await photo_records.photos_of(mine)}
    wanted = {p for s in items for p in s.photo_ids}
    await photo_records.attach(sorted(wanted - held), uploader_id=uploader_id, subject=mine)
    existing = {s.item_code: s for s in await InspectionScore.filter(inspection_id=row.id)}
    for s in items:
        if s.code in existing:
            await InspectionScore.filter(id=existing[s.code].id).update(
                points=s.points, note=s.note, photo_ids=sorted(set(s.photo_ids))
            )
        else:
            await InspectionScore.create(
                inspection_id=row.id,
                item_code=s.code,
                points=s.points,
                note=s.note,
                photo_ids=sorted(set(s.photo_ids)),
            )


async def set_scores(
    actor: audit.Actor, *, user_id: int, compound_id: int, inspection_id: int, items: Sequence[ItemScore]
) -> Inspection:
    """Score (or re-score) items of a draft; items not named keep their score."""
    row = await load(compound_id, inspection_id)
    _require_inspector(row, user_id)
    _require(row, InspectionStatus.DRAFT)
    async with in_transaction():
        await _move(row)
        await _write_scores(row, items, uploader_id=user_id)
        await audit.append(
            audit.compound_stream(compound_id),
            "rating.inspection_scored",
            actor=actor,
            subject=f"inspection:{row.id}",
            payload={"items": {s.code: s.points for s in items}},
        )
    return row


async def _scored(row: Inspection) -> Any:
    template = await templates.get(row.template_id)
    aspects, thresholds = templates.specs_of(template)
    points = dict(await InspectionScore.filter(inspection_id=row.id).values_list("item_code", "points"))
    return score(aspects, thresholds, points)  # type: ignore[arg-type]


async def submit(
    actor: audit.Actor,
    *,
    user_id: int,
    compound_id: int,
    inspection_id: int,
    objection_days: int = OBJECTION_DAYS,
    now: datetime | None = None,
) -> Inspection:
    """Every item scored: the result is computed and shown to the company, which may object until
    ``objection_days`` from now. The residents' satisfaction (complaint ratings of the compound, and
    booking ratings of the company's life services, in the year before) is recorded beside it."""
    row = await load(compound_id, inspection_id)
    _require_inspector(row, user_id)
    _require(row, InspectionStatus.DRAFT)
    at = now or clock.now()
    result = await _scored(row)
    satisfaction = await complaint_stats.ratings_of_compound(
        compound_id, since=at - timedelta(days=365), until=at
    )
    booked = (await booking_reviews.company_ratings([row.company_id], since=at - timedelta(days=365)))[
        row.company_id
    ]
    satisfaction["booking_ratings"] = booked.ratings
    satisfaction["booking_average"] = str(booked.average) if booked.average is not None else None
    async with in_transaction():
        await _move(
            row,
            status=InspectionStatus.SUBMITTED,
            total=result.total,
            stars=result.stars,
            aspect_scores={k: str(v) for k, v in result.aspects.items()},
            satisfaction=satisfaction,
            submitted_at=at,
            objection_due_at=at + timedelta(days=objection_days),
        )
        await audit.append(
            audit.compound_stream(compound_id),
            "rating.inspection_submitted",
            actor=actor,
            subject=f"inspection:{row.id}",
            payload={"total": str(result.total), "stars": result.stars, "objection_days": objection_days},
        )
    return row


async def object_to(
    actor: audit.Actor,
    *,
    user_id: int,
    company_ids: Iterable[int],
    compound_id: int,
    inspection_id: int,
    reasons: str,
    item_codes: Sequence[str],
    now: datetime | None = None,
) -> Objection:
    """The inspected company objects once, with reasons, before the objection period ends."""
    row = await load(compound_id, inspection_id)
    if row.company_id not in set(company_ids):
        raise NotInspectedCompany()
    at = now or clock.now()
    if await Objection.exists(inspection_id=row.id):
        raise ObjectionTaken()
    _require(row, InspectionStatus.SUBMITTED)
    if row.objection_due_at is None or at >= row.objection_due_at:
        raise ObjectionWindowClosed(details={"objection_due_at": clock.iso_utc(row.objection_due_at or at)})
    template = await templates.get(row.template_id)
    aspects, _ = templates.specs_of(template)
    known = {i.code for a in aspects for i in a.items}
    if not reasons.strip() or set(item_codes) - known:
        raise ObjectionInvalid(details={"unknown": sorted(set(item_codes) - known)})
    try:
        async with in_transaction():
            objection = await Objection.create(
                inspection_id=row.id,
                by_id=user_id,
                reasons=reasons,
                item_codes=sorted(set(item_codes)),
                at=at,
            )
            await _move(row, status=InspectionStatus.OBJECTED)
            await audit.append(
                audit.compound_stream(compound_id),
                "rating.inspection_objected",
                actor=actor,
                subject=f"inspection:{row.id}",
                payload={"reasons": reasons, "items": sorted(set(item_codes))},
            )
    except IntegrityError as exc:  # two objections at once: the one-per-inspection constraint
        raise ObjectionTaken() from exc
    return objection


async def _finish(row: Inspection, *, actor: audit.Actor, at: datetime, how: str) -> None:
    await credit.record_inspection(row, actor=actor, on=clock.to_local(at).date())
    await _move(row, status=InspectionStatus.FINISHED, finished_at=at)
    await audit.append(
        audit.compound_stream(row.compound_id),
        "rating.inspection_finished",
        actor=actor,
        subject=f"inspection:{row.id}",
        payload={"how": how, "total": str(row.total), "stars": row.stars, "company_id": row.company_id},
    )


async def decide(
    actor: audit.Actor,
    *,
    user_id: int,
    compound_id: int,
    inspection_id: int,
    upheld: bool,
    note: str,
    revised: Sequence[ItemScore] = (),
    now: datetime | None = None,
) -> Inspection:
    """The inspector decides the objection: upheld (with revised scores of the objected items) or
    rejected. Either way the inspection is then finished."""
    row = await load(compound_id, inspection_id)
    _require_inspector(row, user_id)
    _require(row, InspectionStatus.OBJECTED)
    objection = await Objection.get(inspection_id=row.id)
    if not note.strip():
        raise ObjectionInvalid("请写明对异议的处理意见", code="decision_note_required")
    if revised and (not upheld or {s.code for s in revised} - set(objection.item_codes)):
        raise ScoresInvalid("只有采纳异议时才能修改评分，且只能修改异议所涉评分项")
    at = now or clock.now()
    async with in_transaction():
        if revised:
            await _write_scores(row, revised, uploader_id=user_id)
        result = await _scored(row)
        decided = await Objection.filter(id=objection.id, decided_at__isnull=True).update(
            upheld=upheld, decision_note=note, decided_by_id=user_id, decided_at=at
        )
        if decided != 1:
            raise InspectionStateConflict("异议已处理")
        await _move(
            row,
            total=result.total,
            stars=result.stars,
            aspect_scores={k: str(v) for k, v in result.aspects.items()},
        )
        await audit.append(
            audit.compound_stream(compound_id),
            "rating.objection_decided",
            actor=actor,
            subject=f"inspection:{row.id}",
            payload={"upheld": upheld, "note": note, "revised": {s.code: s.points for s in revised}},
        )
        await _finish(row, actor=actor, at=at, how="decided")
    return row


async def finish_due(*, now: datetime | None = None) -> int:
    """Finish every submitted inspection whose objection period is over without an objection."""
    at = now or clock.now()
    finished = 0
    for row in await Inspection.filter(status=InspectionStatus.SUBMITTED, objection_due_at__lte=at):
        try:
            async with in_transaction():
                await _finish(row, actor=audit.SYSTEM, at=at, how="no_objection")
            finished += 1
        except InspectionStateConflict:
            continue  # someone objected in between
    return finished


# --- reading ----------------------------------------------------------------------------------


async def detail(row: Inspection) -> dict[str, Any]:
    template = await templates.get(row.template_id)
    given = {s.item_code: s for s in await InspectionScore.filter(inspection_id=row.id)}
    objection = await Objection.get_or_none(inspection_id=row.id)
    return {
        "inspection": row,
        "template": template,
        "scores": given,
        "objection": objection,
    }


async def of_compound(
    compound_id: int,
    *,
    drafts_of: int | None,
    companies: Iterable[int] | None = None,
    cursor: str | None,
    limit: int,
) -> pages.Page[Inspection]:
    """The compound's inspections, newest first. Drafts are shown to their inspector only
    (``drafts_of``), and to nobody else: the company sees a result once it is submitted.
    ``companies``: only the inspections of these companies (a company's staff)."""
    query = Inspection.filter(compound_id=compound_id)
    if companies is not None:
        query = query.filter(company_id__in=list(companies))
    if drafts_of is None:
        query = query.exclude(status=InspectionStatus.DRAFT)
    else:
        query = query.exclude(status=InspectionStatus.DRAFT, inspector_id__not=drafts_of)
    return await newest_first(query, cursor=cursor, limit=limit)


async def _photo_sight(user_id: int, inspection_id: int) -> Sight:
    row = await Inspection.get_or_none(id=inspection_id)
    if row is None:
        return Sight.NONE
    if row.inspector_id == user_id:
        return Sight.MODERATE
    if row.status == InspectionStatus.DRAFT:
        return Sight.NONE
    compound = await Compound.get(id=row.compound_id).only("id", "community_id")
    held = await community_roles(user_id, compound.community_id)  # type: ignore[attr-defined]
    if held & {Role.SUPERVISOR, Role.COMMUNITY_ADMIN}:
        return Sight.MODERATE
    if await RoleGrant.exists(user_id=user_id, role=Role.PROPERTY_STAFF.value, scope_id=row.company_id):
        return Sight.VIEW
    return Sight.NONE


register_viewer("inspection", _photo_sight)
