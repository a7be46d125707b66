"""A long-running process's heap, once it has loaded what it keeps for its life.

A worker imports the whole app (about 465,000 objects tracked by the cyclic collector), and every
full collection walks them all: on this project's 2-core test host one took 0.4-0.5 s, a pause every
request in flight waits out (bench.bookings_bench caught one in a slice of 400 bookings: 0.36 -> 0.10
of its yardstick). Frozen after start-up (gc.freeze, as the Python docs advise for long-lived
servers), those objects are left out of every later collection; what the process makes afterwards
is collected as before. Only processes that serve or run jobs call it, never a test process (its
apps come and go, and frozen ones would stay)."""

from __future__ import annotations

import gc


def freeze() -> None:
    """Collect what start-up left as garbage, then move every object still tracked out of the
    collector's sight for the rest of the process."""
    gc.collect()
    gc.freeze()
