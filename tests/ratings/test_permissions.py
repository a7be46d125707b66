"""The permission matrix over every ratings route: who gets through, and everyone else is refused
with nothing changed (a company never reads another's credit or objects to another's inspection;
a community admin never inspects another community's compound; only the supervisor sets templates,
records credit and publishes the lists)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from core import clock
from ratings import inspections, lists, periodic
from ratings.models import (
    CreditRecord,
    Inspection,
    InspectionScore,
    ListEntry,
    Objection,
    QuarterList,
    Template,
)
from tests.matrix import covered, declared
from tests.ratings.conftest import ACTOR, PEOPLE, County, all_codes, template_body

EVERYONE = ("anonymous", *PEOPLE)
LOGGED_IN = set(PEOPLE)
OF_COMPOUND = {"owner", "resident", "grid_worker", "property_staff", "community_admin", "supervisor"}
INSPECTORS = {"community_admin", "supervisor"}
READERS = {"community_admin", "supervisor", "property_staff"}
COMPANY = {"property_staff", "supervisor", "community_admin"}
SUPERVISOR = {"supervisor"}


async def counts() -> dict[str, Any]:
    return {
        "tables": [
            await m.all().count()
            for m in (Template, Inspection, InspectionScore, Objection, CreditRecord, QuarterList, ListEntry)
        ],
        "versions": sorted(await Inspection.all().values_list("id", "version", "status")),
        "lists": sorted(await QuarterList.all().values_list("id", "status")),
    }


async def _inspection(
    county: County, *, scored: bool = False, submitted: bool = False, objected: bool = False
) -> int:
    admin = county.uid("community_admin")
    row = await inspections.open_inspection(
        ACTOR,
        user_id=admin,
        role=inspections.Role.COMMUNITY_ADMIN,
        compound_id=county.compound.id,
        kind=inspections.InspectionKind.DAILY,
    )
    if scored or submitted:
        items = [inspections.ItemScore(c, 8) for c in all_codes()]
        await inspections.set_scores(
            ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id, items=items
        )
    if submitted:
        await inspections.submit(ACTOR, user_id=admin, compound_id=county.compound.id, inspection_id=row.id)
    if objected:
        await inspections.object_to(
            ACTOR,
            user_id=county.uid("property_staff"),
            company_ids=[county.company.id],
            compound_id=county.compound.id,
            inspection_id=row.id,
            reasons="异议",
            item_codes=["1a"],
        )
    return row.id


@pytest.fixture
async def matrix(county: County, serve: Any) -> Any:
    targets = {
        "draft": await _inspection(county),
        "scored": await _inspection(county, scored=True),
        "submitted": await _inspection(county, submitted=True),
        "objectable": await _inspection(county, submitted=True),
        "objected": await _inspection(county, submitted=True, objected=True),
    }
    published = await lists.compute_draft(ACTOR, "2026Q1")
    await lists.publish(ACTOR, user_id=county.uid("supervisor"), list_id=published.id, note="")
    targets["published"] = published.id
    targets["draft_list"] = (await lists.compute_draft(ACTOR, "2026Q2")).id
    await periodic.run_periodic()  # the job's first run before the matrix: later ticks change nothing
    server = await serve()
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        yield http, targets


def _routes(county: County, t: dict[str, int]) -> list[tuple[str, str, Any, set[str], int]]:
    c, co = county.compound.id, county.company.id
    ins = f"/api/v1/admin/compounds/{c}/inspections"
    full = [{"code": code, "points": 9} for code in all_codes()]
    return [
        ("GET", "/api/v1/ratings/lists", None, LOGGED_IN, 200),
        ("GET", f"/api/v1/ratings/lists/{t['published']}", None, LOGGED_IN, 200),
        ("GET", f"/api/v1/ratings/compounds/{c}/grades", None, OF_COMPOUND, 200),
        ("GET", "/api/v1/admin/ratings/templates", None, LOGGED_IN, 200),
        ("GET", f"/api/v1/admin/ratings/templates/{county.daily.id}", None, LOGGED_IN, 200),
        ("POST", "/api/v1/admin/ratings/templates", template_body("annual"), SUPERVISOR, 201),
        ("POST", ins, {"kind": "daily"}, INSPECTORS, 201),
        ("GET", ins, None, READERS, 200),
        ("GET", f"{ins}/{t['submitted']}", None, READERS, 200),
        # the inspector is the community admin who opened it: the supervisor is refused (not_inspector)
        ("PUT", f"{ins}/{t['draft']}/scores", {"items": full}, {"community_admin"}, 200),
        ("POST", f"{ins}/{t['scored']}/submit", None, {"community_admin"}, 200),
        (
            "POST",
            f"{ins}/{t['objectable']}/objection",
            {"reasons": "理由", "item_codes": []},
            {"property_staff"},
            201,
        ),
        (
            "POST",
            f"{ins}/{t['objected']}/decision",
            {"upheld": False, "note": "维持"},
            {"community_admin"},
            200,
        ),
        ("GET", f"/api/v1/admin/companies/{co}/credit", None, COMPANY, 200),
        ("GET", f"/api/v1/admin/companies/{co}/credit/records", None, COMPANY, 200),
        (
            "POST",
            f"/api/v1/admin/companies/{co}/credit/records",
            {
                "source": "commendation",
                "part": "good",
                "points": "2",
                "reason": "表彰",
                "valid_from": (clock.to_local(clock.now()).date() - timedelta(days=1)).isoformat(),
            },
            SUPERVISOR,
            201,
        ),
        ("GET", f"/api/v1/admin/companies/{co}/ratings/lists", None, COMPANY, 200),
        ("POST", "/api/v1/admin/ratings/lists", {"quarter": "2026Q3"}, SUPERVISOR, 201),
        ("GET", "/api/v1/admin/ratings/lists", None, SUPERVISOR, 200),
        ("GET", f"/api/v1/admin/ratings/lists/{t['draft_list']}", None, SUPERVISOR, 200),
        ("POST", f"/api/v1/admin/ratings/lists/{t['draft_list']}/publish", {"note": "通过"}, SUPERVISOR, 200),
    ]


async def test_every_route_for_every_person(county: County, matrix: Any) -> None:
    http, targets = matrix
    problems = []
    for method, path, body, allowed, ok in _routes(county, targets):
        # the one allowed to change things goes last, so every refusal is checked against the same state
        for who in sorted(EVERYONE, key=lambda w: w in allowed):
            before = await counts()
            r = await http.request(method, path, json=body, headers=county.headers(who))
            expected = ok if who in allowed else 401 if who == "anonymous" else (403, 404)
            if r.status_code != expected and not (isinstance(expected, tuple) and r.status_code in expected):
                problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:160]}")
            if who not in allowed and await counts() != before:
                problems.append(f"{method} {path} as {who}: refused but changed something")
    assert problems == []


async def test_other_companies_and_communities_are_refused(county: County, matrix: Any) -> None:
    http, targets = matrix
    far = f"/api/v1/admin/compounds/{county.far_compound.id}/inspections"
    near = f"/api/v1/admin/compounds/{county.compound.id}/inspections/{targets['objectable']}"
    before = await counts()
    # the east admin cannot inspect the west compound; the west company cannot object in the east
    r = await http.post(far, json={"kind": "daily"}, headers=county.headers("community_admin"))
    assert r.status_code == 403
    r = await http.post(
        f"{near}/objection", json={"reasons": "x"}, headers=county.headers("other_property_staff")
    )
    assert r.status_code == 403
    # the west admin serves no compound of the company: no credit of it
    r = await http.get(
        f"/api/v1/admin/companies/{county.company.id}/credit", headers=county.headers("other_community_admin")
    )
    assert r.status_code == 403
    # a draft list is the supervisor's only
    r = await http.get(f"/api/v1/ratings/lists/{targets['draft_list']}", headers=county.headers("resident"))
    assert (r.status_code, r.json()["code"]) == (404, "rating_list_not_found")
    assert await counts() == before


def test_every_ratings_route_is_in_the_matrix(county: County, server: Any) -> None:
    routes = declared(
        server.app,
        "/api/v1/ratings",
        "/api/v1/admin/ratings",
        "/api/v1/admin/compounds/<>/inspections",
        "/api/v1/admin/companies/<>/credit",
        "/api/v1/admin/companies/<>/ratings",
    )
    targets = dict.fromkeys(
        ("draft", "scored", "submitted", "objectable", "objected", "published", "draft_list"), 1
    )
    assert routes == covered(_routes(county, targets))
