"""Notice-board benchmark: the board listing (cached) beside a bare Sanic JSON endpoint, and cached
versus uncached, measured side by side in one run.

    .venv/bin/python -m bench.notices_bench [--seconds 10] [--connections 32] [--database-url URL]

Three servers run one worker each on a fresh SQLite database (or --database-url) with the demo county,
its demo notices and 40 more: ours; ours with the board cache switched off (every listing rebuilt from
the database; sessions, roles and read marks still cached); and bench/bare_app.py. The board is read
as the demo committee chair (a verified owner), 20 notices a page. Each pair is measured alternately
twice and the better run of each side kept. Loopback only; needs wrk for the Authorization header.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from typing import Any

import httpx

from bench.http_bench import ROOT, free_port, prepare_database, process


def wrk(url: str, seconds: int, connections: int, token: str | None = None) -> tuple[float, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    if errors := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{url}: {errors.group(1)} error responses")
    return rps, float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]


async def _seed() -> int:
    from accounts.demo import FILLED
    from accounts.models import Compound
    from audit.service import SYSTEM
    from config.settings import load_settings
    from notices.demo import seed_notices
    from notices.models import Notice
    from notices.service import post_system_notice
    from server import db

    await db.init_db(load_settings().database_url)
    try:
        await seed_notices()
        compound = await Compound.get(name=FILLED[0])
        for n in range(40 - await Notice.filter(system=True).count()):
            await post_system_notice(
                compound_id=compound.id, category="announcement", title=f"小区通知 {n + 1}",
                body_markdown=f"第 {n + 1} 条通知：**电梯**年检、绿化修剪与消防演练安排。", actor=SYSTEM,
                subject="bench",
            )  # fmt: skip
        return compound.id
    finally:
        await db.close_db()


def _serve(port: int, uncached: bool) -> None:
    from sanic import Sanic

    from config.settings import load_settings
    from notices import cache as board_cache
    from server.app import create_app

    if uncached:
        board_cache.BOARD_TTL = 0.0  # pages are never stored: each listing is rebuilt
    app = create_app(load_settings(), name="wuye_bench")
    app.prepare(host="127.0.0.1", port=port, access_log=False, single_process=True)
    Sanic.serve_single(primary=app)


def login(base: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/login", json={"code": "test:demo-committee"}, timeout=10)
    response.raise_for_status()
    return str(response.json()["token"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = prepare_database(args.database_url)
    # PYTHONPATH: bench/bare_app.py runs as a script and must import the packages of this checkout
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "WECHAT_MODE": "fake", "PYTHONPATH": str(ROOT)}
    seeded = subprocess.run(
        [sys.executable, "-m", "bench.notices_bench", "_seed"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if seeded.returncode != 0:
        raise RuntimeError(seeded.stderr)
    compound_id = int(seeded.stdout.strip().splitlines()[-1])
    ports = {"ours": free_port(), "uncached": free_port(), "bare": free_port()}
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    me = sys.executable, "-m", "bench.notices_bench"
    board = f"/api/v1/compounds/{compound_id}/notices"
    print(
        f"database: {url.split('@')[-1]}  load: wrk, {args.connections} connections, {args.seconds}s per run"
    )
    results: list[dict[str, Any]] = []
    with (
        process([*me, "_serve", str(ports["ours"])], env, f"{base['ours']}/health"),
        process([*me, "_serve", str(ports["uncached"]), "uncached"], env, f"{base['uncached']}/health"),
        process([sys.executable, "bench/bare_app.py", "--port", str(ports["bare"]), "--database-url", url], env,
                f"{base['bare']}/hello"),
    ):  # fmt: skip
        tokens = {"ours": login(base["ours"]), "uncached": login(base["uncached"]), "bare": None}
        sample = httpx.get(base["ours"] + board, headers={"authorization": f"Bearer {tokens['ours']}"})
        print(f"board page: {len(sample.json()['items'])} notices, {len(sample.content)} bytes")
        pairs = [("ours", board, "bare", "/hello"), ("ours", board, "uncached", board)]
        for left, left_path, right, right_path in pairs:
            wrk(base[left] + left_path, 2, args.connections, tokens[left])  # warm up both
            wrk(base[right] + right_path, 2, args.connections, tokens[right])
            runs_left, runs_right = [], []
            for _ in range(2):
                runs_left.append(wrk(base[left] + left_path, args.seconds, args.connections, tokens[left]))
                runs_right.append(
                    wrk(base[right] + right_path, args.seconds, args.connections, tokens[right])
                )
            results.append({"l": (left, max(runs_left)), "r": (right, max(runs_right))})
    print(f"{'':18} {'req/s':>8} {'p99 ms':>7} | {'':18} {'req/s':>8} {'p99 ms':>7} | ratio req/s")
    for r in results:
        (ln, (lrps, lp99)), (rn, (rrps, rp99)) = r["l"], r["r"]
        left = f"board ({'cached' if ln == 'ours' else ln})"
        right = "bare /hello" if rn == "bare" else "board (uncached)"
        print(f"{left:18} {lrps:8.0f} {lp99:7.1f} | {right:18} {rrps:8.0f} {rp99:7.1f} | {lrps / rrps:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        print(asyncio.run(_seed()))
    elif len(sys.argv) > 1 and sys.argv[1] == "_serve":
        _serve(int(sys.argv[2]), uncached=len(sys.argv) > 3)
    else:
        main()
