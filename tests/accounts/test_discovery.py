"""Discovery (issue 12 item 1): a brand-new user finds their compound, building and room and claims
it without knowing any id; rooms say nothing about owners; pages are bounded; a claim names its unit
in exactly one way."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest

from accounts.identity import make_id_number
from accounts.models import (
    Building,
    Committee,
    Community,
    Compound,
    Owner,
    PropertyCompany,
    RoleGrant,
    ServiceContract,
    Unit,
    User,
)
from accounts.roster import import_roster
from audit.models import AuditEvent
from audit.service import Actor
from complaints.catalog import CATEGORIES
from complaints.demo import seed_complaints_catalog
from miniprogram_api import discovery as discovery_api

KEY = b"dev-only-hmac-key-change-me"  # the test settings use the development default
API = "/api/v1"
COLUMNS = ["building", "unit", "kind", "area", "owner_name", "phone", "id_number", "certificate"]


def pid(n: int) -> str:
    return make_id_number(f"51100019800101{n:03d}")


def cert(n: int) -> str:
    return f"川(2021)某县不动产权第{n:07d}号"


# 阳光花园's roster: 张伟 owns 1号楼 101 and 102, 李娜 owns 1号楼 201, 王芳 owns 2号楼 101.
ROSTER = [
    ("1号楼", "101", "flat", "89.37", "张伟", "13900000001", pid(1), cert(1)),
    ("1号楼", "102", "flat", "126.53", "张伟", "13900000001", pid(1), cert(2)),
    ("1号楼", "201", "flat", "72.19", "李娜", "13900000002", pid(2), cert(3)),
    ("2号楼", "101", "flat", "90.00", "王芳", "13900000003", pid(3), cert(4)),
]
OWNER_DATA = ["张伟", "李娜", "王芳", "13900000001", "89.37", "126.53", pid(1), cert(1)]


def roster_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(ROSTER)
    return out.getvalue().encode()


@pytest.fixture
async def world(clean_db: None) -> dict[str, Any]:
    """东街社区 with 阳光花园 (rostered, a property company under contract, a committee in office) and
    six other compounds; 西街社区 with a 阳光小区 of its own."""
    await seed_complaints_catalog()
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    sunny = await Compound.create(community=east, name="阳光花园", address="东街 8 号")
    for name in ("1号楼", "2号楼"):
        await Building.create(compound=sunny, name=name)
    await import_roster(sunny.id, roster_csv(), "csv", hmac_key=KEY, actor=Actor("user:0", "测试"))
    others = [await Compound.create(community=east, name=f"东街{i}号院") for i in range(1, 7)]
    far = await Compound.create(community=west, name="阳光小区")
    company = await PropertyCompany.create(
        name="安居物业", credit_code="91510000MA0000002Y", contact_phone="0838-1234567"
    )
    await ServiceContract.create(
        company=company,
        compound=sunny,
        starts_on=date(2020, 1, 1),
        ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )
    await Committee.create(compound=sunny, term_starts_on=date(2024, 1, 1), term_ends_on=date(2099, 1, 1))
    return {"east": east, "west": west, "sunny": sunny, "others": others, "far": far}


async def login(client: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await client.post(f"{API}/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def only(items: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    found = [item for item in items if all(item[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, items)
    return found[0]


async def test_a_new_user_from_login_to_a_verified_claim_without_knowing_any_id(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    # given a brand-new WeChat user who knows their community, compound, building and room by name
    auth = await login(client, "brand-new-resident")
    assert (await client.get(f"{API}/me", headers=auth)).json()["units"] == []

    # when they walk community → compound → building → room
    communities = (await client.get(f"{API}/communities")).json()["items"]
    east = only(communities, name="东街社区")
    in_east = (await client.get(f"{API}/communities/{east['id']}/compounds", params={"q": "阳光"})).json()
    assert [c["name"] for c in in_east["items"]] == ["阳光花园"] and in_east["next_cursor"] is None
    found = (await client.get(f"{API}/compounds", params={"q": "阳光"})).json()["items"]
    assert [(c["name"], c["community"]) for c in found] == [
        ("阳光花园", "东街社区"),
        ("阳光小区", "西街社区"),
    ]
    compound = only(found, name="阳光花园")
    assert compound == {
        "id": compound["id"],
        "name": "阳光花园",
        "community_id": east["id"],
        "community": "东街社区",
        "address": "东街 8 号",
        "standalone": False,
    }
    buildings = (await client.get(f"{API}/compounds/{compound['id']}/buildings")).json()["items"]
    assert [b["name"] for b in buildings] == ["1号楼", "2号楼"]
    building = only(buildings, name="1号楼")
    rooms = (
        await client.get(f"{API}/compounds/{compound['id']}/buildings/{building['id']}/rooms", headers=auth)
    ).json()["items"]
    assert [r["number"] for r in rooms] == ["101", "102", "201"]
    profile = (await client.get(f"{API}/compounds/{compound['id']}/profile")).json()
    company = profile["property_company"]
    assert (company["name"], company["contact_phone"]) == ("安居物业", "0838-1234567")

    # and claim by compound + building name + room with what their certificate says
    claim = await client.post(
        f"{API}/me/claims",
        headers=auth,
        json={
            "compound_id": compound["id"],
            "building": "1号楼",
            "room": "102",
            "name": "张伟",
            "id_number": pid(1),
            "certificate": cert(2),
        },
    )

    # then they are the verified owner of both of 张伟's units, and the audit names the room claimed
    assert claim.status_code == 200, claim.text
    assert claim.json()["verified"] is True
    assert [(u["building"], u["number"]) for u in claim.json()["units"]] == [
        ("1号楼", "101"),
        ("1号楼", "102"),
    ]
    me = (await client.get(f"{API}/me", headers=auth)).json()
    assert {r["role"] for r in me["roles"]} == {"owner"}
    unit_102 = only(rooms, number="102")["unit_id"]
    event = await AuditEvent.get(action="owner.verified")
    assert event.subject == f"unit:{unit_102}"


async def test_a_claim_by_building_id_and_room(world: dict[str, Any], client: httpx.AsyncClient) -> None:
    auth = await login(client, "by-building-id")
    sunny = world["sunny"]
    second = await Building.get(compound=sunny, name="2号楼")
    body = {"compound_id": sunny.id, "building_id": second.id, "room": " 101 "}
    claim = await client.post(
        f"{API}/me/claims",
        headers=auth,
        json={**body, "name": "王芳", "id_number": pid(3), "certificate": cert(4)},
    )
    assert claim.status_code == 200, claim.text
    assert [(u["building"], u["number"]) for u in claim.json()["units"]] == [("2号楼", "101")]


async def test_rooms_expose_no_owner_data(world: dict[str, Any], client: httpx.AsyncClient) -> None:
    auth = await login(client, "curious")
    sunny = world["sunny"]
    first = await Building.get(compound=sunny, name="1号楼")
    response = await client.get(f"{API}/compounds/{sunny.id}/buildings/{first.id}/rooms", headers=auth)
    assert response.status_code == 200
    page = response.json()
    units = await Unit.filter(building=first).order_by("id").values_list("id", "number")
    assert page == {"items": [{"unit_id": i, "number": n} for i, n in units], "next_cursor": None}
    texts = [response.text]
    texts.append((await client.get(f"{API}/compounds/{sunny.id}/buildings")).text)
    texts.append((await client.get(f"{API}/compounds/{sunny.id}/profile")).text)
    texts.append((await client.get(f"{API}/compounds", params={"q": "阳光"})).text)
    for secret in OWNER_DATA:
        assert all(secret not in text for text in texts), secret


async def test_the_profile_shows_only_what_the_board_shows(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    sunny, east = world["sunny"], world["east"]
    profile = (await client.get(f"{API}/compounds/{sunny.id}/profile")).json()
    categories = profile.pop("complaint_categories")
    assert profile == {
        "id": sunny.id,
        "name": "阳光花园",
        "address": "东街 8 号",
        "standalone": False,
        "community_id": east.id,
        "community": "东街社区",
        "property_company": {
            "name": "安居物业",
            "contact_phone": "0838-1234567",
            "project_manager": None,  # the board's contacts: tests/accounts/test_contacts.py
            "complaint_phone": None,
            "service_phone": None,
        },
        "committee": {
            "term_starts_on": "2024-01-01",
            "term_ends_on": "2099-01-01",
            "filing_status": "pending",
            "contact": None,
        },
        "community_contact": None,
        "grid_worker": None,
    }
    assert [(c["code"], c["party"], c["department"]) for c in categories] == [
        (c.code, c.party.value, c.department) for c in CATEGORIES
    ]
    # a compound with no contract and no committee in office says so
    bare = (await client.get(f"{API}/compounds/{world['others'][0].id}/profile")).json()
    assert (bare["property_company"], bare["committee"]) == (None, None)
    missing = await client.get(f"{API}/compounds/999999/profile")
    assert (missing.status_code, missing.json()["code"]) == (404, "compound_not_found")


async def test_pages_follow_the_cursor_and_the_limit_is_bounded(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    east = world["east"]
    url = f"{API}/communities/{east.id}/compounds"
    expected = await Compound.filter(community=east).order_by("id").values_list("name", flat=True)
    assert len(expected) == 7
    seen, sizes, cursor = [], [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(url, params=params)).json()
        seen += [c["name"] for c in page["items"]]
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, sizes) == (expected, [3, 3, 1])
    # exactly a page's worth: no next cursor leading to an empty page
    assert (await client.get(url, params={"limit": 7})).json()["next_cursor"] is None
    assert len((await client.get(url, params={"limit": 50})).json()["items"]) == 7
    for bad in ({"limit": 51}, {"limit": 0}, {"limit": 10**6}, {"limit": "x"}):
        response = await client.get(url, params=bad)
        assert (response.status_code, response.json()["code"]) == (400, "invalid"), bad
    for cursor in ("abc", "0", "-1", str(2**31), "1" * 20):
        response = await client.get(url, params={"cursor": cursor})
        assert (response.status_code, response.json()["code"]) == (400, "cursor_invalid"), cursor


async def test_cursors_are_sealed_tamper_proof_and_bound_to_their_route(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    """What a client is handed as next_cursor is opaque and HMAC-sealed (core.pages.seal, a key
    derived from SECRET_KEY): the raw id a service wrote, an edited or truncated cursor, one sealed
    for another list and one too long are each a 400 cursor_invalid; only the cursor itself goes on."""
    east = world["east"]
    url = f"{API}/communities/{east.id}/compounds"
    first = (await client.get(url, params={"limit": 2})).json()
    cursor = first["next_cursor"]
    second_id = first["items"][-1]["id"]
    assert cursor is not None and str(second_id) not in cursor and len(cursor) <= 160
    following = await client.get(url, params={"limit": 2, "cursor": cursor})
    assert following.status_code == 200, following.text
    assert following.json()["items"][0]["id"] > second_id
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    other_list = (await client.get(f"{API}/communities", params={"limit": 1})).json()["next_cursor"]
    assert other_list is not None
    for bad in (
        str(second_id),
        flipped,
        cursor[:-2],
        cursor + "AA",
        other_list,
        "A" * 161,
        cursor + "=",
        "é",
    ):
        response = await client.get(url, params={"limit": 2, "cursor": bad})
        assert response.status_code == 400, (bad, response.text)
        body = response.json()
        assert (body["code"], body["message"]) == ("cursor_invalid", "分页参数无效，请从第一页重新加载")


def test_a_sealed_cursor_holds_only_what_seal_wrote() -> None:
    from core import pages

    key, other = pages.cursor_key("secret-one"), pages.cursor_key("secret-two")
    token = pages.seal("41", key=key, scope="a")
    assert pages.unseal(token, key=key, scope="a") == "41"
    for bad_key, scope in ((other, "a"), (key, "b")):
        with pytest.raises(pages.CursorInvalid):
            pages.unseal(token, key=bad_key, scope=scope)
    longest = pages.seal("x" * pages.RAW_MAX, key=key, scope="a")
    assert len(longest) <= pages.CURSOR_MAX_LENGTH
    with pytest.raises(ValueError):
        pages.seal("x" * (pages.RAW_MAX + 1), key=key, scope="a")


async def test_departments_notice_categories_and_disclosure_sections_are_listed(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    """Issue 12 item 1: the fixed lists a client builds its pickers from, public and complete."""
    from complaints.catalog import DEPARTMENTS
    from notices.ledger import SECTIONS
    from notices.rules import CATEGORIES as NOTICE_CATEGORIES

    departments = (await client.get(f"{API}/departments")).json()["items"]
    assert [d["name"] for d in departments] == list(DEPARTMENTS)
    by_name = {d["name"]: d["complaint_categories"] for d in departments}
    assert {c.code for c in CATEGORIES if c.department == "公安局"} == set(by_name["公安局"])
    assert sorted(code for codes in by_name.values() for code in codes) == sorted(
        c.code for c in CATEGORIES if c.department
    )
    categories = (await client.get(f"{API}/notice-categories")).json()["items"]
    assert [c["code"] for c in categories] == [str(c) for c in NOTICE_CATEGORIES]
    shown = {c["code"]: c for c in categories}
    assert shown["project_manager"]["label"] == "项目负责人及联系方式"
    assert (shown["vote_result"]["system_only"], shown["committee_annual"]["structured"]) == (True, True)
    sections = {k["kind"]: k for k in (await client.get(f"{API}/disclosure-sections")).json()["items"]}
    assert set(sections) == {"committee_annual", "property_periodic"}
    assert [s["code"] for s in sections["property_periodic"]["sections"]] == list(
        SECTIONS["property_periodic"]
    )  # type: ignore[index]
    assert sections["property_periodic"]["balances"] == [{"code": "fee_balance", "label": "物业费收支结余"}]


async def test_search_is_literal_bounded_and_scoped(world: dict[str, Any], client: httpx.AsyncClient) -> None:
    def names(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()["items"]]

    search = f"{API}/compounds"
    assert names(await client.get(search, params={"q": "号院", "limit": 2})) == ["东街1号院", "东街2号院"]
    assert names(await client.get(search, params={"q": "%"})) == []  # a wildcard matches only itself
    assert names(await client.get(search, params={"q": "_"})) == []
    west = world["west"]
    assert names(await client.get(search, params={"q": "阳光", "community_id": west.id})) == ["阳光小区"]
    for params, code in (
        ({}, "invalid"),
        ({"q": ""}, "invalid"),
        ({"q": "阳" * 51}, "invalid"),
        ({"q": "   "}, "search_query_empty"),
        ({"q": "阳光", "community_id": 2**31}, "invalid"),
    ):
        response = await client.get(search, params=params)
        assert (response.status_code, response.json()["code"]) == (400, code), params
    missing = await client.get(f"{API}/communities/999999/compounds")
    assert (missing.status_code, missing.json()["code"]) == (404, "community_not_found")


async def test_a_building_of_another_compound_has_no_rooms_here(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    auth = await login(client, "wanderer")
    first = await Building.get(compound=world["sunny"], name="1号楼")
    other = world["others"][0].id
    response = await client.get(f"{API}/compounds/{other}/buildings/{first.id}/rooms", headers=auth)
    assert (response.status_code, response.json()["code"]) == (404, "building_not_found")
    response = await client.get(f"{API}/compounds/999999/buildings/{first.id}/rooms", headers=auth)
    assert (response.status_code, response.json()["code"]) == (404, "compound_not_found")
    response = await client.get(f"{API}/compounds/999999/buildings")
    assert (response.status_code, response.json()["code"]) == (404, "compound_not_found")


PERSON = {"name": "张伟", "id_number": pid(1), "certificate": cert(1)}


async def test_a_claim_names_its_unit_in_exactly_one_way(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    auth = await login(client, "two-ways")
    sunny = world["sunny"]
    first = await Building.get(compound=sunny, name="1号楼")
    unit = await Unit.get(building=first, number="101")
    place = {"compound_id": sunny.id, "building": "1号楼", "room": "101"}
    unclear = [
        {**place, "unit_id": unit.id},  # both ways at once
        {"unit_id": unit.id, "room": "101"},
        {},  # neither
        {"compound_id": sunny.id, "building": "1号楼"},  # no room
        {"building": "1号楼", "room": "101"},  # no compound
        {"compound_id": sunny.id, "room": "101"},  # no building
        {**place, "building_id": first.id},  # the building twice
        {**place, "room": "  "},
    ]
    for way in unclear:
        response = await client.post(f"{API}/me/claims", headers=auth, json={**way, **PERSON})
        assert response.status_code == 400, (way, response.text)
        error = response.json()
        assert error["code"] == "claim_unit_unclear", way
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    both = await client.post(f"{API}/me/claims", headers=auth, json={**place, "unit_id": unit.id, **PERSON})
    assert both.json()["details"] == {"given": ["unit_id", "compound_id", "building", "room"]}
    assert await Owner.filter(user_id__not_isnull=True).count() == 0
    # none of those compared anything, so none cost an attempt: five wrong rooms still may be tried
    for room in ("901", "902", "903", "904", "905"):
        response = await client.post(f"{API}/me/claims", headers=auth, json={**place, "room": room, **PERSON})
        assert (response.status_code, response.json()["code"]) == (404, "unit_not_found"), room
    limited = await client.post(f"{API}/me/claims", headers=auth, json={**place, **PERSON})
    assert (limited.status_code, limited.json()["code"]) == (429, "claim_too_many_failures")
    # and the old way still works for another user
    other = await login(client, "by-unit-id")
    claim = await client.post(f"{API}/me/claims", headers=other, json={"unit_id": unit.id, **PERSON})
    assert claim.status_code == 200, claim.text


# (method, path, who may call it): "anyone" includes anonymous callers; "logged_in" any user.
MATRIX: list[tuple[str, str, str]] = [
    ("GET", "/communities/{community}/compounds", "anyone"),
    ("GET", "/compounds?q=阳光", "anyone"),
    ("GET", "/compounds/{compound}/buildings", "anyone"),
    ("GET", "/compounds/{compound}/buildings/{building}/rooms", "logged_in"),
    ("GET", "/compounds/{compound}/profile", "anyone"),
    ("GET", "/departments", "anyone"),
    ("GET", "/notice-categories", "anyone"),
    ("GET", "/disclosure-sections", "anyone"),
]
ROLES = ["anonymous", "nobody", "owner", "committee", "supervisor"]


PARAMS = {"{community}": "<community_id:int>", "{compound}": "<compound_id:int>"}
PARAMS |= {"{building}": "<building_id:int>"}


def test_every_discovery_route_is_in_the_matrix() -> None:
    declared = {(method, route.uri) for route in discovery_api.bp._future_routes for method in route.methods}
    covered = {
        (method, "/".join(PARAMS.get(part, part) for part in path.split("?")[0].split("/")))
        for method, path, _ in MATRIX
    }
    assert declared == covered


@pytest.mark.parametrize("role", ROLES)
async def test_discovery_permission_matrix(
    role: str, world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    sunny = world["sunny"]
    ids = {
        "community": world["east"].id,
        "compound": sunny.id,
        "building": (await Building.get(compound=sunny, name="1号楼")).id,
    }
    headers: dict[str, str] = {}
    if role != "anonymous":
        headers = await login(client, f"matrix-{role}")
        user = await User.get(openid=f"matrix-{role}")
        if role == "owner":
            await Owner.filter(name="李娜").update(user_id=user.id)
        elif role == "committee":
            await RoleGrant.create(user=user, role="committee", scope_type="compound", scope_id=sunny.id)
        elif role == "supervisor":
            await RoleGrant.create(user=user, role="supervisor", scope_type="county", scope_id=0)
    failures = []
    for method, template, who in MATRIX:
        path = API + template.format(**ids)
        before = (await Owner.filter(user_id__not_isnull=True).count(), await AuditEvent.all().count())
        response = await client.request(method, path, headers=headers)
        expected = 401 if role == "anonymous" and who == "logged_in" else 200
        if response.status_code != expected:
            failures.append(f"{role} got {response.status_code} on {method} {template}, expected {expected}")
        if (await Owner.filter(user_id__not_isnull=True).count(), await AuditEvent.all().count()) != before:
            failures.append(f"{role}'s {method} {template} changed the database")
    assert failures == []
