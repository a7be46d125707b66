"""The daily limit of failed claims under concurrency, one answer for every mismatch, Retry-After
(issue 10, item 4). Real concurrent HTTP requests against the real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from accounts.demo import demo_person, seed_demo
from accounts.models import Owner, Ownership, Unit
from accounts.service import CLAIM_FAILURES_PER_DAY
from audit.models import AuditEvent

KEY = b"dev-only-hmac-key-change-me"  # the test settings use the development default


@pytest.fixture
async def api(server) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=60, limits=limits) as http:
        yield http


async def login(api: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await api.post("/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


async def good_claim(person: int) -> dict[str, object]:
    identity = demo_person(person)
    owner = await Owner.get(name=identity["name"], phone=identity["phone"])
    ownership = await Ownership.filter(owner=owner).order_by("unit_id").first()
    assert ownership is not None
    return {
        "unit_id": ownership.unit_id,  # type: ignore[attr-defined]
        "name": identity["name"],
        "id_number": identity["id_number"],
        "certificate": identity["certificate"],
    }


async def test_twenty_simultaneous_wrong_claims_compare_at_most_five(api: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=KEY)
    auth = await login(api, "guesser")
    good = await good_claim(2)
    wrong = [{**good, "certificate": f"川(2021)某县不动产权第{n:07d}号"} for n in range(9000000, 9000020)]

    responses = await asyncio.gather(*(api.post("/me/claims", headers=auth, json=body) for body in wrong))

    answers = sorted((r.status_code, r.json()["code"]) for r in responses)
    assert answers == [(400, "claim_mismatch")] * CLAIM_FAILURES_PER_DAY + [
        (429, "claim_too_many_failures")
    ] * (20 - CLAIM_FAILURES_PER_DAY)
    for response in responses:
        if response.status_code == 429:
            retry_after = int(response.headers["retry-after"])
            assert 1 <= retry_after <= 24 * 3600
            assert response.json()["details"] == {"limit": 5, "retry_after": retry_after}
        else:
            assert "retry-after" not in response.headers
    # the right answer is refused too for the rest of the day, and nothing was verified
    late = await api.post("/me/claims", headers=auth, json=good)
    assert (late.status_code, late.json()["code"]) == (429, "claim_too_many_failures")
    assert await Owner.filter(user_id__not_isnull=True).count() == 1  # the demo chair only
    assert await AuditEvent.filter(action="owner.verified").count() == 0


async def test_every_kind_of_mismatch_gets_one_identical_answer(api: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=KEY)
    auth = await login(api, "prober")
    good = await good_claim(2)
    unit_without_certificate = await Unit.get(number="P001", ownerships__owner__name=demo_person(0)["name"])
    await Ownership.filter(unit=unit_without_certificate).update(cert_hash=None)
    cases = {
        "wrong name": {**good, "name": "张冒名"},
        "another owner's ID": {**good, "id_number": demo_person(3)["id_number"]},
        "wrong certificate": {**good, "certificate": "川(2021)某县不动产权第9999999号"},
        "no certificate on record": {
            **good,
            "unit_id": unit_without_certificate.id,
            "name": demo_person(0)["name"],
            "id_number": demo_person(0)["id_number"],
        },
    }

    answers = {}
    for case, body in cases.items():
        response = await api.post("/me/claims", headers=auth, json=body)
        body_out = response.json()
        answers[case] = (response.status_code, body_out["code"], body_out["message"], body_out["details"])

    assert set(answers.values()) == {
        (
            400,
            "claim_mismatch",
            "姓名、证件号码或不动产权证号与该房屋的登记信息不符，如登记信息有误请联系业主委员会",
            None,
        )
    }


async def test_a_malformed_id_costs_nothing_and_a_match_gives_its_attempt_back(
    api: httpx.AsyncClient,
) -> None:
    await seed_demo(hmac_key=KEY)
    auth = await login(api, "typist")
    good = await good_claim(2)
    malformed = await api.post("/me/claims", headers=auth, json={**good, "id_number": "510000199001011235"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "claim_malformed_id")
    for _ in range(CLAIM_FAILURES_PER_DAY - 1):
        refused = await api.post("/me/claims", headers=auth, json={**good, "name": "张冒名"})
        assert refused.status_code == 400
    assert (await api.post("/me/claims", headers=auth, json=good)).status_code == 200
    # four failures so far: one more is compared, the next is refused before comparing
    other = await good_claim(3)
    fifth = await api.post("/me/claims", headers=auth, json={**other, "name": "张冒名"})
    assert (fifth.status_code, fifth.json()["code"]) == (400, "claim_mismatch")
    sixth = await api.post("/me/claims", headers=auth, json=other)
    assert (sixth.status_code, sixth.json()["code"]) == (429, "claim_too_many_failures")
    assert int(sixth.headers["retry-after"]) >= 1
    assert (await Owner.get(name=demo_person(3)["name"], phone=demo_person(3)["phone"])).user_id is None  # type: ignore[attr-defined]
