"""Filing a complaint, "me too", and the similar open complaints a resident sees before filing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from accounts.models import Building, Unit, User
from accounts.roles import Role, compound_roles
from audit.service import Actor, append, compound_stream
from complaints import calendar
from complaints.errors import (
    AlreadySupported,
    CategoryUnknown,
    ContentRisky,
    DailyLimit,
    NotAResident,
    PlaceInvalid,
    TooManyPhotos,
)
from complaints.guards import NEIGHBOURS, SUPPORT, allowed_actions, caller_of, decide
from complaints.media import PhotoCheck
from complaints.models import Category, Complaint, Event, Moderation, PlaceKind, Status, Support
from complaints.permissions import load
from complaints.rules import MAX_PHOTOS, OPEN, add_working_hours, stage_hours
from core import clock
from core.cache import Cache, hit
from core.errors import DomainError
from photos import records
from photos.access import subject
from photos.models import Photo
from wechat.protocol import Scene, WeChatApi

log = logging.getLogger("wuye.complaints")
DAILY_LIMIT = 10
FILERS = frozenset({Role.RESIDENT, Role.OWNER, Role.GRID_WORKER})


@dataclass(frozen=True, slots=True)
class NewComplaint:
    compound_id: int
    category: str
    text: str
    place_kind: PlaceKind
    building_id: int | None = None
    unit_id: int | None = None
    place_note: str = ""
    photo_ids: list[int] = field(default_factory=list)
    anonymous: bool = True
    for_user_id: int | None = None  # a grid worker filing for a resident with an account


async def _place(new: NewComplaint) -> tuple[int | None, int | None]:
    """(building_id, unit_id), checked to lie in the compound."""
    if new.place_kind is PlaceKind.UNIT:
        unit = await Unit.get_or_none(id=new.unit_id or 0, compound_id=new.compound_id)
        if unit is None:
            raise PlaceInvalid(details={"unit_id": new.unit_id})
        return unit.building_id, unit.id  # type: ignore[attr-defined]
    if (new.place_kind is PlaceKind.BUILDING or new.building_id is not None) and not await Building.exists(
        id=new.building_id or 0, compound_id=new.compound_id
    ):
        raise PlaceInvalid(details={"building_id": new.building_id})
    if new.place_kind is PlaceKind.COMMON and not new.place_note.strip():
        raise PlaceInvalid("请填写公共区域的具体位置", details={"place_note": "required"})
    return new.building_id, None


async def _complainant(user: User, new: NewComplaint, held: set[Role]) -> int | None:
    if not held & FILERS:
        raise NotAResident()
    if new.for_user_id is None or new.for_user_id == user.id:
        return user.id if held & NEIGHBOURS else None
    if (
        Role.GRID_WORKER not in held
        or not await compound_roles(new.for_user_id, new.compound_id) & NEIGHBOURS
    ):
        raise NotAResident("只能代本小区的业主或住户提交", details={"for_user_id": new.for_user_id})
    return new.for_user_id


def _seconds_to_local_midnight(now: datetime) -> int:
    local = clock.to_local(now)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), clock.SHANGHAI)
    return max(1, int((midnight - local).total_seconds()))


async def _text_verdict(wechat: WeChatApi, openid: str, text: str) -> tuple[Moderation, str]:
    try:
        verdict = await wechat.msg_sec_check(openid=openid, content=text, scene=Scene.FORUM)
    except DomainError as exc:  # WeChat down or refusing: a person looks at it instead
        log.warning("msg_sec_check failed, holding the complaint: %s", exc.error_code)
        return Moderation.HELD, "内容安全检测暂不可用，已转人工审核"
    if verdict.suggest == "risky":
        raise ContentRisky(details={"label": verdict.label, "trace_id": verdict.trace_id})
    if verdict.suggest == "review":
        return Moderation.HELD, "内容需人工审核"
    return Moderation.PASSED, ""


async def file_complaint(
    new: NewComplaint,
    *,
    user: User,
    actor: Actor,
    wechat: WeChatApi,
    cache: Cache,
    media_url: Callable[[Photo], str],
    now: datetime | None = None,
) -> Complaint:
    """Check, rate-limit, content-check, then store the complaint, its first event and its photos."""
    if len(set(new.photo_ids)) > MAX_PHOTOS:
        raise TooManyPhotos(details={"max": MAX_PHOTOS})
    category = await Category.get_or_none(code=new.category)
    if category is None:
        raise CategoryUnknown(details={"category": new.category})
    building_id, unit_id = await _place(new)
    held = await compound_roles(user.id, new.compound_id)
    complainant_id = await _complainant(user, new, held)
    moment = now or clock.now()
    window = _seconds_to_local_midnight(moment)
    decision = await hit(
        cache, f"complaints:{user.id}:{clock.to_local(moment).date()}", limit=DAILY_LIMIT, window=window
    )
    if not decision.allowed:
        raise DailyLimit(details={"retry_after": decision.retry_after, "limit": DAILY_LIMIT})
    moderation, reason = await _text_verdict(wechat, user.openid, f"{new.text}\n{new.place_note}".strip())
    due = None
    if moderation is Moderation.PASSED:  # the clock starts when staff can see it
        due = add_working_hours(moment, stage_hours(Status.SUBMITTED, 0) or 0, await calendar.load())
    async with in_transaction() as conn:
        complaint = await Complaint.create(
            compound_id=new.compound_id,
            building_id=building_id,
            unit_id=unit_id,
            place_kind=new.place_kind,
            place_note=new.place_note.strip(),
            category_id=category.code,
            text=new.text.strip(),
            anonymous=new.anonymous,
            filer_id=user.id,
            complainant_id=complainant_id,
            moderation=moderation,
            moderation_reason=reason,
            party=category.party,
            version=1,
            stage_entered_at=moment,
            stage_due_at=due,
            created_at=moment,
            using_db=conn,
        )
        photos = await records.attach(
            new.photo_ids, uploader_id=user.id, subject=subject("complaint", complaint.id), using_db=conn
        )
        role = "grid_worker" if complainant_id != user.id else "resident"
        await Event.create(
            complaint=complaint, seq=1, action="submit", from_status="", to_status=Status.SUBMITTED,
            actor_id=user.id, actor_role=role, photo_ids=[p.id for p in photos], at=moment, using_db=conn,
        )  # fmt: skip
        await append(
            compound_stream(new.compound_id), "complaint.submit", actor=actor,
            subject=f"complaint:{complaint.id}",
            payload={"category": category.code, "moderation": str(moderation), "photos": len(photos)},
        )  # fmt: skip
    await PhotoCheck(wechat, user.openid, media_url).submit(photos)
    return complaint


async def support(complaint_id: int, *, user_id: int, actor: Actor) -> Complaint:
    """ "Me too": a neighbour joins an open complaint instead of filing the same one again."""
    complaint = await load(complaint_id)
    decide(complaint, SUPPORT, await caller_of(user_id, complaint), clock.now())
    try:  # two at once: the unique (complaint, user) refuses the second
        async with in_transaction() as conn:
            await Support.create(complaint_id=complaint.id, user_id=user_id, using_db=conn)
            await Complaint.filter(id=complaint.id).using_db(conn).update(supporters=F("supporters") + 1)
            await append(
                compound_stream(complaint.compound_id), "complaint.support", actor=actor,  # type: ignore[attr-defined]
                subject=f"complaint:{complaint.id}",
            )  # fmt: skip
    except IntegrityError:
        raise AlreadySupported() from None
    await complaint.refresh_from_db()
    return complaint


SIMILAR_LIMIT = 20  # the newest ones: a choice of "me too" before filing, not an archive


async def similar_open(*, user_id: int, building_id: int, category: str) -> list[dict[str, Any]]:
    """Open complaints of this category in this building, without anything that identifies the filer
    (no name, no unit number: a complaint about one's own flat would give the flat away)."""
    building = await Building.get_or_none(id=building_id)
    if building is None:
        raise PlaceInvalid(details={"building_id": building_id})
    if not await compound_roles(user_id, building.compound_id) & NEIGHBOURS:  # type: ignore[attr-defined]
        raise NotAResident("只能查看自己小区的投诉")
    rows = (
        await Complaint.filter(
            building_id=building_id, category_id=category, status__in=list(OPEN), moderation=Moderation.PASSED
        )
        .order_by("-created_at")
        .limit(SIMILAR_LIMIT)
    )
    supported = set(
        await Support.filter(user_id=user_id, complaint_id__in=[c.id for c in rows]).values_list(
            "complaint_id", flat=True
        )
    )
    now = clock.now()
    callers = {c.id: await caller_of(user_id, c) for c in rows}
    return [
        {
            "id": c.id,
            "category": category,
            "text": c.text,
            "place": building.name if c.place_kind is not PlaceKind.COMMON else c.place_note,
            "status": str(c.status),
            "supporters": c.supporters,
            "created_at": c.created_at,
            "mine": user_id in (c.filer_id, c.complainant_id),  # type: ignore[attr-defined]
            "supported": c.id in supported,
            "allowed_actions": allowed_actions(c, callers[c.id], now),
        }
        for c in rows
    ]
