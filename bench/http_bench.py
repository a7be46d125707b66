"""HTTP benchmark: our endpoints beside a bare Sanic app, measured side by side in one run.

    .venv/bin/python -m bench.http_bench [--seconds 10] [--connections 32] [--database-url URL]

Pairs (ours vs yardstick):
  /health               vs bare /hello  (framework + our middleware, error handler, pydantic)
  /api/v1/communities   vs bare /hello  (a real database read endpoint vs hello-world)
  /api/v1/communities   vs bare /db     (the same query through bare Sanic: our layers' cost)
Both servers run one worker each, started fresh; each pair is measured alternately twice and the
better of two runs kept for each side, so a noisy neighbour hurts both. Uses wrk when installed
(apt-get install wrk), else a small asyncio keep-alive load generator. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def process(args: list[str], env: dict[str, str], probe: str) -> Iterator[None]:
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(probe, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args} did not start")
            time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(url: str, seconds: int, connections: int, script: str | None = None) -> tuple[float, float]:
    extra = ["-s", script] if script else []
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_raw = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99_raw is not None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_raw.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses")
    if "Socket errors" in out:
        raise RuntimeError(f"{url}: socket errors: {out}")
    return rps, float(p99_raw.group(1)) * scale


async def _pyload(url: str, seconds: int, connections: int) -> tuple[float, float]:
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    request = f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def conn() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while time.monotonic() < stop:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
        writer.close()

    began = time.monotonic()
    await asyncio.gather(*(conn() for _ in range(connections)))
    elapsed = time.monotonic() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99) - 1]


def load(url: str, seconds: int, connections: int) -> tuple[float, float]:
    if shutil.which("wrk"):
        return wrk(url, seconds, connections)
    return asyncio.run(_pyload(url, seconds, connections))


def prepare_database(url: str | None) -> str:
    if url is None:
        url = f"sqlite://{tempfile.mkdtemp(prefix='wuye-bench-')}/bench.sqlite3"
    env = {**os.environ, "DATABASE_URL": url}
    for cmd in (["migrate"], ["seed-demo", "--if-empty"]):
        command = [sys.executable, "-m", "server", *cmd]
        subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = prepare_database(args.database_url)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": ""}
    ours_port, bare_port = free_port(), free_port()
    ours = f"http://127.0.0.1:{ours_port}"
    bare = f"http://127.0.0.1:{bare_port}"
    pairs = [
        ("/health", "/hello"),
        ("/api/v1/communities", "/hello"),
        ("/api/v1/communities", "/db"),
    ]
    tool = "wrk" if shutil.which("wrk") else "asyncio load generator"
    where = url.split("@")[-1]
    print(f"database: {where}  load: {tool}, {args.connections} connections, {args.seconds}s per run")
    results: list[dict[str, Any]] = []
    with (
        process([sys.executable, "-m", "server", "serve", "--port", str(ours_port)], env, f"{ours}/health"),
        process(
            [sys.executable, "bench/bare_app.py", "--port", str(bare_port), "--database-url", url],
            env,
            f"{bare}/hello",
        ),
    ):
        for ours_path, bare_path in pairs:
            load(ours + ours_path, 2, args.connections)  # warm up both
            load(bare + bare_path, 2, args.connections)
            runs_ours, runs_bare = [], []
            for _ in range(2):
                runs_ours.append(load(ours + ours_path, args.seconds, args.connections))
                runs_bare.append(load(bare + bare_path, args.seconds, args.connections))
            o = max(runs_ours)
            b = max(runs_bare)
            results.append({"ours": ours_path, "bare": bare_path, "o": o, "b": b})
    print(f"{'ours':22} {'req/s':>8} {'p99 ms':>7} | {'bare':7} {'req/s':>8} {'p99 ms':>7} | ratio req/s")
    for r in results:
        (orps, op99), (brps, bp99) = r["o"], r["b"]
        left = f"{r['ours']:22} {orps:8.0f} {op99:7.1f}"
        print(f"{left} | {r['bare']:7} {brps:8.0f} {bp99:7.1f} | {orps / brps:.2f}")


if __name__ == "__main__":
    main()
