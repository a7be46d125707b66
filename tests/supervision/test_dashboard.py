"""The county dashboard over HTTP: every figure equals a count made here from the rows the County
fixture created; filters, the compound list, the exports (every cell escaped) and the cache."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import load_workbook

from accounts.admin import set_filing
from accounts.models import Committee, FilingStatus
from accounts.roles import Role
from complaints import service as complaints
from complaints.models import Complaint, Moderation
from core import clock
from ratings import credit, inspections, templates
from ratings.grades import Grades, current_grades
from ratings.rules import CreditPart, CreditSource, InspectionKind
from supervision import targets
from supervision.patrols import week_of
from tests.ratings.conftest import ACTOR, THRESHOLDS, all_codes, aspect_specs

from .conftest import SINCE, UNTIL, County, beijing

PERIOD = {"since": str(SINCE), "until": str(UNTIL)}


def formed_on(county: County, key: str, on: date) -> tuple[bool, bool]:
    current = [c for c in county.committees if c[0] == key and c[1] <= on <= c[2]]
    filed = any(c[3] is FilingStatus.FILED and c[4] is not None and c[4] <= on for c in current)
    return bool(current), filed


def company_on(county: County, key: str, on: date) -> str | None:
    found = [c for c in county.contracts if c[0] == key and c[2] <= on <= c[3]]
    return found[-1][1] if found else None


def in_period(county: County, keys: set[str]) -> list[dict[str, Any]]:
    return [
        c
        for c in county.complaints
        if c["compound"] in keys and c["moderation"] is Moderation.PASSED and SINCE <= c["day"] <= UNTIL
    ]


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    hours = [(c["resolved"] - c["created"]).total_seconds() / 3600 for c in rows if c["resolved"]]
    ratings = [c["rating"] for c in rows if c["rating"] is not None]
    return {
        "count": len(rows),
        "resolved": len(hours),
        "overdue_share": round(sum(c["overdue"] for c in rows) / len(rows), 4) if rows else 0.0,
        "median_hours_to_resolve": round(statistics.median(hours), 1) if hours else None,
        "average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "ratings": len(ratings),
    }


def weeks(county: County, key: str) -> set[date]:
    return {
        week_of(started)
        for c, _, started in county.patrols
        if c == key and SINCE <= week_of(started) <= UNTIL
    }


GRADES: dict[str, Grades] = {}


async def load_grades(county: County) -> None:
    """The star and credit grades as ratings gives them (ratings' own tests check how it computes them);
    the dashboard's counts of them are checked here."""
    found = await current_grades(compound_ids=[c.id for c in county.compounds.values()], at=UNTIL)
    GRADES.clear()
    GRADES.update({key: found[c.id] for key, c in county.compounds.items()})


def grade_counts(keys: list[str], value: Any) -> dict[str, int]:
    counted = Counter(str(v) for v in (value(GRADES[k]) for k in keys) if v is not None)
    return dict(sorted(counted.items()))


def expected_summary(county: County, keys: list[str]) -> dict[str, Any]:
    n = len(keys)
    all_weeks = (UNTIL - SINCE).days // 7 + 1
    formed = [k for k in keys if formed_on(county, k, UNTIL)[0]]
    professional = [k for k in keys if company_on(county, k, UNTIL)]
    last = week_of(UNTIL)
    return {
        "compounds": n,
        "committees_formed": len(formed),
        "committees_filed": sum(formed_on(county, k, UNTIL)[1] for k in keys),
        "committee_share": round(len(formed) / n, 4),
        "committee_share_met": len(formed) == n,
        "professional_service": len(professional),
        "professional_service_share": round(len(professional) / n, 4),
        "professional_service_met": len(professional) * 2 >= n,
        "patrol_coverage": round(sum(len(weeks(county, k)) for k in keys) / (n * all_weeks), 4),
        "patrolled_last_week": sum(last in weeks(county, k) for k in keys),
        "patrolled_last_week_share": round(sum(last in weeks(county, k) for k in keys) / n, 4),
        "complaints": figures(in_period(county, set(keys))),
        "star_grades": grade_counts(keys, lambda g: g.star.stars if g.star else None),
        "credit_grades": grade_counts(keys, lambda g: g.credit.grade if g.credit else None),
    }


async def test_the_county_figures_equal_counts_of_the_rows(api: httpx.AsyncClient, county: County) -> None:
    await load_grades(county)
    r = await api.get("/supervision/dashboard", params=PERIOD, headers=county.headers("supervisor"))
    assert r.status_code == 200, r.text
    data = r.json()
    keys = sorted(county.compounds)
    assert data["county"] == expected_summary(county, keys)
    assert data["county"]["complaints"]["count"] == 8  # 11 made: one held, one a day early, one a day late
    for community in data["communities"]:
        letter = "A" if community["name"] == "东街社区" else "B"
        members = [k for k in keys if county.community_of(k) == letter]
        summary = {
            k: v for k, v in community.items() if k not in ("community_id", "name", "committee_targets")
        }
        assert summary == expected_summary(county, members)
        plan = targets.load().for_community(community["name"])
        assert [t["deadline"] for t in community["committee_targets"]] == [str(t.deadline) for t in plan]
        for shown, target in zip(community["committee_targets"], plan, strict=True):
            on = min(target.deadline, UNTIL)
            formed = sum(formed_on(county, k, on)[0] for k in members)
            assert shown == {
                "deadline": str(target.deadline), "target": target.committees, "as_of": str(on),
                "formed": formed, "filed": sum(formed_on(county, k, on)[1] for k in members),
                "met": formed >= target.committees, "due": target.deadline <= UNTIL,
            }  # fmt: skip
    by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in in_period(county, set(keys)):
        by_month[c["day"].strftime("%Y-%m")].append(c)
    assert [m["month"] for m in data["months"]] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    for month in data["months"]:
        assert {k: v for k, v in month.items() if k != "month"} == figures(by_month.get(month["month"], []))
    assert data["targets"] == {
        "committee_share": "1.00",
        "professional_service_share": "0.50",
        "patrol_share": "1.00",
    }


async def test_filters_by_community_compound_and_company(api: httpx.AsyncClient, county: County) -> None:
    await load_grades(county)
    h = county.headers("supervisor")
    a = county.communities["A"].id
    r = await api.get("/supervision/dashboard", params={**PERIOD, "community_id": a}, headers=h)
    assert r.json()["county"] == expected_summary(county, ["a1", "a2", "a3", "a4"])
    assert [c["community_id"] for c in r.json()["communities"]] == [a]
    r = await api.get(
        "/supervision/dashboard", params={**PERIOD, "compound_id": county.compounds["a2"].id}, headers=h
    )
    assert r.json()["county"] == expected_summary(county, ["a2"])
    # company X served a1 and b1 in the period; its contract for a3 ended before the period began
    served = sorted({c[0] for c in county.contracts if c[1] == "X" and c[2] <= UNTIL and c[3] >= SINCE})
    assert served == ["a1", "b1"]
    r = await api.get(
        "/supervision/dashboard", params={**PERIOD, "company_id": county.companies["X"].id}, headers=h
    )
    assert r.json()["county"] == expected_summary(county, served)
    # the community's own view is the same numbers, for the community admin
    r = await api.get(
        f"/admin/communities/{a}/dashboard", params=PERIOD, headers=county.headers("community_admin")
    )
    assert r.status_code == 200
    assert r.json()["county"] == expected_summary(county, ["a1", "a2", "a3", "a4"])
    r = await api.get(
        "/supervision/dashboard", params={"since": "2026-06-01", "until": "2026-05-01"}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (400, "dashboard_period_invalid")


async def test_the_compound_list_pages_through_every_compound(api: httpx.AsyncClient, county: County) -> None:
    await load_grades(county)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {**PERIOD, "limit": 3, **({"cursor": cursor} if cursor else {})}
        r = await api.get("/supervision/compounds", params=params, headers=county.headers("supervisor"))
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    by_id = {c.id: key for key, c in county.compounds.items()}
    assert [row["compound_id"] for row in seen] == sorted(by_id)
    for row in seen:
        key = by_id[row["compound_id"]]
        company = company_on(county, key, UNTIL)
        assert (row["committee_formed"], row["committee_filed"]) == formed_on(county, key, UNTIL)
        assert row["company"] == (county.companies[company].name if company else None)
        assert row["weeks_patrolled"] == len(weeks(county, key))
        assert row["complaints"] == figures(in_period(county, {key}))
        assert row["standalone"] is (key == "a4")
        credit = GRADES[key].credit
        assert (row["credit_grade"], row["star_grade"]) == (credit.grade if credit else None, None)


async def test_exports_escape_every_cell(api: httpx.AsyncClient, county: County) -> None:
    h = county.headers("supervisor")
    r = await api.get("/supervision/compounds/export", params={**PERIOD, "format": "csv"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["小区编号", "小区", "社区"]
    assert len(rows) == 1 + len(county.compounds)
    companies = {row[4] for row in rows[1:]}
    assert '\'=HYPERLINK("x")物业' in companies  # defused: the apostrophe makes it text
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    r = await api.get("/supervision/compounds/export", params={**PERIOD, "format": "xlsx"}, headers=h)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    dangerous = [c for c in cells if str(c.value or "").startswith("=")]
    assert dangerous and all(c.data_type == "s" and c.quotePrefix for c in dangerous)


async def test_a_change_in_any_domain_shows_at_once_and_nothing_else_recomputes(
    api: httpx.AsyncClient, county: County
) -> None:
    """The answers are cached, and a write of complaints, accounts, ratings or supervision shows on
    the next request (the cache key carries a watermark of every table the dashboard reads)."""
    h, admin = county.headers("supervisor"), county.users["community_admin"].id
    today = clock.to_local(clock.now()).date()
    period = {"since": str(SINCE), "until": str(today)}

    async def county_figures() -> dict[str, Any]:
        r = await api.get("/supervision/dashboard", params=period, headers=h)
        assert r.status_code == 200, r.text
        return dict(r.json()["county"])

    async def a1_row() -> dict[str, Any]:
        r = await api.get("/supervision/compounds", params=period, headers=h)
        assert r.status_code == 200, r.text
        return next(row for row in r.json()["items"] if row["compound_id"] == county.compounds["a1"].id)

    first, first_a1 = await county_figures(), await a1_row()
    # a direct write no domain makes (no version bump, no new row) is not seen: the answer is cached
    await Complaint.filter(id=county.complaints[0]["id"]).update(rating=1)
    assert await county_figures() == first
    # complaints: a held complaint released by moderation
    held = next(c["id"] for c in county.complaints if c["moderation"] is Moderation.HELD)
    await complaints.moderate(held, user_id=admin, actor=ACTOR, passed=True)
    moved = await county_figures()
    assert moved["complaints"]["count"] == first["complaints"]["count"] + 1
    # accounts: a pending committee filed by the community
    pending = await Committee.get(compound_id=county.compounds["a2"].id, filing_status=FilingStatus.PENDING)
    await set_filing(ACTOR, county.compounds["a2"].id, pending.id, FilingStatus.FILED)
    filed = await county_figures()
    assert filed["committees_filed"] == moved["committees_filed"] + 1
    # ratings: an inspection of a1 finishing once its objection period is over ...
    await templates.create(
        ACTOR, user_id=county.users["supervisor"].id, kind=InspectionKind.DAILY, name="日常考核",
        aspects=aspect_specs(), thresholds=THRESHOLDS,
    )  # fmt: skip
    a1 = county.compounds["a1"].id
    row = await inspections.open_inspection(
        ACTOR, user_id=admin, role=Role.COMMUNITY_ADMIN, compound_id=a1, kind=InspectionKind.DAILY
    )
    items = [inspections.ItemScore(c, 10) for c in all_codes()]
    await inspections.set_scores(ACTOR, user_id=admin, compound_id=a1, inspection_id=row.id, items=items)
    week_ago = clock.now() - timedelta(days=8)  # submitted then: its objection period is over now
    await inspections.submit(ACTOR, user_id=admin, compound_id=a1, inspection_id=row.id, now=week_ago)
    assert await county_figures() == filed  # submitted, not finished: no grade yet
    assert await inspections.finish_due() == 1
    graded = await county_figures()
    assert (first["star_grades"], graded["star_grades"]) == ({}, {"5": 1})
    # ... and a credit record landing on the company serving a1
    before = await a1_row()
    await credit.add_record(
        ACTOR, user_id=county.users["supervisor"].id, company_id=county.companies["X"].id,
        source=CreditSource.COMMENDATION, part=CreditPart.GOOD, points=Decimal(5), reason="获评县级表彰",
        valid_from=today,
    )  # fmt: skip
    after = await a1_row()
    assert (first_a1["credit_score"], Decimal(after["credit_score"])) == (
        None, Decimal(before["credit_score"]) + 5
    )  # fmt: skip
    # supervision: a patrol of a3 in the last week
    started = beijing(today - timedelta(days=1), 9)
    r = await api.post(
        "/patrols",
        json={"compound_id": county.compounds["a3"].id, "started_at": started.isoformat(),
              "ended_at": (started + timedelta(minutes=40)).isoformat()},
        headers=county.headers("grid_worker"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    fresh = await county_figures()
    assert fresh["patrolled_last_week"] == graded["patrolled_last_week"] + 1
