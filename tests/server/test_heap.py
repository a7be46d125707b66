"""server.heap: a served app leaves what it loaded out of later full collections, once started;
an app the tests make does not (its objects would stay for the whole run)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Awaitable, Callable, Iterator

import pytest

from server import heap
from tests.conftest import RunningServer


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back to the collector


async def test_a_served_app_freezes_what_it_loaded_once_started(
    thawed: None, serve: Callable[..., Awaitable[RunningServer]]
) -> None:
    assert gc.get_freeze_count() == 0
    await serve(freeze_heap=True)
    assert gc.get_freeze_count() > 10_000  # the app's modules and the server's objects
    assert gc.collect(2) >= 0 and gc.get_freeze_count() > 10_000  # left out of a full collection


async def test_an_app_made_by_the_tests_freezes_nothing(
    thawed: None, serve: Callable[..., Awaitable[RunningServer]]
) -> None:
    await serve()
    assert gc.get_freeze_count() == 0


def test_freezing_collects_the_garbage_of_start_up_first(thawed: None) -> None:
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    gone = weakref.ref(a)
    del a, b  # a cycle: only the collector frees it
    heap.freeze()
    assert gone() is None
    assert gc.get_freeze_count() > 0
