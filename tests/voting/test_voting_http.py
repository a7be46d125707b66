"""Motions end to end over HTTP: roll, casting, receipts, paper and proxy ballots, count, publication."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from fractions import Fraction

from accounts.models import Owner, Ownership, Resident, ResidentRelation, Unit, User
from accounts.sessions import open_session
from audit.service import verify_database
from core import clock
from core.cache import Cache
from tests import motion_timing
from voting import ballots, merkle
from voting.models import Ballot, BallotChoice, CurrentBallot, Voter

from .conftest import World, every_page, jpeg


async def test_roll_counts_each_owner_once_with_summed_area(world: World) -> None:
    motion_id = await world.open()
    roll = await every_page(world.api, f"/api/v1/motions/{motion_id}/roll", world.chair)
    units = await Unit.filter(compound=world.compound, ownerships__id__not_isnull=True).distinct()
    total_area = sum((u.area for u in units), Decimal("0"))
    assert sum(Decimal(v["area"]) for v in roll) == total_area
    developer = await Owner.get(is_developer=True, compound=world.compound)  # one record per compound
    developer_units = await Unit.filter(compound=world.compound, ownerships__owner=developer)
    dev_entries = [v for v in roll if v["developer"]]
    assert len(dev_entries) == 1  # all unsold units together are one voter
    assert Decimal(dev_entries[0]["area"]) == sum((u.area for u in developer_units), Decimal("0"))
    # the multi-unit owner: two flats and a parking space, one voter
    assert max(len(v["rooms"]) for v in roll if not v["developer"]) == 3
    # the co-owned flat appears once, through its designated co-owner
    rooms = [r["room"] for v in roll for r in v["rooms"]]
    assert len(rooms) == len(set(rooms)) == len(units)
    people = await Owner.filter(
        ownerships__unit__compound=world.compound, is_developer=False, ownerships__votes_for_unit=True
    ).distinct()
    assert len(roll) == len(people) + 1
    assert all("name" not in v for v in roll)


async def test_roll_is_frozen_against_later_ownership_changes(world: World) -> None:
    motion_id = await world.open()
    before = await every_page(world.api, f"/api/v1/motions/{motion_id}/roll", world.chair)
    unit = await Unit.filter(compound=world.compound, delivered=False).first()
    assert unit is not None
    buyer = await Owner.create(name="新业主")
    await Ownership.filter(unit=unit).delete()
    await Ownership.create(unit=unit, owner=buyer)
    after = await every_page(world.api, f"/api/v1/motions/{motion_id}/roll", world.chair)
    assert before == after


async def test_cast_change_and_receipts(world: World) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owner_id = next(iter(o for o in world.owners if o != min(world.owners)))
    first = await world.cast(motion_id, owner_id, {str(item): "agree"})
    assert first.status_code == 201, first.text
    second = await world.cast(motion_id, owner_id, {str(item): "oppose"})
    assert second.status_code == 201
    detail = (await world.api.get(f"/api/v1/motions/{motion_id}", headers=world.owners[owner_id])).json()
    assert detail["my_choices"] == {str(item): "oppose"}
    assert await Ballot.filter(motion_id=motion_id).count() == 2  # every cast kept
    assert await CurrentBallot.filter(motion_id=motion_id).count() == 1

    old = (await world.api.get(f"/api/v1/motions/{motion_id}/receipts/{first.json()['receipt_code']}")).json()
    new = (
        await world.api.get(f"/api/v1/motions/{motion_id}/receipts/{second.json()['receipt_code'].lower()}")
    ).json()
    assert (old["counted"], new["counted"]) == (False, True)
    for receipt, cast in ((old, first.json()), (new, second.json())):
        assert receipt["sealed"] and receipt["ballot_hash"] == cast["ballot_hash"]
        assert merkle.verify(receipt["ballot_hash"], [tuple(p) for p in receipt["proof"]], receipt["root"])
    head = (await world.api.get(f"/api/v1/motions/{motion_id}/chain")).json()
    assert head["stream"] == f"motion:{motion_id}" and head["seq"] >= 4
    missing = await world.api.get(f"/api/v1/motions/{motion_id}/receipts/AAAAAAAAAAAA")
    assert (missing.status_code, missing.json()["code"]) == (404, "receipt_not_found")
    assert (await verify_database()).ok


async def test_stored_hash_and_receipt_code_are_the_ones_the_verifier_recomputes(world: World) -> None:
    """On PostgreSQL the hot path hashes in SQL; the verifier and the owner recompute in Python."""
    motion_id = await world.open(
        items=[
            {"title": "续聘物业", "matter": "hire_property_company"},
            {"title": "选举委员", "matter": "elect_committee", "seats": 2, "candidates": ["甲", "乙", "丙"]},
        ]
    )
    resolution, election = await world.item_ids(motion_id)
    cast = 0
    for owner_id in await world.on_roll(motion_id):
        for choice in ("agree", "oppose"):
            response = await world.cast(motion_id, owner_id, {str(resolution): choice, str(election): [1, 3]})
            assert response.status_code == 201, response.text
            cast += 1
            stored = await Ballot.get(id=response.json()["ballot_id"])
            expected = ballots.ballot_hash(
                motion_id, stored.voter_id, "electronic", stored.choices,  # type: ignore[attr-defined]
                clock.iso_utc(stored.cast_at), stored.nonce,
            )  # fmt: skip
            assert stored.choices == {str(resolution): choice, str(election): [1, 3]}
            assert (stored.ballot_hash, stored.receipt_code) == (expected, ballots.receipt_code(expected))
            assert response.json()["ballot_hash"] == expected
            assert response.json()["receipt_code"] == stored.receipt_code
    rows = await BallotChoice.filter(ballot__motion_id=motion_id).count()
    assert cast >= 4 and rows == cast * 3  # one row per resolution, one per elected candidate
    current = await CurrentBallot.filter(motion_id=motion_id).values_list("version", flat=True)
    assert sorted(set(current)) == [2]


async def test_only_verified_owners_on_the_roll_vote_and_only_in_the_window(
    world: World, cache: Cache
) -> None:
    motion_id = await world.motion()
    (item,) = await world.item_ids(motion_id)
    owner_id = next(iter(world.owners))
    draft = await world.cast(motion_id, owner_id, {str(item): "agree"})
    assert draft.status_code in (409,)  # not open yet
    await world.announce(motion_id)
    await motion_timing.until_opens(motion_id)
    await world.step(motion_id, "open")
    tenant = await User.create(openid="tenant-1")
    unit = await Unit.filter(compound=world.compound).first()
    await Resident.create(unit=unit, user=tenant, relation=ResidentRelation.TENANT)
    auth = {"authorization": f"Bearer {(await open_session(cache, tenant.id, 600)).token}"}
    refused = await world.api.post(
        f"/api/v1/motions/{motion_id}/ballots", headers=auth, json={"choices": {str(item): "agree"}}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "not_a_voter")
    stranger = await User.create(openid="stranger")
    auth = {"authorization": f"Bearer {(await open_session(cache, stranger.id, 600)).token}"}
    assert (
        await world.api.post(
            f"/api/v1/motions/{motion_id}/ballots", headers=auth, json={"choices": {str(item): "agree"}}
        )
    ).status_code == 403
    bad = await world.cast(motion_id, owner_id, {str(item): "maybe"})
    assert (bad.status_code, bad.json()["code"]) == (400, "ballot_invalid")
    assert await Ballot.filter(motion_id=motion_id).count() == 0


async def test_two_hundred_concurrent_casts_by_one_voter_leave_one_current_ballot(world: World) -> None:
    for allow_change in (False, True):
        motion_id = await world.open(allow_change=allow_change)
        (item,) = await world.item_ids(motion_id)
        owner_id = next(iter(world.owners))
        choices = ["agree", "oppose", "abstain"]
        responses = await asyncio.gather(
            *(world.cast(motion_id, owner_id, {str(item): choices[i % 3]}) for i in range(200))
        )
        statuses = sorted(r.status_code for r in responses)
        assert await CurrentBallot.filter(motion_id=motion_id).count() == 1
        if allow_change:
            assert statuses == [201] * 200
            assert await Ballot.filter(motion_id=motion_id).count() == 200
            current = await CurrentBallot.get(motion_id=motion_id)
            assert current.version == 200  # each of the 200 casts replaced the one before, none lost
        else:
            assert statuses == [201] + [409] * 199
            assert await Ballot.filter(motion_id=motion_id).count() == 1


async def test_paper_ballot_yields_to_electronic_and_proxy_needs_approval(world: World, cache: Cache) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    voters = {v.owner_id: v.id for v in await Voter.filter(motion_id=motion_id)}  # type: ignore[attr-defined]
    owners = sorted(o for o in world.owners if o in voters)
    a, b = owners[1], owners[2]
    assert (await world.cast(motion_id, a, {str(item): "agree"})).status_code == 201
    paper = await world.api.post(
        f"{world.admin}/{motion_id}/paper-ballots", headers=world.chair,
        json={"voter_id": voters[a], "choices": {str(item): "oppose"}, "scan_ref": "photo:1"},
    )  # fmt: skip
    assert paper.status_code == 201 and paper.json()["counted"] is False
    paper_b = await world.api.post(
        f"{world.admin}/{motion_id}/paper-ballots", headers=world.chair,
        json={"voter_id": voters[b], "choices": {str(item): "oppose"}, "scan_ref": "photo:2"},
    )  # fmt: skip
    assert paper_b.json()["counted"] is True
    electronic_b = await world.cast(motion_id, b, {str(item): "agree"})
    assert electronic_b.json()["counted"] is True  # the electronic ballot outranks the paper one

    c, proxy_owner = owners[3], owners[4]
    unapproved = await world.cast(motion_id, proxy_owner, {str(item): "agree"}, for_voter=voters[c])
    assert unapproved.status_code == 403
    letter = await world.api.post(
        "/api/v1/photos", content=jpeg(), headers={**world.owners[c], "content-type": "image/jpeg"}
    )
    assert letter.status_code == 201, letter.text
    invited = await world.api.post(
        f"/api/v1/motions/{motion_id}/proxies",
        headers=world.owners[c],
        json={"document_photo_ids": [letter.json()["id"]]},
    )
    assert invited.status_code == 201, invited.text
    asked = await world.api.post(
        "/api/v1/motions/proxy-invitations/accept",
        headers=world.owners[proxy_owner],
        json={"code": invited.json()["code"]},
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == "pending"
    decided = await world.api.post(
        f"{world.admin}/{motion_id}/proxies/{asked.json()['proxy_id']}/decision",
        headers=world.chair,
        json={"approve": True},
    )
    assert decided.json()["status"] == "approved"
    by_proxy = await world.cast(motion_id, proxy_owner, {str(item): "abstain"}, for_voter=voters[c])
    assert by_proxy.status_code == 201 and by_proxy.json()["channel"] == "proxy"
    counted = {cb.voter_id: cb.channel.value for cb in await CurrentBallot.filter(motion_id=motion_id)}  # type: ignore[attr-defined]
    assert counted == {voters[a]: "electronic", voters[b]: "electronic", voters[c]: "proxy"}


async def test_count_publish_and_the_two_thresholds_on_the_same_ballots(world: World) -> None:
    items = [
        {"title": "使用维修资金", "matter": "use_maintenance_fund"},
        {"title": "续筹维修资金", "matter": "raise_maintenance_fund"},
    ]
    motion_id = await world.open(items)
    use, raise_ = await world.item_ids(motion_id)
    voters = await Voter.filter(motion_id=motion_id).order_by("id")
    by_owner = {v.owner_id: v for v in voters}  # type: ignore[attr-defined]
    voting_owners = sorted(o for o in world.owners if o in by_owner)
    # everyone votes; 70 % of the voters agree, the rest oppose
    agree_n = (len(voting_owners) * 7) // 10
    for n, owner_id in enumerate(voting_owners):
        choice = "agree" if n < agree_n else "oppose"
        assert (
            await world.cast(motion_id, owner_id, {str(use): choice, str(raise_): choice})
        ).status_code == 201
    turnout = (await world.api.get(f"{world.admin}/{motion_id}/turnout", headers=world.chair)).json()
    assert turnout["participating"]["headcount"] == len(voting_owners)
    # every share with its exact fraction beside the display percentage
    heads = turnout["participation_headcount"]
    assert Fraction(heads["ratio"]) == Fraction(len(voting_owners), turnout["total"]["headcount"])
    assert (heads["numerator"], heads["denominator"]) == (
        Fraction(heads["ratio"]).numerator,
        Fraction(heads["ratio"]).denominator,
    )
    area = turnout["participation_area"]
    assert Fraction(area["ratio"]) == Fraction(
        int(Decimal(turnout["participating"]["area"]) * 100), int(Decimal(turnout["total"]["area"]) * 100)
    )

    from voting.models import Motion

    await Motion.filter(id=motion_id).update(closes_at=clock.now())  # the deadline has passed
    await world.step(motion_id, "close")
    counted = await world.step(motion_id, "count")
    assert counted["status"] == "counted"
    result = (await world.api.get(f"/api/v1/motions/{motion_id}/results", headers=world.chair)).json()
    total = sum(v.area_h for v in voters)
    agree_area = sum(by_owner[o].area_h for o in voting_owners[:agree_n])
    part_area = sum(by_owner[o].area_h for o in voting_owners)
    first, second = result["items"]

    from voting.rules import format_ratio

    heads, voted = len(voters), len(voting_owners)
    assert first["participating"] == {"area": str(Decimal(part_area).scaleb(-2)), "headcount": voted}
    assert first["participation_area"]["ratio"] == format_ratio(Fraction(part_area, total))
    assert first["participation_headcount"]["ratio"] == format_ratio(Fraction(voted, heads))
    assert first["agreement_headcount"]["ratio"] == format_ratio(Fraction(agree_n, voted))
    assert first["agreement_area"]["ratio"] == format_ratio(Fraction(agree_area, part_area))
    # the same ballots: a majority matter passes where a 3/4 matter does not (70 % < 75 %)
    expected_use = (
        3 * part_area >= 2 * total
        and 3 * voted >= 2 * heads
        and 2 * agree_area > part_area
        and 2 * agree_n > voted
    )
    assert expected_use is True
    assert (first["passed"], second["passed"]) == (True, False)
    assert second["agreement_headcount"]["passed"] is False
    published = await world.step(motion_id, "publish")
    assert published["status"] == "objection"
    from notices.models import Notice

    board = await Notice.filter(
        compound_id=world.compound.id, category__in=["motion", "vote_result"]
    ).order_by("id")
    assert [(n.category, n.status.value) for n in board] == [
        ("motion", "published"),
        ("vote_result", "published"),
    ]
    assert (
        board[1].data["result"]["items"][0]["passed"] is True
        and "未通过" in (await board[1].revisions.all())[0].body_markdown
    )
    listing = await every_page(world.api, f"/api/v1/motions/{motion_id}/ballot-list", world.chair)
    assert len(listing) == len(voting_owners) and all("name" not in row for row in listing)
    early = await world.api.post(f"{world.admin}/{motion_id}/finalize", headers=world.chair)
    assert early.status_code == 409
    assert (await verify_database()).ok
