"""The demo county matches DOMAIN.md and loading it twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

import httpx

from accounts.demo import COMMUNITIES, DEMO_MANAGERS, FILLED, seed_demo
from accounts.models import Committee, Community, Compound, Owner, Ownership, PropertyCompany, Unit, User
from accounts.sessions import open_session
from audit.models import AuditEvent
from core.cache import Cache

KEY = b"test-hmac-key"


async def test_demo_county_has_the_plans_numbers(clean_db: None) -> None:
    await seed_demo(hmac_key=KEY)
    assert [c.name for c in await Community.all().order_by("id")] == [c[0] for c in COMMUNITIES]
    assert await Compound.filter(standalone=False).count() == 184
    assert await Compound.filter(standalone=True).count() == 32
    for name, compounds, standalone in COMMUNITIES:
        assert await Compound.filter(community__name=name, standalone=False).count() == compounds
        assert await Compound.filter(community__name=name, standalone=True).count() == standalone


async def test_filled_compounds_have_the_cases_voting_needs(clean_db: None) -> None:
    await seed_demo(hmac_key=KEY)
    compound = await Compound.get(name=FILLED[0])
    units = await Unit.filter(compound=compound)
    assert len(units) == 40  # 36 flats and 4 parking spaces
    assert all(isinstance(u.area, Decimal) and u.area.as_tuple().exponent == -2 for u in units)
    developer = await Owner.get(is_developer=True, compound=compound)  # one record per compound
    developer_units = await Unit.filter(compound=compound, ownerships__owner=developer)
    assert len(developer_units) == 2 and not any(u.delivered for u in developer_units)
    multi = [
        o for o in await Owner.filter(ownerships__unit__compound=compound).distinct() if not o.is_developer
    ]
    counts = {o.id: await Ownership.filter(owner=o, unit__compound=compound).count() for o in multi}
    assert max(counts.values()) == 3  # two flats and a parking space
    co_owned = [u for u in units if await Ownership.filter(unit=u).count() == 2]
    assert len(co_owned) == 1
    assert await Ownership.filter(unit=co_owned[0], votes_for_unit=True).count() == 1
    # every flat has an owner; three parking spaces belong to no one yet
    assert await Unit.filter(compound=compound, ownerships=None).count() == 3
    committee = await Committee.get(compound=compound).prefetch_related("members")
    assert len(committee.members) == 5
    assert await PropertyCompany.filter(contracts__compound=compound).count() == 1


async def test_no_identity_number_is_stored_in_clear(clean_db: None) -> None:
    await seed_demo(hmac_key=KEY)
    owners = await Owner.all()
    assert all(o.id_hash is None or len(o.id_hash) == 64 for o in owners)
    from accounts.demo import demo_person

    number = demo_person(0)["id_number"]
    assert not await Owner.filter(id_hash=number).exists()


async def test_loading_twice_changes_nothing(clean_db: None) -> None:
    await seed_demo(hmac_key=KEY)
    before = (
        await Compound.all().count(),
        await Unit.all().count(),
        await Owner.all().count(),
        await Ownership.all().count(),
    )
    message = await seed_demo(hmac_key=KEY)
    after = (
        await Compound.all().count(),
        await Unit.all().count(),
        await Owner.all().count(),
        await Ownership.all().count(),
    )
    assert before == after
    assert "0 new rows" in message


async def test_the_demo_boards_show_their_contacts(
    clean_db: None, cache: Cache, client: httpx.AsyncClient
) -> None:
    await seed_demo(hmac_key=KEY)
    grid = await User.get(openid="demo-grid")
    east = await Community.get(name=COMMUNITIES[0][0])
    chair = await Owner.get(user__openid="demo-committee", compound__name=FILLED[0])
    for position, name in enumerate(FILLED):
        compound = await Compound.get(community=east, name=name)
        response = await client.get(f"/api/v1/compounds/{compound.id}/profile")
        assert response.status_code == 200, response.text
        shown = response.json()
        company = shown["property_company"]
        manager = DEMO_MANAGERS[position]
        assert (company["project_manager"]["name"], company["project_manager"]["phone"]) == manager
        assert company["complaint_phone"]["phone"] == f"0816-22{position + 1}0000"
        assert company["service_phone"]["phone"] == f"400-816-1234-{position + 1}"
        assert (shown["community_contact"]["name"], shown["community_contact"]["phone"]) == (
            "赵干事",
            "0816-2301234",
        )
        assert (shown["grid_worker"]["name"], shown["grid_worker"]["phone"]) == ("刘晓东", "13808160100")
        contact = shown["committee"]["contact"]
        if position == 0:  # posted by its chair, the demo-committee account
            assert (contact["name"], contact["phone"]) == (chair.name, "13808160200")
        else:
            assert contact is None
    # the grid worker on the boards is the one the community's list names
    admin = (await open_session(cache, (await User.get(openid="demo-community")).id, 3600)).token
    listed = await client.get(
        f"/api/v1/admin/communities/{east.id}/grid-workers", headers={"authorization": f"Bearer {admin}"}
    )
    assert [i["user_id"] for i in listed.json()["items"]] == [grid.id]
    # each section is one audited change, and loading again posts nothing new
    changes = await AuditEvent.filter(action="compound.contacts_changed").count()
    assert changes == 2 * len(FILLED) + 1
    await seed_demo(hmac_key=KEY)
    assert await AuditEvent.filter(action="compound.contacts_changed").count() == changes
