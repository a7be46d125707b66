"""A roster speaks only for its own compound (issue 10, item 1): the takeover across compounds, over HTTP.

Compound A (阳光花园) and compound B (锦绣家园) of the demo county, each with its own committee. B's
chair imports into B rows carrying the ID numbers of two owners of A: one not yet verified (the victim),
one verified (A's chair). Nothing of A may change, and the account claiming B's row gets B's unit only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from accounts.demo import COMMUNITIES, FILLED, demo_person, seed_demo
from accounts.models import CommitteeMember, Compound, Owner, Ownership, Unit, User
from core import clock
from tests import motion_timing

KEY = b"dev-only-hmac-key-change-me"  # the test settings use the development default
CHOSEN_CERTIFICATE = "川(2099)某县不动产权第0000001号"


@pytest.fixture
async def api(server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60) as http:
        yield http


async def login(api: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await api.post("/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def roster_csv(rows: list[dict[str, str]]) -> bytes:
    columns = ["building", "unit", "kind", "area", "owner_name", "phone", "id_number", "certificate"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue().encode()


async def owner_of(compound: Compound, person: int) -> Owner:
    owner = await Owner.filter(ownerships__unit__compound=compound, name=demo_person(person)["name"]).first()
    assert owner is not None
    return owner


async def owners_of(compound: Compound) -> list[tuple[object, ...]]:
    """Every owner record holding a unit of the compound, as the compound relies on it."""
    rows = (
        await Owner.filter(ownerships__unit__compound=compound)
        .distinct()
        .values_list("id", "name", "phone", "id_hash", "user_id")
    )
    return sorted(rows)


async def first_unit_of(owner: Owner) -> Unit:
    ownership = await Ownership.filter(owner=owner).order_by("unit_id").first().prefetch_related("unit")
    assert ownership is not None
    return ownership.unit


async def open_motion(api: httpx.AsyncClient, chair: dict[str, str], compound: Compound) -> tuple[int, int]:
    admin = f"/admin/compounds/{compound.id}/motions"
    now = clock.now()
    body = {
        "title": "关于续聘物业服务企业的表决",
        "text": "详见附件。",
        "items": [{"title": "同意续聘", "matter": "hire_property_company"}],
        "opens_at": (now + timedelta(milliseconds=400)).isoformat(),
        "closes_at": (now + timedelta(hours=2)).isoformat(),
        "announce_days": 0,
    }
    created = await api.post(admin, headers=chair, json=body)
    assert created.status_code == 201, created.text
    motion_id = int(created.json()["id"])
    await motion_timing.announce(api, admin, motion_id, chair)
    await motion_timing.until_opens(motion_id)
    assert (await api.post(f"{admin}/{motion_id}/open", headers=chair)).status_code == 200
    detail = await api.get(f"{admin}/{motion_id}", headers=chair)
    return motion_id, int(detail.json()["items"][0]["id"])


async def test_a_roster_of_compound_b_cannot_take_over_or_rewrite_owners_of_compound_a(
    api: httpx.AsyncClient,
) -> None:
    # Given the demo county: A's chair is verified, A's owner 2 (the victim) is not
    await seed_demo(hmac_key=KEY)
    a = await Compound.get(name=FILLED[0], community__name=COMMUNITIES[0][0])
    b = await Compound.get(name=FILLED[1], community__name=COMMUNITIES[0][0])
    a_chair = await owner_of(a, 0)
    victim = await owner_of(a, 2)
    victim_units = sorted(await Ownership.filter(owner=victim).values_list("unit_id", flat=True))
    assert a_chair.user_id is not None and victim.user_id is None  # type: ignore[attr-defined]
    a_before = await owners_of(a)
    a_holdings_before = sorted(await Ownership.filter(unit__compound=a).values_list("unit_id", "owner_id"))
    # ... and B's chair, an owner of B with an account
    b_seat = (
        await CommitteeMember.filter(committee__compound=b, position="主任").first().prefetch_related("owner")
    )
    assert b_seat is not None
    b_chair = await login(api, "b-chair")
    b_seat.owner.user = await User.get(openid="b-chair")
    await b_seat.owner.save(update_fields=["user_id"])

    # When B's chair imports into B two new parking spaces "owned" by A's owners' ID numbers
    victim_id = demo_person(2)["id_number"]
    chair_id = demo_person(0)["id_number"]
    data = roster_csv(
        [
            {"building": "地下车库", "unit": "P099", "kind": "parking", "area": "13.20", "owner_name": "冒名者",
             "phone": "13800000000", "id_number": victim_id, "certificate": CHOSEN_CERTIFICATE},
            {"building": "地下车库", "unit": "P098", "kind": "parking", "area": "13.20", "owner_name": "改名者",
             "phone": "13800000001", "id_number": chair_id, "certificate": CHOSEN_CERTIFICATE},
        ]
    )  # fmt: skip
    imported = await api.post(
        f"/admin/compounds/{b.id}/roster", headers={**b_chair, "content-type": "text/csv"}, content=data
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["owners_created"], imported.json()["owners_updated"]) == (2, 0)

    # Then nothing of A changed: names, phones, ID hashes, verification, holdings
    assert await owners_of(a) == a_before
    assert (
        sorted(await Ownership.filter(unit__compound=a).values_list("unit_id", "owner_id"))
        == a_holdings_before
    )
    assert (await Owner.get(id=a_chair.id)).name == demo_person(0)["name"]
    assert (await Owner.get(id=a_chair.id)).phone == demo_person(0)["phone"]
    # ... and A's verified chair did not silently become an owner of B's new space
    demo_committee = await login(api, "demo-committee")
    chair_units = (await api.get("/me", headers=demo_committee)).json()["units"]
    assert {u["compound_id"] for u in chair_units} == {a.id}

    # When a new account claims B's row with the importer's chosen name and certificate
    attacker = await login(api, "attacker")
    p099 = await Unit.get(compound=b, number="P099")
    claim = await api.post(
        "/me/claims",
        headers=attacker,
        json={
            "unit_id": p099.id,
            "name": "冒名者",
            "id_number": victim_id,
            "certificate": CHOSEN_CERTIFICATE,
        },
    )

    # Then it holds B's space and nothing in A (B's roster may speak for B's own units only)
    assert claim.status_code == 200, claim.text
    assert [(u["compound_id"], u["number"]) for u in claim.json()["units"]] == [(b.id, "P099")]
    me = (await api.get("/me", headers=attacker)).json()
    assert {u["compound_id"] for u in me["units"]} == {b.id}
    assert not [r for r in me["roles"] if r["scope_type"] == "compound" and r["scope_id"] == a.id]
    assert (await Owner.get(id=victim.id)).user_id is None  # type: ignore[attr-defined]

    # ... and cannot vote in A
    motion_id, item = await open_motion(api, demo_committee, a)
    ballot = await api.post(
        f"/motions/{motion_id}/ballots", headers=attacker, json={"choices": {str(item): "agree"}}
    )
    assert (ballot.status_code, ballot.json()["code"]) == (403, "not_a_voter")
    from voting.models import Ballot

    assert await Ballot.filter(motion_id=motion_id).count() == 0

    # The victim can still claim A's units with their own unit's roster entry, and gets A's only
    victim_auth = await login(api, "the-real-victim")
    unit = await first_unit_of(victim)
    person = demo_person(2)
    own = await api.post(
        "/me/claims",
        headers=victim_auth,
        json={"unit_id": unit.id, "name": person["name"], "id_number": person["id_number"],
              "certificate": person["certificate"]},
    )  # fmt: skip
    assert own.status_code == 200, own.text
    assert sorted(u["unit_id"] for u in own.json()["units"]) == victim_units
    cast = await api.post(
        f"/motions/{motion_id}/ballots", headers=victim_auth, json={"choices": {str(item): "agree"}}
    )
    assert cast.status_code == 201, cast.text


async def test_one_person_in_two_compounds_is_joined_only_by_their_own_claims(
    api: httpx.AsyncClient,
) -> None:
    # Given A's owner 2 is also listed, genuinely, as owner of a new space in B
    await seed_demo(hmac_key=KEY)
    a = await Compound.get(name=FILLED[0], community__name=COMMUNITIES[0][0])
    b = await Compound.get(name=FILLED[1], community__name=COMMUNITIES[0][0])
    person = demo_person(2)
    b_seat = (
        await CommitteeMember.filter(committee__compound=b, position="主任").first().prefetch_related("owner")
    )
    assert b_seat is not None
    b_chair = await login(api, "b-chair")
    b_seat.owner.user = await User.get(openid="b-chair")
    await b_seat.owner.save(update_fields=["user_id"])
    data = roster_csv(
        [{"building": "地下车库", "unit": "P099", "kind": "parking", "area": "13.20", "owner_name": person["name"],
          "id_number": person["id_number"], "certificate": "川(2021)某县不动产权第0999999号"}]
    )  # fmt: skip
    response = await api.post(
        f"/admin/compounds/{b.id}/roster", headers={**b_chair, "content-type": "text/csv"}, content=data
    )
    assert response.status_code == 200, response.text
    assert await Owner.filter(name=person["name"]).count() == 2  # one record in each compound

    # When the person claims their unit in A, they hold A's units only
    auth = await login(api, "person-2")
    a_unit = await first_unit_of(await owner_of(a, 2))
    body = {"name": person["name"], "id_number": person["id_number"]}
    first = await api.post("/me/claims", headers=auth, json={**body, "unit_id": a_unit.id,
                                                               "certificate": person["certificate"]})  # fmt: skip
    assert first.status_code == 200, first.text
    assert {u["compound_id"] for u in first.json()["units"]} == {a.id}

    # And only their own claim of B's space, with that space's certificate, adds it
    p099 = await Unit.get(compound=b, number="P099")
    wrong = await api.post("/me/claims", headers=auth, json={**body, "unit_id": p099.id,
                                                               "certificate": person["certificate"]})  # fmt: skip
    assert (wrong.status_code, wrong.json()["code"]) == (400, "claim_mismatch")
    second = await api.post("/me/claims", headers=auth, json={**body, "unit_id": p099.id,
                                                                "certificate": "川(2021)某县不动产权第0999999号"})  # fmt: skip
    assert second.status_code == 200, second.text
    assert {u["compound_id"] for u in second.json()["units"]} == {a.id, b.id}
