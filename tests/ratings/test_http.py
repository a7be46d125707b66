"""Ratings over real HTTP through the real app: an inspection with an evidence photo, objected to by
the company and decided by the inspector, then closed to edits; the company's credit explained; a
quarter's lists computed, published on the county board, and seen by the company with why."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from core import clock
from ratings import credit, periodic
from ratings.models import CreditRecord
from tests.ratings.conftest import County, all_codes, template_body


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((160, 120), 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
async def api(serve: Any, county: County) -> AsyncIterator[httpx.AsyncClient]:
    def photo_sized_bodies(app: Any) -> None:
        app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024

    # the ratings job runs in the server's clock: its first run (base records, last quarter's draft)
    # happens here, before the test, so that nothing appears under the test's feet
    await periodic.run_periodic()
    server = await serve(photo_sized_bodies)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as http:
        yield http


async def test_an_inspection_objected_to_and_decided_over_http(
    api: httpx.AsyncClient, county: County
) -> None:
    h = county.headers
    base = f"/admin/compounds/{county.compound.id}/inspections"
    # a new version of the daily template: new inspections use it
    r = await api.post("/admin/ratings/templates", json=template_body("daily"), headers=h("supervisor"))
    assert r.status_code == 201, r.text
    template = r.json()
    assert (template["version"], len(template["aspects"]), template["aspects"][0]["name"]) == (
        2,
        8,
        "内部管理",
    )
    r = await api.post(base, json={"kind": "daily"}, headers=h("community_admin"))
    assert r.status_code == 201, r.text
    opened = r.json()["inspection"]
    assert (opened["template_id"], opened["status"], opened["company_id"]) == (
        template["id"],
        "draft",
        county.company.id,
    )
    path = f"{base}/{opened['id']}"
    # evidence: a real photo uploaded by the inspector, attached to an item
    r = await api.post(
        "/photos", content=jpeg(), headers={**h("community_admin"), "content-type": "image/jpeg"}
    )
    assert r.status_code == 201, r.text
    photo_id = r.json()["id"]
    items = [{"code": c, "points": 10} for c in all_codes()]
    items[0] = {"code": "1a", "points": 4, "note": "消防通道堆放杂物", "photo_ids": [photo_id]}
    r = await api.put(f"{path}/scores", json={"items": items}, headers=h("community_admin"))
    assert r.status_code == 200, r.text
    # the company does not see a draft
    assert (await api.get(path, headers=h("property_staff"))).status_code == 404
    r = await api.post(f"{path}/submit", headers=h("community_admin"))
    assert r.status_code == 200, r.text
    submitted = r.json()["inspection"]
    # 100 - 15 * 0.3 = 95.50
    assert (submitted["status"], submitted["total"], submitted["stars"]) == ("submitted", "95.50", 5)
    assert (submitted["satisfaction_ratings"], submitted["satisfaction_average"]) == (0, None)
    assert (submitted["booking_ratings"], submitted["booking_average"]) == (0, None)  # from bookings.reviews
    seen = (await api.get(path, headers=h("property_staff"))).json()
    first = seen["scores"][0]
    assert (first["code"], first["points"], first["note"], first["photo_ids"]) == (
        "1a",
        4,
        "消防通道堆放杂物",
        [photo_id],
    )
    # the company objects once, with reasons
    r = await api.post(
        f"{path}/objection",
        json={"reasons": "杂物为业主装修临时堆放，已当日清理", "item_codes": ["1a"]},
        headers=h("property_staff"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["inspection"]["status"] == "objected"
    r = await api.post(f"{path}/objection", json={"reasons": "再次异议"}, headers=h("property_staff"))
    assert (r.status_code, r.json()["code"]) == (409, "objection_taken")
    # the inspector rejects it: finished, and closed to every change
    r = await api.post(
        f"{path}/decision",
        json={"upheld": False, "note": "现场照片显示堆放已逾一周"},
        headers=h("community_admin"),
    )
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["inspection"]["status"] == "finished"
    [objection] = decided["objection"]
    assert (objection["upheld"], objection["decision_note"]) == (False, "现场照片显示堆放已逾一周")
    r = await api.put(
        f"{path}/scores", json={"items": [{"code": "1a", "points": 10}]}, headers=h("community_admin")
    )
    assert (r.status_code, r.json()["code"]) == (409, "inspection_state_conflict")
    # a daily 95.50 earns +1: the company sees it among the records of its credit
    r = await api.get(f"/admin/companies/{county.company.id}/credit", headers=h("property_staff"))
    assert r.status_code == 200, r.text
    explained = r.json()
    assert [(x["source"], x["part"], x["points"]) for x in explained["records"]] == [
        ("contract", "base", "80.00"),
        ("inspection", "good", "1.00"),
    ]
    assert (explained["score"], explained["grade"]) == ("81.00", "AA")
    # the residents see the star of their compound
    r = await api.get(f"/ratings/compounds/{county.compound.id}/grades", headers=h("resident"))
    assert r.status_code == 200, r.text
    grades = r.json()
    assert (grades["stars"], grades["inspection_id"], grades["credit_grade"]) == (5, opened["id"], "AA")


async def test_a_quarters_lists_published_and_explained(api: httpx.AsyncClient, county: County) -> None:
    h = county.headers
    today = clock.to_local(clock.now()).date().isoformat()
    quarter = f"{today[:4]}Q{(int(today[5:7]) - 1) // 3 + 1}"
    # the periodic job granted the contract holders their base of 80 (the fixture ran it)
    assert await CreditRecord.filter(part="base").count() == 2
    for company in (county.company, county.other_company):
        r = await api.post(
            f"/admin/companies/{company.id}/credit/records",
            json={
                "source": "contract",
                "part": "good",
                "points": "10",
                "reason": "合同履约良好",
                "valid_from": today,
            },
            headers=h("supervisor"),
        )
        assert r.status_code == 201, r.text
    r = await api.post(
        f"/admin/companies/{county.other_company.id}/credit/records",
        json={"source": "sanction", "part": "bad", "points": "30", "reason": "行政处罚", "valid_from": today},
        headers=h("supervisor"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["score"], r.json()["grade"]) == ("60.00", "B")  # recomputed at once: 80 + 10 - 30
    # a sanction is a deduction: entering it as an addition is refused
    r = await api.post(
        f"/admin/companies/{county.company.id}/credit/records",
        json={"source": "sanction", "part": "good", "points": "5", "reason": "错误", "valid_from": today},
        headers=h("supervisor"),
    )
    assert (r.status_code, r.json()["code"]) == (400, "credit_record_invalid")
    r = await api.post("/admin/ratings/lists", json={"quarter": quarter}, headers=h("supervisor"))
    assert r.status_code == 201, r.text
    draft = r.json()
    # two ranked, k = 1: the AAA at the top is red, the B at the bottom black
    assert (draft["rating_list"]["k"], draft["rating_list"]["ranked"]) == (1, 2)
    assert sorted((e["company_id"], e["color"]) for e in draft["entries"]) == [
        (county.company.id, "red"),
        (county.other_company.id, "black"),
    ]
    r = await api.post(
        f"/admin/ratings/lists/{draft['rating_list']['id']}/publish",
        json={"note": "经审核"},
        headers=h("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["notice_id"] is not None
    r = await api.get("/ratings/lists", headers=h("resident"))
    assert [x["quarter"] for x in r.json()["items"]] == [quarter]
    r = await api.get(
        f"/admin/companies/{county.other_company.id}/ratings/lists", headers=h("other_property_staff")
    )
    assert r.status_code == 200, r.text
    entry = r.json()["items"][0]
    assert entry["color"] == "black" and "倒数第 1 名" in entry["reasons"]["clause"]
    assert [x["reason"] for x in entry["reasons"]["records"]] == [
        credit.BASE_REASON,
        "合同履约良好",
        "行政处罚",
    ]
    # another company cannot read why
    r = await api.get(
        f"/admin/companies/{county.other_company.id}/ratings/lists", headers=h("property_staff")
    )
    assert r.status_code == 403
