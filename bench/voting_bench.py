"""Voting benchmark (by hand, not a test), on PostgreSQL and Redis:

    .venv/bin/python -m bench.voting_bench [--database-url URL] [--redis-url URL] [--seconds 10]

1. Casting throughput: POST /api/v1/motions/<id>/ballots by 2,000 verified owners (tokens rotated by
   a wrk Lua script, 64 connections, one worker) beside a bare Sanic endpoint that parses JSON and
   inserts one row on the same database, measured alternately in one run. Goal: at least half.
The database (default wuye_bench) is dropped and created anew at the start of each run.
2. Tally of a 10,000-unit compound with 10,000 counted ballots: median time of voting.counting.tally
   (two GROUP BY queries). Goal: under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from bench.http_bench import free_port, process, wrk

LUA = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i + 1
  local token = tokens[(i %% #tokens) + 1]
  return wrk.format("POST", "%s", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, '%s')
end
"""


async def _compound(name: str, n: int):  # type: ignore[no-untyped-def]
    from accounts.models import Building, Community, Compound, Owner, Ownership, Unit, User

    community, _ = await Community.get_or_create(name="压测社区")
    compound = await Compound.create(community=community, name=name)
    buildings = [await Building.create(compound=compound, name=f"{b}号楼") for b in range(1, 21)]
    await Unit.bulk_create(
        [
            Unit(
                compound=compound,
                building=buildings[i % 20],
                number=f"{i:05d}",
                area=Decimal("88.88") + Decimal(i % 9),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    await User.bulk_create([User(openid=f"{name}-{i}") for i in range(n)], batch_size=2000)
    users = await User.filter(openid__startswith=f"{name}-").order_by("id")
    await Owner.bulk_create(
        [Owner(name=f"业主{i}", user_id=u.id) for i, u in enumerate(users)], batch_size=2000
    )
    owners = await Owner.filter(user_id__in=[u.id for u in users]).order_by("id")
    units = await Unit.filter(compound=compound).order_by("id")
    await Ownership.bulk_create(
        [Ownership(unit=u, owner=o) for u, o in zip(units, owners, strict=True)], batch_size=2000
    )
    return compound, users


async def _open_motion(compound_id: int, user_id: int):  # type: ignore[no-untyped-def]
    from audit.service import SYSTEM
    from core import clock
    from voting import lifecycle
    from voting.rules import Matter

    now = clock.now()
    draft = lifecycle.MotionDraft(
        title="压测表决", text="压测", items=[lifecycle.ItemDraft("聘用物业", Matter.HIRE_PROPERTY_COMPANY)],
        opens_at=now + timedelta(seconds=1), closes_at=now + timedelta(days=1), announce_days=0,
    )  # fmt: skip
    # A bench opens its vote at once: below the legal announcement period, as only test setups may.
    motion = await lifecycle.create(SYSTEM, compound_id, user_id, draft, min_announce_days=0)
    await lifecycle.announce(SYSTEM, motion, min_announce_days=0)
    await asyncio.sleep(1.1)
    return await lifecycle.open_voting(SYSTEM, motion)


async def fresh_database(database_url: str) -> None:
    """The bench database is dropped and made anew each run: motions left open by earlier runs would
    otherwise keep the server's clock task busy sealing and ticking them, and the run would drift."""
    from urllib.parse import urlsplit

    import asyncpg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.startswith("wuye_bench"):
        raise SystemExit(f"refusing to recreate {name!r}: the bench database's name starts with wuye_bench")
    admin = await asyncpg.connect(parts._replace(path="/postgres", query="").geturl())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def setup(database_url: str, redis_url: str, voters: int) -> tuple[int, int, Path]:
    from accounts.sessions import open_session
    from core.cache import RedisCache
    from server import db
    from voting.models import MotionItem

    await fresh_database(database_url)
    await db.migrate(database_url)
    await db.init_db(database_url)
    stamp = str(int(time.time()))
    compound, users = await _compound(f"cast{stamp}", voters)
    motion = await _open_motion(compound.id, users[0].id)
    item = await MotionItem.get(motion_id=motion.id)
    cache = RedisCache(redis_url)
    tokens = [(await open_session(cache, u.id, 3600)).token for u in users]
    await cache.close()
    token_file = Path(tempfile.mkdtemp()) / "tokens.txt"
    token_file.write_text("\n".join(tokens))
    from tortoise import connections

    # Planner statistics for the loaded registry, as a live database has. Not for the (empty) ballot
    # tables: statistics saying "empty" would make the foreign-key checks' cached plans scan them.
    await connections.get("default").execute_script(
        "ANALYZE app_user, owner, unit, ownership, voting_motion, voting_item, voting_voter"
    )
    await db.close_db()
    return motion.id, item.id, token_file


async def tally_time(database_url: str, units: int) -> tuple[float, int]:
    import hashlib

    from core import clock
    from server import db
    from voting.counting import tally
    from voting.models import Ballot, BallotChoice, Channel, CurrentBallot, Motion, MotionItem, Voter

    await db.init_db(database_url)
    compound, users = await _compound(f"tally{int(time.time())}", units)
    motion = await _open_motion(compound.id, users[0].id)
    item = await MotionItem.get(motion_id=motion.id)
    voters = await Voter.filter(motion_id=motion.id).order_by("id")
    now = clock.now()
    await Ballot.bulk_create(
        [
            Ballot(
                motion_id=motion.id,
                voter_id=v.id,
                channel=Channel.ELECTRONIC,
                cast_by_id=users[0].id,
                cast_at=now,
                choices={str(item.id): "agree"},
                nonce="0",
                ballot_hash=hashlib.sha256(f"{motion.id}:{v.id}".encode()).hexdigest(),
                receipt_code=hashlib.sha256(f"{motion.id}:{v.id}".encode()).hexdigest()[:12].upper(),
            )
            for v in voters
        ],
        batch_size=2000,
    )
    ballots = await Ballot.filter(motion_id=motion.id).order_by("voter_id")
    choices = ["agree", "agree", "oppose", "abstain"]
    await BallotChoice.bulk_create(
        [BallotChoice(ballot_id=b.id, item_id=item.id, choice=choices[i % 4]) for i, b in enumerate(ballots)],
        batch_size=2000,
    )
    await CurrentBallot.bulk_create(
        [
            CurrentBallot(
                motion_id=motion.id, voter_id=b.voter_id, ballot_id=b.id, channel=Channel.ELECTRONIC
            )
            for b in ballots
        ],
        batch_size=2000,
    )  # type: ignore[attr-defined]
    motion = await Motion.get(id=motion.id)
    times = []
    for _ in range(7):
        start = time.perf_counter()
        result = await tally(motion)
        times.append((time.perf_counter() - start) * 1000)
    await db.close_db()
    assert result["participating"]["headcount"] == units
    return statistics.median(times), len(ballots)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/wuye_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--tally-units", type=int, default=10000)
    args = parser.parse_args()
    motion_id, item_id, token_file = asyncio.run(setup(args.database_url, args.redis_url, args.voters))
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url}
    ours_port, bare_port = free_port(), free_port()
    path = f"/api/v1/motions/{motion_id}/ballots"
    body = '{"choices": {"' + str(item_id) + '": "agree"}}'
    script = Path(tempfile.mkdtemp()) / "cast.lua"
    script.write_text(LUA % (token_file, path, body))
    bare_script = Path(tempfile.mkdtemp()) / "insert.lua"
    bare_script.write_text(LUA % (token_file, "/insert", body))
    with (
        process(
            [sys.executable, "-m", "server", "serve", "--port", str(ours_port)],
            env,
            f"http://127.0.0.1:{ours_port}/health",
        ),
        process(
            [
                sys.executable,
                "bench/bare_app.py",
                "--port",
                str(bare_port),
                "--database-url",
                args.database_url,
            ],
            env,
            f"http://127.0.0.1:{bare_port}/hello",
        ),
    ):
        ours_runs, bare_runs = [], []
        for _ in range(2):
            ours_runs.append(wrk(f"http://127.0.0.1:{ours_port}", args.seconds, 64, script=str(script)))
            bare_runs.append(wrk(f"http://127.0.0.1:{bare_port}", args.seconds, 64, script=str(bare_script)))
    (orps, op99), (brps, bp99) = max(ours_runs), max(bare_runs)
    print(
        f"cast  {orps:8.0f} votes/s  p99 {op99:6.1f} ms | bare insert {brps:8.0f} req/s  p99 {bp99:6.1f} ms | ratio {orps / brps:.2f}"
    )
    median_ms, n = asyncio.run(tally_time(args.database_url, args.tally_units))
    print(
        f"tally of {n} ballots in a {args.tally_units}-unit compound: median {median_ms:.1f} ms over 7 runs"
    )


if __name__ == "__main__":
    main()
