"""Grid patrols over HTTP: a grid worker records a patrol with a route and findings with photos (real
JPEG bytes through POST /photos), turns a finding into a complaint once (even when asked five times at
once), refusals change nothing, and the weekly coverage counts what the fixture made."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx

from audit.service import events
from complaints.models import Complaint
from core import clock
from photos.models import Photo
from supervision.models import Finding, Patrol
from supervision.patrols import week_of

from .conftest import SINCE, UNTIL, County, jpeg


async def upload(api: httpx.AsyncClient, county: County, who: str) -> int:
    r = await api.post(
        "/photos", content=jpeg(), headers={**county.headers(who), "content-type": "image/jpeg"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def patrol_body(county: County, compound: str = "a1", **extra: Any) -> dict[str, Any]:
    started = clock.now() - timedelta(hours=2)
    return {
        "compound_id": county.compounds[compound].id,
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=50)).isoformat(),
        **extra,
    }


async def test_a_grid_worker_records_a_patrol_with_route_findings_and_photos(
    api: httpx.AsyncClient, county: County
) -> None:
    photo = await upload(api, county, "grid_worker")
    started = clock.now() - timedelta(hours=2)
    body = patrol_body(
        county,
        route=[{"latitude": 30.1 + i / 1000, "longitude": 104.2, "at": (started + timedelta(minutes=i)).isoformat()}
               for i in range(3)],
        note="例行巡查",
        findings=[
            {"text": "消防通道停放电动车三辆", "place_note": "3号楼东侧", "building_id": county.buildings["a1"].id,
             "photo_ids": [photo]},
            {"text": "垃圾桶满溢", "place_note": "北门"},
        ],
    )  # fmt: skip
    r = await api.post("/patrols", json=body, headers=county.headers("grid_worker"))
    assert r.status_code == 201, r.text
    data = r.json()
    assert [f["seq"] for f in data["findings"]] == [1, 2]
    assert [p["id"] for p in data["findings"][0]["photos"]] == [photo]
    assert len(data["route"]) == 3 and data["route"][0]["latitude"] == 30.1
    assert (await Photo.get(id=photo)).attached_to == f"finding:{(await Finding.get(seq=1)).id}"
    stream = await events(f"compound:{county.compounds['a1'].id}")
    assert [e["action"] for e in stream] == ["patrol.record"]
    for who in ("community_admin", "supervisor"):
        r = await api.get(f"/patrols/{data['id']}", headers=county.headers(who))
        assert r.status_code == 200 and r.json()["findings"][0]["text"] == "消防通道停放电动车三辆"


async def test_a_finding_becomes_a_complaint_once(api: httpx.AsyncClient, county: County) -> None:
    photo = await upload(api, county, "grid_worker")
    body = patrol_body(
        county,
        findings=[
            {"text": "楼道灯不亮", "photo_ids": [photo]},
            {"text": "绿地被占用种菜", "place_note": "南侧绿地"},
        ],
    )
    patrol = (await api.post("/patrols", json=body, headers=county.headers("grid_worker"))).json()
    before = await Complaint.all().count()
    r = await api.post(
        f"/patrols/{patrol['id']}/findings/1/complaint",
        json={"category": "repair"},
        headers=county.headers("grid_worker"),
    )
    assert r.status_code == 201, r.text
    complaint = await Complaint.get(id=r.json()["complaint_id"])
    assert complaint.filer_id == county.users["grid_worker"].id and complaint.complainant_id is None  # type: ignore[attr-defined]
    assert complaint.text == "楼道灯不亮" and complaint.place_note == "网格巡查发现"
    assert (
        await Photo.get(id=photo)
    ).attached_to == f"complaint:{complaint.id}"  # the evidence moved with it
    shown = (await api.get(f"/patrols/{patrol['id']}", headers=county.headers("grid_worker"))).json()
    assert shown["findings"][0]["complaint_id"] == complaint.id and shown["findings"][0]["photos"] == []
    again = await api.post(
        f"/patrols/{patrol['id']}/findings/1/complaint",
        json={"category": "repair"},
        headers=county.headers("grid_worker"),
    )
    assert (again.status_code, again.json()["code"]) == (409, "patrol_finding_escalated")
    # five taps at once on the second finding: one complaint
    answers = await asyncio.gather(
        *[
            api.post(f"/patrols/{patrol['id']}/findings/2/complaint", json={"category": "green_space"},
                     headers=county.headers("grid_worker"))
            for _ in range(5)
        ]
    )  # fmt: skip
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert await Complaint.all().count() == before + 2
    # a category that does not exist: nothing filed, the finding can still be escalated later
    third = (await api.post("/patrols", json=patrol_body(county, findings=[{"text": "井盖松动"}]),
                            headers=county.headers("grid_worker"))).json()  # fmt: skip
    r = await api.post(
        f"/patrols/{third['id']}/findings/1/complaint",
        json={"category": "nothing"},
        headers=county.headers("grid_worker"),
    )
    assert r.status_code == 400
    assert await Finding.filter(patrol_id=third["id"], complaint_id=None, escalating=False).count() == 1
    assert await Complaint.all().count() == before + 2


async def test_refused_patrols_store_nothing(api: httpx.AsyncClient, county: County) -> None:
    before = await Patrol.all().count()
    h = county.headers("grid_worker")
    r = await api.post("/patrols", json=patrol_body(county, "b1"), headers=h)  # another community
    assert (r.status_code, r.json()["code"]) == (403, "patrol_not_grid_worker")
    r = await api.post("/patrols", json=patrol_body(county), headers=county.headers("community_admin"))
    assert r.status_code == 403
    body = patrol_body(county)
    early = (clock.now() - timedelta(hours=3)).isoformat()
    r = await api.post("/patrols", json={**body, "ended_at": early}, headers=h)  # ends before it starts
    assert (r.status_code, r.json()["code"]) == (400, "patrol_invalid")
    future = clock.now() + timedelta(hours=2)
    r = await api.post(
        "/patrols", json={**body, "started_at": future.isoformat(), "ended_at": (future + timedelta(minutes=5)).isoformat()},
        headers=h,
    )  # fmt: skip
    assert r.status_code == 400
    r = await api.post(
        "/patrols", json=patrol_body(county, findings=[{"text": "外墙脱落", "building_id": county.buildings["a2"].id}]),
        headers=h,
    )  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (400, "patrol_invalid")
    photo = await upload(api, county, "other_grid_worker")  # someone else's photo cannot be claimed
    r = await api.post(
        "/patrols", json=patrol_body(county, findings=[{"text": "外墙脱落", "photo_ids": [photo]}]), headers=h
    )
    assert r.status_code in (400, 403, 409)
    assert await Patrol.all().count() == before
    assert await Finding.all().count() == 0


async def test_weekly_coverage_counts_the_patrols(api: httpx.AsyncClient, county: County) -> None:
    a = county.communities["A"]
    r = await api.get(
        f"/admin/communities/{a.id}/patrol-coverage",
        params={"since": str(SINCE), "until": str(UNTIL)},
        headers=county.headers("community_admin"),
    )
    assert r.status_code == 200, r.text
    data = r.json()
    mondays = [SINCE + timedelta(weeks=i) for i in range(26)]
    assert [w["week"] for w in data["weeks"]] == [str(m) for m in mondays]
    mine = [
        (k, w, s)
        for k, w, s in county.patrols
        if county.community_of(k) == "A" and SINCE <= week_of(s) <= UNTIL
    ]
    for week in data["weeks"]:
        reached = {k for k, _, s in mine if str(week_of(s)) == week["week"]}
        assert (week["patrolled"], week["compounds"]) == (len(reached), 4)
    for row in data["compounds"]:
        key = next(k for k, c in county.compounds.items() if c.id == row["compound_id"])
        assert row["weeks_patrolled"] == sorted({str(week_of(s)) for k, _, s in mine if k == key})
    [worker] = data["workers"]
    assert worker["worker_id"] == county.users["grid_worker"].id and worker["name"] == "grid_worker"
    assert sum(w["patrols"] for w in worker["weeks"]) == len(mine)
    r = await api.get(
        f"/admin/communities/{a.id}/patrols", params={"limit": 2}, headers=county.headers("grid_worker")
    )
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"] is not None
    rest = await api.get(
        f"/admin/communities/{a.id}/patrols",
        params={"cursor": page["next_cursor"]},
        headers=county.headers("grid_worker"),
    )
    ids = [p["id"] for p in page["items"] + rest.json()["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(
        [p for p in county.patrols if county.community_of(p[0]) == "A"]
    )
    assert date.fromisoformat(data["weeks"][-1]["week"]) == week_of(UNTIL)
