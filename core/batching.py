"""Natural batching by key: what is asked about one key while the answer to the previous asks of
that key is being fetched waits, and goes in the next fetch, with everyone else who asked meanwhile.

A fetch starts on the loop's next turn with every ask of its key made until then (``limit`` at
most); at low load it holds one ask and waits for nothing but that turn, and under contention the
asks of a key come together, and one round trip answers them all. The answers are each ask's own,
in the order asked. A failed fetch fails each of its asks with its error; a fetcher cancelled (the
loop shutting down) cancels whoever still waits, instead of leaving them hanging.

One Batcher per event loop (core.loops.PerLoop): what it holds (futures, tasks) belongs to its loop.
Used by bookings.gate (the gate reads of one slot) and payments.settle_batch (the orders of one
payee's payment results); the writers of bookings.batch and payments.settle_batch batch the same
way, with more to decide per batch, and start their tasks with ``start_keyed`` too.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
A = TypeVar("A")
R = TypeVar("R")


def start_keyed(
    running: dict[K, asyncio.Task[None]],
    key: K,
    work: Callable[[], Coroutine[Any, Any, None]],
    abandon: Callable[[], None],
) -> None:
    """The task of ``key`` in ``running``, started from ``work()`` unless one is at work already;
    forgotten once it ends, and ``abandon()`` called if it was cancelled, also before it ever ran
    (when its own clean-up did not run, and whoever waits on it would hang)."""
    task = running.get(key)
    if task is not None and not task.done():
        return
    task = running[key] = asyncio.get_running_loop().create_task(work())

    def ended(done: asyncio.Task[None]) -> None:
        if running.get(key) is done:
            del running[key]
        if done.cancelled():
            abandon()

    task.add_done_callback(ended)


class Batcher(Generic[K, A, R]):
    def __init__(self, fetch: Callable[[K, list[A]], Awaitable[list[R]]], *, limit: int) -> None:
        """``fetch(key, asks)``: one answer per ask, in order."""
        self._fetch = fetch
        self._limit = limit
        self._waiting: dict[K, list[tuple[A, asyncio.Future[R]]]] = {}
        self._fetching: dict[K, asyncio.Task[None]] = {}  # referenced while they run
        self.fetches = 0  # how many fetches this batcher made (tests check that asks went together)

    async def ask(self, key: K, ask: A) -> R:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[R] = loop.create_future()
        self._waiting.setdefault(key, []).append((ask, done))
        start_keyed(self._fetching, key, lambda: self._run(key), functools.partial(self._abandon, key))
        return await done

    def _abandon(self, key: K) -> None:
        for _, done in self._waiting.pop(key, []):
            if not done.done():
                done.cancel()

    async def _run(self, key: K) -> None:
        asks: list[tuple[A, asyncio.Future[R]]] = []
        try:
            while waiting := self._waiting.get(key):
                asks, rest = waiting[: self._limit], waiting[self._limit :]
                if rest:
                    self._waiting[key] = rest
                else:
                    del self._waiting[key]
                self.fetches += 1
                try:
                    answers = await self._fetch(key, [ask for ask, _ in asks])
                    if len(answers) != len(asks):
                        raise RuntimeError(f"{len(answers)} answers to {len(asks)} asks")
                except Exception as exc:  # each ask gets the fetch's failure
                    for _, done in asks:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for (_, done), answer in zip(asks, answers, strict=True):
                        if not done.done():
                            done.set_result(answer)
                asks = []
        finally:
            for _, done in asks + self._waiting.pop(key, []):
                if not done.done():
                    done.cancel()
