"""core.batching: asks of one key made together go in one fetch and get their own answers, in
order; asks made while a fetch runs go in the next; keys are fetched apart; a failed fetch fails
each of its asks; a fetcher cancelled cancels whoever waits."""

from __future__ import annotations

import asyncio

import pytest

from core.batching import Batcher


class Fetcher:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, key: str, asks: list[int]) -> list[str]:
        self.calls.append((key, list(asks)))
        await self.gate.wait()
        if -1 in asks:
            raise ValueError("cannot answer -1")
        if -2 in asks:
            return []  # an answer short
        return [f"{key}:{a * 10}" for a in asks]


async def test_asks_made_together_share_one_fetch_and_keep_their_own_answers() -> None:
    fetch = Fetcher()
    batcher: Batcher[str, int, str] = Batcher(fetch, limit=10)
    answers = await asyncio.gather(*(batcher.ask("a", k) for k in range(5)), batcher.ask("b", 7))
    assert answers == ["a:0", "a:10", "a:20", "a:30", "a:40", "b:70"]
    assert sorted(fetch.calls) == [("a", [0, 1, 2, 3, 4]), ("b", [7])]
    assert batcher.fetches == 2


async def test_asks_made_while_a_fetch_runs_go_in_the_next_and_the_limit_splits() -> None:
    fetch = Fetcher()
    fetch.gate.clear()
    batcher: Batcher[str, int, str] = Batcher(fetch, limit=3)
    first = asyncio.ensure_future(batcher.ask("a", 1))
    await asyncio.sleep(0)  # the fetch of 1 has started and waits
    later = [asyncio.ensure_future(batcher.ask("a", k)) for k in range(2, 7)]
    await asyncio.sleep(0)
    fetch.gate.set()
    assert await first == "a:10"
    assert [await f for f in later] == [f"a:{k * 10}" for k in range(2, 7)]
    assert fetch.calls == [("a", [1]), ("a", [2, 3, 4]), ("a", [5, 6])]


async def test_a_failed_fetch_fails_each_of_its_asks_and_the_next_fetch_still_runs() -> None:
    fetch = Fetcher()
    batcher: Batcher[str, int, str] = Batcher(fetch, limit=10)
    failed = await asyncio.gather(batcher.ask("a", 1), batcher.ask("a", -1), return_exceptions=True)
    assert all(isinstance(f, ValueError) for f in failed)
    short = await asyncio.gather(batcher.ask("a", 1), batcher.ask("a", -2), return_exceptions=True)
    assert all(isinstance(f, RuntimeError) and "2 asks" in str(f) for f in short)
    assert await batcher.ask("a", 3) == "a:30"


@pytest.mark.parametrize("started", [True, False])
async def test_a_fetcher_cancelled_cancels_whoever_waits_and_a_later_ask_is_fetched(started: bool) -> None:
    fetch = Fetcher()
    fetch.gate.clear()
    batcher: Batcher[str, int, str] = Batcher(fetch, limit=1)
    asks = [asyncio.ensure_future(batcher.ask("a", k)) for k in range(3)]
    for _ in range(2 if started else 1):  # the asks are made; then the fetch starts (or not yet)
        await asyncio.sleep(0)
    assert len(fetch.calls) == (1 if started else 0)
    (task,) = batcher._fetching.values()
    task.cancel()
    for ask in asks:
        with pytest.raises(asyncio.CancelledError):
            await ask
    assert not batcher._fetching and not batcher._waiting
    fetch.gate.set()
    assert await batcher.ask("a", 4) == "a:40"  # the key is not left stuck
