"""Registry management through the admin endpoints: what each does, its refusals, its audit trail."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from accounts.demo import FILLED, seed_demo
from accounts.models import Committee, Compound, Owner, RoleGrant, User
from accounts.sessions import open_session
from audit.models import AuditEvent
from audit.service import verify_database
from core.cache import Cache


async def as_user(cache: Cache, openid: str) -> dict[str, str]:
    user = await User.get(openid=openid)
    return {"authorization": f"Bearer {(await open_session(cache, user.id, 600)).token}"}


@pytest.fixture
async def demo(clean_db: None) -> Compound:
    await seed_demo(hmac_key=b"k")
    return await Compound.get(name=FILLED[0])


async def test_compound_summary_counts_the_registry(
    demo: Compound, client: httpx.AsyncClient, cache: Cache
) -> None:
    auth = await as_user(cache, "demo-property")
    response = await client.get(f"/api/v1/admin/compounds/{demo.id}", headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["buildings"], body["units"], body["owners"]) == (4, 40, 1 + 34)  # developer + 34 people
    assert Decimal(body["total_area"]) == sum(
        [u.area for u in await demo.units.all()],
        Decimal("0"),  # type: ignore[attr-defined]
    )
    assert body["verified_owners"] == 1  # the demo committee chair
    assert body["committee_filing"] == "filed" and body["company"] == "县安居物业服务有限公司"


async def test_committee_term_filing_and_members(
    demo: Compound, client: httpx.AsyncClient, cache: Cache
) -> None:
    community = await as_user(cache, "demo-community")
    base = f"/api/v1/admin/compounds/{demo.id}/committees"
    overlapping = await client.post(
        base, headers=community, json={"term_starts_on": "2026-01-01", "term_ends_on": "2027-01-01"}
    )
    assert (overlapping.status_code, overlapping.json()["code"]) == (409, "term_overlaps")
    too_long = await client.post(
        base, headers=community, json={"term_starts_on": "2031-01-01", "term_ends_on": "2037-01-01"}
    )
    assert too_long.json()["code"] == "term_too_long"
    created = await client.post(
        base, headers=community, json={"term_starts_on": "2030-06-01", "term_ends_on": "2035-05-31"}
    )
    assert created.status_code == 201
    committee_id = created.json()["id"]
    filed = await client.post(f"{base}/{committee_id}/filing", headers=community, json={"status": "filed"})
    assert filed.json()["filing_status"] == "filed" and filed.json()["filed_at"]
    again = await client.post(f"{base}/{committee_id}/filing", headers=community, json={"status": "rejected"})
    assert (again.status_code, again.json()["code"]) == (409, "already_filed")

    developer = await Owner.get(is_developer=True, compound=demo)
    refused = await client.post(
        f"{base}/{committee_id}/members", headers=community, json={"owner_id": developer.id}
    )
    assert refused.json()["code"] == "member_is_developer"
    owner = await Owner.filter(ownerships__unit__compound=demo, is_developer=False).order_by("-id").first()
    assert owner is not None
    added = await client.post(
        f"{base}/{committee_id}/members", headers=community, json={"owner_id": owner.id}
    )
    assert added.status_code == 201
    dup = await client.post(f"{base}/{committee_id}/members", headers=community, json={"owner_id": owner.id})
    assert dup.json()["code"] == "already_member"
    gone = await client.delete(f"{base}/{committee_id}/members/{owner.id}", headers=community)
    assert gone.status_code == 200
    assert await Committee.filter(compound=demo).count() == 2
    actions = (
        await AuditEvent.filter(stream=f"compound:{demo.id}").order_by("seq").values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "committee.created",
        "committee.filing_set",
        "committee.member_added",
        "committee.member_removed",
    ]
    assert (await verify_database()).ok


async def test_contracts_may_not_overlap(demo: Compound, client: httpx.AsyncClient, cache: Cache) -> None:
    chair = await as_user(cache, "demo-committee")
    company = await client.post(
        "/api/v1/admin/companies",
        headers=await as_user(cache, "demo-supervisor"),
        json={"name": "新物业", "credit_code": "91510000MA0000003A"},
    )
    assert company.status_code == 201
    url = f"/api/v1/admin/compounds/{demo.id}/contracts"
    body = {
        "company_id": company.json()["id"],
        "starts_on": "2027-06-01",
        "ends_on": "2029-05-31",
        "price_fen_per_m2": 150,
    }
    overlap = await client.post(url, headers=chair, json=body)
    assert (overlap.status_code, overlap.json()["code"]) == (409, "contract_overlaps")
    later = await client.post(
        url, headers=chair, json={**body, "starts_on": "2028-01-01", "ends_on": "2030-12-31"}
    )
    assert later.status_code == 201
    actor = await AuditEvent.filter(action="contract.created").first()
    assert actor is not None and actor.actor_name == "阳光花园业委会主任"


async def test_community_admin_grants_only_grid_workers_of_their_community(
    demo: Compound, client: httpx.AsyncClient, cache: Cache
) -> None:
    admin = await as_user(cache, "demo-community")
    newcomer = await User.create(openid="newcomer")
    url = f"/api/v1/admin/communities/{demo.community_id}/grants"  # type: ignore[attr-defined]
    granted = await client.post(url, headers=admin, json={"user_id": newcomer.id, "role": "grid_worker"})
    assert granted.status_code == 201
    twice = await client.post(url, headers=admin, json={"user_id": newcomer.id, "role": "grid_worker"})
    assert twice.json()["code"] == "already_granted"
    refused = await client.post(url, headers=admin, json={"user_id": newcomer.id, "role": "supervisor"})
    assert (refused.status_code, refused.json()["code"]) == (403, "grant_not_allowed")
    derived = await client.post(url, headers=admin, json={"user_id": newcomer.id, "role": "owner"})
    assert derived.json()["code"] == "role_not_grantable"
    assert await RoleGrant.filter(user=newcomer).count() == 1
    revoked = await client.delete(f"{url}/{granted.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and await RoleGrant.filter(user=newcomer).count() == 0
