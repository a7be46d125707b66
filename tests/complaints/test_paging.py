"""Issue 12 item 7 on the complaint lists: the staff queue and "my complaints" are keyset pages
(sealed cursors, a bounded limit); the queue keeps its order across pages (nearest stage deadline
first, those without one last), the similar list and the categories are bounded enumerations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from complaints.models import Status, Support
from core import clock

from .conftest import World, make_complaint


async def _all(
    api: httpx.AsyncClient, url: str, headers: dict[str, str], limit: int
) -> tuple[list[int], list[int]]:
    ids, sizes, cursor = [], [], None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await api.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [c["id"] for c in page["items"]]
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, sizes


async def test_the_staff_queue_pages_in_deadline_order_then_undated(
    api: httpx.AsyncClient, world: World
) -> None:
    now = clock.now()
    # deadlines out of id order, two sharing one moment, and two without a deadline
    dues = [now + timedelta(hours=5), None, now + timedelta(hours=1), now + timedelta(hours=3),
            now + timedelta(hours=3), None, now + timedelta(hours=2)]  # fmt: skip
    made = [await make_complaint(world, status=Status.DISPATCHED, stage_due_at=due) for due in dues]
    expected = [
        c.id for c in sorted((c for c in made if c.stage_due_at), key=lambda c: (c.stage_due_at, c.id))
    ]
    expected += sorted(c.id for c in made if c.stage_due_at is None)
    staff = world.headers("property_staff")
    for limit in (1, 2, 3, 7):
        ids, sizes = await _all(api, "/staff/complaints", staff, limit)
        assert ids == expected, limit
        assert sizes[-1] > 0 and all(size == limit for size in sizes[:-1])
    bad = await api.get("/staff/complaints", params={"offset": 2}, headers=staff)
    assert (bad.status_code, bad.json()["code"]) == (400, "unknown_query_parameter")
    too_many = await api.get("/staff/complaints", params={"limit": 51}, headers=staff)
    assert too_many.status_code == 400
    forged = await api.get("/staff/complaints", params={"cursor": "n.1"}, headers=staff)
    assert (forged.status_code, forged.json()["code"]) == (400, "cursor_invalid")


async def test_my_complaints_page_newest_first_with_what_i_support(
    api: httpx.AsyncClient, world: World
) -> None:
    mine = [await make_complaint(world, filer="resident") for _ in range(3)]
    theirs = await make_complaint(world, filer="neighbour")
    other = await make_complaint(world, filer="neighbour")
    await Support.create(complaint=theirs, user=world.users["resident"])
    ids, sizes = await _all(api, "/complaints/mine", world.headers("resident"), 2)
    assert ids == sorted([*(c.id for c in mine), theirs.id], reverse=True) and other.id not in ids
    assert sizes == [2, 2]
    rows = (await api.get("/complaints/mine", headers=world.headers("resident"))).json()["items"]
    assert {r["id"]: r["relation"] for r in rows} == {**{c.id: "filed" for c in mine}, theirs.id: "supported"}
    assert (await api.get("/complaints/mine", headers=world.headers("outsider"))).json() == {
        "items": [],
        "next_cursor": None,
    }
