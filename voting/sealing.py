"""Sealing ballots into the motion's chain: one audit event per batch carries the Merkle root of the
batch's ballot hashes, so each ballot is in the chain without every cast queueing on the chain head.

Any number of sealers may run at once (the clock of every worker, receipt checks, exports): a batch
is chosen and numbered inside one transaction that first takes the motion's sealing lock (a
transaction-scoped advisory lock on PostgreSQL; on SQLite the process's one connection runs one
transaction at a time and the database one writer at a time). Should two sealers still meet (SQLite
from two processes), the unique (motion, seq) and the claim UPDATE … WHERE batch_id IS NULL, which
must claim every ballot of the batch, roll the loser back, and it tries again from the top."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit.service import SYSTEM, append
from voting import errors, merkle
from voting.lifecycle import motion_stream
from voting.models import Ballot, SealBatch

BATCH_LIMIT = 5000
ATTEMPTS = 8
SEAL_LOCK_CLASS = 0x5EA1  # pg_advisory_xact_lock(SEAL_LOCK_CLASS, motion_id): "sealing motion N"


class _Raced(Exception):
    """Another sealer claimed some of the same ballots or took the same seq first."""


async def seal(motion_id: int, *, limit: int = BATCH_LIMIT) -> SealBatch | None:
    """Seal up to ``limit`` of the motion's unsealed ballots as its next batch; None when none are left."""
    for attempt in range(ATTEMPTS):
        try:
            async with in_transaction():
                return await _seal_locked(motion_id, limit)
        except (_Raced, IntegrityError):
            await asyncio.sleep(0.005 * (attempt + 1))
    raise errors.SealingBusy(details={"motion": motion_id})


async def _seal_locked(motion_id: int, limit: int) -> SealBatch | None:
    conn = connections.get("default")  # inside the transaction: its connection
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query("SELECT pg_advisory_xact_lock($1, $2)", [SEAL_LOCK_CLASS, motion_id])
    pending = (
        await Ballot.filter(motion_id=motion_id, batch_id=None)
        .order_by("id")
        .limit(limit)
        .values_list("id", "ballot_hash")
    )
    if not pending:
        return None
    ids = [i for i, _ in pending]
    root = merkle.root([h for _, h in pending])
    last = await SealBatch.filter(motion_id=motion_id).order_by("-seq").first()
    seq = (last.seq if last else 0) + 1
    event = await append(
        motion_stream(motion_id),
        "ballots.sealed",
        actor=SYSTEM,
        subject=f"batch:{seq}",
        payload={
            "batch": seq,
            "root": root,
            "count": len(ids),
            "first_ballot_id": ids[0],
            "last_ballot_id": ids[-1],
        },
    )
    batch = await SealBatch.create(
        motion_id=motion_id, seq=seq, root=root, count=len(ids), event_hash=event["hash"]
    )
    claimed = await Ballot.filter(id__in=ids, batch_id=None).update(batch_id=batch.id)
    if claimed != len(ids):
        raise _Raced()
    return batch


async def seal_through(motion_id: int, ballot_id: int) -> None:
    """Seal until the given ballot is in a batch (a receipt asked for before the clock's next batch):
    waits for a sealer already at work, then seals what is left, so the answer is never an error."""
    while await Ballot.filter(id=ballot_id, batch_id=None).exists():
        if await seal(motion_id) is None:
            return  # nothing pending is left, so another sealer has just sealed it


async def seal_all(motion_id: int) -> int:
    batches = 0
    while await seal(motion_id) is not None:
        batches += 1
    return batches


@dataclass(frozen=True, slots=True)
class Inclusion:
    ballot_hash: str
    sealed: bool
    batch_seq: int | None
    root: str | None
    event_hash: str | None
    proof: list[tuple[str, str]]
    counted: bool


async def inclusion(ballot: Ballot, counted: bool) -> Inclusion:
    if ballot.batch_id is None:  # type: ignore[attr-defined]
        return Inclusion(ballot.ballot_hash, False, None, None, None, [], counted)
    batch = await SealBatch.get(id=ballot.batch_id)  # type: ignore[attr-defined]
    leaves = await Ballot.filter(batch_id=batch.id).order_by("id").values_list("id", "ballot_hash")
    index = [i for i, _ in leaves].index(ballot.id)
    path = merkle.proof([h for _, h in leaves], index)
    return Inclusion(ballot.ballot_hash, True, batch.seq, batch.root, batch.event_hash, path, counted)


def verify_batches(ballots: list[dict[str, Any]], sealed_events: list[dict[str, Any]]) -> list[str]:
    """Offline check of an export: every sealed event's root equals the root of its ballots' hashes."""
    problems = []
    by_batch: dict[int, list[dict[str, Any]]] = {}
    for b in ballots:
        if b.get("batch") is not None:
            by_batch.setdefault(b["batch"], []).append(b)
    for event in sealed_events:
        seq = event["payload"]["batch"]
        members = sorted(by_batch.get(seq, []), key=lambda b: b["id"])
        if not members or merkle.root([b["ballot_hash"] for b in members]) != event["payload"]["root"]:
            problems.append(f"batch {seq}: ballots do not match the sealed root")
    return problems


async def seal_open_motions() -> int:
    from voting.models import Motion, MotionStatus

    sealed = 0
    for motion_id in await Motion.filter(status=MotionStatus.OPEN).values_list("id", flat=True):
        sealed += await seal_all(int(motion_id))  # type: ignore[call-overload]
    return sealed
