"""Bench for the maintenance fund: the annual disclosure of a 5,000-unit compound with three years of
ledger entries (goal: under 2 s), beside its yardstick in the same run.

    .venv/bin/python -m bench.fund_bench [--units 5000] [--rounds 3] [--database-url postgres://...]

On one database (SQLite in a temporary file by default). The compound has 50 buildings; three years
are written through the real ledger (fund.ledger.append: hashed and chained, in batches): the
developer's first deposits, a year's interest credited to every sub-account each year, 20 uses a year
shared by the units of one building (with their applications, paid), a few corrections. Figures:

- yardstick: one Tortoise read of the compound's 5,000 sub-account rows (what any per-unit report
  must at least read), and one read of every entry of the compound (what a naive disclosure would do);
- (1) the year's document: fund.disclosure.annual_document (two aggregate queries, the projects);
- (2) the whole disclosure posted: fund.disclosure.post_annual (document, markdown, notice) — once,
  since a year is posted once;
- the ledger's chain verified over all entries (fund.ledger.verify), for scale.
Each of the repeatable ones runs ``rounds`` times alternately with the yardsticks (A B C A B C ...),
medians reported. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from audit.service import SYSTEM
from core import clock
from core.cache import MemoryCache
from server import db

YEARS = 3
USES_PER_YEAR = 20


def _moment(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=clock.SHANGHAI).astimezone(UTC)


async def _world(units: int, last_year: int) -> int:
    from accounts.models import Building, Community, Compound, Unit
    from fund import ledger, subaccounts
    from fund.models import SubAccount, UseApplication
    from fund.rules import (
        ApplicationKind,
        ApplicationStatus,
        BuildingType,
        EmergencyCategory,
        EntryKind,
        allocate_interest,
        split_cost,
    )

    community = await Community.create(name="东街社区")
    compound = await Compound.create(community=community, name="大型小区")
    per_building = units // 50
    buildings = [await Building.create(compound=compound, name=f"{b + 1}号楼") for b in range(50)]
    await Unit.bulk_create(
        [
            Unit(
                compound=compound,
                building=building,
                number=f"{i + 1:04d}",
                area=Decimal(60) + Decimal(i % 97) + Decimal(i % 7) / 4,
            )
            for building in buildings
            for i in range(per_building)
        ],
        batch_size=1000,
    )
    await subaccounts.set_rate(
        SYSTEM, building_type=BuildingType.LIFT, fen_per_m2=Decimal(7000), effective_from=clock.now().date().replace(year=2000), user_id=0
    )  # fmt: skip
    await subaccounts.open_accounts(
        SYSTEM,
        compound_id=compound.id,
        buildings={b.id: BuildingType.LIFT for b in buildings},
        on=clock.now().date().replace(year=2001),
    )
    accounts = await SubAccount.filter(compound_id=compound.id).order_by("id")
    balance = {a.id: 0 for a in accounts}
    first = last_year - YEARS + 1
    await ledger.append(
        compound.id,
        [
            ledger.NewEntry(
                f"first:{a.id}", EntryKind.DEVELOPER_DEPOSIT, a.id, a.first_deposit_fen, ref=f"voucher:{a.id}"
            )
            for a in accounts
        ],
        actor="bench",
        at=_moment(first, 1, 15),
    )
    for a in accounts:
        balance[a.id] += a.first_deposit_fen
    by_building: dict[int, list[SubAccount]] = {}
    for a in accounts:
        by_building.setdefault(a.building_id, []).append(a)
    for year in range(first, last_year + 1):
        for k in range(USES_PER_YEAR):
            sharing = by_building[buildings[(k + year) % 50].id]
            cost = 1_500_000 + 10_007 * k
            shares = split_cost(cost, [(a.unit_id, Decimal(a.area)) for a in sharing])
            app = await UseApplication.create(
                compound_id=compound.id, kind=ApplicationKind.EMERGENCY, emergency=EmergencyCategory.LIFT_FAULT,
                title=f"{year}年第{k + 1}项维修", works="电梯", budget_fen=cost, cost_fen=cost,
                scope={"buildings": [sharing[0].building_id], "units": []},
                shares=[{"unit_id": s.unit_id, "room": a.room, "area": str(a.area), "share_fen": s.share_fen}
                        for s, a in zip(shares, sharing, strict=True)],
                status=ApplicationStatus.PAID, applicant_id=0, applicant_role="committee",
                paid_at=_moment(year, 3 + k % 9, 1 + k),
            )  # fmt: skip
            await ledger.append(
                compound.id,
                [
                    ledger.NewEntry(
                        f"use:{app.id}:{a.id}", EntryKind.USE, a.id, -s.share_fen, ref=f"application:{app.id}"
                    )
                    for s, a in zip(shares, sharing, strict=True)
                ],
                actor="bench",
                at=_moment(year, 3 + k % 9, 1 + k),
            )
            for s, a in zip(shares, sharing, strict=True):
                balance[a.id] -= s.share_fen
        credited = allocate_interest(40_000_000, list(balance.items()))
        await ledger.append(
            compound.id,
            [
                ledger.NewEntry(
                    f"interest:{year}:{aid}", EntryKind.INTEREST, aid, fen, ref=f"interest:{year}"
                )
                for aid, fen in credited
                if fen
            ],
            actor="bench",
            at=_moment(year, 12, 21),
        )
        for aid, fen in credited:
            balance[aid] += fen
        await ledger.append(
            compound.id,
            [
                ledger.NewEntry(f"correction:{year}:{a.id}", EntryKind.CORRECTION, a.id, 100, note="更正")
                for a in accounts[:5]
            ],
            actor="bench",
            at=_moment(year, 12, 28),
        )
    return compound.id


async def _timed(fn: Any) -> float:
    started = time.perf_counter()
    await fn()
    return time.perf_counter() - started


async def main(units: int, url: str, rounds: int) -> None:
    from fund import disclosure, ledger
    from fund.models import FundEntry, SubAccount
    from notices import cache as notices_cache

    await db.migrate(url)
    await db.init_db(url)
    notices_cache.use_cache(MemoryCache())
    try:
        last_year = clock.to_local(clock.now()).year - 1
        started = time.perf_counter()
        compound_id = await _world(units, last_year)
        entries = await FundEntry.filter(compound_id=compound_id).count()
        print(
            f"set-up: {units} units, {entries} entries over {YEARS} years in {time.perf_counter() - started:.1f} s"
        )

        async def read_accounts() -> None:
            await SubAccount.filter(compound_id=compound_id).values("id", "room", "area", "first_deposit_fen")

        async def read_entries() -> None:
            await FundEntry.filter(compound_id=compound_id).values("account_id", "kind", "amount_fen", "at")

        async def document() -> None:
            await disclosure.annual_document(compound_id, last_year)

        samples: dict[str, list[float]] = {"accounts": [], "entries": [], "document": []}
        for _ in range(rounds):
            samples["accounts"].append(await _timed(read_accounts))
            samples["entries"].append(await _timed(read_entries))
            samples["document"].append(await _timed(document))
        posted = await _timed(lambda: disclosure.post_annual(SYSTEM, compound_id=compound_id, year=last_year))
        verified = await _timed(lambda: ledger.verify(compound_id))
        med = {k: statistics.median(v) for k, v in samples.items()}
        print(f"yardstick: read {units} sub-accounts        {med['accounts'] * 1000:8.1f} ms")
        print(f"yardstick: read all {entries} entries     {med['entries'] * 1000:8.1f} ms")
        print(
            f"(1) annual document {last_year}            {med['document'] * 1000:8.1f} ms  "
            f"= {med['document'] / med['accounts']:.1f}x the sub-account read, "
            f"{med['document'] / med['entries']:.2f}x reading every entry"
        )
        print(f"(2) disclosure posted to the board        {posted * 1000:8.1f} ms  (goal < 2000 ms)")
        print(f"chain verified over {entries} entries      {verified * 1000:8.1f} ms")
    finally:
        await db.close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(args.units, args.database_url or f"sqlite://{tmp}/bench.sqlite3", args.rounds))
