"""Complaints over real HTTP with the fake WeChat server: filing with photos, content security, the
daily limit, anonymity towards neighbours, "me too", and two staff accepting at the same moment."""

from __future__ import annotations

import asyncio
import io

import httpx
from PIL import Image

from complaints import service
from complaints.models import Complaint, Event, Status
from photos.models import Photo
from wechat.fake import FakeWeChat

from .conftest import World, make_complaint


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((320, 240), 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


async def upload(api: httpx.AsyncClient, world: World, who: str) -> int:
    response = await api.post(
        "/photos", content=jpeg(), headers={**world.headers(who), "content-type": "image/jpeg"}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def body(world: World, **extra: object) -> dict[str, object]:
    return {
        "compound_id": world.compound.id,
        "category": "repair",
        "text": "一单元电梯按钮失灵，已经两天了",
        "place_kind": "unit",
        "unit_id": world.units[0].id,
        **extra,
    }


async def test_file_with_photos_then_the_whole_flow(
    api: httpx.AsyncClient, world: World, fake_wechat: FakeWeChat
) -> None:
    photo_ids = [await upload(api, world, "resident") for _ in range(2)]
    filed = await api.post(
        "/complaints", json=body(world, photo_ids=photo_ids), headers=world.headers("resident")
    )
    assert filed.status_code == 201, filed.text
    complaint = filed.json()
    assert (complaint["status"], complaint["moderation"], complaint["place"]) == (
        "submitted",
        "passed",
        "1号楼 101",
    )
    assert [p["id"] for p in complaint["photos"]] == photo_ids  # the filer sees their own photos at once
    assert len(fake_wechat.media_requests) == 2
    cid = complaint["id"]

    staff = world.headers("property_staff")
    seen = (await api.get(f"/complaints/{cid}", headers=staff)).json()
    assert seen["photos"] == []  # pending content check: not shown to staff yet
    assert seen["filer"] == {
        "user_id": world.uid("resident"), "nickname": "resident", "name": "resident", "phone": "139****5678"
    }  # fmt: skip
    for request in fake_wechat.media_requests:
        checker = await api.get(request.media_url.split("/api/v1", 1)[1])
        assert checker.status_code == 200 and checker.headers["content-type"] == "image/jpeg"
        await service.record_media_verdict(
            request.trace_id, fake_wechat.verdict_for(request.trace_id).suggest
        )
    seen = (await api.get(f"/complaints/{cid}", headers=staff)).json()
    assert [p["id"] for p in seen["photos"]] == photo_ids
    thumbnail = await api.get(seen["photos"][0]["thumbnail_url"].removeprefix("/api/v1"))
    assert thumbnail.status_code == 200

    queue = (await api.get("/staff/complaints", headers=staff)).json()["items"]
    assert [c["id"] for c in queue] == [cid]
    for path, payload in [("accept", {}), ("progress", {"note": "已联系电梯维保"})]:  # no dispatch to itself
        response = await api.post(f"/staff/complaints/{cid}/{path}", json=payload, headers=staff)
        assert response.status_code == 200, response.text
    after_photo = await upload(api, world, "property_staff")
    resolved = await api.post(
        f"/staff/complaints/{cid}/resolve", json={"note": "已修复", "photo_ids": [after_photo]}, headers=staff
    )
    assert resolved.json()["status"] == "resolved"
    # the staff's photo goes through the same content check before the resident sees it
    staff_check = fake_wechat.media_requests[2]
    assert (len(fake_wechat.media_requests), staff_check.openid) == (3, "openid-property_staff")
    assert staff_check.media_url.startswith(str(api.base_url).rstrip("/") + "/photos/")
    unseen = (await api.get(f"/complaints/{cid}", headers=world.headers("resident"))).json()
    assert after_photo not in [p["id"] for p in unseen["photos"]]
    assert await service.record_media_verdict(staff_check.trace_id, "pass") is True
    rated = await api.post(f"/complaints/{cid}/rate", json={"rating": 5}, headers=world.headers("resident"))
    assert rated.status_code == 200, rated.text
    detail = rated.json()
    assert (detail["status"], detail["rating"], detail["closed_at"]) == ("confirmed", 5, None)
    assert detail["allowed_actions"] == ["reopen"] and detail["reopen_days"] == 7
    assert [h["action"] for h in detail["history"]] == ["submit", "accept", "start", "resolve", "rate"]
    assert [h["by_name"] for h in detail["history"]] == [
        "resident", "property_staff", "property_staff", "property_staff", "resident"
    ]  # fmt: skip
    assert detail["history"][3]["photo_ids"] == [after_photo] and detail["history"][3]["by"] == "物业服务企业"
    assert after_photo in [p["id"] for p in detail["photos"]]

    stats = (await api.get("/staff/complaints/statistics", headers=world.headers("supervisor"))).json()
    assert stats["companies"][0]["count"] == 1 and stats["companies"][0]["average_rating"] == 5


async def test_risky_text_is_refused_with_a_reason_and_nothing_is_stored(
    api: httpx.AsyncClient, world: World
) -> None:
    photo_id = await upload(api, world, "resident")
    response = await api.post(
        "/complaints",
        json=body(world, text="这里有违禁内容要投诉", photo_ids=[photo_id]),
        headers=world.headers("resident"),
    )
    assert (response.status_code, response.json()["code"]) == (400, "complaint_content_risky")
    assert "违规" in response.json()["message"]
    assert await Complaint.all().count() == 0 and await Event.all().count() == 0
    assert (await Photo.get(id=photo_id)).attached_to is None  # free to use in a corrected complaint


async def test_review_holds_it_for_a_person(api: httpx.AsyncClient, world: World) -> None:
    filed = await api.post(
        "/complaints", json=body(world, text="这条内容待审一下吧"), headers=world.headers("resident")
    )
    cid = filed.json()["id"]
    assert (filed.json()["moderation"], filed.json()["stage_due_at"]) == ("held", None)
    assert (await api.get("/staff/complaints", headers=world.headers("property_staff"))).json()["items"] == []
    refused = await api.post(
        f"/staff/complaints/{cid}/accept", json={}, headers=world.headers("property_staff")
    )
    assert refused.status_code == 403
    held = (await api.get("/staff/complaints", headers=world.headers("community_admin"))).json()["items"]
    assert [c["id"] for c in held] == [cid]

    released = await api.post(
        f"/staff/complaints/{cid}/moderation", json={"passed": True}, headers=world.headers("community_admin")
    )
    assert released.json()["moderation"] == "passed" and released.json()["stage_due_at"] is not None
    queue = (await api.get("/staff/complaints", headers=world.headers("property_staff"))).json()["items"]
    assert [c["id"] for c in queue] == [cid]


async def test_ten_complaints_a_day_then_429(api: httpx.AsyncClient, world: World) -> None:
    for n in range(10):
        response = await api.post(
            "/complaints",
            json=body(world, text=f"第 {n} 条：楼道堆放杂物"),
            headers=world.headers("resident"),
        )
        assert response.status_code == 201, response.text
    eleventh = await api.post("/complaints", json=body(world), headers=world.headers("resident"))
    assert (eleventh.status_code, eleventh.json()["code"]) == (429, "complaint_daily_limit")
    assert int(eleventh.headers["retry-after"]) > 0
    assert await Complaint.all().count() == 10


async def test_neighbours_see_the_issue_not_the_person(api: httpx.AsyncClient, world: World) -> None:
    filed = (await api.post("/complaints", json=body(world), headers=world.headers("resident"))).json()
    neighbour = world.headers("neighbour")

    similar = await api.get(
        f"/complaints/similar?building_id={world.building.id}&category=repair", headers=neighbour
    )
    [item] = similar.json()["items"]
    assert item == {
        "id": filed["id"], "category": "repair", "text": filed["text"], "place": "1号楼", "status": "submitted",
        "supporters": 0, "created_at": item["created_at"], "mine": False, "supported": False,
        "allowed_actions": ["support"],
    }  # fmt: skip
    assert (await api.get(f"/complaints/{filed['id']}", headers=neighbour)).status_code == 404
    joined = await api.post(f"/complaints/{filed['id']}/support", headers=neighbour)
    assert joined.status_code == 200, joined.text
    assert (joined.json()["supporters"], joined.json()["filer"], joined.json()["place"]) == (1, None, "1号楼")
    again = await api.post(f"/complaints/{filed['id']}/support", headers=neighbour)
    assert again.json()["code"] == "complaint_already_supported"
    own = await api.post(f"/complaints/{filed['id']}/support", headers=world.headers("resident"))
    assert own.json()["code"] == "complaint_not_supportable"
    outsider = await api.get(
        f"/complaints/similar?building_id={world.building.id}&category=repair",
        headers=world.headers("outsider"),
    )
    assert outsider.status_code == 403
    mine = (await api.get("/complaints/mine", headers=neighbour)).json()["items"]
    assert [(c["id"], c["relation"]) for c in mine] == [(filed["id"], "supported")]


async def test_two_staff_accepting_at_once_exactly_one_wins(api: httpx.AsyncClient, world: World) -> None:
    complaints = [await make_complaint(world) for _ in range(5)]
    for complaint in complaints:
        answers = await asyncio.gather(
            api.post(
                f"/staff/complaints/{complaint.id}/accept", json={}, headers=world.headers("community_admin")
            ),
            api.post(
                f"/staff/complaints/{complaint.id}/accept", json={}, headers=world.headers("property_staff")
            ),
        )
        assert sorted(r.status_code for r in answers) == [200, 409], [r.text for r in answers]
        loser = next(r for r in answers if r.status_code == 409)
        assert loser.json()["code"] in ("complaint_changed", "complaint_transition_not_allowed")
        after = await Complaint.get(id=complaint.id)
        assert (after.status, after.version) == (Status.ACCEPTED, 2)
        assert await Event.filter(complaint_id=complaint.id, action="accept").count() == 1


async def test_grid_worker_files_for_a_resident(api: httpx.AsyncClient, world: World) -> None:
    response = await api.post(
        "/complaints",
        json=body(world, for_user_id=world.uid("resident")),
        headers=world.headers("grid_worker"),
    )
    assert response.status_code == 201, response.text
    complaint = await Complaint.get(id=response.json()["id"])
    assert (complaint.filer_id, complaint.complainant_id) == (world.uid("grid_worker"), world.uid("resident"))  # type: ignore[attr-defined]
    outsider = await api.post("/complaints", json=body(world), headers=world.headers("outsider"))
    assert (outsider.status_code, outsider.json()["code"]) == (403, "complaint_not_resident")
