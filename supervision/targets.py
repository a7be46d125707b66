"""The plan's targets (task 9) as data: supervision/targets.csv, read once.

``committees`` rows: owners' committees formed in a community by a deadline. The ``*`` rows are
county-wide shares every community is held to in the end: committees in every compound (1.00),
professional property service in at least half (0.50), grid patrols everywhere (1.00). A new plan
year is a new file, not new code."""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

TARGETS_FILE = Path(__file__).with_name("targets.csv")


@dataclass(frozen=True, slots=True)
class CommitteeTarget:
    community: str
    deadline: date
    committees: int


@dataclass(frozen=True, slots=True)
class Targets:
    committees: tuple[CommitteeTarget, ...]
    committee_share: Decimal
    professional_service_share: Decimal
    patrol_share: Decimal

    def for_community(self, name: str) -> list[CommitteeTarget]:
        return sorted((t for t in self.committees if t.community == name), key=lambda t: t.deadline)


def parse(text: str) -> Targets:
    committees: list[CommitteeTarget] = []
    shares: dict[str, Decimal] = {}
    for row in csv.DictReader(text.splitlines()):
        if row["kind"] == "committees":
            committees.append(
                CommitteeTarget(row["community"], date.fromisoformat(row["deadline"]), int(row["value"]))
            )
        else:
            shares[row["kind"]] = Decimal(row["value"])
    return Targets(
        committees=tuple(committees),
        committee_share=shares["committee_share"],
        professional_service_share=shares["professional_service_share"],
        patrol_share=shares["patrol_share"],
    )


@functools.cache
def load() -> Targets:
    return parse(TARGETS_FILE.read_text(encoding="utf-8"))
