"""Pure chain arithmetic: the hash of an event and the verifier. No database here, so the same code
checks the live tables and an exported file offline."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.clock import iso_utc
from core.jsonutil import canonical

GENESIS = "0" * 64
HASHED_FIELDS = (
    "stream",
    "seq",
    "at",
    "actor",
    "actor_name",
    "action",
    "subject",
    "payload",
    "request_id",
    "prev_hash",
)


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the hashed fields (sorted keys, UTF-8, no floats)."""
    body = {name: event[name] for name in HASHED_FIELDS}
    if isinstance(body["at"], datetime):
        body["at"] = iso_utc(body["at"])
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    stream: str
    seq: int | None
    index: int
    reason: str


@dataclass(frozen=True, slots=True)
class Report:
    ok: bool
    streams: int
    events: int
    problems: tuple[Problem, ...]

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None


def verify_stream(
    stream: str, events: Iterable[Mapping[str, Any]], *, head: Mapping[str, Any] | None = None
) -> list[Problem]:
    """Check one stream's events in stored order. Stops at the first break: everything after a
    broken link is unverifiable, and naming the first bad event is what an auditor needs."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for index, event in enumerate(events):
        count += 1
        seq = event.get("seq")
        if event.get("stream") != stream:
            return [Problem(stream, seq, index, "event belongs to another stream")]
        if seq != expected_seq:
            what = "missing (deleted?)" if isinstance(seq, int) and seq > expected_seq else "out of order"
            return [Problem(stream, seq, index, f"expected seq {expected_seq}, found {seq}: event {what}")]
        if event.get("prev_hash") != prev:
            return [Problem(stream, seq, index, "prev_hash does not match the previous event's hash")]
        try:
            computed = event_hash(event)
        except (KeyError, TypeError, ValueError) as exc:
            return [Problem(stream, seq, index, f"malformed event: {exc}")]
        if computed != event.get("hash"):
            return [Problem(stream, seq, index, "content does not match its hash (edited)")]
        prev = computed
        expected_seq += 1
    if head is not None and (head.get("seq") != count or head.get("hash") != prev):
        reason = f"chain ends at seq {count}, head says {head.get('seq')}: tail missing or head forged"
        return [Problem(stream, head.get("seq"), count, reason)]
    return []


def verify(
    streams: Mapping[str, Iterable[Mapping[str, Any]]], heads: Mapping[str, Mapping[str, Any]] | None = None
) -> Report:
    problems: list[Problem] = []
    total = 0
    for stream, events in streams.items():
        listed = list(events)
        total += len(listed)
        problems.extend(verify_stream(stream, listed, head=(heads or {}).get(stream)))
    for stream in set(heads or {}) - set(streams):
        problems.append(Problem(stream, None, 0, "the head names a stream that has no events"))
    return Report(ok=not problems, streams=len(streams), events=total, problems=tuple(problems))
