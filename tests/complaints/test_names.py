"""Complaint participants by nickname, or a masked label where they have none, never a raw user id;
the complainant's side hidden from other residents when the complaint is anonymous."""

from __future__ import annotations

import httpx

from accounts.models import User

from .conftest import World, make_complaint
from .test_http import body


async def test_participants_show_by_nickname_or_masked_label(world: World, api: httpx.AsyncClient) -> None:
    await User.filter(id=world.uid("resident")).update(nickname="")
    await User.filter(id=world.uid("property_staff")).update(nickname="安居物业 小刘")
    complaint = await make_complaint(world)
    for path, payload in [("accept", {}), ("resolve", {"note": "已修好"})]:
        response = await api.post(
            f"/staff/complaints/{complaint.id}/{path}", json=payload, headers=world.headers("property_staff")
        )
        assert response.status_code == 200, response.text
    await api.post(f"/complaints/{complaint.id}/rate", json={"rating": 5}, headers=world.headers("resident"))

    staff_view = (
        await api.get(f"/complaints/{complaint.id}", headers=world.headers("community_admin"))
    ).json()
    assert staff_view["filer"]["name"] == "投诉人（尾号5678）" and staff_view["filer"]["nickname"] == ""
    assert [(h["action"], h["by_name"]) for h in staff_view["history"]] == [
        ("seed", "系统"),
        ("accept", "安居物业 小刘"),
        ("resolve", "安居物业 小刘"),
        ("rate", "投诉人（尾号5678）"),
    ]
    own = (await api.get(f"/complaints/{complaint.id}", headers=world.headers("resident"))).json()
    assert own["history"][-1]["by_name"] == "投诉人（尾号5678）"
    assert all(f"用户{world.uid(w)}" not in str(staff_view) for w in ("resident", "property_staff"))


async def test_an_anonymous_complainant_is_hidden_from_a_supporter(
    world: World, api: httpx.AsyncClient
) -> None:
    filed = await api.post("/complaints", json=body(world), headers=world.headers("resident"))  # anonymous
    assert filed.status_code == 201, filed.text
    cid = filed.json()["id"]
    joined = await api.post(f"/complaints/{cid}/support", headers=world.headers("neighbour"))
    assert joined.status_code == 200, joined.text  # the neighbour sees it from now on
    await api.post(f"/staff/complaints/{cid}/accept", json={}, headers=world.headers("property_staff"))
    seen = (await api.get(f"/complaints/{cid}", headers=world.headers("neighbour"))).json()
    assert seen["filer"] is None
    assert [(h["action"], h["by"], h["by_name"]) for h in seen["history"]] == [
        ("submit", "投诉人", None),
        ("accept", "物业服务企业", "property_staff"),
    ]
    staff = (await api.get(f"/complaints/{cid}", headers=world.headers("property_staff"))).json()
    assert staff["history"][0]["by_name"] == "resident"
