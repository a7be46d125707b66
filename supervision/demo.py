"""A year of supervision history for the demo county (after accounts.demo and the complaints
catalogue): a grid worker per community, the weekly patrols of every compound (some with findings,
a third of those turned into complaints) and the complaints residents filed over the last 365 days,
all handled and closed, with their event trails. Drawn from a seeded random generator, so the same
day gives the same county; written with bulk inserts so seed-demo stays quick. Idempotent: once the
patrols are there, a second run adds nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Community, Compound, RoleGrant, ServiceContract, User
from complaints.models import Category, Complaint, Moderation, Party, PlaceKind, Status
from core import clock
from supervision import reads
from supervision.models import Patrol

SEED = 17
DAYS = 365
PATROL_NOTE = "日常巡查"
# community → weekly chance that a compound gets its patrol (how well each grid covers its compounds)
COVERAGE = {
    "东街社区": 0.92,
    "西街社区": 0.74,
    "北城社区": 0.63,
    "新北社区": 0.81,
    "紫荆社区": 0.7,
    "南城社区": 0.96,
}
FINDING_CHANCE = 0.14
ESCALATE_CHANCE = 0.35
# (category, text, place note) a resident or a grid worker would write
TEXTS: dict[str, tuple[tuple[str, str], ...]] = {
    "repair": (("楼道声控灯不亮", "楼道"), ("单元门禁损坏，门关不上", "单元门"), ("电梯运行有异响", "电梯")),
    "property_service": (("保洁不及时，楼道有垃圾", "楼道"), ("门岗夜间无人值守", "小区大门")),
    "ebike_charging": (("电动车在楼道内充电", "楼道"), ("飞线充电，存在安全隐患", "车棚旁")),
    "blocked_passage": (("消防通道被车辆占用", "消防通道"), ("楼道堆放杂物堵塞通道", "楼道")),
    "rubbish_dumping": (("垃圾桶满溢未清运", "垃圾投放点"), ("装修垃圾随意丢弃", "绿化带")),
    "cooking_fumes": (("底商餐馆油烟直排", "临街底商"),),
    "noise": (("夜间装修噪音扰民", "楼上住户"), ("广场舞音响声音过大", "小区广场")),
    "sewage": (("化粪池外溢", "北侧道路"), ("雨水井堵塞积水", "小区主路")),
    "illegal_construction": (("顶楼违章搭建彩钢房", "屋顶"),),
    "structural_change": (("住户拆除承重墙", "楼内住户"),),
    "neighbour_dispute": (("楼上漏水与邻居协商不成", "楼内住户"),),
    "disorderly_parking": (("车辆乱停挡住出入口", "小区出入口"),),
    "piling_on_common_ground": (("公共绿地被圈占种菜", "绿地"),),
    "green_space": (("绿化带树木被砍伐", "绿化带"),),
    "animals": (("遛狗不牵绳", "小区广场"),),
    "fee_pricing": (("物业费收费标准未公示", "物业服务中心"),),
    "vulnerable_residents": (("独居老人需要帮扶", "楼内住户"),),
}
# how often residents file each kind (property matters most)
WEIGHTS = {
    "repair": 9,
    "property_service": 6,
    "ebike_charging": 3,
    "blocked_passage": 3,
    "rubbish_dumping": 4,
}
RATINGS = (5, 5, 5, 4, 4, 4, 3, 2, 1)


@dataclass(frozen=True, slots=True)
class _Place:
    id: int
    community: str
    community_id: int
    standalone: bool
    company_id: int | None


async def _grid_workers(communities: list[Community]) -> dict[int, int]:
    """Community id → its grid worker: demo-grid for 东街 (accounts.demo), one more per community."""
    workers: dict[int, int] = {}
    for index, community in enumerate(communities):
        openid = "demo-grid" if index == 0 else f"demo-grid-{index + 1}"
        user = await User.get_or_none(openid=openid)
        if user is None:
            user = await User.create(openid=openid, nickname=f"{community.name[:2]}网格员")
        if not await RoleGrant.exists(
            user_id=user.id, role="grid_worker", scope_type="community", scope_id=community.id
        ):
            await RoleGrant.create(
                user=user, role="grid_worker", scope_type="community", scope_id=community.id
            )
        workers[community.id] = user.id
    return workers


def _moment(rng: random.Random, start: datetime, day: int) -> datetime:
    """A daytime moment (Beijing 08:00-21:59) of the day ``day`` after ``start``, to the second."""
    return start + timedelta(
        days=day, hours=rng.randrange(8, 22), minutes=rng.randrange(60), seconds=rng.randrange(60)
    )


async def seed_supervision(*, now: datetime | None = None) -> str:
    communities = await Community.all().order_by("id")
    if not communities or await Compound.all().count() == 0 or not await Category.exists():
        return "supervision demo skipped (no demo county or complaints catalogue)"
    if await Patrol.exists(note=PATROL_NOTE):
        return "supervision: 0 patrols, 0 findings, 0 complaints"
    moment = now or clock.now()
    # Beijing midnight a year ago, as UTC
    first = clock.to_local(moment).date() - timedelta(days=DAYS)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(hours=8)
    names = {c.id: c.name for c in communities}
    serving = dict(
        await ServiceContract.filter(starts_on__lte=first + timedelta(days=DAYS), ends_on__gte=first)
        .order_by("starts_on", "id")
        .values_list("compound_id", "company_id")
    )
    places = [
        _Place(i, names[c], c, bool(s), serving.get(i))
        for i, c, s in await Compound.all().order_by("id").values_list("id", "community_id", "standalone")
    ]
    categories = {
        code: (Party(party), department)
        for code, party, department in await Category.all()
        .order_by("sort", "code")
        .values_list("code", "party", "department_id")
        if code in TEXTS
    }
    rng = random.Random(SEED)
    async with in_transaction() as conn:
        workers = await _grid_workers(list(communities))
        patrols, findings = _patrols(rng, places, workers, start, moment)
        await _insert(conn, "patrol", patrols)
        patrol_ids = await _keys(conn, "patrol", "started_at", "note = {}", [PATROL_NOTE])
        made = _Complaints(rng, categories, moment)
        finding_rows: list[dict[str, Any]] = []
        escalated: list[tuple[dict[str, Any], tuple[int, float]]] = []
        by_id = {p.id: p for p in places}
        for patrol, seq, category, text, note in findings:
            key = (patrol["compound_id"], patrol["started_at"].timestamp())
            row = {"patrol_id": patrol_ids[key], "seq": seq, "text": text, "place_note": note,
                   "building_id": None, "complaint_id": None, "escalating": False}  # fmt: skip
            finding_rows.append(row)
            filed = patrol["ended_at"] + timedelta(minutes=rng.randrange(5, 60))
            # only findings of two days ago and before: every complaint is handled, its steps all past
            if rng.random() < ESCALATE_CHANCE and filed < moment - timedelta(days=2):
                place = by_id[patrol["compound_id"]]
                escalated.append((row, made.add(place, category, text, note, patrol["worker_id"], filed)))
        for place in places:
            for _ in range(rng.randint(2, 8) if place.standalone else rng.randint(10, 40)):
                category = rng.choices(list(categories), [WEIGHTS.get(c, 1) for c in categories])[0]
                text, note = rng.choice(TEXTS[category])
                filed = _moment(rng, start, rng.randrange(DAYS))
                if filed < moment - timedelta(days=2):  # everything handled: the queues stay as they are
                    made.add(place, category, text, note, workers[place.community_id], filed)
        last = await Complaint.all().using_db(conn).order_by("-id").first()
        await _insert(conn, "complaint", [c for c, _ in made.rows])
        complaint_ids = await _keys(conn, "complaint", "created_at", "id > {}", [last.id if last else 0])
        events = []
        for complaint, trail in made.rows:
            cid = complaint_ids[complaint["compound_id"], complaint["created_at"].timestamp()]
            events += [{"complaint_id": cid, **event} for event in trail]
        await _insert(conn, "complaint_event", events)
        for row, key in escalated:
            row["complaint_id"] = complaint_ids[key]
        await _insert(conn, "patrol_finding", finding_rows)
    return f"supervision: {len(patrols)} patrols, {len(finding_rows)} findings, {len(made.rows)} complaints"


async def _keys(
    conn: Any, table: str, moment: str, where: str, params: list[Any]
) -> dict[tuple[int, float], int]:
    """(compound, instant) → id of the rows just written, read without the ORM's conversions."""
    mark = "$1" if conn.capabilities.dialect == "postgres" else "?"
    sql = f"SELECT id, compound_id, {moment} FROM {table} WHERE {where.format(mark)}"  # noqa: S608
    _, found = await conn.execute_query(sql, params)
    return {(r[1], reads.instant(r[2]).timestamp()): r[0] for r in found}


async def _insert(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Plain multi-row inserts: building ORM objects costs far more than writing the rows (seconds for
    a year of the county's complaints); every row of ``rows`` has the same keys, all columns."""
    if not rows:
        return
    columns = list(rows[0])
    postgres = conn.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, len(columns) + 1))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our own names
    await conn.execute_many(sql, [[row[c] for c in columns] for row in rows])


class _Complaints:
    """The complaints being made, each at its own second in its compound (how they are found again)."""

    def __init__(self, rng: random.Random, categories: dict[str, tuple[Party, Any]], now: datetime) -> None:
        self.rng, self.categories, self.now = rng, categories, now
        self.rows: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.taken: set[tuple[int, float]] = set()

    def add(
        self, place: _Place, category: str, text: str, note: str, filer_id: int, created: datetime
    ) -> tuple[int, float]:
        while (place.id, created.timestamp()) in self.taken:
            created += timedelta(seconds=1)
        key = (place.id, created.timestamp())
        self.taken.add(key)
        self.rows.append(
            _complaint(self.rng, place, self.categories, category, text, note, filer_id, created, self.now)
        )
        return key


def _patrols(
    rng: random.Random, places: list[_Place], workers: dict[int, int], start: datetime, now: datetime
) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], int, str, str, str]]]:
    """Each week of the year, each compound patrolled with its community's chance; some findings."""
    patrols: list[dict[str, Any]] = []
    findings: list[tuple[dict[str, Any], int, str, str, str]] = []
    codes = list(TEXTS)
    for week in range(DAYS // 7 + 1):
        for place in places:
            if rng.random() >= COVERAGE.get(place.community, 0.7):
                continue
            started = _moment(rng, start, week * 7 + rng.randrange(5))  # a working day of the week
            ended = started + timedelta(minutes=rng.randrange(20, 90))
            if ended >= now:
                continue
            patrol = {"compound_id": place.id, "community_id": place.community_id,
                      "worker_id": workers[place.community_id], "started_at": started, "ended_at": ended,
                      "route": "[]", "note": PATROL_NOTE, "created_at": ended}  # fmt: skip
            patrols.append(patrol)
            seq = 0
            while rng.random() < FINDING_CHANCE and seq < 3:
                seq += 1
                category = rng.choice(codes)
                text, note = rng.choice(TEXTS[category])
                findings.append((patrol, seq, category, text, note))
    return patrols, findings


def _complaint(
    rng: random.Random, place: _Place, categories: dict[str, tuple[Party, Any]], category: str, text: str,
    note: str, filer_id: int, created: datetime, now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:  # fmt: skip
    """A complaint filed for a resident at ``created``: accepted, (dispatched,) resolved, rated or not,
    closed; overdue when a stage took too long. Its events carry every step."""
    party, department = categories[category]
    accepted = created + timedelta(minutes=rng.randrange(10, 300))
    hours = rng.lognormvariate(3.0, 0.9)  # median about 20 hours
    resolved = min(accepted + timedelta(hours=hours), now - timedelta(hours=1))
    rating = rng.choice(RATINGS) if rng.random() < 0.7 else None
    closed = min(resolved + timedelta(days=rng.randint(1, 7)), now)
    overdue = hours > (48 if party is Party.PROPERTY else 96) or accepted - created > timedelta(hours=4)
    steps = [
        ("submit", "", Status.SUBMITTED, created),
        ("accept", Status.SUBMITTED, Status.ACCEPTED, accepted),
    ]
    if party is Party.DEPARTMENT:
        steps.append(("dispatch", Status.ACCEPTED, Status.DISPATCHED, accepted + timedelta(minutes=30)))
    resolved = max(resolved, steps[-1][3] + timedelta(minutes=1))  # never before the step it follows
    closed = max(closed, resolved)
    steps.append(("resolve", steps[-1][2], Status.RESOLVED, resolved))
    if rating is not None:
        steps.append(("rate", Status.RESOLVED, Status.CONFIRMED, resolved + (closed - resolved) / 2))
    steps.append(("close", steps[-1][2], Status.CLOSED, closed))
    events = [
        {"seq": n, "action": action, "from_status": str(before), "to_status": str(after), "actor_id": None,
         "actor_role": _role(action, party), "note": "", "photo_ids": "[]",
         "data": f'{{"rating": {rating}}}' if action == "rate" else "{}", "at": at}
        for n, (action, before, after, at) in enumerate(steps, start=1)
    ]  # fmt: skip
    complaint = {
        "compound_id": place.id, "building_id": None, "unit_id": None, "place_kind": str(PlaceKind.COMMON),
        "place_note": note, "category_id": category, "text": text, "anonymous": True, "filer_id": filer_id,
        "complainant_id": None, "status": str(Status.CLOSED), "moderation": str(Moderation.PASSED),
        "moderation_reason": "", "party": str(party),
        "company_id": place.company_id if party is Party.PROPERTY else None,
        "department_id": department if party is Party.DEPARTMENT else None, "version": len(events),
        "stage_entered_at": closed, "stage_due_at": None, "stage_escalated": False, "overdue": overdue,
        "escalations": 0, "supporters": 0, "rating": rating, "reopen_count": 0, "created_at": created,
        "resolved_at": resolved, "closed_at": closed,
    }  # fmt: skip
    return complaint, events


def _role(action: str, party: Party) -> str:
    if action == "submit":
        return "grid_worker"
    if action == "rate":
        return "resident"
    if action == "close":
        return "system"
    if action in ("accept", "dispatch"):
        return "community_admin" if party is Party.DEPARTMENT else "property_staff"
    return "department_staff" if party is Party.DEPARTMENT else "property_staff"
