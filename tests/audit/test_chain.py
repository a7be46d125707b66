"""The verifier names the first bad event for every kind of tampering, over the database and over
an exported file; concurrent appenders never fork a chain."""

from __future__ import annotations

import asyncio
import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from audit import service
from audit.chain import GENESIS, event_hash, verify
from audit.models import AuditEvent
from audit.service import SYSTEM, Actor, append, export, verify_database, verify_export
from tests.conftest import run_cli

ALICE = Actor("user:1", "王伟", request_id="req-0001")


async def write(stream: str, n: int) -> list[dict]:
    return [
        await append(
            stream,
            "unit.claimed",
            actor=ALICE,
            subject=f"unit:{i}",
            payload={"i": i, "area": Decimal("89.37")},
        )
        for i in range(1, n + 1)
    ]


async def test_appended_events_form_a_chain(clean_db: None) -> None:
    events = await write("compound:1", 3)
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[0]["prev_hash"] == GENESIS
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[2]["payload"] == {"i": 3, "area": "89.37"}  # Decimal stored as exact text
    assert await service.head("compound:1") == {"stream": "compound:1", "seq": 3, "hash": events[2]["hash"]}
    stored = await service.events("compound:1")
    assert stored == events  # what was hashed is what was stored, to the microsecond
    report = await verify_database()
    assert (report.ok, report.streams, report.events) == (True, 1, 3)


async def test_streams_are_chained_independently(clean_db: None) -> None:
    await write("compound:1", 2)
    await write("motion:7", 2)
    assert (await service.head("motion:7"))["seq"] == 2
    assert (await verify_database()).ok


def _streams(events: list[dict]) -> dict[str, list[dict]]:
    return {"s": events}


def _chain(n: int) -> list[dict]:
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        event = {
            "stream": "s",
            "seq": seq,
            "at": f"2026-11-27T01:00:0{seq}.000000Z",
            "actor": "user:1",
            "actor_name": "王伟",
            "action": "ballot.cast",
            "subject": f"ballot:{seq}",
            "payload": {"choice": "agree", "seq": seq},
            "request_id": None,
            "prev_hash": prev,
        }
        event["hash"] = prev = event_hash(event)
        events.append(event)
    return events


def test_an_intact_chain_verifies() -> None:
    assert verify(_streams(_chain(5))).ok


def test_edited_payload_is_caught_at_that_event() -> None:
    events = _chain(5)
    events[2]["payload"]["choice"] = "oppose"
    problem = verify(_streams(events)).first
    assert problem is not None and (problem.seq, problem.index) == (3, 2)
    assert "edited" in problem.reason


def test_deleted_event_is_caught_where_the_gap_is() -> None:
    events = _chain(5)
    del events[1]
    problem = verify(_streams(events)).first
    assert problem is not None and (problem.seq, problem.index) == (3, 1)
    assert "expected seq 2" in problem.reason


def test_inserted_event_is_caught_even_with_renumbering() -> None:
    events = _chain(5)
    forged = copy.deepcopy(events[1])
    forged["payload"] = {"choice": "agree", "forged": True}
    forged["hash"] = event_hash(forged)
    tampered = [*events[:2], forged, *events[2:]]
    for seq, event in enumerate(tampered, start=1):
        event["seq"] = seq
    problem = verify(_streams(tampered)).first
    assert problem is not None and problem.index == 2


def test_swapped_pair_is_caught() -> None:
    events = _chain(5)
    events[1], events[2] = events[2], events[1]
    problem = verify(_streams(events)).first
    assert problem is not None and problem.index == 1
    assert "out of order" in problem.reason or "expected seq 2" in problem.reason


def test_truncated_tail_is_caught_against_the_head() -> None:
    events = _chain(5)
    head = {"seq": 5, "hash": events[-1]["hash"]}
    problem = verify({"s": events[:4]}, {"s": head}).first
    assert problem is not None and "tail missing" in problem.reason


def test_floats_cannot_enter_a_hash() -> None:
    event = _chain(1)[0]
    event["payload"] = {"area": 0.1}
    with pytest.raises(TypeError):
        event_hash(event)


async def test_an_edit_in_the_database_is_caught(clean_db: None) -> None:
    await write("compound:1", 4)
    await AuditEvent.filter(stream="compound:1", seq=3).update(payload={"i": 3, "area": "99.99"})
    report = await verify_database()
    assert not report.ok and report.first is not None
    assert (report.first.stream, report.first.seq) == ("compound:1", 3)


async def test_a_deleted_row_in_the_database_is_caught(clean_db: None) -> None:
    await write("compound:1", 4)
    await AuditEvent.filter(stream="compound:1", seq=2).delete()
    report = await verify_database()
    assert not report.ok and report.first is not None and report.first.seq == 3


async def test_a_deleted_last_row_is_caught_by_the_head(clean_db: None) -> None:
    await write("compound:1", 4)
    await AuditEvent.filter(stream="compound:1", seq=4).delete()
    report = await verify_database()
    assert not report.ok and report.first is not None and "tail missing" in report.first.reason


async def test_concurrent_appenders_leave_one_unbroken_chain(clean_db: None) -> None:
    """20 appenders at once on one stream (on PostgreSQL in CI: separate pooled connections)."""

    async def appender(worker: int) -> list[dict]:
        return [
            await append(
                "compound:9",
                "test.append",
                actor=Actor(f"user:{worker}", "测试"),
                payload={"w": worker, "n": n},
            )
            for n in range(5)
        ]

    results = await asyncio.gather(*(appender(w) for w in range(20)))
    written = {(e["payload"]["w"], e["payload"]["n"]) for batch in results for e in batch}
    assert len(written) == 100
    stored = await service.events("compound:9")
    assert [e["seq"] for e in stored] == list(range(1, 101))
    assert {(e["payload"]["w"], e["payload"]["n"]) for e in stored} == written
    assert (await verify_database()).ok
    if "asyncpg" in type(connections.get("default")).__module__:
        assert await AuditEvent.filter(stream="compound:9").count() == 100


async def test_appends_in_the_callers_transaction_without_a_savepoint_chain_and_roll_back_with_it(
    clean_db: None,
) -> None:
    """savepoint=False: 20 callers at once, each appending twice to one new stream inside its own
    transaction (the head's creation races); one caller's transaction then fails after its append."""

    async def caller(worker: int) -> None:
        async with in_transaction():
            for n in range(2):
                await append("ledger:payee:7", "test.append", actor=SYSTEM, payload={"w": worker, "n": n},
                             savepoint=False)  # fmt: skip

    await asyncio.gather(*(caller(w) for w in range(20)))
    with pytest.raises(ZeroDivisionError):
        async with in_transaction():
            await append("ledger:payee:7", "test.append", actor=SYSTEM, payload={"w": 99}, savepoint=False)
            raise ZeroDivisionError
    stored = await service.events("ledger:payee:7")
    assert [e["seq"] for e in stored] == list(range(1, 41))
    assert {(e["payload"]["w"], e["payload"]["n"]) for e in stored} == {
        (w, n) for w in range(20) for n in (0, 1)
    }
    assert await service.head("ledger:payee:7") == {
        "stream": "ledger:payee:7",
        "seq": 40,
        "hash": stored[-1]["hash"],
    }
    assert (await verify_database()).ok


async def test_an_append_without_a_savepoint_outside_a_transaction_is_refused(clean_db: None) -> None:
    with pytest.raises(RuntimeError, match="caller's transaction"):
        await append("compound:3", "test.append", actor=SYSTEM, savepoint=False)
    assert await AuditEvent.filter(stream="compound:3").count() == 0


async def test_export_verifies_offline_with_the_cli(clean_db: None, tmp_path: Path) -> None:
    await write("compound:1", 3)
    await write("motion:2", 2)
    document = await export()
    assert verify_export(document).ok
    good = tmp_path / "audit.json"
    good.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = await asyncio.to_thread(run_cli, "audit", "verify", "--file", str(good))
    assert result.returncode == 0, result.stderr
    assert "OK: 2 streams, 5 events" in result.stdout

    document["streams"]["motion:2"][0]["payload"]["i"] = 42
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = await asyncio.to_thread(run_cli, "audit", "verify", "--file", str(bad))
    assert result.returncode == 1
    assert "BROKEN: stream motion:2 at seq 1" in result.stdout
