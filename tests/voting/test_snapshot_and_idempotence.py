"""Issue 11, items 5 and 6: a verification running beside voting reads the chain's head and events
as of one moment, so it never reports a break that is not there; and the committee's "open" and
"close" are a success, not a conflict, when the clock made that move a moment earlier."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from audit.service import SYSTEM, verify_export
from audit.service import events as audit_events
from audit.service import export as audit_export
from core import clock
from tests import motion_timing
from tests.conftest import gather_limited
from tests.voting.conftest import World
from voting import lifecycle
from voting.lifecycle import motion_stream
from voting.models import Ballot, Motion, MotionStatus
from voting.verify import verify_motion_export

CASTS = 150


def _problems(document: dict[str, Any], *, motion: bool) -> list[str]:
    """What `audit verify` (and `audit verify --file` for a motion export) would print as BROKEN."""
    report = verify_export(document)
    found = [f"{p.stream}@{p.seq}: {p.reason}" for p in report.problems]
    return found + (verify_motion_export(document) if motion else [])


async def test_verifications_beside_casting_and_sealing_never_report_a_broken_chain(world: World) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owners = await world.on_roll(motion_id)
    stream = motion_stream(motion_id)
    casting_done = asyncio.Event()

    async def cast_then_check(n: int) -> None:
        # The receipt check seals on demand, so the chain's head moves while the verifiers read.
        cast = await world.cast(motion_id, owners[n % len(owners)], {str(item): "agree"})
        assert cast.status_code == 201, cast.text
        check = await world.api.get(f"/api/v1/motions/{motion_id}/receipts/{cast.json()['receipt_code']}")
        assert check.status_code == 200, check.text

    async def casting() -> None:
        try:
            await gather_limited([cast_then_check(n) for n in range(CASTS)], limit=24)
        finally:
            casting_done.set()

    broken: list[str] = []
    heads_seen: set[int] = set()
    verifications = 0

    async def verifying() -> None:
        nonlocal verifications
        while not casting_done.is_set():
            exported = await world.api.get(f"/api/v1/motions/{motion_id}/export", headers=world.chair)
            assert exported.status_code == 200, exported.text
            document = exported.json()
            broken.extend(f"motion export: {p}" for p in _problems(document, motion=True))
            heads_seen.add(document["heads"][stream]["seq"])
            whole = await audit_export()
            broken.extend(f"audit export: {p}" for p in _problems(whole, motion=False))
            heads_seen.add(whole["heads"][stream]["seq"])
            verifications += 1

    await asyncio.gather(casting(), verifying(), verifying())

    assert broken == []
    # The verifications really ran beside a moving chain: many of them, at many different heads.
    assert verifications >= 4 and len(heads_seen) >= 3, (verifications, sorted(heads_seen))
    assert await Ballot.filter(motion_id=motion_id).count() == CASTS
    assert await Ballot.filter(motion_id=motion_id, batch_id=None).count() == 0
    final = (await world.api.get(f"/api/v1/motions/{motion_id}/export", headers=world.chair)).json()
    assert _problems(final, motion=True) == [] and _problems(await audit_export(), motion=False) == []
    assert len(final["ballots"]) == CASTS


async def _actions(motion_id: int) -> list[tuple[str, str]]:
    return [(e["action"], e["actor"]) for e in await audit_events(motion_stream(motion_id))]


async def test_open_after_the_clock_opened_the_motion_answers_200_with_it_and_logs_nothing_more(
    world: World,
) -> None:
    motion_id = await world.motion()
    await world.announce(motion_id)
    await motion_timing.until_opens(motion_id)
    assert _moves(await lifecycle.tick()) == {"opened": 1, "closed": 0, "finalised": 0}
    opened = await Motion.get(id=motion_id)
    chain = await _actions(motion_id)
    assert [a for a, _ in chain] == ["motion.created", "motion.announced", "motion.open"] and chain[2][
        1
    ] == "system"

    answer = await world.step(motion_id, "open")  # asserts 200

    detail = await world.api.get(f"{world.admin}/{motion_id}", headers=world.chair)
    assert answer["status"] == "open" and answer == detail.json()
    assert await _actions(motion_id) == chain
    again = await Motion.get(id=motion_id)
    assert (again.opened_at, again.roll_hash) == (opened.opened_at, opened.roll_hash)


async def test_open_racing_the_clock_answers_200_and_the_motion_opens_once(world: World) -> None:
    """The handler loaded the motion while it was still announced; the clock opens it meanwhile."""
    motion_id = await world.motion()
    await world.announce(motion_id)
    await motion_timing.until_opens(motion_id)

    async def committee_open() -> dict[str, Any]:
        return await world.step(motion_id, "open")

    answers = await asyncio.gather(committee_open(), lifecycle.tick(), committee_open(), lifecycle.tick())

    assert [answers[0]["status"], answers[2]["status"]] == ["open", "open"]
    actions = [a for a, _ in await _actions(motion_id)]
    assert actions == ["motion.created", "motion.announced", "motion.open"]
    # each tick reports only what it did itself: at most one of all four callers opened it
    assert answers[1]["opened"] + answers[3]["opened"] <= 1
    assert (await lifecycle.tick())["opened"] == 0


async def test_open_with_a_stale_motion_after_the_clock_opened_it_returns_the_open_motion(
    world: World,
) -> None:
    motion_id = await world.motion()
    await world.announce(motion_id)
    await motion_timing.until_opens(motion_id)
    stale = await Motion.get(id=motion_id)  # what a handler holds while the clock opens the motion
    assert (await lifecycle.tick())["opened"] == 1

    returned = await lifecycle.open_voting(SYSTEM, stale)

    assert returned.status is MotionStatus.OPEN and returned.id == motion_id
    assert [a for a, _ in await _actions(motion_id)] == ["motion.created", "motion.announced", "motion.open"]


async def test_close_after_the_clock_closed_the_motion_answers_200_with_it_and_logs_nothing_more(
    world: World,
) -> None:
    motion_id = await world.open()
    await Motion.filter(id=motion_id).update(closes_at=clock.now() - timedelta(seconds=1))
    assert _moves(await lifecycle.tick()) == {"opened": 0, "closed": 1, "finalised": 0}
    closed = await Motion.get(id=motion_id)
    chain = await _actions(motion_id)
    assert chain[-1] == ("motion.closed", "system")

    answer = await world.step(motion_id, "close")  # asserts 200

    detail = await world.api.get(f"{world.admin}/{motion_id}", headers=world.chair)
    assert answer["status"] == "closed" and answer == detail.json()
    assert await _actions(motion_id) == chain
    assert (await Motion.get(id=motion_id)).closed_at == closed.closed_at


async def test_close_racing_the_clock_answers_200_and_the_motion_closes_once(world: World) -> None:
    motion_id = await world.open()
    await Motion.filter(id=motion_id).update(closes_at=clock.now() - timedelta(seconds=1))

    async def committee_close() -> dict[str, Any]:
        return await world.step(motion_id, "close")

    answers = await asyncio.gather(committee_close(), lifecycle.tick(), committee_close())

    assert [answers[0]["status"], answers[2]["status"]] == ["closed", "closed"]
    actions = [a for a, _ in await _actions(motion_id)]
    assert actions.count("motion.closed") == 1 and actions[-1] == "motion.closed"


def _moves(done: dict[str, int]) -> dict[str, int]:
    """The tick's transitions (it also reports closing-soon reminders, tested in tests/notify)."""
    return {k: v for k, v in done.items() if k != "reminded"}
