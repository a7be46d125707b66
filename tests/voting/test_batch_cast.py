"""Owners' casts on PostgreSQL go several to a statement under load (voting.batch_cast); each keeps
its own receipt and outcome, and a failed statement costs nobody their ballot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core import clock
from tests.conftest import ON_POSTGRES
from voting import ballots, batch_cast
from voting.models import Ballot, BallotChoice, CurrentBallot

from .conftest import World

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the batched statement is PostgreSQL's")


async def _verify_stored(response_json: dict[str, Any]) -> Ballot:
    stored = await Ballot.get(id=response_json["ballot_id"])
    expected = ballots.ballot_hash(
        stored.motion_id, stored.voter_id, "electronic", stored.choices,  # type: ignore[attr-defined]
        clock.iso_utc(stored.cast_at), stored.nonce,
    )  # fmt: skip
    assert stored.ballot_hash == response_json["ballot_hash"] == expected
    assert stored.receipt_code == response_json["receipt_code"] == ballots.receipt_code(expected)
    return stored


async def test_casts_arriving_together_share_statements_and_keep_their_own_receipts(world: World) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owners = await world.on_roll(motion_id)
    before = batch_cast.statements_written()
    choices = ["agree", "oppose", "abstain"]
    responses = await asyncio.gather(
        *(world.cast(motion_id, o, {str(item): choices[i % 3]}) for i, o in enumerate(owners))
    )
    assert [r.status_code for r in responses] == [201] * len(owners), [r.text for r in responses]
    statements = batch_cast.statements_written() - before
    assert len(owners) >= 5 and 1 <= statements < len(owners)
    for i, response in enumerate(responses):
        stored = await _verify_stored(response.json())
        assert stored.choices == {str(item): choices[i % 3]}
    assert len({r.json()["receipt_code"] for r in responses}) == len(owners)
    assert await CurrentBallot.filter(motion_id=motion_id).count() == len(owners)
    assert await BallotChoice.filter(ballot__motion_id=motion_id).count() == len(owners)


async def test_the_same_voter_twice_at_once_goes_in_two_statements_in_order(world: World) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owner = (await world.on_roll(motion_id))[0]
    before = batch_cast.statements_written()
    casts = await asyncio.gather(
        *(world.cast(motion_id, owner, {str(item): choice}) for choice in ("agree", "oppose", "abstain"))
    )
    assert [c.status_code for c in casts] == [201, 201, 201]
    assert batch_cast.statements_written() - before == 3  # one voter: never two casts in one statement
    ids = sorted(c.json()["ballot_id"] for c in casts)
    current = await CurrentBallot.get(motion_id=motion_id)
    # written one after the other: the last written (the highest id) is the one that counts
    assert current.version == 3 and current.ballot_id == ids[-1]  # type: ignore[attr-defined]
    assert await Ballot.filter(motion_id=motion_id).count() == 3


async def test_a_failed_statement_sends_each_cast_the_general_way(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owners = (await world.on_roll(motion_id))[:4]

    async def broken(batch: list[Any]) -> dict[int, Any]:
        raise ConnectionError("statement lost")

    monkeypatch.setattr(batch_cast, "_write_batch", broken)
    responses = await asyncio.gather(*(world.cast(motion_id, o, {str(item): "agree"}) for o in owners))
    assert [r.status_code for r in responses] == [201] * len(owners)
    for response in responses:
        await _verify_stored(response.json())
    assert await CurrentBallot.filter(motion_id=motion_id).count() == len(owners)
