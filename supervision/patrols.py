"""Grid patrols: recording a patrol with its findings, reading them, turning a finding into a
complaint in one step, and the weekly coverage per worker and per compound ("三个全覆盖")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Building, Compound, User
from accounts.profile import display_name
from accounts.roles import Role, community_roles, compound_roles
from audit.service import Actor, append, compound_stream
from complaints import service as complaints
from complaints.models import Complaint, PlaceKind
from core import clock
from core.cache import Cache
from core.pages import Page, before, page
from photos import records
from photos.access import Sight, register_viewer, subject
from photos.models import Photo
from supervision.errors import (
    FindingEscalated,
    FindingNotFound,
    NotAGridWorker,
    NotTheRecorder,
    PatrolInvalid,
    PatrolNotFound,
)
from supervision.models import Finding, Patrol
from wechat.protocol import WeChatApi

MAX_FINDINGS = 20
MAX_ROUTE_POINTS = 500
MAX_PATROL_HOURS = 12
READERS = frozenset({Role.GRID_WORKER, Role.COMMUNITY_ADMIN, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class NewFinding:
    text: str
    place_note: str = ""
    building_id: int | None = None
    photo_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NewPatrol:
    compound_id: int
    started_at: datetime
    ended_at: datetime
    route: list[tuple[float, float, datetime]] = field(default_factory=list)
    note: str = ""
    findings: list[NewFinding] = field(default_factory=list)


def finding_subject(finding_id: int) -> str:
    return subject("finding", finding_id)


def week_of(moment: datetime | date) -> date:
    """The Monday (Beijing calendar) of the week a moment or a day falls in."""
    day = clock.to_local(moment).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def _check(new: NewPatrol, now: datetime) -> None:
    if new.ended_at < new.started_at:
        raise PatrolInvalid("巡查结束时间早于开始时间", details={"ended_at": "before started_at"})
    if new.ended_at - new.started_at > timedelta(hours=MAX_PATROL_HOURS):
        raise PatrolInvalid(f"一次巡查不超过 {MAX_PATROL_HOURS} 小时", details={"ended_at": "too long"})
    if new.ended_at > now + timedelta(minutes=5):
        raise PatrolInvalid("巡查时间不能晚于现在", details={"ended_at": "in the future"})
    if len(new.findings) > MAX_FINDINGS or len(new.route) > MAX_ROUTE_POINTS:
        raise PatrolInvalid(details={"findings_max": MAX_FINDINGS, "route_max": MAX_ROUTE_POINTS})


async def record(new: NewPatrol, *, worker: User, actor: Actor, photo_check: complaints.PhotoCheck) -> Patrol:
    """Store a patrol of a compound by a grid worker of its community, its findings and their photos."""
    compound = await Compound.get_or_none(id=new.compound_id)
    if compound is None or Role.GRID_WORKER not in await compound_roles(worker.id, new.compound_id):
        raise NotAGridWorker(details={"compound_id": new.compound_id})
    _check(new, clock.now())
    buildings = {f.building_id for f in new.findings if f.building_id is not None}
    if buildings and await Building.filter(id__in=list(buildings), compound_id=compound.id).count() != len(
        buildings
    ):
        raise PatrolInvalid("楼栋不属于该小区", details={"building_id": sorted(buildings)})
    photos: list[Photo] = []
    async with in_transaction() as conn:
        patrol = await Patrol.create(
            compound_id=compound.id,
            community_id=compound.community_id,  # type: ignore[attr-defined]
            worker_id=worker.id,
            started_at=new.started_at,
            ended_at=new.ended_at,
            route=[[lat, lng, at.astimezone(UTC).isoformat()] for lat, lng, at in new.route],
            note=new.note.strip(),
            created_at=clock.now(),
            using_db=conn,
        )
        for seq, item in enumerate(new.findings, start=1):
            finding = await Finding.create(
                patrol=patrol, seq=seq, text=item.text.strip(), place_note=item.place_note.strip(),
                building_id=item.building_id, using_db=conn,
            )  # fmt: skip
            photos += await records.attach(
                item.photo_ids, uploader_id=worker.id, subject=finding_subject(finding.id), using_db=conn
            )
        await append(
            compound_stream(compound.id), "patrol.record", actor=actor, subject=f"patrol:{patrol.id}",
            payload={"findings": len(new.findings), "photos": len(photos)},
        )  # fmt: skip
    await photo_check.submit(photos)
    return patrol


async def _readable(user_id: int, patrol: Patrol) -> bool:
    if patrol.worker_id == user_id:  # type: ignore[attr-defined]
        return True
    return bool(await community_roles(user_id, patrol.community_id) & READERS)  # type: ignore[attr-defined]


async def detail(patrol_id: int, *, user_id: int) -> dict[str, Any]:
    patrol = await Patrol.get_or_none(id=patrol_id)
    if patrol is None or not await _readable(user_id, patrol):
        raise PatrolNotFound()
    findings = await Finding.filter(patrol_id=patrol.id).order_by("seq")
    photo_rows = await Photo.filter(attached_to__in=[finding_subject(f.id) for f in findings]).values_list(
        "id", "attached_to"
    )
    by_subject: dict[str, list[int]] = {}
    for pid, attached in sorted(photo_rows):
        by_subject.setdefault(attached, []).append(pid)
    return {
        **_row(patrol),
        "route": patrol.route,
        "findings": [
            {
                "seq": f.seq,
                "text": f.text,
                "place_note": f.place_note,
                "building_id": f.building_id,  # type: ignore[attr-defined]
                "complaint_id": f.complaint_id,  # type: ignore[attr-defined]
                "photo_ids": by_subject.get(finding_subject(f.id), []),
            }
            for f in findings
        ],
    }


def _row(p: Patrol) -> dict[str, Any]:
    return {
        "id": p.id,
        "compound_id": p.compound_id,  # type: ignore[attr-defined]
        "community_id": p.community_id,  # type: ignore[attr-defined]
        "worker_id": p.worker_id,  # type: ignore[attr-defined]
        "started_at": p.started_at,
        "ended_at": p.ended_at,
        "note": p.note,
    }


async def of_community(
    community_id: int, *, compound_id: int | None = None, cursor: str | None = None, limit: int = 20
) -> Page[dict[str, Any]]:
    """Patrols of a community, newest first (by id), one page."""
    query = Patrol.filter(community_id=community_id)
    if compound_id is not None:
        query = query.filter(compound_id=compound_id)
    below = before(cursor)
    if below is not None:
        query = query.filter(id__lt=below)
    rows = await query.order_by("-id").limit(limit + 1)
    found = page(rows, limit, key=lambda p: p.id)
    return Page(items=[_row(p) for p in found.items], next_cursor=found.next_cursor)


async def escalate(
    patrol_id: int,
    seq: int,
    *,
    category: str,
    worker: User,
    actor: Actor,
    wechat: WeChatApi,
    cache: Cache,
    media_url: Callable[[Photo], str],
) -> Complaint:
    """Turn a finding into a complaint filed by the grid worker who recorded it: the same text and
    place, its photos moved to the complaint. Once only: the finding is claimed by a conditional UPDATE
    first, so two taps (or two workers) never file two complaints."""
    finding = await Finding.get_or_none(patrol_id=patrol_id, seq=seq).prefetch_related("patrol")
    if finding is None or not await _readable(worker.id, finding.patrol):
        raise FindingNotFound()
    if finding.patrol.worker_id != worker.id:  # type: ignore[attr-defined]
        raise NotTheRecorder()
    claimed = await Finding.filter(id=finding.id, complaint_id=None, escalating=False).update(escalating=True)
    if claimed != 1:
        raise FindingEscalated(details={"complaint_id": finding.complaint_id})  # type: ignore[attr-defined]
    here = finding_subject(finding.id)
    photo_ids: list[int] = [p.id for p in await Photo.filter(attached_to=here).order_by("id").only("id")]
    # Released so the complaint can claim them in its own transaction (records.attach takes only
    # unattached photos of their uploader); put back below if filing fails.
    await Photo.filter(id__in=photo_ids, attached_to=here).update(attached_to=None)
    new = complaints.NewComplaint(
        compound_id=finding.patrol.compound_id,  # type: ignore[attr-defined]
        category=category,
        text=finding.text if len(finding.text) >= 5 else f"网格巡查发现：{finding.text}",
        place_kind=PlaceKind.BUILDING if finding.building_id is not None else PlaceKind.COMMON,  # type: ignore[attr-defined]
        building_id=finding.building_id,  # type: ignore[attr-defined]
        place_note=finding.place_note or "网格巡查发现",
        photo_ids=photo_ids,
    )
    try:
        complaint = await complaints.file_complaint(
            new, user=worker, actor=actor, wechat=wechat, cache=cache, media_url=media_url
        )
    except BaseException:
        await Photo.filter(id__in=photo_ids, attached_to__isnull=True).update(attached_to=here)
        await Finding.filter(id=finding.id).update(escalating=False)
        raise
    await Finding.filter(id=finding.id).update(complaint_id=complaint.id, escalating=False)
    await append(
        compound_stream(complaint.compound_id), "patrol.escalate", actor=actor,  # type: ignore[attr-defined]
        subject=f"patrol:{patrol_id}", payload={"finding": seq, "complaint_id": complaint.id},
    )  # fmt: skip
    return complaint


def weeks_between(since: date, until: date) -> list[date]:
    """The Mondays of every week that [since, until] touches."""
    first, last = week_of(since), week_of(until)
    return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]


def local_range(since: date, until: date) -> tuple[datetime, datetime]:
    """[since 00:00, until+1 00:00) in Beijing time, as UTC instants (SQLite compares text: UTC)."""
    start = datetime.combine(since, datetime.min.time(), clock.SHANGHAI).astimezone(UTC)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), clock.SHANGHAI).astimezone(UTC)
    return start, end


async def coverage(community_id: int, *, since: date, until: date) -> dict[str, Any]:
    """Per week of [since, until]: which compounds of the community a patrol reached, and how many
    patrols and compounds each worker did."""
    weeks = weeks_between(since, until)
    start, end = local_range(weeks[0], weeks[-1] + timedelta(days=6))
    compounds = await Compound.filter(community_id=community_id).order_by("id").values_list("id", "name")
    rows = await Patrol.filter(
        community_id=community_id, started_at__gte=start, started_at__lt=end
    ).values_list("worker_id", "compound_id", "started_at")
    reached: dict[date, set[int]] = {w: set() for w in weeks}
    per_worker: dict[int, dict[date, list[int]]] = {}
    for worker_id, compound_id, started in rows:
        week = week_of(started)
        reached[week].add(compound_id)
        per_worker.setdefault(worker_id, {}).setdefault(week, []).append(compound_id)
    names = {u.id: display_name(u, "网格员") for u in await User.filter(id__in=list(per_worker))}
    total = len(compounds)
    return {
        "community_id": community_id,
        "weeks": [
            {
                "week": w,
                "compounds": total,
                "patrolled": len(reached[w]),
                "share": round(len(reached[w]) / total, 4) if total else 0.0,
            }
            for w in weeks
        ],
        "compounds": [
            {"compound_id": cid, "name": name, "weeks_patrolled": [w for w in weeks if cid in reached[w]]}
            for cid, name in compounds
        ],
        "workers": [
            {
                "worker_id": wid,
                "name": names.get(wid, ""),
                "weeks": [
                    {
                        "week": w,
                        "patrols": len(per_worker[wid].get(w, [])),
                        "compounds": len(set(per_worker[wid].get(w, []))),
                    }
                    for w in weeks
                ],
            }
            for wid in sorted(per_worker)
        ],
    }


async def _finding_viewer(user_id: int, finding_id: int) -> Sight:
    finding = await Finding.get_or_none(id=finding_id).prefetch_related("patrol")
    if finding is None:
        return Sight.NONE
    if finding.patrol.worker_id == user_id:  # type: ignore[attr-defined]
        return Sight.VIEW
    held = await community_roles(user_id, finding.patrol.community_id)  # type: ignore[attr-defined]
    if Role.COMMUNITY_ADMIN in held:
        return Sight.MODERATE
    return Sight.VIEW if held & READERS else Sight.NONE


register_viewer("finding", _finding_viewer)
