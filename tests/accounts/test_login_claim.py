"""Login → claim → verified owner, end to end over HTTP against the fake WeChat server."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from accounts.demo import demo_person, seed_demo
from accounts.models import Owner, Ownership, Unit, User
from audit.models import AuditEvent
from core.cache import Cache
from wechat import WeChatClient
from wechat.fake import FakeWeChat

KEY = b"dev-only-hmac-key-change-me"  # the test settings use the development default


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat("wx0000000000000000", "fake-wechat-secret")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def api(serve, fake_wechat: FakeWeChat, cache: Cache) -> AsyncIterator[httpx.AsyncClient]:
    assert fake_wechat.base_url is not None
    client = WeChatClient("wx0000000000000000", "fake-wechat-secret", cache, base_url=fake_wechat.base_url)
    server = await serve(wechat=client)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1") as http:
        yield http
    await client.aclose()


async def login(api: httpx.AsyncClient, code: str) -> dict[str, str]:
    response = await api.post("/auth/login", json={"code": code})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


async def first_flat_of(identity_index: int) -> Unit:
    owner = await Owner.get(
        name=demo_person(identity_index)["name"], phone=demo_person(identity_index)["phone"]
    )
    ownership = await Ownership.filter(owner=owner).order_by("unit_id").first().prefetch_related("unit")
    assert ownership is not None
    return ownership.unit


async def test_login_claim_and_see_my_units(api: httpx.AsyncClient, fake_wechat: FakeWeChat) -> None:
    await seed_demo(hmac_key=KEY)
    code = fake_wechat.issue_code("openid-wang")
    response = await api.post("/auth/login", json={"code": code})
    assert response.status_code == 200
    body = response.json()
    assert body["new_user"] is True and len(body["token"]) >= 40
    assert "session_key" not in response.text and "openid" not in response.text
    auth = {"authorization": f"Bearer {body['token']}"}

    me = (await api.get("/me", headers=auth)).json()
    assert me["units"] == [] and me["roles"] == []

    person = demo_person(100)  # the multi-unit owner of the second compound
    unit = await first_flat_of(100)
    claim = await api.post(
        "/me/claims",
        headers=auth,
        json={
            "unit_id": unit.id,
            "name": person["name"],
            "id_number": person["id_number"],
            "certificate": person["certificate"],
        },
    )
    assert claim.status_code == 200, claim.text
    assert claim.json()["verified"] is True
    owned = claim.json()["units"]
    assert [u["number"] for u in owned] == ["101", "102", "P001"]  # one person, several units
    me = (await api.get("/me", headers=auth)).json()
    assert {r["role"] for r in me["roles"]} >= {"owner", "committee"}  # the first owner chairs the committee
    user = await User.get(openid="openid-wang")
    assert (await Owner.get(name=person["name"], phone=person["phone"])).user_id == user.id  # type: ignore[attr-defined]
    assert await AuditEvent.filter(action="owner.verified").count() == 1


async def test_used_code_and_each_wechat_error_is_a_clear_error(
    api: httpx.AsyncClient, fake_wechat: FakeWeChat
) -> None:
    code = fake_wechat.issue_code("openid-once")
    assert (await api.post("/auth/login", json={"code": code})).status_code == 200
    again = await api.post("/auth/login", json={"code": code})
    assert (again.status_code, again.json()["code"]) == (400, "wechat_code_invalid")
    expected = {
        "err:40029": (400, "wechat_code_invalid"),
        "err:45011": (429, "wechat_rate_limited"),
        "err:40226": (403, "wechat_user_blocked"),
        "err:-1": (503, "wechat_busy"),
    }
    for code, (status, error_code) in expected.items():
        response = await api.post("/auth/login", json={"code": code})
        assert (response.status_code, response.json()["code"]) == (status, error_code), code
        assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json()["message"])
    assert await User.all().count() == 1


async def test_logout_revokes_the_token(api: httpx.AsyncClient) -> None:
    auth = await login(api, "test:openid-logout")
    assert (await api.get("/me", headers=auth)).status_code == 200
    assert (await api.post("/auth/logout", headers=auth)).status_code == 200
    response = await api.get("/me", headers=auth)
    assert (response.status_code, response.json()["code"]) == (401, "session_invalid")


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc"])
async def test_protected_routes_refuse_missing_or_bad_tokens(
    api: httpx.AsyncClient, header: str | None
) -> None:
    headers = {"authorization": header} if header else {}
    response = await api.get("/me", headers=headers)
    assert response.status_code == 401


async def test_phone_binding_shows_own_phone(api: httpx.AsyncClient) -> None:
    auth = await login(api, "test:openid-phone")
    response = await api.post("/me/phone", headers=auth, json={"code": "phone:13912345678"})
    assert response.json() == {"phone": "13912345678"}
    assert (await api.get("/me", headers=auth)).json()["phone"] == "13912345678"


async def test_mismatched_claims_are_refused_alike_and_limited(api: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=KEY)
    auth = await login(api, "test:openid-guess")
    person = demo_person(2)
    unit = await first_flat_of(2)
    good = {
        "unit_id": unit.id,
        "name": person["name"],
        "id_number": person["id_number"],
        "certificate": person["certificate"],
    }
    cases = [  # the malformed ID compares nothing and costs no attempt; the other five count
        ({**good, "name": "张冒名"}, "claim_mismatch"),
        ({**good, "id_number": demo_person(3)["id_number"]}, "claim_mismatch"),
        ({**good, "certificate": "川(2021)某县不动产权第9999999号"}, "claim_mismatch"),
        ({**good, "id_number": "510000199001011235"}, "claim_malformed_id"),
        ({**good, "unit_id": 999999}, "unit_not_found"),
        ({**good, "name": "李冒名"}, "claim_mismatch"),
    ]
    for body, code in cases:
        response = await api.post("/me/claims", headers=auth, json=body)
        assert (response.status_code, response.json()["code"]) in {(400, code), (404, code)}, body
    verified_before = await Owner.filter(user_id__not_isnull=True).count()  # the demo chair only
    assert verified_before == 1
    # the sixth attempt of the day is refused before anything is compared, even a correct one
    response = await api.post("/me/claims", headers=auth, json=good)
    assert (response.status_code, response.json()["code"]) == (429, "claim_too_many_failures")
    assert await Owner.filter(user_id__not_isnull=True).count() == verified_before


async def test_an_owner_claimed_by_another_account_is_refused(api: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=KEY)
    person = demo_person(4)
    unit = await first_flat_of(4)
    body = {
        "unit_id": unit.id,
        "name": person["name"],
        "id_number": person["id_number"],
        "certificate": person["certificate"],
    }
    first = await login(api, "test:openid-first")
    assert (await api.post("/me/claims", headers=first, json=body)).status_code == 200
    assert (
        await api.post("/me/claims", headers=first, json=body)
    ).status_code == 200  # idempotent for the same user
    assert await AuditEvent.filter(action="owner.verified", subject=f"unit:{unit.id}").count() == 1
    second = await login(api, "test:openid-second")
    response = await api.post("/me/claims", headers=second, json=body)
    assert (response.status_code, response.json()["code"]) == (409, "claim_taken_by_other")


async def test_household_invitations_and_masked_phones(api: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=KEY)
    person = demo_person(1)  # flat 201 is co-owned by person 1 and person 99
    unit = await first_flat_of(1)
    owner = await login(api, "test:openid-owner")
    body = {
        "unit_id": unit.id,
        "name": person["name"],
        "id_number": person["id_number"],
        "certificate": person["certificate"],
    }
    assert (await api.post("/me/claims", headers=owner, json=body)).status_code == 200

    invite = await api.post(f"/me/units/{unit.id}/invitations", headers=owner, json={"relation": "family"})
    assert invite.status_code == 201
    code = invite.json()["code"]
    family = await login(api, "test:openid-family")
    await api.post("/me/phone", headers=family, json={"code": "phone:13700001111"})
    joined = await api.post("/me/invitations/accept", headers=family, json={"code": code})
    assert joined.status_code == 200 and joined.json()["relation"] == "family"
    reuse = await api.post("/me/invitations/accept", headers=family, json={"code": code})
    assert (reuse.status_code, reuse.json()["code"]) == (400, "invitation_invalid")

    seen_by_owner = (await api.get(f"/me/units/{unit.id}/household", headers=owner)).json()["members"]
    kinds = [(m["kind"], m["is_me"]) for m in seen_by_owner]
    assert kinds == [("owner", True), ("owner", False), ("family", False)]
    assert seen_by_owner[0]["phone"] == person["phone"]  # one's own phone in full
    assert seen_by_owner[1]["phone"] == demo_person(99)["phone"][:3] + "****" + demo_person(99)["phone"][-4:]
    assert seen_by_owner[2]["phone"] == "137****1111"

    # the family member cannot invite; a stranger cannot look
    refused = await api.post(f"/me/units/{unit.id}/invitations", headers=family, json={"relation": "tenant"})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_unit_owner")
    stranger = await login(api, "test:openid-stranger")
    assert (await api.get(f"/me/units/{unit.id}/household", headers=stranger)).status_code == 403

    resident_id = seen_by_owner[2]["id"]
    removed = await api.delete(f"/me/units/{unit.id}/residents/{resident_id}", headers=owner)
    assert removed.status_code == 200
    assert (await api.get(f"/me/units/{unit.id}/household", headers=family)).status_code == 403


async def test_identity_numbers_appear_in_no_response_log_or_audit(
    api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await seed_demo(hmac_key=KEY)
    person = demo_person(5)
    unit = await first_flat_of(5)
    auth = await login(api, "test:openid-private")
    bodies = []
    for certificate in ("川(2021)某县不动产权第7777777号", person["certificate"]):
        body = {
            "unit_id": unit.id,
            "name": person["name"],
            "id_number": person["id_number"],
            "certificate": certificate,
        }
        response = await api.post("/me/claims", headers=auth, json=body)
        bodies.append(response.text)
    bodies.append((await api.get("/me", headers=auth)).text)
    secrets = [person["id_number"], person["certificate"], "7777777"]
    events = [str(e.payload) + e.subject for e in await AuditEvent.all()]
    for secret in secrets:
        assert all(secret not in text for text in bodies)
        assert all(secret not in text for text in events)
        assert secret not in caplog.text
