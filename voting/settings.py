"""A compound's voting settings: 从多 (non-voters follow the majority).

The tally applies it as voting.rules.FOLLOW_MAJORITY_RULE states. Its legality is disputed since the
Civil Code (DOMAIN.md): it is off by default, and only the committee may change it, stating the article
of the compound's rules of procedure (业主大会议事规则) it rests on when turning it on. A motion takes
the compound's value when voting opens (voting.lifecycle.open_voting), and the setting cannot change
while any motion of the compound is announced or open: owners read an announced motion under the
counting rule in force, so the rule a motion is counted by is the one in force when it was announced.
Every change is one audit event in the compound's stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from accounts.errors import CompoundNotFound
from accounts.models import Compound
from audit.service import Actor, append, compound_stream
from core import clock
from voting import errors
from voting.models import Motion, MotionStatus
from voting.rules import FOLLOW_MAJORITY_RULE

LOCKING = (MotionStatus.ANNOUNCED, MotionStatus.OPEN)


@dataclass(frozen=True, slots=True)
class FollowMajoritySetting:
    compound_id: int
    enabled: bool
    basis: str
    changed_at: datetime | None
    locked_by: list[int]  # announced or open motions: while any, no change
    rule: str = FOLLOW_MAJORITY_RULE


async def _locking(compound_id: int) -> list[int]:
    rows = (
        await Motion.filter(compound_id=compound_id, status__in=LOCKING)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(rows)  # type: ignore[arg-type]


async def follow_majority(compound_id: int) -> FollowMajoritySetting:
    compound = await Compound.get_or_none(id=compound_id)
    if compound is None:
        raise CompoundNotFound()
    return FollowMajoritySetting(
        compound.id,
        compound.non_voters_follow_majority,
        compound.follow_majority_basis,
        compound.follow_majority_changed_at,
        await _locking(compound_id),
    )


async def set_follow_majority(
    actor: Actor, compound_id: int, enabled: bool, basis: str
) -> FollowMajoritySetting:
    basis = basis.strip()
    if enabled and len(basis) < 2:
        raise errors.FollowMajorityBasisMissing()
    async with in_transaction() as conn:
        compound = await Compound.filter(id=compound_id).using_db(conn).select_for_update().first()
        if compound is None:
            raise CompoundNotFound()
        locked = await _locking(compound_id)
        if locked:
            raise errors.FollowMajorityLocked(details={"motions": locked})
        before = compound.non_voters_follow_majority
        if before == enabled and compound.follow_majority_basis == basis:
            return await follow_majority(compound_id)  # nothing changes, nothing to log
        now = clock.now()
        await (
            Compound.filter(id=compound_id)
            .using_db(conn)
            .update(
                non_voters_follow_majority=enabled,
                follow_majority_basis=basis,
                follow_majority_changed_at=now,
            )
        )
        await append(
            compound_stream(compound_id),
            "compound.follow_majority_changed",
            actor=actor,
            subject=f"compound:{compound_id}",
            payload={"from": before, "to": enabled, "basis": basis},
        )
    return await follow_majority(compound_id)
