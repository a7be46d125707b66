"""County dashboard benchmark: GET /api/v1/supervision/dashboard for the full demo county (216
compounds and stand-alone buildings, a year of complaints), first computed (every answer a new period,
so nothing is cached) and then cached, beside GET /api/v1/me (the cheapest read behind a session:
what authentication costs) and a bare Sanic JSON endpoint on the same database.

    .venv/bin/python -m bench.supervision_bench [--seconds 10] [--connections 16] [--database-url URL]
                                                [--per-compound 40] [--cold 9]

The county is `python -m server seed-demo` (216 compounds and, from supervision.demo, a year of some
5,300 complaints and 8,500 patrols) plus, for every compound, ``--per-compound`` complaints spread over
the year (a third resolved late, most rated), contracts for 60 %, committees for 70 %, and a weekly
patrol of half the compounds: about 14,000 complaints in the period. Cold: ``--cold`` requests each for a different one-year period,
median and worst wall time as the client sees it, beside the bare /hello's measured the same way, and
the CPU time they cost the server process and the database's backends (Linux /proc: what a loaded
machine cannot lend, so steadier than wall time from run to run);
then ``--connections`` cold requests at once (each a period of its own, none computed before), as
the client sees each of them: one server process works them off together.
Cached: load (wrk if installed, else asyncio keep-alive clients) on one period beside the bare /hello;
a cached answer still costs the one watermark query that keeps it correct (supervision.cache_keys).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx

from bench.http_bench import ROOT, free_port, prepare_database

YEAR_START = date(2025, 12, 1)


async def _seed(per_compound: int) -> int:
    from accounts.models import Committee, Compound, FilingStatus, PropertyCompany, ServiceContract, User
    from complaints.demo import seed_complaints_catalog
    from complaints.models import Category, Complaint, Moderation, PlaceKind, Status
    from config.settings import load_settings
    from server import db
    from supervision.models import Patrol

    await db.init_db(load_settings().database_url)
    try:
        await seed_complaints_catalog()
        if await Complaint.filter(text="bench").exists():
            return await Complaint.all().count()
        filer, _ = await User.get_or_create(openid="bench-filer")
        worker, _ = await User.get_or_create(openid="bench-grid-worker")
        company, _ = await PropertyCompany.get_or_create(
            name="县安居物业服务有限公司", defaults={"credit_code": "91510000MA0000002Y"}
        )
        categories = [c.code for c in await Category.all()]
        compounds = await Compound.all().order_by("id")
        contracts, committees, complaints, patrols = [], [], [], []
        for n, compound in enumerate(compounds):
            if n % 10 < 6 and not await ServiceContract.exists(compound_id=compound.id):
                contracts.append(ServiceContract(company=company, compound=compound, starts_on=date(2025, 1, 1),
                                                 ends_on=date(2027, 12, 31), price_fen_per_m2=150))  # fmt: skip
            if n % 10 < 7 and not await Committee.exists(compound_id=compound.id):
                committees.append(Committee(compound=compound, term_starts_on=date(2026, 1 + n % 11, 1),
                                            term_ends_on=date(2031, 1, 1), filing_status=FilingStatus.FILED,
                                            filed_at=datetime(2026, 1 + n % 11, 15, tzinfo=UTC)))  # fmt: skip
            for i in range(per_compound):
                created = datetime.combine(YEAR_START, datetime.min.time(), UTC) + timedelta(
                    hours=(i * 8760 // per_compound + n * 7) % 8700
                )
                resolved = created + timedelta(hours=4 + (i * 13 + n) % 90) if i % 5 else None
                complaints.append(Complaint(
                    compound=compound, place_kind=PlaceKind.COMMON, place_note="公共区域",
                    category_id=categories[(i + n) % len(categories)], text="bench", filer=filer,
                    status=Status.CLOSED if resolved else Status.IN_PROGRESS, moderation=Moderation.PASSED,
                    party="property", version=1, stage_entered_at=created, created_at=created,
                    resolved_at=resolved, closed_at=resolved, overdue=i % 3 == 0,
                    rating=1 + (i + n) % 5 if resolved and i % 4 else None,
                ))  # fmt: skip
            if n % 2 == 0:
                for week in range(52):
                    started = datetime.combine(YEAR_START, datetime.min.time(), UTC) + timedelta(
                        weeks=week, hours=2
                    )
                    patrols.append(Patrol(compound=compound, community_id=compound.community_id, worker=worker,  # type: ignore[attr-defined]
                                          started_at=started, ended_at=started + timedelta(hours=1),
                                          created_at=started))  # fmt: skip
        await ServiceContract.bulk_create(contracts, batch_size=500)
        await Committee.bulk_create(committees, batch_size=500)
        await Complaint.bulk_create(complaints, batch_size=1000)
        await Patrol.bulk_create(patrols, batch_size=1000)
        return await Complaint.all().count()
    finally:
        await db.close_db()


@contextmanager
def process(
    args: list[str], env: dict[str, str], probe: str, wait: float = 300
) -> Iterator[subprocess.Popen[bytes]]:
    """bench.http_bench.process with a longer start-up allowance (a loaded machine starts slowly)."""
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                if httpx.get(probe, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args} did not start")
            time.sleep(0.5)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def load(url: str, seconds: int, connections: int, token: str | None = None) -> tuple[float, float]:
    """(requests per second, p99 ms): wrk when installed, else keep-alive connections from asyncio."""
    if shutil.which("wrk"):
        from bench.notices_bench import wrk

        return wrk(url, seconds, connections, token)
    return asyncio.run(_pyload(url, seconds, connections, token))


async def _pyload(url: str, seconds: int, connections: int, token: str | None) -> tuple[float, float]:
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def conn() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.monotonic() < stop:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:200])
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
        writer.close()

    began = time.monotonic()
    await asyncio.gather(*(conn() for _ in range(connections)))
    elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[max(0, int(len(latencies) * 0.99) - 1)]


def cpu_ms(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far (Linux /proc), in ms."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total * 1000 / os.sysconf("SC_CLK_TCK")


async def _backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the bench database (the servers' pools stay open)."""
    if not url.startswith("postgres"):
        return []
    import asyncpg

    for _ in range(10):  # a shared server may be at its connection limit for a moment
        try:
            conn = await asyncpg.connect(url)
            break
        except asyncpg.TooManyConnectionsError:
            await asyncio.sleep(1)
    else:
        return []
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows if os.path.exists(f"/proc/{r['pid']}/stat")]


async def _cold_together(base: str, headers: dict[str, str], skip: int, connections: int) -> list[float]:
    """Wall time of each of ``connections`` dashboard requests sent at once, each for a one-year
    period no earlier request asked for (so each is computed)."""
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as http:

        async def one(i: int) -> float:
            until = date(2026, 11, 30) - timedelta(days=skip + i)
            params = {"since": str(until - timedelta(days=364)), "until": str(until)}
            started = time.perf_counter()
            (await http.get("/api/v1/supervision/dashboard", params=params)).raise_for_status()
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(one(i) for i in range(1, connections + 1))))


def _serve(port: int) -> None:
    from sanic import Sanic

    from config.settings import load_settings
    from server.app import create_app

    app = create_app(load_settings(), name="wuye_bench")
    app.prepare(host="127.0.0.1", port=port, access_log=False, single_process=True)
    Sanic.serve_single(primary=app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url")
    parser.add_argument("--per-compound", type=int, default=40)
    parser.add_argument("--cold", type=int, default=9)
    args = parser.parse_args()
    url = prepare_database(args.database_url)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": os.environ.get("REDIS_URL", ""), "WECHAT_MODE": "fake",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    me = sys.executable, "-m", "bench.supervision_bench"
    seeded = subprocess.run(
        [*me, "_seed", str(args.per_compound)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if seeded.returncode != 0:
        raise RuntimeError(seeded.stderr)
    total = int(seeded.stdout.strip().splitlines()[-1])
    ours, bare = free_port(), free_port()
    with (
        process([*me, "_serve", str(ours)], env, f"http://127.0.0.1:{ours}/health") as server,
        process([sys.executable, "bench/bare_app.py", "--port", str(bare), "--database-url", url], env,
                f"http://127.0.0.1:{bare}/hello"),
    ):  # fmt: skip
        base = f"http://127.0.0.1:{ours}"
        token = httpx.post(
            f"{base}/api/v1/auth/login", json={"code": "test:demo-supervisor"}, timeout=10
        ).json()["token"]
        headers = {"authorization": f"Bearer {token}"}
        cold = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            http.get("/api/v1/supervision/dashboard", params={"until": "2026-11-30"})  # imports, connections
            backends = asyncio.run(_backends(url))
            spent = cpu_ms([server.pid]), cpu_ms(backends)
            for i in range(1, args.cold + 1):
                until = date(2026, 11, 30) - timedelta(days=i)
                params = {"since": str(until - timedelta(days=364)), "until": str(until)}
                started = time.perf_counter()
                answer = http.get("/api/v1/supervision/dashboard", params=params)
                cold.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            county = answer.json()["county"]
            # CPU time is what a loaded machine cannot lend: steadier than wall time from run to run
            server_cpu = (cpu_ms([server.pid]) - spent[0]) / args.cold
            db_cpu = (cpu_ms(backends) - spent[1]) / args.cold
        together = asyncio.run(_cold_together(base, headers, args.cold, args.connections))
        with httpx.Client(timeout=10) as bare_http:  # the bare endpoint's wall time, measured the same way
            bare_cold = []
            for _ in range(args.cold):
                started = time.perf_counter()
                bare_http.get(f"http://127.0.0.1:{bare}/hello").raise_for_status()
                bare_cold.append((time.perf_counter() - started) * 1000)
        print(f"database: {url.split('@')[-1]}  county: {county['compounds']} compounds, "
              f"{county['complaints']['count']} complaints in the period ({total} stored)")  # fmt: skip
        quartiles = statistics.quantiles(cold, n=4)
        print(f"cold (computed, {args.cold} periods): median {statistics.median(cold):.0f} ms, quartiles "
              f"{quartiles[0]:.0f}-{quartiles[2]:.0f} ms, best {min(cold):.0f} ms, worst {max(cold):.0f} ms "
              f"(goal: under 300 ms); bare /hello median {statistics.median(bare_cold):.1f} ms, "
              f"ratio {statistics.median(cold) / statistics.median(bare_cold):.0f}")  # fmt: skip
        print(f"CPU per cold request: server process {server_cpu:.0f} ms, database backends {db_cpu:.0f} ms"
              + ("" if backends else " (not PostgreSQL, or its processes unreadable)"))  # fmt: skip
        print(f"cold, {args.connections} at once (each its own period): median {statistics.median(together):.0f} ms, "
              f"best {min(together):.0f} ms, worst {max(together):.0f} ms")  # fmt: skip
        print(f"load average while measuring: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
        path = "/api/v1/supervision/dashboard?since=2025-12-01&until=2026-11-30"
        bare_hello = f"http://127.0.0.1:{bare}/hello"
        for url, auth in ((base + path, token), (base + "/api/v1/me", token), (bare_hello, None)):
            load(url, 2, args.connections, auth)  # warm up
        cached = max(load(base + path, args.seconds, args.connections, token) for _ in range(2))
        me_read = max(load(base + "/api/v1/me", args.seconds, args.connections, token) for _ in range(2))
        hello = max(load(bare_hello, args.seconds, args.connections) for _ in range(2))
        print(f"{'':28} {'req/s':>8} {'p99 ms':>7}")
        print(f"{'dashboard (cached)':28} {cached[0]:8.0f} {cached[1]:7.1f}")
        print(f"{'GET /api/v1/me (a session)':28} {me_read[0]:8.0f} {me_read[1]:7.1f}")
        print(f"{'bare /hello':28} {hello[0]:8.0f} {hello[1]:7.1f}")
        print(
            f"ratio cached dashboard / bare: {cached[0] / hello[0]:.2f}; / GET me: {cached[0] / me_read[0]:.2f}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_seed":
        print(asyncio.run(_seed(int(sys.argv[2]))))
    elif len(sys.argv) > 2 and sys.argv[1] == "_serve":
        _serve(int(sys.argv[2]))
    else:
        main()
