"""Issue 10 item 7 on the notice routes: a filter value outside its set and a board cursor of the
wrong shape are 400 envelopes, never 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.notices.conftest import manage


async def test_an_unknown_status_filter_is_400(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    response = await api.get(f"{manage(world)}/notices?status=bogus", headers=world["auth"]["committee"])
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["field"] == "status"
    ok = await api.get(f"{manage(world)}/notices?status=draft", headers=world["auth"]["committee"])
    assert ok.status_code == 200, ok.text


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor([None, None, None]),
        _cursor([1, "2026-01-01T00:00:00+00:00", 99999999999999999999]),
        _cursor([1, "2026-01-01T00:00:00+00:00", 2**40]),
        _cursor([1, "2026-01-01T00:00:00", 5]),
        _cursor({"a": 1, "b": 2, "c": 3}),
        _cursor([True, "x", 2]),
        _cursor([1, 2]),
        "!!!",
    ],
)
async def test_a_malformed_board_cursor_is_400(
    api: httpx.AsyncClient, world: dict[str, Any], cursor: str
) -> None:
    response = await api.get(
        f"/compounds/{world['compound']}/notices", params={"cursor": cursor}, headers=world["auth"]["owner"]
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "cursor_invalid"
