"""Roster files a careless or hostile client sends, over HTTP (issue 10, item 7): a JSON document
nested 100,000 deep, broken JSON and a file of the wrong encoding each answer a 400 envelope with the
per-file problem, never a 500, and import nothing."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from config.settings import Settings
from tests.accounts.test_permissions import server, snapshot, world  # noqa: F401

DEEP = b"[" * 100_000 + b"]" * 100_000

FILES = {
    "json nested 100,000 deep": (DEEP, "application/json", "JSON嵌套层数过多"),
    "json nested 100,000 deep, unclosed": (b"[" * 100_000, "application/json", "JSON"),
    "objects nested 100,000 deep": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "application/json", ""),
    "csv neither utf-8 nor gbk": (b"building\xff\xfe\xfd", "text/csv", "无法识别文件编码"),
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A request limit as production's (the suite's is 64 KB): the deep documents are ~200 KB."""
    return dataclasses.replace(settings, request_max_size=1024 * 1024)


@pytest.mark.parametrize("case", list(FILES))
async def test_an_unreadable_roster_is_a_400_with_its_problem(
    case: str,
    world: dict,  # noqa: F811
    client: httpx.AsyncClient,
) -> None:
    data, content_type, message = FILES[case]
    token = world["tokens"]["committee"]
    before = await snapshot()
    answer = await client.post(
        f"/api/v1/admin/compounds/{world['ids']['compound']}/roster",
        headers={"authorization": f"Bearer {token}", "content-type": content_type},
        content=data,
    )
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "roster_invalid"
    [problem] = body["details"]["problems"]
    assert (problem["row"], problem["field"], problem["code"]) == (None, "file", "unparseable")
    assert message in problem["message"]
    assert await snapshot() == before
