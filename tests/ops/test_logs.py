"""Logs: with LOG_FORMAT=json every line is one JSON object (time, level, request id, route, status,
duration, user id on the access line); personal numbers and tokens appear in no line, JSON or text,
whatever a request carried or a logger was handed."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from accounts.models import User
from accounts.sessions import open_session
from config.settings import Settings
from core.cache import Cache
from server.app import create_app
from server.ops.logs import JsonFormatter, ScrubFilter, scrub
from tests.conftest import RunningServer, free_port

PHONE, ID_NUMBER, SECRET = "13912345678", "11010119900307001X", "s3cr3t-app-secret"
NUMBERS = (PHONE, ID_NUMBER, SECRET)


def test_scrub_masks_personal_numbers_and_secrets_but_not_hashes() -> None:
    sha = "a" * 24 + "13912345678" + "b" * 29
    text = (
        f"phone {PHONE} / +86 {PHONE}, id {ID_NUMBER.lower()} in 张三{ID_NUMBER}号; "
        f"GET https://api.weixin.qq.com/sns/jscode2session?appid=wx1&secret={SECRET}&js_code=abc "
        f"Authorization: Bearer tok.EN-123; hash {sha}; unit 10293847561"
    )
    cleaned = scrub(text)
    assert PHONE not in cleaned.replace(sha, "")
    assert ID_NUMBER.lower() not in cleaned and ID_NUMBER not in cleaned
    assert SECRET not in cleaned and "tok.EN-123" not in cleaned and "js_code=abc" not in cleaned
    assert cleaned.count("[phone]") == 2 and cleaned.count("[id-number]") == 2
    assert sha in cleaned and "unit 10293847561" in cleaned


def test_a_record_s_arguments_and_traceback_are_scrubbed_before_formatting() -> None:
    try:
        raise ValueError(f"bad phone {PHONE}")
    except ValueError:
        record = logging.getLogger("wuye.x").makeRecord(
            "wuye.x", logging.ERROR, __file__, 1, "owner %s id %s", (PHONE, ID_NUMBER), None
        )
        import sys

        record.exc_info = sys.exc_info()
    ScrubFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "owner [phone] id [id-number]"
    assert "bad phone [phone]" in line["exception"]
    assert not any(n in json.dumps(line) for n in NUMBERS)


@pytest.fixture
async def json_server(
    capsys: pytest.CaptureFixture[str], settings: Settings, cache: Cache, clean_db: None
) -> AsyncIterator[RunningServer]:
    # capsys first: the log handler, made when the server starts, writes to the captured stderr
    app = create_app(replace(settings, log_format="json"), cache=cache, manage_db=False, background=False)

    @app.get("/test-only/log-personal")
    async def log_personal(request):  # type: ignore[no-untyped-def]
        # what a careless log call could hand over: it must come out masked
        logging.getLogger("wuye.careless").warning("called back %s, ID %s", PHONE, ID_NUMBER)
        from sanic.response import json as sanic_json

        return sanic_json({})

    server = RunningServer(app, free_port())
    await server.start()
    yield server
    await server.stop()


async def test_json_lines_with_request_fields_and_no_personal_data(
    json_server: RunningServer, cache: Cache, capsys: pytest.CaptureFixture[str]
) -> None:
    user = await User.create(openid="log-user")
    token = (await open_session(cache, user.id, 600)).token
    auth = {"authorization": f"Bearer {token}", "x-request-id": "req-logs-0001"}
    async with httpx.AsyncClient(base_url=json_server.url, timeout=30) as http:
        claim = {"unit_id": 999999, "name": "张三", "id_number": ID_NUMBER, "certificate": "X"}
        assert (await http.post("/api/v1/me/claims", json=claim, headers=auth)).status_code in (400, 404, 409)
        # a phone number in a query string (refused: /communities takes no "q") is not logged either
        listed = await http.get("/api/v1/communities", params={"q": PHONE})
        assert (listed.status_code, listed.json()["code"]) == (400, "unknown_query_parameter")
        assert (
            await http.get("/test-only/log-personal", headers={"x-request-id": "req-logs-0002"})
        ).status_code == 200
    output = capsys.readouterr()
    lines = [json.loads(line) for line in output.err.splitlines() if line.startswith("{")]
    text_lines = [line for line in output.err.splitlines() if line and not line.startswith("{")]
    assert all("wuye" not in line for line in text_lines), text_lines  # every wuye line is JSON

    access = [line for line in lines if line["logger"] == "wuye.access"]
    claim_line = next(line for line in access if line["request_id"] == "req-logs-0001")
    assert claim_line["route"] == "me.claim" or claim_line["route"].startswith("me.")
    assert claim_line["method"] == "POST" and claim_line["user_id"] == user.id
    assert isinstance(claim_line["status"], int) and claim_line["duration_ms"] >= 0
    assert {"time", "level", "message"} <= set(claim_line)
    careless = next(line for line in lines if line["logger"] == "wuye.careless")
    assert careless["request_id"] == "req-logs-0002"
    assert careless["message"] == "called back [phone], ID [id-number]"
    for number in (*NUMBERS, token):
        assert number not in output.err and number not in output.out
