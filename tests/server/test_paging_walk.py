"""Issue 12 item 7 over HTTP: every list route of the OpenAPI document, walked over the demo county as
the people at desks, pages as declared: with ``limit=1`` a page holds at most one item, a next_cursor
leads to a page of other items, and the same cursor edited by one character is a 400 cursor_invalid
(cursors are sealed, core.pages)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from accounts.demo import seed_demo


async def _login(client: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def _paged(op: dict[str, Any]) -> bool:
    names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
    required = {p["name"] for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")}
    return {"cursor", "limit"} <= names and not required - {"year"}


def _tampered(cursor: str) -> str:
    flip = "B" if cursor[5] != "B" else "C"
    return cursor[:5] + flip + cursor[6:]


async def test_every_list_route_pages_with_sealed_cursors(client: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=b"k")
    document = (await client.get("/docs/openapi.json")).json()
    people = {
        name: await _login(client, name) for name in ("demo-committee", "demo-supervisor", "demo-property")
    }
    ids = {"compound_id": 1, "community_id": 1, "building_id": 1, "target": 1}
    problems: list[str] = []
    routes = followed = 0
    for path, ops in sorted(document["paths"].items()):
        op = ops.get("get")
        if op is None or not _paged(op):
            continue
        routes += 1
        url = path
        for name in re.findall(r"\{(\w+)\}", path):
            url = url.replace(f"{{{name}}}", "compound" if name == "scope" else str(ids.get(name, 1)))
        base: dict[str, Any] = {"limit": 1}
        if any(p["name"] == "year" for p in op["parameters"]):
            base["year"] = 2026
        for who, headers in people.items():
            first = await client.get(url, params=base, headers=headers)
            if first.status_code != 200:
                continue
            page = first.json()
            if len(page["items"]) > 1:
                problems.append(f"{who} {url}: {len(page['items'])} items at limit=1")
            cursor = page["next_cursor"]
            if cursor is None:
                continue
            followed += 1
            second = await client.get(url, params={**base, "cursor": cursor}, headers=headers)
            if second.status_code != 200:
                problems.append(f"{who} {url}: next page {second.status_code} {second.text[:120]}")
            elif json.dumps(second.json()["items"]) == json.dumps(page["items"]):
                problems.append(f"{who} {url}: the next page repeats the first")
            forged = await client.get(url, params={**base, "cursor": _tampered(cursor)}, headers=headers)
            if (forged.status_code, forged.json().get("code")) != (400, "cursor_invalid"):
                problems.append(f"{who} {url}: an edited cursor answered {forged.status_code}")
            break
    assert problems == []
    assert routes >= 20
    assert followed >= 4  # the demo county has few lists longer than one item for these people
