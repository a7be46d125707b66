"""The demo county matches DOMAIN.md and loading it twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

from accounts.demo import COMMUNITIES, FILLED, seed_demo
from accounts.models import Committee, Community, Compound, Owner, Ownership, PropertyCompany, Unit

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
    developer = await Owner.get(is_developer=True)
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
