"""Offline verification of a motion export (no database): the chain itself is checked by
audit.chain; here each ballot's hash is recomputed from its content (unless the motion is secret) and
each sealed batch's Merkle root is recomputed from its ballots' hashes."""

from __future__ import annotations

from typing import Any

from voting.ballots import ballot_hash
from voting.sealing import verify_batches


def verify_motion_export(document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    ballots = document.get("ballots", [])
    for b in ballots:
        if "choices" in b:
            recomputed = ballot_hash(
                b["motion"], b["voter"], b["channel"], b["choices"], b["cast_at"], b["nonce"]
            )
            if recomputed != b["ballot_hash"]:
                problems.append(f"ballot {b['id']}: content does not match its hash (edited)")
    sealed = [
        e
        for events in document.get("streams", {}).values()
        for e in events
        if e["action"] == "ballots.sealed"
    ]
    problems += verify_batches(ballots, sealed)
    in_batches = sum(e["payload"]["count"] for e in sealed)
    if in_batches != sum(1 for b in ballots if b.get("batch") is not None):
        problems.append("the sealed batches and the exported ballots differ in number")
    return problems
