"""A motion's life as guarded transitions: each one is a conditional UPDATE on the current status
(two committee members pressing "open" at once open it once) plus a named event in the motion's chain.

    draft → announced → open → closed → counted → objection → final
      └──────────┴────────┴───────┴──→ cancelled (with a reason)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Building, Compound, Owner, Ownership, Unit
from audit.service import SYSTEM, Actor, append
from core import clock
from notify import service as notify
from voting import board, errors
from voting.models import CurrentBallot, Motion, MotionItem, MotionStatus, Voter
from voting.roll import RollUnit, UnitOwner, build_roll
from voting.rules import LEGAL_MIN_ANNOUNCE_DAYS, Matter

S = MotionStatus
MAX_ITEMS = 20


def motion_stream(motion_id: int) -> str:
    return f"motion:{motion_id}"


@dataclass(frozen=True)
class ItemDraft:
    title: str
    matter: Matter
    seats: int | None = None
    candidates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MotionDraft:
    title: str
    text: str
    items: list[ItemDraft]
    opens_at: datetime
    closes_at: datetime
    scope_buildings: list[int] = field(default_factory=list)
    # exactly these units (of the compound) when given: the owners concerned, e.g. those sharing a
    # maintenance-fund use (管理办法: the owners of the parts concerned decide)
    scope_units: list[int] = field(default_factory=list)
    allow_change: bool = True
    secret: bool = False
    announce_days: int = LEGAL_MIN_ANNOUNCE_DAYS
    objection_days: int = 7
    max_extension_days: int = 7
    attachments: list[str] = field(default_factory=list)


async def get_motion(motion_id: int, compound_id: int | None = None) -> Motion:
    query = Motion.filter(id=motion_id)
    if compound_id is not None:
        query = query.filter(compound_id=compound_id)
    motion = await query.first()
    if motion is None:
        raise errors.MotionNotFound()
    return motion


async def _validate(compound_id: int, draft: MotionDraft, min_announce_days: int) -> None:
    problems: list[str] = []
    if draft.announce_days < min_announce_days:
        problems.append(f"公告期不得少于 {min_announce_days} 天（物业管理条例第十四条）")
    if not draft.items or len(draft.items) > MAX_ITEMS:
        problems.append(f"须有 1 至 {MAX_ITEMS} 个表决项")
    if draft.closes_at <= draft.opens_at:
        problems.append("截止时间须晚于开始时间")
    for n, item in enumerate(draft.items, start=1):
        if item.seats is not None:
            if item.matter is not Matter.ELECT_COMMITTEE:
                problems.append(f"第{n}项：只有选举业主委员会可设席位")
            if (
                item.seats < 1
                or len(item.candidates) < 1
                or len(set(item.candidates)) != len(item.candidates)
            ):
                problems.append(f"第{n}项：席位数或候选人有误")
    if draft.scope_buildings:
        found = await Building.filter(compound_id=compound_id, id__in=draft.scope_buildings).count()
        if found != len(set(draft.scope_buildings)):
            problems.append("表决范围中有不属于本小区的楼栋")
    if draft.scope_units:
        if draft.scope_buildings:
            problems.append("表决范围只能按楼栋或按房屋之一确定")
        found = await Unit.filter(compound_id=compound_id, id__in=draft.scope_units).count()
        if found != len(set(draft.scope_units)):
            problems.append("表决范围中有不属于本小区的房屋")
    if problems:
        raise errors.MotionInvalid("；".join(problems), details=problems)


async def create(
    actor: Actor, compound_id: int, user_id: int, draft: MotionDraft, *,
    min_announce_days: int = LEGAL_MIN_ANNOUNCE_DAYS,
) -> Motion:  # fmt: skip
    """A draft motion. ``min_announce_days`` is the shortest announcement period in force: the law's
    15 days, lower only where the caller's configuration allows it (development and test)."""
    if not await Compound.exists(id=compound_id):
        raise errors.MotionInvalid("未找到该小区")
    await _validate(compound_id, draft, min_announce_days)
    async with in_transaction():
        motion = await Motion.create(
            compound_id=compound_id,
            title=draft.title,
            text=draft.text,
            attachments=draft.attachments,
            scope_buildings=sorted(set(draft.scope_buildings)),
            scope_units=sorted(set(draft.scope_units)),
            allow_change=draft.allow_change,
            secret=draft.secret,
            announce_days=draft.announce_days,
            objection_days=draft.objection_days,
            max_extension_days=draft.max_extension_days,
            opens_at=draft.opens_at,
            closes_at=draft.closes_at,
            created_by_id=user_id,
        )
        for position, item in enumerate(draft.items, start=1):
            candidates = [{"id": i, "name": name} for i, name in enumerate(item.candidates, start=1)]
            await MotionItem.create(
                motion=motion,
                position=position,
                title=item.title,
                matter=item.matter.value,
                seats=item.seats,
                candidates=candidates,
            )
        await append(
            motion_stream(motion.id),
            "motion.created",
            actor=actor,
            subject=f"compound:{compound_id}",
            payload={"title": draft.title, "items": len(draft.items), "secret": draft.secret},
        )
    return motion


async def _move(
    motion: Motion,
    sources: set[MotionStatus],
    target: MotionStatus,
    actor: Actor,
    payload: dict[str, Any],
    **changes: Any,
) -> Motion:
    async with in_transaction():
        moved = await Motion.filter(id=motion.id, status__in=[s.value for s in sources]).update(
            status=target, **changes
        )
        if not moved:
            current = await Motion.get(id=motion.id)
            raise errors.MotionWrongState(details={"status": current.status.value, "wanted": target.value})
        await append(motion_stream(motion.id), f"motion.{target.value}", actor=actor, payload=payload)
    await motion.refresh_from_db()
    return motion


async def announce(
    actor: Actor, motion: Motion, *, min_announce_days: int = LEGAL_MIN_ANNOUNCE_DAYS
) -> Motion:
    """Draft → announced, at least the motion's announcement period (and never less than the minimum
    in force, whatever a draft stored earlier says) before voting opens."""
    now = clock.now()
    days = max(motion.announce_days, min_announce_days)
    earliest = now + timedelta(days=days)
    if motion.opens_at < earliest:
        raise errors.MotionInvalid(
            f"须提前 {days} 天公告：开始投票时间不得早于 {clock.to_local(earliest):%Y-%m-%d %H:%M}",
            details={"earliest_opens_at": clock.iso_utc(earliest), "announce_days": days},
        )
    payload = {"opens_at": clock.iso_utc(motion.opens_at), "closes_at": clock.iso_utc(motion.closes_at)}
    async with in_transaction():  # the motion is announced exactly when its notice is on the board
        motion = await _move(motion, {S.DRAFT}, S.ANNOUNCED, actor, payload, announced_at=now)
        await board.announce(motion, await MotionItem.filter(motion_id=motion.id).order_by("position"), actor)
        await _notify_owners_in_scope(
            motion,
            "motion.announced",
            {
                "motion_id": motion.id,
                "title": motion.title,
                "opens_at": motion.opens_at,
                "closes_at": motion.closes_at,
            },
        )
    return motion


async def _notify_owners_in_scope(motion: Motion, event: str, params: dict[str, Any]) -> None:
    """Outbox rows for the owners with an account of the units in the motion's scope (the roll is not
    frozen before it opens), in the caller's transaction."""
    query = Ownership.filter(unit__compound_id=motion.compound_id, owner__user_id__isnull=False)  # type: ignore[attr-defined]
    if motion.scope_buildings:
        query = query.filter(unit__building_id__in=motion.scope_buildings)
    if motion.scope_units:
        query = query.filter(unit_id__in=motion.scope_units)
    user_ids = await query.distinct().values_list("owner__user_id", flat=True)
    await notify.enqueue(event, subject=f"motion:{motion.id}", user_ids=user_ids, params=params)  # type: ignore[arg-type]


async def _roll_units(motion: Motion) -> list[RollUnit]:
    query = Ownership.filter(unit__compound_id=motion.compound_id)  # type: ignore[attr-defined]
    if motion.scope_buildings:
        query = query.filter(unit__building_id__in=motion.scope_buildings)
    if motion.scope_units:
        query = query.filter(unit_id__in=motion.scope_units)
    rows = await query.values(
        "unit_id", "unit__number", "unit__building__name", "unit__area", "unit__kind", "owner_id",
        "owner__is_developer", "votes_for_unit",
    )  # fmt: skip
    units: dict[int, dict[str, Any]] = {}
    for r in rows:
        unit = units.setdefault(
            r["unit_id"],
            {
                "room": f"{r['unit__building__name']}-{r['unit__number']}",
                "area": r["unit__area"],
                "kind": r["unit__kind"],
                "owners": [],
                "designated": None,
            },
        )
        unit["owners"].append(UnitOwner(r["owner_id"], developer_held=bool(r["owner__is_developer"])))
        if r["votes_for_unit"]:
            unit["designated"] = r["owner_id"]
    return [
        RollUnit(
            uid,
            u["room"],
            u["area"],
            str(u["kind"]),
            tuple(u["owners"]),
            u["designated"] if len(u["owners"]) > 1 else None,
        )
        for uid, u in units.items()
    ]


async def open_voting(actor: Actor, motion: Motion, *, now: datetime | None = None) -> Motion:
    """Open at or after opens_at, freezing the roll: who votes with what weight is fixed from here."""
    return (await _open_voting(actor, motion, now=now))[0]


async def _open_voting(actor: Actor, motion: Motion, *, now: datetime | None) -> tuple[Motion, bool]:
    """open_voting, and whether this call opened it (False: someone else did a moment earlier)."""
    now = now or clock.now()
    if motion.status is S.OPEN:
        return motion, False  # opened a moment earlier (the clock, another member): done, not a conflict
    if motion.status is S.ANNOUNCED and now < motion.opens_at:
        raise errors.MotionWrongState(
            "未到开始投票时间", details={"opens_at": clock.iso_utc(motion.opens_at)}
        )
    roll = build_roll(await _roll_units(motion))
    if not roll.voters:
        raise errors.MotionInvalid("表决范围内没有业主")
    compound = await Compound.get(id=motion.compound_id)  # type: ignore[attr-defined]
    async with in_transaction():
        moved = await Motion.filter(id=motion.id, status=S.ANNOUNCED).update(
            status=S.OPEN,
            opened_at=now,
            roll_hash=roll.digest,
            total_area_h=roll.total.area_hundredths,
            total_headcount=roll.total.headcount,
            follow_majority=compound.non_voters_follow_majority,
        )
        if not moved:
            current = await Motion.get(id=motion.id)
            if current.status is S.OPEN:  # opened while we built the roll: done, not a conflict
                return current, False
            raise errors.MotionWrongState(details={"status": current.status.value, "wanted": "open"})
        await Voter.bulk_create(
            [
                Voter(
                    motion_id=motion.id,
                    owner_id=v.voter_id,
                    area_h=v.weight.area_hundredths,
                    is_developer=v.is_developer,
                    rooms=[{"unit_id": u.unit_id, "room": u.room, "area": str(u.area)} for u in v.units],
                )
                for v in roll.voters
            ],
            batch_size=1000,
        )
        await append(
            motion_stream(motion.id),
            "motion.open",
            actor=actor,
            payload={
                "roll_hash": roll.digest,
                "total_area": str(roll.total.area),
                "total_headcount": roll.total.headcount,
                "voters": len(roll.voters),
                "follow_majority": compound.non_voters_follow_majority,
            },
        )
        params = {"motion_id": motion.id, "title": motion.title, "closes_at": motion.closes_at}
        await _notify_voters(motion.id, "motion.opening", params)
    await motion.refresh_from_db()
    return motion, True


async def _notify_voters(motion_id: int, event: str, params: dict[str, Any]) -> None:
    """Outbox rows for the voters on the frozen roll who have an account (in the caller's transaction)."""
    owner_ids = await Voter.filter(motion_id=motion_id).values_list("owner_id", flat=True)
    user_ids = await Owner.filter(id__in=list(owner_ids), user_id__isnull=False).values_list(
        "user_id", flat=True
    )
    await notify.enqueue(event, subject=f"motion:{motion_id}", user_ids=user_ids, params=params)  # type: ignore[arg-type]


CLOSING_SOON = timedelta(hours=24)  # voters who have not voted are reminded this long before the close


async def remind_closing(motion: Motion) -> int:
    """The voters on the roll with an account who have not voted yet hear that voting closes soon;
    once per motion (notify's mark, in the same transaction). Returns the rows asked for."""
    async with in_transaction():
        if not await notify.mark_published("motion.closing_soon", f"motion:{motion.id}"):
            return 0
        voted = await CurrentBallot.filter(motion_id=motion.id).values_list("voter__owner_id", flat=True)
        owner_ids = (
            await Voter.filter(motion_id=motion.id)
            .exclude(owner_id__in=list(voted))
            .values_list("owner_id", flat=True)
        )
        users = await Owner.filter(id__in=list(owner_ids), user_id__isnull=False).values_list(
            "user_id", flat=True
        )
        params = {"motion_id": motion.id, "title": motion.title, "closes_at": motion.closes_at}
        user_ids = [int(u) for u in users]  # type: ignore[call-overload]
        return await notify.enqueue(
            "motion.closing_soon", subject=f"motion:{motion.id}", user_ids=user_ids, params=params
        )


async def extend(actor: Actor, motion: Motion, new_closes_at: datetime, reason: str) -> Motion:
    limit = motion.closes_at + timedelta(days=motion.max_extension_days)
    if (
        motion.extension_reason is not None
        or not (motion.closes_at < new_closes_at <= limit)
        or not reason.strip()
    ):
        raise errors.ExtensionRefused(details={"latest": clock.iso_utc(limit)})
    if clock.now() >= motion.closes_at:
        raise errors.VotingNotOpen("投票已截止，不能延期")
    payload = {"from": clock.iso_utc(motion.closes_at), "to": clock.iso_utc(new_closes_at), "reason": reason}
    async with in_transaction():
        moved = await Motion.filter(id=motion.id, status=S.OPEN, extension_reason=None).update(
            closes_at=new_closes_at, extension_reason=reason
        )
        if not moved:
            raise errors.ExtensionRefused()
        await append(motion_stream(motion.id), "motion.extended", actor=actor, payload=payload)
    await motion.refresh_from_db()
    return motion


async def close(actor: Actor, motion: Motion, *, now: datetime | None = None) -> Motion:
    now = now or clock.now()
    if now < motion.closes_at:
        raise errors.MotionWrongState(
            "未到投票截止时间", details={"closes_at": clock.iso_utc(motion.closes_at)}
        )
    try:
        return await _move(
            motion, {S.OPEN}, S.CLOSED, actor, {"closed_at": clock.iso_utc(now)}, closed_at=now
        )
    except errors.MotionWrongState:
        current = await Motion.get(id=motion.id)
        if current.status is S.CLOSED:  # closed a moment earlier (the clock, another member)
            return current
        raise


async def cancel(actor: Actor, motion: Motion, reason: str) -> Motion:
    if not reason.strip():
        raise errors.MotionInvalid("取消须说明理由")
    sources = {S.DRAFT, S.ANNOUNCED, S.OPEN, S.CLOSED}
    return await _move(
        motion,
        sources,
        S.CANCELLED,
        actor,
        {"reason": reason},
        cancelled_at=clock.now(),
        cancel_reason=reason,
    )


async def publish(actor: Actor, motion: Motion) -> Motion:
    """Counted → objection period (询异): the result is public and may be challenged until it ends."""
    now = clock.now()
    until = now + timedelta(days=motion.objection_days)
    async with in_transaction():  # the result is in the objection period exactly when it is on the board
        motion = await _move(
            motion,
            {S.COUNTED},
            S.OBJECTION,
            actor,
            {"objection_until": clock.iso_utc(until)},
            objection_until=until,
        )
        await board.result(motion, actor)
        items = (motion.result or {}).get("items", [])
        voted = [i for i in items if "passed" in i]
        outcome = f"{sum(1 for i in voted if i['passed'])}/{len(voted)}项通过" if voted else "选举结果已公示"
        params = {"motion_id": motion.id, "title": motion.title, "outcome": outcome, "objection_until": until}
        await _notify_voters(motion.id, "motion.result", params)
    return motion


async def finalize(actor: Actor, motion: Motion, *, now: datetime | None = None) -> Motion:
    now = now or clock.now()
    if motion.objection_until is None or now < motion.objection_until:
        raise errors.MotionWrongState("询异期尚未结束")
    return await _move(motion, {S.OBJECTION}, S.FINAL, actor, {}, final_at=now)


async def tick(now: datetime | None = None) -> dict[str, int]:
    """What time alone decides: open announced motions whose time has come, close those past their
    deadline, finalise those past the objection period. Idempotent; every worker may run it."""
    now = now or clock.now()
    done = {"opened": 0, "closed": 0, "finalised": 0, "reminded": 0}
    for motion in await Motion.filter(status=S.ANNOUNCED, opens_at__lte=now):
        try:
            done["opened"] += (await _open_voting(SYSTEM, motion, now=now))[1]
        except (errors.MotionWrongState, errors.MotionInvalid, errors.VotingRollInvalid):
            continue
    for motion in await Motion.filter(status=S.OPEN, closes_at__lte=now):
        try:
            await close(SYSTEM, motion, now=now)
            done["closed"] += 1
        except errors.MotionWrongState:
            continue
    for motion in await Motion.filter(status=S.OPEN, closes_at__gt=now, closes_at__lte=now + CLOSING_SOON):
        if not await notify.published("motion.closing_soon", f"motion:{motion.id}"):
            done["reminded"] += await remind_closing(motion)
    for motion in await Motion.filter(status=S.OBJECTION, objection_until__lte=now):
        try:
            await finalize(SYSTEM, motion, now=now)
            done["finalised"] += 1
        except errors.MotionWrongState:
            continue
    return done
