"""The export after the count carries the totals; offline verification checks them as far as secrecy
allows: against the count sealed in the chain and the number of counted ballots (both kinds), and
recounted from the ballots and the roll (open motions)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from voting.verify import verify_motion_export

from .conftest import World


async def _counted_export(world: World, *, secret: bool) -> tuple[dict[str, Any], int]:
    motion_id = await world.open(secret=secret)
    (item,) = await world.item_ids(motion_id)
    for n, owner_id in enumerate((await world.on_roll(motion_id))[1:6]):
        assert (
            await world.cast(motion_id, owner_id, {str(item): ["agree", "oppose"][n % 2]})
        ).status_code == 201
    await world.count(motion_id)
    response = await world.api.get(f"/api/v1/motions/{motion_id}/export", headers=world.chair)
    assert response.status_code == 200
    return response.json(), item


@pytest.mark.parametrize("secret", [False, True], ids=["open_motion", "secret_motion"])
async def test_totals_verify_and_a_changed_participation_is_caught(world: World, secret: bool) -> None:
    document, _ = await _counted_export(world, secret=secret)
    assert verify_motion_export(document) == []
    assert document["motion"]["result"]["participating"]["headcount"] == 5

    inflated = copy.deepcopy(document)
    inflated["motion"]["result"]["participating"]["headcount"] = 6
    problems = verify_motion_export(inflated)
    assert "the exported participation differs from the one sealed in the chain" in problems
    assert "the number of counted ballots differs from the participation in the totals" in problems

    dropped = copy.deepcopy(document)
    next(b for b in dropped["ballots"] if b["counted"])["counted"] = False
    assert (
        "the number of counted ballots differs from the participation in the totals"
        in verify_motion_export(dropped)
    )


async def test_an_open_motion_s_totals_are_recounted_from_its_ballots(world: World) -> None:
    document, item = await _counted_export(world, secret=False)
    moved = copy.deepcopy(document)
    totals = moved["motion"]["result"]["items"][0]
    totals["agree"]["headcount"] += 1  # one vote moved between sides: the decision and chain are unchanged
    totals["oppose"]["headcount"] -= 1
    assert verify_motion_export(moved) == [f"item {item}: the totals do not match the counted ballots"]


async def test_a_secret_motion_s_export_names_no_voter_and_no_choice(world: World) -> None:
    document, _ = await _counted_export(world, secret=True)
    assert all(set(b) == {"id", "ballot_hash", "batch", "counted"} for b in document["ballots"])
    assert sum(b["counted"] for b in document["ballots"]) == 5
    assert [set(v) for v in document["roll"]][:1] == [{"voter_id", "area", "developer", "rooms"}]
