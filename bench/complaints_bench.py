"""Bench for complaints' photos: processing a 12-megapixel JPEG, and upload throughput over HTTP.

    .venv/bin/python bench/complaints_bench.py [--seconds 10] [--connections 8] [--runs 5]

1. Processing: bench/photo_bench.py (ours vs Pillow with draft alone: median ms and peak RSS).
2. Upload throughput: POST /api/v1/photos on our server (one worker, SQLite, local storage, fake
   WeChat login) beside a bare Sanic endpoint that receives the same bytes and answers their length.
   Body: a 1920x1440 photo-like JPEG (what wx.chooseMedia's "compressed" gives, about 1 MB). Load by
   wrk with a Lua script rotating 50 sessions (our limit is 200 uploads per user per day).
   The same bytes every time: files are content-addressed, so after the first upload only the row is
   new; decoding, checks and renditions run every time (they dominate).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.http_bench import free_port, process  # noqa: E402


def bare_server(port: int) -> None:
    from sanic import Sanic
    from sanic.response import json

    app = Sanic("bare_upload")
    app.config.REQUEST_MAX_SIZE = 12 * 1024 * 1024

    @app.post("/upload")
    async def upload(request):  # type: ignore[no-untyped-def]
        return json({"size": len(request.body)}, status=201)

    @app.get("/hello")
    async def hello(request):  # type: ignore[no-untyped-def]
        return json({"ok": True})

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False)


def photo_bytes() -> bytes:
    size = (1920, 1440)
    gradient = Image.linear_gradient("L").resize(size)
    channels = [Image.blend(gradient, Image.effect_noise(size, 40), 0.5) for _ in range(3)]
    buffer = io.BytesIO()
    Image.merge("RGB", channels).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


LUA = """
local f = io.open("{body}", "rb"); local body = f:read("*all"); f:close()
local tokens = {{{tokens}}}
local n = 0
request = function()
  n = n + 1
  local headers = {{["Content-Type"] = "image/jpeg", ["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]}}
  return wrk.format("POST", "{path}", headers, body)
end
"""


def wrk(
    url: str, path: str, body: Path, tokens: list[str], seconds: int, connections: int
) -> tuple[float, str, str]:
    script = body.with_suffix(".lua")
    quoted = ", ".join(f'"{t}"' for t in tokens or ["none"])
    script.write_text(LUA.format(body=body, tokens=quoted, path=path))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    if "Non-2xx" in out:
        raise RuntimeError(f"errors during the run:\n{out}")
    return rate, p50, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return

    print("== 1. processing a 12-megapixel JPEG (bench/photo_bench.py)", flush=True)
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "photo_bench.py"), "--runs", str(args.runs)], check=True
    )

    print("\n== 2. upload throughput over HTTP", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ, "APP_ENV": "development", "WECHAT_MODE": "fake", "PYTHONPATH": str(ROOT),
            "DATABASE_URL": f"sqlite://{tmp}/bench.sqlite3", "MEDIA_DIR": f"{tmp}/media",
        }  # fmt: skip
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "-m", "server", "migrate"], env=env, cwd=ROOT, check=True)
        body = Path(tmp) / "photo.jpg"
        body.write_bytes(photo_bytes())
        ours, bare = free_port(), free_port()
        print(
            f"body: 1920x1440 JPEG, {body.stat().st_size / 1e6:.2f} MB; {args.connections} connections, {args.seconds} s"
        )
        with (
            process(
                [sys.executable, "-m", "server", "serve", "--port", str(ours)],
                env,
                f"http://127.0.0.1:{ours}/health",
            ),
            process(
                [sys.executable, __file__, "--bare-server", str(bare)], env, f"http://127.0.0.1:{bare}/hello"
            ),
        ):
            tokens = [
                httpx.post(
                    f"http://127.0.0.1:{ours}/api/v1/auth/login", json={"code": f"test:bench-{i}"}
                ).json()["token"]
                for i in range(50)
            ]
            results = {
                "bare Sanic (receive only)": wrk(f"http://127.0.0.1:{bare}", "/upload", body, [], args.seconds, args.connections),
                "ours POST /api/v1/photos": wrk(f"http://127.0.0.1:{ours}", "/api/v1/photos", body, tokens, args.seconds, args.connections),
            }  # fmt: skip
    print(f"{'endpoint':<28} {'uploads/s':>10} {'p50':>10} {'p99':>10}")
    for name, (rate, p50, p99) in results.items():
        print(f"{name:<28} {rate:>10.1f} {p50:>10} {p99:>10}")
    ratio = results["ours POST /api/v1/photos"][0] / results["bare Sanic (receive only)"][0]
    print(f"ours / bare: {ratio:.3f} (the difference is decoding, checking and re-encoding, on one worker)")


if __name__ == "__main__":
    main()
