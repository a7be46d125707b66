"""Issue 12 items 2 and 3 over real HTTP: the developer (an organisation owning unsold units) from
login to a counted ballot through its authorised representative and the committee's review of the
authorisation letter; a proxy from invitation to a counted ballot, with the committee seeing the
written authorization before approving, and one voter's ballots counting once."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from accounts.demo import DEVELOPER, demo_person
from accounts.identity import certificate_hash, id_hash, keyed_hash, make_credit_code, make_id_number
from accounts.models import OrganisationClaim, Owner, Ownership, User
from accounts.profile import display_name
from audit.models import AuditEvent
from voting.models import Ballot, CurrentBallot, ProxyAuthorization, ProxyInvitation, Voter

from .conftest import World, jpeg

KEY = b"dev-only-hmac-key-change-me"  # the test server's HMAC key (the development default)
API = "/api/v1"
REP_ID = make_id_number("51100019850101123")


async def login(api: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await api.post(f"{API}/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


async def upload(api: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await api.post(
        f"{API}/photos", content=jpeg(), headers={**headers, "content-type": "image/jpeg"}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def fetch(api: httpx.AsyncClient, url: str) -> httpx.Response:
    """A signed photo link, fetched as the mini-program's <image> does: without a session."""
    parts = urlsplit(url)
    return await api.get(f"{parts.path}?{parts.query}")


async def _table_counts() -> dict[str, int]:
    return {
        "claims": await OrganisationClaim.all().count(),
        "bound": await Owner.filter(is_developer=True, user_id__not_isnull=True).count(),
    }


async def test_the_developer_from_login_to_a_counted_ballot(world: World) -> None:
    api, compound = world.api, world.compound
    developer = await Owner.get(compound=compound, is_developer=True)
    credit_code = DEVELOPER[1]
    # the roster's hash under the server's key, and no account bound yet (the world bound one)
    await Owner.filter(id=developer.id).update(id_hash=keyed_hash(KEY, "org", credit_code), user_id=None)
    rep = await login(api, "developer-representative")
    letter = await upload(api, rep)
    body = {
        "compound_id": compound.id, "building": "3号楼", "room": "601",
        "organisation_name": DEVELOPER[0], "credit_code": credit_code,
        "representative_name": "赵经理", "representative_id_number": REP_ID,
        "document_photo_ids": [letter],
    }  # fmt: skip

    # a wrong check character is a format error (costs no attempt), a valid code of another
    # organisation is the one mismatch answer; neither writes anything
    before = await _table_counts()
    bad_check = credit_code[:17] + ("0" if credit_code[17] != "0" else "1")
    refused = await api.post(
        f"{API}/me/claims/organisation", headers=rep, json={**body, "credit_code": bad_check}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "claim_malformed_credit_code")
    other = make_credit_code("91510000MA0000009")
    refused = await api.post(
        f"{API}/me/claims/organisation", headers=rep, json={**body, "credit_code": other}
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "claim_mismatch")
    no_letter = await api.post(
        f"{API}/me/claims/organisation", headers=rep, json={**body, "document_photo_ids": []}
    )
    assert no_letter.status_code == 400
    assert await _table_counts() == before

    claimed = await api.post(f"{API}/me/claims/organisation", headers=rep, json=body)
    assert claimed.status_code == 201, claimed.text
    claim = claimed.json()
    assert (claim["status"], claim["organisation"], claim["is_developer"]) == ("pending", DEVELOPER[0], True)
    assert credit_code not in claimed.text and REP_ID not in claimed.text  # matched, never shown
    again = await api.post(
        f"{API}/me/claims/organisation",
        headers=rep,
        json={**body, "document_photo_ids": [await upload(api, rep)]},
    )
    assert (again.status_code, again.json()["code"]) == (409, "organisation_claim_pending")
    # not bound before the committee decides: the representative cannot vote yet
    assert (await Owner.get(id=developer.id)).user_id is None  # type: ignore[attr-defined]

    # the committee sees the claim with the letter (signed links), never the numbers
    listed = await api.get(
        f"{API}/admin/compounds/{compound.id}/organisation-claims",
        headers=world.chair,
        params={"status": "pending"},
    )
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert listed.json()["next_cursor"] is None
    assert (item["id"], item["representative_name"], item["room"]) == (claim["id"], "赵经理", "3号楼-601")
    assert credit_code not in listed.text and REP_ID not in listed.text
    (document,) = item["documents"]
    assert document["id"] == letter
    shown = await fetch(api, document["display_url"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    some_owner = world.owners[(sorted(world.owners))[-1]]
    peek = await api.get(f"{API}/photos/{letter}/display", headers=some_owner)
    assert peek.status_code == 404  # nobody else sees the letter

    decided = await api.post(
        f"{API}/admin/compounds/{compound.id}/organisation-claims/{claim['id']}/decision",
        headers=world.chair, json={"approve": True},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    twice = await api.post(
        f"{API}/admin/compounds/{compound.id}/organisation-claims/{claim['id']}/decision",
        headers=world.chair, json={"approve": False},
    )  # fmt: skip
    assert (twice.status_code, twice.json()["code"]) == (404, "organisation_claim_not_found")
    verified = (
        await AuditEvent.filter(stream=f"compound:{compound.id}", action="owner.verified")
        .order_by("-seq")
        .first()
    )
    assert verified is not None and verified.payload["via"] == "organisation_claim"
    rep_user = await User.get(openid="developer-representative")
    assert verified.payload["user_id"] == rep_user.id
    me = (await api.get(f"{API}/me", headers=rep)).json()
    assert sorted(u["number"] for u in me["units"] if u["compound_id"] == compound.id) == ["601", "602"]

    # one voter by law: both unsold flats are one entry of the roll, one head with their summed area
    motion_id = await world.open()
    (entry,) = await Voter.filter(motion_id=motion_id, owner_id=developer.id)
    assert entry.is_developer and len(entry.rooms) == 2
    detail = (await api.get(f"{API}/motions/{motion_id}", headers=rep)).json()
    assert detail["my_voter_id"] == entry.id
    (item_id,) = await world.item_ids(motion_id)
    cast = await api.post(
        f"{API}/motions/{motion_id}/ballots", headers=rep, json={"choices": {str(item_id): "agree"}}
    )
    assert cast.status_code == 201, cast.text
    assert cast.json()["counted"] is True
    counted = await world.count(motion_id)
    assert counted["status"] == "counted"
    result = (await api.get(f"{API}/motions/{motion_id}/results", headers=world.chair)).json()
    (outcome,) = result["items"]
    area = f"{entry.area_h / 100:.2f}"
    assert result["participating"] == {"area": area, "headcount": 1}
    assert outcome["agree"] == {"area": area, "headcount": 1}
    assert (outcome["follow_majority_applied"], outcome["non_voters_counted"]) == (False, None)  # 从多 off


async def test_a_representative_who_owns_a_flat_in_the_compound_is_refused_and_nothing_binds(
    world: World,
) -> None:
    compound = world.compound
    developer = await Owner.get(compound=compound, is_developer=True)
    await Owner.filter(id=developer.id).update(id_hash=keyed_hash(KEY, "org", DEVELOPER[1]), user_id=None)
    person = sorted(o for o in world.owners if o != developer.id)[-1]
    headers = world.owners[person]
    claimed = await world.api.post(
        f"{API}/me/claims/organisation", headers=headers,
        json={
            "compound_id": compound.id, "building": "3号楼", "room": "602",
            "organisation_name": DEVELOPER[0], "credit_code": DEVELOPER[1],
            "representative_name": "钱会计", "representative_id_number": REP_ID,
            "document_photo_ids": [await upload(world.api, headers)],
        },
    )  # fmt: skip
    # refused when asked, not only when the committee decides: no claim to review
    assert (claimed.status_code, claimed.json()["code"]) == (409, "representative_holds_owner_record")
    assert "另一个微信账号" in claimed.json()["message"]
    assert (await Owner.get(id=developer.id)).user_id is None  # type: ignore[attr-defined]
    assert await OrganisationClaim.filter(owner_id=developer.id).count() == 0


async def _unbound_person(world: World) -> tuple[Owner, int, dict[str, str]]:
    """A person on the roll, unbound, with the identity and certificate the test server can match."""
    person = (await Owner.filter(compound=world.compound, is_developer=False).order_by("id"))[-1]
    found = [
        demo_person(i) for i in range(5000) if id_hash(b"k", demo_person(i)["id_number"]) == person.id_hash
    ]
    (identity,) = found
    ownership = await Ownership.get(owner=person, cert_hash=certificate_hash(b"k", identity["certificate"]))
    await Owner.filter(id=person.id).update(user_id=None, id_hash=id_hash(KEY, identity["id_number"]))
    await Ownership.filter(id=ownership.id).update(cert_hash=certificate_hash(KEY, identity["certificate"]))
    return person, ownership.unit_id, identity  # type: ignore[attr-defined]


async def test_an_account_representing_the_developer_cannot_also_be_a_person_owner(world: World) -> None:
    """The other direction: the account bound to the developer (as after an approved organisation
    claim) claiming a flat as a person is refused with its own code and binds nothing; the same
    claim from another account verifies."""
    developer = await Owner.get(compound=world.compound, is_developer=True)
    representative = world.owners[developer.id]  # the world binds every owner record to an account
    person, unit_id, identity = await _unbound_person(world)
    body = {k: identity[k] for k in ("name", "id_number", "certificate")} | {"unit_id": unit_id}
    refused = await world.api.post(f"{API}/me/claims", headers=representative, json=body)
    assert (refused.status_code, refused.json()["code"]) == (409, "claimant_represents_organisation")
    assert "单位业主" in refused.json()["message"]
    assert (await Owner.get(id=person.id)).user_id is None  # type: ignore[attr-defined]
    themselves = await login(world.api, "the-person-themselves")
    verified = await world.api.post(f"{API}/me/claims", headers=themselves, json=body)
    assert verified.status_code in (200, 201), verified.text
    assert (await Owner.get(id=person.id)).user_id == (await User.get(openid="the-person-themselves")).id  # type: ignore[attr-defined]


async def test_a_person_who_claimed_while_an_organisation_claim_waited_is_refused_at_the_decision(
    world: World,
) -> None:
    """An organisation claim asked before its representative became a person owner of the compound:
    the committee's approval is refused then (representative_holds_owner_record), nothing binds."""
    compound = world.compound
    developer = await Owner.get(compound=compound, is_developer=True)
    await Owner.filter(id=developer.id).update(id_hash=keyed_hash(KEY, "org", DEVELOPER[1]), user_id=None)
    _, unit_id, identity = await _unbound_person(world)
    headers = await login(world.api, "representative-then-owner")
    claimed = await world.api.post(
        f"{API}/me/claims/organisation", headers=headers,
        json={
            "compound_id": compound.id, "building": "3号楼", "room": "602",
            "organisation_name": DEVELOPER[0], "credit_code": DEVELOPER[1],
            "representative_name": "钱会计", "representative_id_number": REP_ID,
            "document_photo_ids": [await upload(world.api, headers)],
        },
    )  # fmt: skip
    assert claimed.status_code == 201, claimed.text
    body = {k: identity[k] for k in ("name", "id_number", "certificate")} | {"unit_id": unit_id}
    assert (await world.api.post(f"{API}/me/claims", headers=headers, json=body)).status_code in (200, 201)
    decided = await world.api.post(
        f"{API}/admin/compounds/{compound.id}/organisation-claims/{claimed.json()['id']}/decision",
        headers=world.chair, json={"approve": True},
    )  # fmt: skip
    assert (decided.status_code, decided.json()["code"]) == (409, "representative_holds_owner_record")
    assert (await Owner.get(id=developer.id)).user_id is None  # type: ignore[attr-defined]
    assert (await OrganisationClaim.get(id=claimed.json()["id"])).status == "pending"


async def test_a_proxy_from_invitation_to_a_counted_ballot(world: World) -> None:
    api = world.api
    motion_id = await world.open()
    (item_id,) = await world.item_ids(motion_id)
    owner = (await world.on_roll(motion_id))[-1]
    owner_headers = world.owners[owner]
    voter = await Voter.get(motion_id=motion_id, owner_id=owner)
    proxy = await login(api, "a-neighbour-from-elsewhere")
    proxy_user = await User.get(openid="a-neighbour-from-elsewhere")

    # before: the proxy has nothing here and may not read the motion
    assert (await api.get(f"{API}/motions/mine", headers=proxy)).json()["items"] == []
    assert (await api.get(f"{API}/motions/{motion_id}", headers=proxy)).status_code == 403

    letter = await upload(api, owner_headers)
    invited = await api.post(
        f"{API}/motions/{motion_id}/proxies", headers=owner_headers, json={"document_photo_ids": [letter]}
    )
    assert invited.status_code == 201, invited.text
    code = invited.json()["code"]
    assert invited.json()["voter_id"] == voter.id and len(code) == 10
    assert await ProxyInvitation.filter(code_hash=code).count() == 0  # only a hash is kept
    unknown = await api.post(
        f"{API}/motions/proxy-invitations/accept", headers=proxy, json={"code": "ZZZZZZZZZZ"}
    )
    assert (unknown.status_code, unknown.json()["code"]) == (400, "proxy_invitation_invalid")
    self_accept = await api.post(
        f"{API}/motions/proxy-invitations/accept", headers=owner_headers, json={"code": code}
    )
    assert (self_accept.status_code, self_accept.json()["code"]) == (400, "proxy_self")
    accepted = await api.post(f"{API}/motions/proxy-invitations/accept", headers=proxy, json={"code": code})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json() == {
        "proxy_id": accepted.json()["proxy_id"], "motion_id": motion_id, "voter_id": voter.id, "status": "pending",
    }  # fmt: skip
    proxy_id = accepted.json()["proxy_id"]
    reused = await api.post(f"{API}/motions/proxy-invitations/accept", headers=proxy, json={"code": code})
    assert (reused.status_code, reused.json()["code"]) == (400, "proxy_invitation_invalid")
    assert await ProxyAuthorization.filter(motion_id=motion_id).count() == 1

    # the proxy finds whom they represent, in /motions/mine and the motion's detail
    mine = (await api.get(f"{API}/motions/mine", headers=proxy)).json()["items"]
    assert [m["id"] for m in mine] == [motion_id]
    owner_name = (await Owner.get(id=owner)).name
    expected = {"proxy_id": proxy_id, "voter_id": voter.id, "status": "pending", "owner_name": owner_name,
                "rooms": [r["room"] for r in voter.rooms], "voted": False}  # fmt: skip
    assert mine[0]["my_voter_id"] is None and mine[0]["proxy_for"] == [expected]
    detail = await api.get(f"{API}/motions/{motion_id}", headers=proxy)
    assert detail.status_code == 200 and detail.json()["proxy_for"] == [expected]
    early = await api.post(
        f"{API}/motions/{motion_id}/ballots",
        headers=proxy,
        json={"choices": {str(item_id): "agree"}, "for_voter": voter.id},
    )
    assert (early.status_code, early.json()["code"]) == (403, "not_a_voter")  # not approved yet

    # the committee sees the written authorization and who the proxy is (not a raw user id)
    listed = await api.get(f"{world.admin}/{motion_id}/proxies", headers=world.chair)
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["items"]
    assert (row["id"], row["voter_id"], row["owner_name"], row["status"]) == (
        proxy_id,
        voter.id,
        owner_name,
        "pending",
    )
    assert (row["proxy_user_id"], row["proxy_name"]) == (proxy_user.id, display_name(proxy_user, "受托人"))
    assert str(proxy_user.id) not in row["proxy_name"]
    (document,) = row["documents"]
    assert document["id"] == letter
    assert (await fetch(api, document["display_url"])).status_code == 200
    approved = await api.post(
        f"{world.admin}/{motion_id}/proxies/{proxy_id}/decision", headers=world.chair, json={"approve": True}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await fetch(api, approved.json()["documents"][0]["display_url"])).status_code == 200

    by_proxy = await api.post(
        f"{API}/motions/{motion_id}/ballots",
        headers=proxy,
        json={"choices": {str(item_id): "oppose"}, "for_voter": voter.id},
    )
    assert by_proxy.status_code == 201, by_proxy.text
    assert (by_proxy.json()["channel"], by_proxy.json()["counted"]) == ("proxy", True)
    detail = (await api.get(f"{API}/motions/{motion_id}", headers=proxy)).json()
    assert detail["proxy_for"][0]["voted"] is True and detail["proxy_for"][0]["status"] == "approved"

    # the owner's own later ballot replaces it (latest by cast_at): one voter, one counted ballot
    own = await world.cast(motion_id, owner, {str(item_id): "agree"})
    assert own.status_code == 201 and own.json()["counted"] is True
    current = await CurrentBallot.filter(motion_id=motion_id, voter_id=voter.id)
    assert [c.channel.value for c in current] == ["electronic"]
    assert await Ballot.filter(motion_id=motion_id, voter_id=voter.id).count() == 2
    await world.count(motion_id)
    result = (await api.get(f"{API}/motions/{motion_id}/results", headers=world.chair)).json()
    area = f"{voter.area_h / 100:.2f}"
    assert result["participating"] == {"area": area, "headcount": 1}
    assert result["items"][0]["agree"] == {"area": area, "headcount": 1}
    assert result["items"][0]["oppose"] == {"area": "0.00", "headcount": 0}
    actions = (
        await AuditEvent.filter(stream=f"motion:{motion_id}", action__startswith="proxy.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["proxy.invited", "proxy.requested", "proxy.approved"]


async def _invite_and_accept(
    world: World, motion_id: int, owner: int, proxy: dict[str, str]
) -> tuple[int, int]:
    api, headers = world.api, world.owners[owner]
    letter = await upload(api, headers)
    invited = await api.post(
        f"{API}/motions/{motion_id}/proxies", headers=headers, json={"document_photo_ids": [letter]}
    )
    assert invited.status_code == 201, invited.text
    accepted = await api.post(
        f"{API}/motions/proxy-invitations/accept", headers=proxy, json={"code": invited.json()["code"]}
    )
    assert accepted.status_code == 201, accepted.text
    proxy_id = accepted.json()["proxy_id"]
    approved = await api.post(
        f"{world.admin}/{motion_id}/proxies/{proxy_id}/decision", headers=world.chair, json={"approve": True}
    )
    assert approved.status_code == 200, approved.text
    return invited.json()["id"], proxy_id


async def test_the_owner_revokes_a_proxy_before_it_votes_never_after(world: World) -> None:
    """Proxy revocation: before acceptance the invitation is void; an approved authorization ends and
    the proxy can no longer cast; once the proxy voted it is refused (proxy_already_voted); only the
    owner who invited may revoke; each revocation is on the motion's chain."""
    api = world.api
    motion_id = await world.open()
    (item_id,) = await world.item_ids(motion_id)
    first, second, third = (await world.on_roll(motion_id))[-3:]
    proxy = await login(api, "revoked-proxy")
    cast = {"choices": {str(item_id): "oppose"}}

    # an approved proxy, revoked before voting: can no longer cast, nor read the motion
    invitation_id, proxy_id = await _invite_and_accept(world, motion_id, first, proxy)
    voter = await Voter.get(motion_id=motion_id, owner_id=first)
    url = f"{API}/motions/{motion_id}/proxy-invitations/{invitation_id}/revoke"
    by_other = await api.post(url, headers=world.owners[second])
    assert (by_other.status_code, by_other.json()["code"]) == (404, "proxy_not_found")
    revoked = await api.post(url, headers=world.owners[first])
    assert revoked.status_code == 200, revoked.text
    assert revoked.json() == {"invitation_id": invitation_id, "revoked": "authorization"}
    assert (await ProxyAuthorization.get(id=proxy_id)).status == "revoked"
    late = await api.post(
        f"{API}/motions/{motion_id}/ballots", headers=proxy, json={**cast, "for_voter": voter.id}
    )
    assert (late.status_code, late.json()["code"]) == (403, "not_a_voter")
    assert await Ballot.filter(motion_id=motion_id, voter_id=voter.id).count() == 0
    assert (await api.get(f"{API}/motions/{motion_id}", headers=proxy)).status_code == 403
    again = await api.post(url, headers=world.owners[first])
    assert (again.status_code, again.json()["code"]) == (409, "proxy_not_active")

    # an invitation nobody accepted yet: void, its code no longer redeemable
    letter = await upload(api, world.owners[second])
    invited = await api.post(
        f"{API}/motions/{motion_id}/proxies",
        headers=world.owners[second],
        json={"document_photo_ids": [letter]},
    )
    void = await api.post(
        f"{API}/motions/{motion_id}/proxy-invitations/{invited.json()['id']}/revoke",
        headers=world.owners[second],
    )
    assert void.json() == {"invitation_id": invited.json()["id"], "revoked": "invitation"}
    redeemed = await api.post(
        f"{API}/motions/proxy-invitations/accept", headers=proxy, json={"code": invited.json()["code"]}
    )
    assert (redeemed.status_code, redeemed.json()["code"]) == (400, "proxy_invitation_invalid")

    # after the proxy voted: refused, the authorization and the ballot stand
    invitation_id, proxy_id = await _invite_and_accept(world, motion_id, third, proxy)
    voter = await Voter.get(motion_id=motion_id, owner_id=third)
    voted = await api.post(
        f"{API}/motions/{motion_id}/ballots", headers=proxy, json={**cast, "for_voter": voter.id}
    )
    assert voted.status_code == 201, voted.text
    refused = await api.post(
        f"{API}/motions/{motion_id}/proxy-invitations/{invitation_id}/revoke", headers=world.owners[third]
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "proxy_already_voted")
    assert "不能再撤销" in refused.json()["message"]
    assert (await ProxyAuthorization.get(id=proxy_id)).status == "approved"
    assert await CurrentBallot.filter(motion_id=motion_id, voter_id=voter.id).count() == 1

    events = await AuditEvent.filter(stream=f"motion:{motion_id}", action="proxy.revoked").order_by("seq")
    assert [e.payload["revoked"] for e in events] == ["authorization", "invitation"]


async def test_a_revocation_landing_inside_the_proxys_cast_stops_that_ballot(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy's cast has passed its first check when the owner revokes (held there on purpose, so
    the two overlap every time): the revocation succeeds and the cast, re-checking under the
    authorization's lock, is refused — no ballot of a revoked proxy. (The other order, the ballot first,
    is refused with proxy_already_voted above.)"""
    from voting import ballots

    api = world.api
    motion_id = await world.open()
    (item_id,) = await world.item_ids(motion_id)
    owner = (await world.on_roll(motion_id))[-1]
    proxy = await login(api, "overlapping-proxy")
    invitation_id, proxy_id = await _invite_and_accept(world, motion_id, owner, proxy)
    voter = await Voter.get(motion_id=motion_id, owner_id=owner)
    checked, release = asyncio.Event(), asyncio.Event()
    items_of = ballots.items_of

    async def held_after_the_first_check(motion: Any) -> Any:
        checked.set()
        await release.wait()
        return await items_of(motion)

    monkeypatch.setattr(ballots, "items_of", held_after_the_first_check)
    cast = asyncio.create_task(
        api.post(
            f"{API}/motions/{motion_id}/ballots",
            headers=proxy,
            json={"choices": {str(item_id): "agree"}, "for_voter": voter.id},
        )
    )
    await asyncio.wait_for(checked.wait(), 60)
    revoked = await api.post(
        f"{API}/motions/{motion_id}/proxy-invitations/{invitation_id}/revoke", headers=world.owners[owner]
    )
    assert revoked.status_code == 200, revoked.text
    release.set()
    answer = await cast
    assert (answer.status_code, answer.json()["code"]) == (403, "not_a_voter"), answer.text
    assert (await ProxyAuthorization.get(id=proxy_id)).status == "revoked"
    assert await Ballot.filter(motion_id=motion_id, voter_id=voter.id).count() == 0


async def test_a_proxy_invited_by_phone_sees_and_accepts_the_invitation(world: World) -> None:
    api = world.api
    motion_id = await world.open()
    owner = (await world.on_roll(motion_id))[-2]
    invitee = await login(api, "invited-by-phone")
    await User.filter(openid="invited-by-phone").update(phone="13712345678")
    stranger = await login(api, "someone-else")
    letter = await upload(api, world.owners[owner])
    invited = await api.post(
        f"{API}/motions/{motion_id}/proxies", headers=world.owners[owner],
        json={"document_photo_ids": [letter], "invitee_phone": "13712345678"},
    )  # fmt: skip
    assert invited.status_code == 201, invited.text
    assert invited.json()["code"] is None
    invitation_id = invited.json()["id"]
    listed = (await api.get(f"{API}/motions/proxy-invitations", headers=invitee)).json()
    assert [i["id"] for i in listed["items"]] == [invitation_id] and listed["next_cursor"] is None
    assert listed["items"][0]["motion_id"] == motion_id
    assert (await api.get(f"{API}/motions/proxy-invitations", headers=stranger)).json()["items"] == []
    taken = await api.post(
        f"{API}/motions/proxy-invitations/accept", headers=stranger, json={"invitation_id": invitation_id}
    )
    assert (taken.status_code, taken.json()["code"]) == (400, "proxy_invitation_invalid")
    accepted = await api.post(
        f"{API}/motions/proxy-invitations/accept", headers=invitee, json={"invitation_id": invitation_id}
    )
    assert accepted.status_code == 201, accepted.text
    assert (await api.get(f"{API}/motions/proxy-invitations", headers=invitee)).json()["items"] == []
    both = await api.post(
        f"{API}/motions/proxy-invitations/accept",
        headers=invitee,
        json={"invitation_id": invitation_id, "code": "ABCDEFGHJK"},
    )
    assert both.status_code == 400


async def test_one_code_redeemed_by_many_at_once_makes_one_authorization(world: World) -> None:
    import asyncio

    api = world.api
    motion_id = await world.open()
    owner = (await world.on_roll(motion_id))[-3]
    letter = await upload(api, world.owners[owner])
    invited = await api.post(
        f"{API}/motions/{motion_id}/proxies",
        headers=world.owners[owner],
        json={"document_photo_ids": [letter]},
    )
    code = invited.json()["code"]
    people = [await login(api, f"racer-{n}") for n in range(8)]
    answers = await asyncio.gather(
        *(api.post(f"{API}/motions/proxy-invitations/accept", headers=h, json={"code": code}) for h in people)
    )
    assert sorted(r.status_code for r in answers) == [201] + [400] * 7
    assert await ProxyAuthorization.filter(motion_id=motion_id).count() == 1
    # the letter belongs to that one invitation: it cannot be reused for another
    again = await api.post(
        f"{API}/motions/{motion_id}/proxies",
        headers=world.owners[owner],
        json={"document_photo_ids": [letter]},
    )
    assert (again.status_code, again.json()["code"]) == (409, "photo_not_attachable")
    assert await ProxyInvitation.filter(motion_id=motion_id).count() == 1


async def test_two_committee_members_approving_at_once_bind_once(world: World) -> None:
    import asyncio

    compound = world.compound
    developer = await Owner.get(compound=compound, is_developer=True)
    await Owner.filter(id=developer.id).update(id_hash=keyed_hash(KEY, "org", DEVELOPER[1]), user_id=None)
    rep = await login(world.api, "racing-representative")
    claimed = await world.api.post(
        f"{API}/me/claims/organisation", headers=rep,
        json={
            "compound_id": compound.id, "building": "3号楼", "room": "601",
            "organisation_name": DEVELOPER[0], "credit_code": DEVELOPER[1],
            "representative_name": "孙经理", "representative_id_number": REP_ID,
            "document_photo_ids": [await upload(world.api, rep)],
        },
    )  # fmt: skip
    assert claimed.status_code == 201, claimed.text
    path = f"{API}/admin/compounds/{compound.id}/organisation-claims/{claimed.json()['id']}/decision"
    decisions = ["owner.verified", "organisation_claim.rejected"]
    stream = f"compound:{compound.id}"
    before = await AuditEvent.filter(stream=stream, action__in=decisions).count()
    answers = await asyncio.gather(
        *(world.api.post(path, headers=world.chair, json={"approve": n % 2 == 0}) for n in range(6))
    )
    assert sorted(r.status_code for r in answers) == [200] + [404] * 5
    assert await AuditEvent.filter(stream=stream, action__in=decisions).count() == before + 1
    status = (await OrganisationClaim.get(id=claimed.json()["id"])).status.value
    bound = (await Owner.get(id=developer.id)).user_id  # type: ignore[attr-defined]
    rep_user = await User.get(openid="racing-representative")
    assert bound == (rep_user.id if status == "approved" else None)
