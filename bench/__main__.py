"""`make bench`: every benchmark in turn. Each prints its own ratios; none is a test."""

from __future__ import annotations

import subprocess
import sys

BENCHES = [
    [sys.executable, "-m", "bench.http_bench", *sys.argv[1:]],
    [sys.executable, "bench/photo_bench.py"],
]

if __name__ == "__main__":
    for command in BENCHES:
        print(f"== {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True)
