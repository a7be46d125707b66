"""`make bench`: every benchmark in turn. Each prints its own ratios; none is a test."""

from __future__ import annotations

import subprocess
import sys

# The voting bench needs PostgreSQL and Redis (see its docstring); the others run on the defaults.
BENCHES = [
    [sys.executable, "-m", "bench.http_bench", *sys.argv[1:]],
    [sys.executable, "-m", "bench.notices_bench"],
    [sys.executable, "bench/photo_bench.py"],
    [sys.executable, "bench/complaints_bench.py"],
    [sys.executable, "bench/roster_bench.py"],
    [sys.executable, "-m", "bench.voting_bench"],
    [sys.executable, "-m", "bench.notify_bench"],
    [sys.executable, "-m", "bench.payments_bench"],
    [sys.executable, "-m", "bench.supervision_bench"],
    [sys.executable, "-m", "bench.fund_bench"],
]

if __name__ == "__main__":
    for command in BENCHES:
        print(f"== {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True)
