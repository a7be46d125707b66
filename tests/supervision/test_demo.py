"""The supervision demo: a year of complaints and weekly patrols across the whole demo county, loaded
once; the county dashboard then shows them, and its figures equal counts made here from the rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from accounts.demo import seed_demo
from accounts.models import Compound, RoleGrant, User
from complaints.demo import seed_complaints_catalog
from complaints.models import Complaint, Event, Moderation, Status
from core import clock
from core.cache import Cache
from supervision import dashboard
from supervision.demo import seed_supervision
from supervision.models import Finding, Patrol


def beijing_day(moment: datetime) -> date:
    assert moment.utcoffset() == timedelta(0)
    return (moment + timedelta(hours=8)).date()


async def test_the_demo_year_shows_on_the_county_dashboard(clean_db: None, cache: Cache) -> None:
    assert (await seed_supervision()).startswith("supervision demo skipped")
    await seed_demo(hmac_key=b"k" * 32)
    await seed_complaints_catalog()
    now = clock.now()
    first = await seed_supervision(now=now)
    counts = [await m.all().count() for m in (Patrol, Finding, Complaint, Event, User, RoleGrant)]
    assert first == f"supervision: {counts[0]} patrols, {counts[1]} findings, {counts[2]} complaints"
    assert await seed_supervision(now=now) == "supervision: 0 patrols, 0 findings, 0 complaints"
    assert [await m.all().count() for m in (Patrol, Finding, Complaint, Event, User, RoleGrant)] == counts

    compounds = await Compound.all().count()
    assert compounds == 216
    # a grid worker per community, each patrolling only its own community's compounds
    grants = {g.user_id: g.scope_id for g in await RoleGrant.filter(role="grid_worker")}  # type: ignore[attr-defined]
    assert len(set(grants.values())) == 6
    community_of = dict(await Compound.all().values_list("id", "community_id"))
    patrols = await Patrol.all().values_list(
        "compound_id", "community_id", "worker_id", "started_at", "ended_at"
    )
    assert all(community_of[c] == m == grants[w] and s < e <= now for c, m, w, s, e in patrols)
    # escalated findings point at a complaint of the same compound filed by the patrol's worker
    escalated = await Finding.filter(complaint_id__not_isnull=True).prefetch_related("patrol", "complaint")
    assert 0 < len(escalated) < await Finding.all().count()
    for finding in escalated:
        complaint: Any = finding.complaint
        patrol: Any = finding.patrol
        assert (complaint.compound_id, complaint.filer_id) == (patrol.compound_id, patrol.worker_id)
        assert complaint.text == finding.text
    # every complaint is closed, its events one per version, in time order, ending closed
    trail: dict[int, list[tuple[int, str, datetime]]] = defaultdict(list)
    for cid, seq, to_status, at in await Event.all().values_list("complaint_id", "seq", "to_status", "at"):
        trail[cid].append((seq, to_status, at))
    rows = await Complaint.all().values_list(
        "id",
        "compound_id",
        "created_at",
        "resolved_at",
        "overdue",
        "rating",
        "status",
        "version",
        "moderation",
    )
    for cid, _, created, resolved, _, _, status, version, _ in rows:
        steps = sorted(trail[cid])
        assert status == Status.CLOSED and [s for s, *_ in steps] == list(range(1, version + 1))
        assert steps[-1][1] == Status.CLOSED and created <= resolved <= now
        assert [at for *_, at in steps] == sorted(at for *_, at in steps)

    until = clock.to_local(now).date()
    since = until - timedelta(days=364)
    f = dashboard.filters(since=since, until=until)
    shown = await dashboard.dashboard(cache, f)
    assert shown == await dashboard.dashboard(cache, f)  # cached afterwards, the same answer

    # complaints counted here: staff-visible ones filed on a Beijing day of the period
    counted = [r for r in rows if r[8] == Moderation.PASSED and since <= beijing_day(r[2]) <= until]
    ratings = [r[5] for r in counted if r[5] is not None]
    county = shown["county"]
    assert county["compounds"] == compounds
    assert county["complaints"]["count"] == len(counted) > 1000
    assert county["complaints"]["resolved"] == sum(1 for r in counted if r[3] is not None)
    assert county["complaints"]["overdue_share"] == round(sum(r[4] for r in counted) / len(counted), 4) > 0
    assert county["complaints"]["ratings"] == len(ratings) > 0
    assert county["complaints"]["average_rating"] == round(sum(ratings) / len(ratings), 2)
    assert sum(m["count"] for m in shown["months"]) == len(counted)
    per_compound = Counter(r[1] for r in counted)
    assert {
        r["compound_id"]: r["complaints"]["count"] for r in shown["compounds"] if r["complaints"]["count"]
    } == (dict(per_compound))

    # patrol coverage counted here: distinct (compound, Monday) of patrols on a Beijing day of the period
    weeks: dict[int, set[date]] = defaultdict(set)
    for compound_id, _, _, started, _ in patrols:
        day = beijing_day(started)
        if since <= day <= until:
            weeks[compound_id].add(day - timedelta(days=day.weekday()))
    first_monday = since - timedelta(days=since.weekday())
    n_weeks = (until - first_monday).days // 7 + 1
    assert {r["compound_id"]: r["weeks_patrolled"] for r in shown["compounds"] if r["weeks_patrolled"]} == {
        c: len(w) for c, w in weeks.items()
    }
    total = sum(len(w) for w in weeks.values())
    assert total > 0 and county["patrol_coverage"] == round(total / (compounds * n_weeks), 4) > 0
    for row in shown["communities"]:
        assert row["complaints"]["count"] == sum(
            n for c, n in per_compound.items() if community_of[c] == row["community_id"]
        )
