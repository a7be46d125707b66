"""The count: two GROUP BY queries in the database, then voting.rules decides each item with exact
integer arithmetic. No loop over ballots in Python."""

from __future__ import annotations

from typing import Any

from tortoise import connections

from audit.service import Actor
from core import clock
from voting import lifecycle, sealing
from voting.ballots import items_of
from voting.models import Motion, MotionStatus
from voting.roll import Weight
from voting.rules import FOLLOW_MAJORITY_RULE, Choice, Matter, decide, decide_election

_BY_CHOICE = """
SELECT bc.item_id, bc.choice, bc.candidate, COUNT(*) AS heads, SUM(v.area_h) AS area
FROM voting_current_ballot cb
JOIN voting_ballot_choice bc ON bc.ballot_id = cb.ballot_id
JOIN voting_voter v ON v.id = cb.voter_id
WHERE cb.motion_id = {p}
GROUP BY bc.item_id, bc.choice, bc.candidate
"""

_PARTICIPATION = """
SELECT COUNT(*) AS heads, SUM(v.area_h) AS area
FROM voting_current_ballot cb JOIN voting_voter v ON v.id = cb.voter_id
WHERE cb.motion_id = {p}
"""


async def _query(sql: str, motion_id: int) -> list[dict[str, Any]]:
    conn = connections.get("default")
    placeholder = "$1" if conn.capabilities.dialect == "postgres" else "?"
    return list(await conn.execute_query_dict(sql.format(p=placeholder), [motion_id]))


def _weight(row: dict[str, Any]) -> Weight:
    return Weight(int(row["area"] or 0), int(row["heads"] or 0))


async def participation(motion: Motion) -> Weight:
    """Heads and area of the voters who have a current ballot: what live turnout may show."""
    return _weight((await _query(_PARTICIPATION, motion.id))[0])


async def tally(motion: Motion) -> dict[str, Any]:
    """The result of every item with all four ratios and the decision; also used for live turnout."""
    total = Weight(int(motion.total_area_h or 0), int(motion.total_headcount or 0))
    rows = await _query(_BY_CHOICE, motion.id)
    participating = await participation(motion)
    items_out = []
    for item in await items_of(motion):
        mine = [r for r in rows if r["item_id"] == item.id]
        matter = Matter(item.matter)
        if item.seats is None:
            sides = {Choice(r["choice"]): _weight(r) for r in mine}
            tallied = decide(matter, total, sides, follow_majority=motion.follow_majority)
            decision = tallied.to_dict()
            decision["follow_majority_applied"] = tallied.followed is not None
            decision["non_voters_counted"] = (
                {"side": tallied.followed.value, **tallied.non_voters.to_dict()}
                if tallied.followed is not None
                else None
            )
        else:
            votes = {c["id"]: Weight() for c in item.candidates}
            for r in mine:
                if r["choice"] == "elect" and r["candidate"] in votes:
                    votes[r["candidate"]] = _weight(r)
            decision = decide_election(total, participating, votes, item.seats, matter=matter).to_dict()
            decision["follow_majority_applied"] = False  # never for elections
            decision["non_voters_counted"] = None
            names = {c["id"]: c["name"] for c in item.candidates}
            for c in decision.get("candidates", []):
                c["name"] = names.get(c.get("candidate_id"))
        items_out.append({"item_id": item.id, "position": item.position, "title": item.title, **decision})
    return {
        "motion_id": motion.id,
        "total": total.to_dict(),
        "participating": participating.to_dict(),
        "roll_hash": motion.roll_hash,
        "follow_majority": motion.follow_majority,
        "follow_majority_rule": FOLLOW_MAJORITY_RULE,
        "items": items_out,
    }


async def count(actor: Actor, motion: Motion) -> Motion:
    """Closed → counted: seal what is left, tally, store the result in the motion and in its chain."""
    if motion.status is not MotionStatus.CLOSED:
        raise lifecycle.errors.MotionWrongState(details={"status": motion.status.value, "wanted": "counted"})
    await sealing.seal_all(motion.id)
    result = await tally(motion)
    summary = {
        "items": [
            {"item_id": i["item_id"], "passed": i.get("passed"), "elected": i.get("elected")}
            for i in result["items"]
        ]
    }
    return await lifecycle._move(
        motion, {MotionStatus.CLOSED}, MotionStatus.COUNTED, actor, {**summary, "participating": result["participating"]},
        counted_at=clock.now(), result=result,
    )  # fmt: skip
