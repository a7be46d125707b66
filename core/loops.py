"""One object per running event loop: what holds loop-bound state (queues, futures, a task) must
not be shared across loops (each test has its own). Entries of closed loops are dropped as new
loops arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._by_loop: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None:
            for old in [other for other in self._by_loop if other.is_closed()]:
                del self._by_loop[old]
            found = self._by_loop[loop] = self._factory()
        return found
