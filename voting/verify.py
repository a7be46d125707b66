"""Offline verification of a motion export (no database): the chain itself is checked by
audit.chain; here each ballot's hash is recomputed from its content where the export holds it (an open
motion after the count), and each sealed batch's Merkle root is recomputed from its ballots' hashes.

After the count the totals are checked too, as far as the export allows without revealing a secret
choice (voting.disclosure): for every motion, the totals are the ones the count sealed into the chain
and the number of counted ballots is the participation they claim; for an open motion, the totals are
recomputed from the counted ballots and the roll's areas."""

from __future__ import annotations

from decimal import Decimal
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
    events = [e for stream in document.get("streams", {}).values() for e in stream]
    sealed = [e for e in events if e["action"] == "ballots.sealed"]
    problems += verify_batches(ballots, sealed)
    in_batches = sum(e["payload"]["count"] for e in sealed)
    if in_batches != sum(1 for b in ballots if b.get("batch") is not None):
        problems.append("the sealed batches and the exported ballots differ in number")
    result = (document.get("motion") or {}).get("result")
    if result is not None:
        problems += _verify_totals(document, result, events)
    return problems


def _weight(weight: dict[str, Any]) -> tuple[int, Decimal]:
    return int(weight["headcount"]), Decimal(weight["area"])


def _verify_totals(
    document: dict[str, Any], result: dict[str, Any], events: list[dict[str, Any]]
) -> list[str]:
    problems: list[str] = []
    counted_events = [e for e in events if e["action"] == "motion.counted"]
    if len(counted_events) != 1:
        return ["the chain does not hold exactly one count"]
    sealed = counted_events[0]["payload"]
    if sealed.get("participating") != result.get("participating"):
        problems.append("the exported participation differs from the one sealed in the chain")
    decided = [
        {"item_id": i["item_id"], "passed": i.get("passed"), "elected": i.get("elected")}
        for i in result["items"]
    ]
    if sealed.get("items") != decided:
        problems.append("the exported decisions differ from the ones sealed in the chain")
    counted = [b for b in document.get("ballots", []) if b.get("counted")]
    if len(counted) != result["participating"]["headcount"]:
        problems.append("the number of counted ballots differs from the participation in the totals")
    if counted and all("choices" in b for b in counted):
        problems += _recount(counted, document.get("roll", []), result)
    return problems


def _recount(counted: list[dict[str, Any]], roll: list[dict[str, Any]], result: dict[str, Any]) -> list[str]:
    """An open motion: the totals again from the counted ballots and the roll's areas."""
    areas = {v["voter_id"]: Decimal(v["area"]) for v in roll}
    if any(b["voter"] not in areas for b in counted):
        return ["a counted ballot's voter is not on the exported roll"]
    heads, area = len(counted), sum((areas[b["voter"]] for b in counted), Decimal("0"))
    problems = []
    if _weight(result["participating"]) != (heads, area):
        problems.append("the participation does not match the counted ballots")
    for item in result["items"]:
        key = str(item["item_id"])
        sums: dict[Any, tuple[int, Decimal]] = {}
        for b in counted:
            value = b["choices"].get(key)
            for side in value if isinstance(value, list) else [value]:
                heads_so_far, area_so_far = sums.get(side, (0, Decimal(0)))
                sums[side] = (heads_so_far + 1, area_so_far + areas[b["voter"]])
        if "candidates" in item:
            claimed = {c["candidate_id"]: _weight(c["votes"]) for c in item["candidates"]}
        elif item.get("followed") is None:  # non-voters deemed to follow the majority are on no ballot
            claimed = {side: _weight(item[side]) for side in ("agree", "oppose", "abstain")}
        else:
            continue
        if claimed != {k: sums.get(k, (0, Decimal(0))) for k in claimed}:
            problems.append(f"item {item['item_id']}: the totals do not match the counted ballots")
    return problems
