"""Bench: importing a compound's roster (accounts.roster) of --units units in 50 buildings.

Run: .venv/bin/python bench/roster_bench.py [--units 5000] [--database-url URL]

Without --database-url the database is a fresh SQLite file in a temporary directory. With a PostgreSQL
URL the schema is migrated there (server.db.migrate) and a new community and compound are added beside
whatever the database holds: use a scratch database. Each pass uses a fresh HMAC key, so its owners are
new even when an earlier run left the same ID numbers behind.

The roster: one row per unit and owner; every 10th unit co-owned by two people (the first designated
to vote), one owner holding 20 units, the last 2 % of the units the developer's (undelivered), 1 % of
the units without an owner yet, phones on half of the owners, a certificate number on every owner row.
Co-owned units take two rows, so a file stays within the 20,000-row limit up to about 18,000 units.

Two passes on two fresh compounds:
  timing  parse+validate (parse_roster), full import, identical re-import, export; wall clock
  memory  the same steps under tracemalloc (slower, so not timed): the peak of Python allocations in
          each step, and the number of SQL statements each step sent (one logged per statement or batch)
Process peak RSS (ru_maxrss) is printed after the timing pass, before tracemalloc adds its own overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accounts.identity import make_id_number  # noqa: E402
from accounts.models import Building, Community, Compound  # noqa: E402
from accounts.roster import export_roster_csv, import_roster, parse_roster  # noqa: E402
from audit.service import Actor  # noqa: E402
from server import db  # noqa: E402

BUILDINGS = 50
ACTOR = Actor("system:bench", "基准测试")
DEVELOPER = ("县城投置业有限公司", "91510000MA0000001X")
COLUMNS = "building,unit,kind,area,area_source,delivered,owner_kind,owner_name,phone,id_number,certificate,"
COLUMNS += "votes_for_unit,developer"


def id_number(index: int) -> str:
    birth = date(1950, 1, 1) + timedelta(days=index % 18_000)
    return make_id_number(f"511000{birth:%Y%m%d}{index // 18_000:03d}")


def roster_csv(units: int) -> bytes:
    lines = [COLUMNS]
    person = 0
    per_building = -(-units // BUILDINGS)
    for n in range(units):
        building, position = divmod(n, per_building)
        floor, room = divmod(position, 4)
        area = (Decimal("89.37"), Decimal("126.53"), Decimal("72.19"))[n % 3] + Decimal(floor % 3) * Decimal(
            "0.11"
        )
        unit = f"{building + 1}号楼,{floor + 1}{room + 1:02d},flat,{area},register"
        if n >= units - units // 50:  # the developer's unsold units
            name, code = DEVELOPER
            lines.append(f"{unit},no,organisation,{name},,{code},,yes,yes")
            continue
        if n % 100 == 99:  # nobody owns it yet
            lines.append(f"{unit},yes,,,,,,,")
            continue
        if n % 250 == 0:  # owner 0 holds every 250th unit: 20 of 5,000
            holders = [0]
        else:
            holders = [person + 1] + ([person + 2] if n % 10 == 5 else [])
            person += len(holders)
        for seat, index in enumerate(holders):
            phone = f"139{index:08d}" if index % 2 == 0 else ""
            certificate = f"川(2021)某县不动产权第{n:07d}号"
            votes = "yes" if seat == 0 else "no"
            lines.append(f"{unit},yes,person,业主{index},{phone},{id_number(index)},{certificate},{votes},no")
    return ("\n".join(lines) + "\n").encode()


async def make_compound(label: str) -> Compound:
    community, _ = await Community.get_or_create(name="基准测试社区")
    compound = await Compound.create(community=community, name=f"基准小区{label}")
    await Building.bulk_create(
        [Building(compound=compound, name=f"{b}号楼") for b in range(1, BUILDINGS + 1)]
    )
    return compound


class QueryCounter(logging.Handler):
    """Counts the statements Tortoise logs at DEBUG (one per query, or per executemany batch)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def run_pass(units: int, data: bytes, *, measure_memory: bool) -> dict[str, Any]:
    compound = await make_compound(f"{int(time.time())}-{secrets.token_hex(3)}")
    key = secrets.token_bytes(32)
    counter = QueryCounter()
    sql_log = logging.getLogger("tortoise.db_client")
    results: dict[str, Any] = {}

    async def step(name: str, work: Callable[[], Awaitable[Any]]) -> Any:
        if measure_memory:
            tracemalloc.reset_peak()
            counter.count = 0
            sql_log.addHandler(counter)
            sql_log.setLevel(logging.DEBUG)
        started = time.perf_counter()
        value = await work()
        elapsed = time.perf_counter() - started
        if measure_memory:
            sql_log.removeHandler(counter)
            results[name] = (tracemalloc.get_traced_memory()[1], counter.count)
        else:
            results[name] = elapsed
        return value

    async def parse() -> Any:
        return parse_roster(data, "csv")

    rows = await step("parse+validate", parse)
    first = await step("import", lambda: import_roster(compound.id, data, "csv", hmac_key=key, actor=ACTOR))
    again = await step(
        "re-import", lambda: import_roster(compound.id, data, "csv", hmac_key=key, actor=ACTOR)
    )
    await step("export", lambda: export_roster_csv(compound.id))
    assert first.units_created == units and not again.changed, (first, again)
    results["rows"], results["report"] = len(rows), first
    return results


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite://{tmp}/roster_bench.sqlite3"
        await db.migrate(url)
        await db.init_db(url)
        try:
            data = roster_csv(args.units)
            timing = await run_pass(args.units, data, measure_memory=False)
            rss = peak_rss_mib()
            tracemalloc.start()
            memory = await run_pass(args.units, data, measure_memory=True)
            tracemalloc.stop()
        finally:
            await db.close_db()
    backend = url.split("://", 1)[0]
    report = timing["report"]
    print(
        f"roster bench on {backend}: {args.units} units, {timing['rows']} rows, {len(data) / 1024:.0f} KiB CSV"
    )
    print(
        f"  import created {report.units_created} units, {report.owners_created} owners, "
        f"{report.ownerships_created} ownerships"
    )
    print(f"  {'step':<16}{'time':>10}{'py peak':>12}{'queries':>9}")
    for name in ("parse+validate", "import", "re-import", "export"):
        peak, queries = memory[name]
        print(f"  {name:<16}{timing[name] * 1000:>8.0f}ms{peak / 2**20:>9.1f}MiB{queries:>9}")
    print(f"  process peak RSS after the timing pass: {rss:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
