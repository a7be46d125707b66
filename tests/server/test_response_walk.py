"""A walk of the demo county over every GET route of the OpenAPI document, as the people at desks
and a resident: every JSON answer matches the schema its route declares for that status, and every
moment in it is RFC 3339 in Beijing time (+08:00), the one format the API description states."""

from __future__ import annotations

import re
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from accounts.demo import seed_demo

MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
BEIJING = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+08:00$")


def moments(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)] if MOMENT.match(value) else []
    if isinstance(value, dict):
        return [m for key, item in value.items() for m in moments(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [m for i, item in enumerate(value) for m in moments(item, f"{path}[{i}]")]
    return []


async def _login(client: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def _declared(document: dict[str, Any], op: dict[str, Any], status: int) -> dict[str, Any] | None:
    answer = op["responses"].get(str(status))
    if answer is None:
        return None
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else {**schema, "components": document["components"]}


async def test_every_get_route_answers_as_declared_with_beijing_times(client: httpx.AsyncClient) -> None:
    await seed_demo(hmac_key=b"k")
    document = (await client.get("/docs/openapi.json")).json()
    people = {
        name: await _login(client, name) for name in ("demo-committee", "demo-supervisor", "demo-property")
    }
    people["anonymous"] = {}
    ids = {"compound_id": 1, "community_id": 1, "building_id": 1, "target": 1}
    problems: list[str] = []
    answered: dict[int, int] = {}
    for path, ops in sorted(document["paths"].items()):
        op = ops.get("get")
        if op is None:
            continue
        url = path
        for name in re.findall(r"\{(\w+)\}", path):
            url = url.replace(f"{{{name}}}", "compound" if name == "scope" else str(ids.get(name, 1)))
        for who, headers in people.items():
            response = await client.get(url, headers=headers)
            answered[response.status_code] = answered.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                problems.append(f"{who} GET {url}: {response.status_code}")
                continue
            if not response.headers.get("content-type", "").startswith("application/json"):
                continue
            body = response.json()
            schema = _declared(document, op, response.status_code)
            if schema is None:
                problems.append(f"{who} GET {url}: status {response.status_code} not declared")
                continue
            for error in OAS30Validator(schema).iter_errors(body):
                problems.append(
                    f"{who} GET {url} {response.status_code}: {error.json_path}: {error.message[:160]}"
                )
            for where, text in moments(body):
                if not BEIJING.match(text):
                    problems.append(f"{who} GET {url}: {where} = {text!r} is not RFC 3339 +08:00")
    assert problems == []
    assert answered.get(200, 0) > 40
    # The demo county's GET answers carry few moments; a login answer always does (expires_at).
    login = (await client.post("/api/v1/auth/login", json={"code": "test:walker"})).json()
    assert BEIJING.match(login["expires_at"]), login


def test_exports_write_beijing_time_with_its_zone() -> None:
    from datetime import UTC, datetime

    from core import tabular

    moment = datetime(2026, 12, 20, 2, 0, 5, 123456, tzinfo=UTC)
    assert tabular.beijing_time(moment) == "2026-12-20 10:00:05+08:00"
    assert tabular.csv_bytes(["时间"], [[moment]]).decode("utf-8-sig").splitlines() == [
        "时间",
        "2026-12-20 10:00:05+08:00",
    ]


def test_responses_write_every_moment_in_beijing_time() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from pydantic import BaseModel

    from miniprogram_api.endpoint import to_response

    class Out(BaseModel):
        at: datetime
        many: list[datetime]

    utc = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)
    other = datetime(2026, 12, 20, 3, 0, tzinfo=timezone(timedelta(hours=-5)))
    answer = to_response(Out(at=utc, many=[other]), 200)
    assert answer.body == b'{"at":"2026-12-20T10:00:00+08:00","many":["2026-12-20T16:00:00+08:00"]}'
