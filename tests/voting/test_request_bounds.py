"""Issue 10 item 7 on the voting routes: ids naming nothing, zoneless times and huge ids in bodies are
4xx envelopes, never 500; nothing is written by a refused request."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from tests.voting.conftest import World
from voting.models import Motion, ProxyAuthorization, ProxyInvitation


async def test_a_proxy_naming_an_unknown_phone_is_404_and_writes_nothing(world: World) -> None:
    motion_id = await world.open()
    owner = (await world.on_roll(motion_id))[0]
    asked = await world.api.post(
        f"/api/v1/motions/{motion_id}/proxies",
        headers=world.owners[owner],
        json={"document_photo_ids": [9], "invitee_phone": "13000000000"},
    )
    assert asked.status_code == 404, asked.text
    assert asked.json()["code"] == "proxy_user_not_found"
    assert await ProxyAuthorization.filter(motion_id=motion_id).count() == 0
    assert await ProxyInvitation.filter(motion_id=motion_id).count() == 0


async def test_a_motion_with_times_without_a_zone_is_refused(world: World) -> None:
    now = clock.now()
    body = {
        "title": "关于续聘物业服务企业的表决",
        "text": "详见附件。",
        "items": [{"title": "同意续聘", "matter": "hire_property_company"}],
        "opens_at": (now + timedelta(days=20)).replace(tzinfo=None).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
    }
    before = await Motion.all().count()
    response = await world.api.post(world.admin, headers=world.chair, json=body)
    assert response.status_code == 400, response.text
    details = response.json()["details"]
    assert [d["field"] for d in details] == ["opens_at"]
    assert "时区" in details[0]["reason"]
    assert await Motion.all().count() == before


async def test_huge_ids_in_motion_bodies_are_400(world: World) -> None:
    motion_id = await world.open()
    owner = (await world.on_roll(motion_id))[0]
    for for_voter in (2**31, 2**62):
        response = await world.cast(motion_id, owner, {"1": "agree"}, for_voter=for_voter)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid"
    scoped = await world.api.post(
        world.admin,
        headers=world.chair,
        json={
            "title": "t", "text": "x", "items": [{"title": "a", "matter": "other_major_matter"}],
            "opens_at": clock.now().isoformat(), "closes_at": clock.now().isoformat(),
            "scope_buildings": [2**40],
        },
    )  # fmt: skip
    assert scoped.status_code == 400, scoped.text


async def test_a_receipt_code_longer_than_any_receipt_is_404(world: World) -> None:
    motion_id = await world.open()
    response = await world.api.get(f"/api/v1/motions/{motion_id}/receipts/{'0' * 199}", headers=world.chair)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "receipt_not_found"
