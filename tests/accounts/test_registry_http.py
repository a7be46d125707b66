from __future__ import annotations

import httpx

from accounts.demo import seed_demo


async def test_communities_list_counts_compounds_and_standalone_buildings(client: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=b"k")
    response = await client.get("/api/v1/communities")
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["name"], i["compounds"], i["standalone"]) for i in items] == [
        ("东街社区", 25, 9),
        ("西街社区", 53, 15),
        ("北城社区", 50, 0),
        ("新北社区", 29, 7),
        ("紫荆社区", 20, 1),
        ("南城社区", 7, 0),
    ]


async def test_empty_registry_lists_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/communities")).json() == {"items": [], "next_cursor": None}


async def test_communities_are_paged_by_a_cursor(client: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=b"k")
    first = (await client.get("/api/v1/communities", params={"limit": 4})).json()
    assert [i["name"] for i in first["items"]] == ["东街社区", "西街社区", "北城社区", "新北社区"]
    rest = (
        await client.get("/api/v1/communities", params={"limit": 4, "cursor": first["next_cursor"]})
    ).json()
    assert ([i["name"] for i in rest["items"]], rest["next_cursor"]) == (["紫荆社区", "南城社区"], None)
    bad = await client.get("/api/v1/communities", params={"cursor": "x"})
    assert (bad.status_code, bad.json()["code"]) == (400, "cursor_invalid")
