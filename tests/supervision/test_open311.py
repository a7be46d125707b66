"""Open311 GeoReport v2: a maintained client library (georeport on PyPI) reads our services and
requests in JSON and XML; the spec's filter parameters, its 90-day window, its error shapes, and
writing with an API key as a grid worker of the community."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from georeport import GeoReport

from accounts.models import RoleGrant
from complaints.models import Category, Complaint, Moderation
from supervision.open311 import HOTLINE_OPENID

from .conftest import County

ROOT = "/api/v1/open311/v2"
KEY = "k" * 12 + "hotline-key-0001"
PUBLIC_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "agency_responsible",
    "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id",
}  # fmt: skip


@pytest.fixture
async def open311(serve: Any, county: County) -> Any:
    def with_keys(app: Any) -> None:
        app.ctx.settings = dataclasses.replace(app.ctx.settings, open311_api_keys=(("hotline", KEY),))

    return await serve(with_keys)


def window(county: County, start: date, end: date) -> list[int]:
    chosen = [
        c for c in county.complaints if c["moderation"] is Moderation.PASSED and start <= c["day"] <= end
    ]
    return [c["id"] for c in sorted(chosen, key=lambda c: (c["created"], c["id"]), reverse=True)]


async def test_a_georeport_client_reads_our_services(open311: Any, county: County) -> None:
    categories = {c.code: c.name for c in await Category.all()}
    for fmt in ("json", "xml"):
        client = GeoReport(open311.url + ROOT, output_format=fmt)
        services = await asyncio.to_thread(client.get_service_list)
        assert {s["service_code"]: s["service_name"] for s in services} == categories
        assert {s["metadata"] for s in services} == ({False} if fmt == "json" else {"false"})
        definition = await asyncio.to_thread(client.get_service_definition, "repair")
        assert definition["service_code"] == "repair"


async def test_a_georeport_client_reads_requests_in_a_window(open311: Any, county: County) -> None:
    start, end = date(2026, 6, 1), date(2026, 8, 29)
    expected = window(county, start, end)
    assert len(expected) == 4
    for fmt in ("json", "xml"):
        client = GeoReport(open311.url + ROOT, output_format=fmt)
        found = await asyncio.to_thread(
            client.get_service_requests,
            start_date="2026-06-01T00:00:00+08:00",
            end_date="2026-08-29T23:59:59+08:00",
        )
        assert [int(r["service_request_id"]) for r in found] == expected
        assert all(set(r) == PUBLIC_FIELDS for r in found)  # nothing beyond the public fields
        one = await asyncio.to_thread(client.get_service_request, str(expected[0]))
        assert one["service_request_id"] == str(expected[0])
    closed = next(c for c in county.complaints if c["id"] == expected[-1])
    client = GeoReport(open311.url + ROOT)
    row = await asyncio.to_thread(client.get_service_request, str(closed["id"]))
    assert row["status"] == ("closed" if closed["resolved"] else "open")
    assert row["address"] == "东街社区阳光花园" and row["address_id"] == str(county.compounds["a1"].id)
    assert row["agency_responsible"] == "安居物业"
    assert datetime.fromisoformat(row["requested_datetime"]) == closed["created"]
    assert row["requested_datetime"].endswith("+08:00")


async def test_the_specs_filters(open311: Any, county: County) -> None:
    async with httpx.AsyncClient(base_url=open311.url + ROOT) as http:
        everything = window(county, date(2026, 9, 1), date(2026, 11, 29))
        dates = {"start_date": "2026-09-01T00:00:00+08:00", "end_date": "2026-11-29T23:59:59+08:00"}
        r = await http.get("/requests.json", params=dates)
        assert [int(x["service_request_id"]) for x in r.json()] == everything
        open_ids = [
            i for i in everything if not next(c for c in county.complaints if c["id"] == i)["resolved"]
        ]
        r = await http.get("/requests.json", params={**dates, "status": "open"})
        assert [int(x["service_request_id"]) for x in r.json()] == open_ids
        r = await http.get("/requests.json", params={**dates, "status": "closed"})
        assert [int(x["service_request_id"]) for x in r.json()] == [
            i for i in everything if i not in open_ids
        ]
        r = await http.get(
            "/requests.json", params={**dates, "status": "open,closed", "service_code": "repair"}
        )
        assert len(r.json()) == len(everything)
        r = await http.get("/requests.json", params={**dates, "service_code": "noise"})
        assert r.json() == []
        # ids override every other parameter, even a window they lie outside of
        held = next(c["id"] for c in county.complaints if c["moderation"] is not Moderation.PASSED)
        early = county.complaints[0]["id"]
        r = await http.get("/requests.json", params={**dates, "service_request_id": f"{early},{held}"})
        assert [x["service_request_id"] for x in r.json()] == [str(early)]  # a held one is nobody's to see
        # one date alone: 90 days from it
        r = await http.get("/requests.json", params={"start_date": "2026-09-01T00:00:00+08:00"})
        assert [int(x["service_request_id"]) for x in r.json()] == window(
            county, date(2026, 9, 1), date(2026, 11, 29)
        )


async def test_the_specs_error_shapes(open311: Any, county: County) -> None:
    async with httpx.AsyncClient(base_url=open311.url + ROOT) as http:
        too_wide = {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"}
        year_0 = {"start_date": "0001-01-01T00:00:00+01:00"}  # year 0 in UTC, which no Python datetime holds
        for params in (too_wide, {"status": "pending"}, {"start_date": "2026-06-01T00:00:00"},
                       {"service_request_id": "1,x"}, year_0):  # fmt: skip
            r = await http.get("/requests.json", params=params)
            assert r.status_code == 400, params
            [error] = r.json()
            assert error["code"] == 400 and error["description"]
            r = await http.get("/requests.xml", params=params)
            assert r.status_code == 400 and r.headers["content-type"].startswith("text/xml")
            root = ElementTree.fromstring(r.content)
            assert root.tag == "errors" and root.find("error/code").text == "400"  # type: ignore[union-attr]
        r = await http.get("/requests/99999.json")
        assert r.status_code == 404 and r.json()[0]["code"] == 404
        r = await http.get("/requests/1.csv")
        assert r.status_code == 404 and r.json()[0]["code"] == 404
        r = await http.get("/services/nothing.xml")
        assert r.status_code == 404 and ElementTree.fromstring(r.content).find("error/code").text == "404"  # type: ignore[union-attr]


def form(county: County, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": KEY, "service_code": "repair", "address_id": county.compounds["a1"].id,
        "description": "小区东门路灯连续三晚不亮", "address_string": "东门", **extra,
    }  # fmt: skip


async def test_writing_needs_a_key_and_a_community_that_accepts_the_hotline(
    open311: Any, county: County
) -> None:
    before = await Complaint.all().count()
    async with httpx.AsyncClient(base_url=open311.url + ROOT) as http:
        r = await http.post("/requests.json", data=form(county, api_key="wrong-key-wrong-key-wrong"))
        assert r.status_code == 403 and r.json()[0]["code"] == 403
        r = await http.post("/requests.json", data=form(county))  # the key is good, the community has not
        assert r.status_code == 403 and r.json()[0]["code"] == 403  # made the hotline a grid worker
        assert await Complaint.all().count() == before
        hotline = await open311_user()
        await RoleGrant.create(
            user=hotline, role="grid_worker", scope_type="community", scope_id=county.communities["A"].id
        )
        r = await http.post("/requests.json", data=form(county, email="someone@example.com"))
        assert r.status_code == 400 and r.json()[0]["code"] == 400  # contact fields are not ours to keep
        r = await http.post("/requests.json", data=form(county, service_code="nothing"))
        assert r.status_code == 400
        r = await http.post("/requests.json", data=form(county))
        assert r.status_code == 201, r.text
        [created] = r.json()
        complaint = await Complaint.get(id=int(created["service_request_id"]))
        assert (complaint.filer_id, complaint.complainant_id, complaint.place_note) == (
            hotline.id,
            None,
            "东门",
        )  # type: ignore[attr-defined]
        assert complaint.category_id == "repair"  # type: ignore[attr-defined]
        r = await http.get(f"/requests/{complaint.id}.json")
        assert r.json()[0]["status"] == "open"
        r = await http.post("/requests.xml", data=form(county, address_id=county.compounds["b1"].id))
        assert r.status_code == 403  # another community's compound: not granted there
        r = await http.post("/requests.xml", data=form(county, description="楼道里堆满了杂物"))
        assert r.status_code == 201
        assert ElementTree.fromstring(r.content).find("request/service_request_id") is not None
        r = await http.post("/requests.json", json=form(county))
        assert r.status_code == 415
    assert await Complaint.all().count() == before + 2


async def test_without_keys_the_endpoint_is_read_only(server: Any, county: County) -> None:
    async with httpx.AsyncClient(base_url=server.url + ROOT) as http:
        r = await http.post("/requests.json", data=form(county))
        assert r.status_code == 403 and r.json() == [{"code": 403, "description": "API 密钥无效或缺失"}]
        assert (await http.get("/services.json")).status_code == 200


async def open311_user() -> Any:
    from accounts.models import User

    user, _ = await User.get_or_create(openid=HOTLINE_OPENID.format(label="hotline"))
    return user
