"""Who may call each supervision route, over HTTP: a row per (route, person) with the status they
get; a refused write changes nothing; the matrix covers exactly the routes supervision declares."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from complaints.models import Complaint
from core import clock
from supervision.models import Finding, Patrol
from tests.matrix import covered, declared

from .conftest import PEOPLE, SINCE, UNTIL, County

PERIOD = f"?since={SINCE}&until={UNTIL}"
EVERYONE = (*PEOPLE, "anonymous")


def rows(county: County, patrol_id: int) -> list[tuple[str, str, str, int]]:
    a, b = county.communities["A"].id, county.communities["B"].id
    table: list[tuple[str, str, str, int]] = []

    def each(method: str, path: str, allowed: dict[str, int], otherwise: int) -> None:
        for who in EVERYONE:
            table.append((method, path, who, 401 if who == "anonymous" else allowed.get(who, otherwise)))

    each("POST", "/patrols", {"grid_worker": 201}, 403)
    readers = {"grid_worker": 200, "community_admin": 200, "supervisor": 200}
    each("GET", f"/patrols/{patrol_id}", readers, 404)  # not revealing that it exists
    # the recorder only; others of the community see it but may not file as its recorder
    each(
        "POST", f"/patrols/{patrol_id}/findings/1/complaint",
        {"grid_worker": 201, "community_admin": 403, "supervisor": 403}, 404,
    )  # fmt: skip
    for tail in ("patrols", "patrol-coverage"):
        each("GET", f"/admin/communities/{a}/{tail}{PERIOD if tail != 'patrols' else ''}", readers, 403)
    for tail in ("dashboard", "dashboard/communities/export", "dashboard/months/export"):
        each(
            "GET", f"/admin/communities/{a}/{tail}{PERIOD}", {"community_admin": 200, "supervisor": 200}, 403
        )
    each(
        "GET",
        f"/admin/communities/{b}/dashboard{PERIOD}",
        {"other_community_admin": 200, "supervisor": 200},
        403,
    )
    for path in ("/supervision/dashboard", "/supervision/dashboard/communities/export",
                 "/supervision/dashboard/months/export", "/supervision/compounds", "/supervision/compounds/export"):  # fmt: skip
        each("GET", path + PERIOD, {"supervisor": 200}, 403)
    # Open311 reads are public, as the spec's servers are; writes need a key, not a session
    for path in ("/services.json", "/services.xml", "/services/repair.json", "/requests.json", "/requests.xml",
                 "/requests/1.json"):  # fmt: skip
        for who in EVERYONE:
            table.append(("GET", f"/open311/v2{path}", who, 200))
    for path in ("/requests.json", "/requests.xml"):
        for who in EVERYONE:
            table.append(("POST", f"/open311/v2{path}", who, 403))
    return table


async def _state() -> tuple[int, int, int]:
    escalated = await Finding.filter(complaint_id__not_isnull=True).count()
    return await Patrol.all().count(), await Complaint.all().count(), escalated


async def test_every_route_by_every_person(api: httpx.AsyncClient, county: County, server: Any) -> None:
    started = clock.now() - timedelta(hours=3)
    patrol = await Patrol.create(
        compound=county.compounds["a1"], community=county.communities["A"], worker=county.users["grid_worker"],
        started_at=started, ended_at=started + timedelta(hours=1), created_at=started,
    )  # fmt: skip
    await Finding.create(patrol=patrol, seq=1, text="消防通道堵塞", place_note="2号楼北侧")
    table = rows(county, patrol.id)
    problems = []
    # refusals first, so each success row finds the state it needs; a refusal changes nothing
    for method, path, who, status in sorted(table, key=lambda row: row[3] < 300):
        before = await _state()
        body: dict[str, Any] = {}
        if path == "/patrols":
            body = {"json": {"compound_id": county.compounds["a1"].id, "started_at": started.isoformat(),
                             "ended_at": (started + timedelta(minutes=30)).isoformat()}}  # fmt: skip
        elif path.endswith("/complaint"):
            body = {"json": {"category": "blocked_passage"}}
        elif path.startswith("/open311") and method == "POST":
            body = {"data": {"api_key": "x" * 30, "service_code": "repair", "address_id": "1",
                             "description": "东门路灯不亮"}}  # fmt: skip
        r = await api.request(method, path, headers=county.headers(who), **body)
        if r.status_code != status:
            problems.append(f"{who} {method} {path}: {r.status_code} (expected {status}) {r.text[:120]}")
        if status >= 300 and await _state() != before:
            problems.append(f"{who} {method} {path}: refused but changed the state")
    assert problems == []
    assert await Finding.filter(complaint_id__not_isnull=True).count() == 1
    routes = declared(
        server.app, "/api/v1/patrols", "/api/v1/supervision", "/api/v1/open311",
        "/api/v1/admin/communities/<>/patrols", "/api/v1/admin/communities/<>/patrol-coverage",
        "/api/v1/admin/communities/<>/dashboard",
    )  # fmt: skip
    # a GeoReport resource names its format in its last segment ("repair.json"): the route's parameter
    named = [(m, "/api/v1" + (p.rsplit("/", 1)[0] + "/<>" if "/v2/services/" in p or "/v2/requests/" in p else p))
             for m, p, _, _ in table]  # fmt: skip
    assert routes == covered(named)
    assert len(routes) == 21
