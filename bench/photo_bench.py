"""Bench: photos.process_upload against bare Pillow with draft, on a noisy 12-megapixel JPEG.

Run: .venv/bin/python bench/photo_bench.py [--runs 10]

Variants, timed in one process, interleaved, median over --runs after one warm-up each:
  ours          photos.process_upload (magic number, bomb checks, verify, orientation, sRGB,
                metadata stripping, display + thumbnail, sha256 of the original)
  draft-2048    open + draft("RGB", fitted to 2048) + thumbnail 2048 + save + thumbnail 320 + save,
                no checks; for a 4000x3000 JPEG this draft cannot reduce (4000/2 < 2048)
  draft-1792    the same with the draft request ours uses (long side >= 1792): the like-for-like one
Peak memory: in a fresh subprocess, the peak resident set size (VmHWM, reset just before the run
through /proc/self/clear_refs) minus the resident size before the run, in MiB; Linux only.
tracemalloc would miss Pillow's image buffers (allocated in C), and ru_maxrss is no good in a child:
Linux carries the parent's peak across fork and exec.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SIZE = (4000, 3000)
VARIANTS = ("ours", "draft-2048", "draft-1792")


def make_jpeg() -> bytes:
    """A 12-megapixel photo-like JPEG: a colour gradient under strong noise (about 7 MB)."""
    gradient = Image.linear_gradient("L").resize(SIZE)
    channels = [Image.blend(gradient, Image.effect_noise(SIZE, 64), 0.5) for _ in range(3)]
    buffer = io.BytesIO()
    Image.merge("RGB", channels).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def fit(size: tuple[int, int], bound: int) -> tuple[int, int]:
    longest = max(size)
    return (round(size[0] * bound / longest), round(size[1] * bound / longest))


def draft_alone(data: bytes, request_long_side: int) -> None:
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", fit(img.size, request_long_side))
    img.thumbnail((2048, 2048))
    img.save(io.BytesIO(), "JPEG", quality=85)
    img.thumbnail((320, 320))
    img.save(io.BytesIO(), "JPEG", quality=85)


def variant(name: str) -> Callable[[bytes], object]:
    if name == "ours":
        sys.path.insert(0, str(ROOT))
        from photos.process import process_upload

        return process_upload
    if name == "draft-2048":
        return lambda data: draft_alone(data, 2048)
    return lambda data: draft_alone(data, 1792)


def peak_memory_mib(name: str, path: Path) -> float:
    """Run one variant once in a fresh interpreter; ru_maxrss after minus before, in MiB."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def child(name: str, path: Path) -> None:
    data = path.read_bytes()
    run = variant(name)
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    before = status_kib("VmRSS")
    run(data)
    print((status_kib("VmHWM") - before) / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return

    data = make_jpeg()
    print(f"input: {SIZE[0]}x{SIZE[1]} noisy JPEG, {len(data) / 1e6:.1f} MB; {args.runs} runs each")
    runs = {name: variant(name) for name in VARIANTS}
    timings: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for name in VARIANTS:
        runs[name](data)  # warm-up
    for _ in range(args.runs):
        for name in VARIANTS:
            start = time.perf_counter()
            runs[name](data)
            timings[name].append((time.perf_counter() - start) * 1000)

    with tempfile.NamedTemporaryFile(suffix=".jpg") as file:
        file.write(data)
        file.flush()
        memory = {name: peak_memory_mib(name, Path(file.name)) for name in VARIANTS}

    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{'variant':<12} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'peak RSS +MiB':>14}")
    for name in VARIANTS:
        values = timings[name]
        print(
            f"{name:<12} {medians[name]:>10.1f} {min(values):>8.1f} {max(values):>8.1f} {memory[name]:>14.1f}"
        )
    like_for_like = medians["ours"] / medians["draft-1792"]
    print(f"ratio ours/draft-1792 (same decode scale): {like_for_like:.2f}x (goal <= 1.10x)")
    print(f"ratio ours/draft-2048 (draft as specified): {medians['ours'] / medians['draft-2048']:.2f}x")
    print(f"memory ours/draft-1792: {memory['ours'] / memory['draft-1792']:.2f}x")


if __name__ == "__main__":
    main()
