"""Whom a community admin may name as a compound's grid worker (issue 12): the community's grid
workers, paged, phones masked but the viewer's own, refused to anyone but that community's admin and
the supervisor; and a grid worker taken from the list is accepted on the compound's board."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from accounts.models import Community, Compound, RoleGrant, User
from accounts.sessions import open_session
from core.cache import Cache

API = "/api/v1"


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> dict[str, Any]:
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    sunny = await Compound.create(community=east, name="阳光花园")
    users = {
        name: await User.create(openid=f"o-{name}", phone=phone, nickname=nickname)
        for name, phone, nickname in (
            ("admin", "13800000001", ""),
            ("far_admin", None, ""),
            ("supervisor", None, ""),
            ("grid_a", "13912345678", "小刘"),
            ("grid_b", None, ""),
            ("grid_c", "13700001234", ""),
            ("far_grid", "13600000000", ""),
            ("nobody", None, ""),
        )
    }
    grants = [
        ("admin", "community_admin", "community", east.id),
        ("far_admin", "community_admin", "community", west.id),
        ("supervisor", "supervisor", "county", 0),
        ("grid_a", "grid_worker", "community", east.id),
        ("grid_b", "grid_worker", "community", east.id),
        ("far_grid", "grid_worker", "community", west.id),
        ("grid_c", "grid_worker", "community", east.id),
        ("admin", "grid_worker", "community", east.id),  # the admin walks the grid too
    ]
    for name, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[name], role=role, scope_type=scope, scope_id=scope_id)
    headers = {
        name: {"authorization": f"Bearer {(await open_session(cache, user.id, 3600)).token}"}
        for name, user in users.items()
    }
    return {"east": east, "west": west, "sunny": sunny, "users": users, "headers": headers}


async def walk(client: httpx.AsyncClient, community: int, who: dict[str, str], limit: int) -> list[Any]:
    items, cursor, pages_seen = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            f"{API}/admin/communities/{community}/grid-workers", params=params, headers=who
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= limit
        items += page["items"]
        pages_seen += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert pages_seen < 10


async def test_the_community_admin_lists_its_grid_workers_with_masked_phones(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    users = world["users"]
    items = await walk(client, world["east"].id, world["headers"]["admin"], limit=2)
    assert [(i["user_id"], i["nickname"], i["display_name"], i["phone"]) for i in items] == [
        (users["grid_a"].id, "小刘", "小刘", "139****5678"),
        (users["grid_b"].id, "", items[1]["display_name"], None),
        (users["grid_c"].id, "", "网格员（尾号1234）", "137****1234"),
        (users["admin"].id, "", "网格员（尾号0001）", "13800000001"),  # the viewer's own phone, in full
    ]
    assert (
        items[1]["display_name"].startswith("网格员·")
        and str(users["grid_b"].id) not in items[1]["display_name"]
    )
    assert all(i["granted_at"].endswith("+08:00") for i in items)
    granted = {g.user_id: g.id for g in await RoleGrant.filter(role="grid_worker")}  # type: ignore[attr-defined]
    assert all(granted[i["user_id"]] == i["grant_id"] for i in items)
    # the supervisor sees the same people, every phone masked; the other community's list is its own
    seen = await walk(client, world["east"].id, world["headers"]["supervisor"], limit=50)
    assert [i["user_id"] for i in seen] == [i["user_id"] for i in items]
    assert [i["phone"] for i in seen] == ["139****5678", None, "137****1234", "138****0001"]
    far = await walk(client, world["west"].id, world["headers"]["far_admin"], limit=50)
    assert [(i["user_id"], i["phone"]) for i in far] == [(users["far_grid"].id, "136****0000")]


async def test_a_grid_worker_from_the_list_is_accepted_on_the_board(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    admin = world["headers"]["admin"]
    chosen = (await walk(client, world["east"].id, admin, limit=50))[2]
    body = {
        "contact": None,
        "grid_worker": {"user_id": chosen["user_id"], "name": "陈网格", "phone": "13700001234"},
    }
    put = await client.put(
        f"{API}/admin/compounds/{world['sunny'].id}/contacts/community", json=body, headers=admin
    )
    assert put.status_code == 200, put.text
    profile = (await client.get(f"{API}/compounds/{world['sunny'].id}/profile")).json()
    assert (profile["grid_worker"]["name"], profile["grid_worker"]["phone"]) == ("陈网格", "13700001234")


@pytest.mark.parametrize(
    ("who", "community", "status", "code"),
    [
        (None, "east", 401, None),
        ("nobody", "east", 403, "role_missing"),
        ("grid_a", "east", 403, "role_missing"),  # a grid worker does not name grid workers
        ("far_admin", "east", 403, "role_missing"),  # another community's admin
        ("admin", "west", 403, "role_missing"),
        ("supervisor", None, 404, "community_not_found"),
    ],
)
async def test_others_are_refused(
    world: dict[str, Any], client: httpx.AsyncClient, who: str | None, community: str | None, status: int,
    code: str | None,
) -> None:  # fmt: skip
    community_id = world[community].id if community else 999_999
    headers = world["headers"][who] if who else {}
    response = await client.get(f"{API}/admin/communities/{community_id}/grid-workers", headers=headers)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["code"] == code


async def test_a_cursor_from_another_list_or_edited_is_refused(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    admin = world["headers"]["admin"]
    url = f"{API}/admin/communities/{world['east'].id}/grid-workers"
    cursor = (await client.get(url, params={"limit": 1}, headers=admin)).json()["next_cursor"]
    assert cursor
    for bad in (cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), "1", "x" * 161):
        response = await client.get(url, params={"cursor": bad}, headers=admin)
        assert (response.status_code, response.json()["code"]) == (400, "cursor_invalid"), bad
    too_many = await client.get(url, params={"limit": 51}, headers=admin)
    assert too_many.status_code == 400
