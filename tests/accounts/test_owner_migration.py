"""Migration 0004 splits an owner record shared by two compounds into one record per compound.

Run in a subprocess on a scratch SQLite file (Tortoise is global, and the suite's database is already
migrated); the same steps were checked by hand on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r"""
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from server.db import tortoise_config

ROWS = [
    "INSERT INTO community (id, name) VALUES (1, 'c')",
    "INSERT INTO compound (id, community_id, name, address, standalone, non_voters_follow_majority,"
    " created_at) VALUES (1, 1, 'A', '', 0, 0, '2026-01-01T00:00:00+00:00'),"
    " (2, 1, 'B', '', 0, 0, '2026-01-01T00:00:00+00:00')",
    "INSERT INTO building (id, compound_id, name) VALUES (1, 1, 'a1'), (2, 2, 'b1')",
    "INSERT INTO unit (id, compound_id, building_id, number, kind, area, area_source, delivered)"
    " VALUES (1, 1, 1, '101', 'flat', 1, 'register', 1), (2, 2, 2, '101', 'flat', 1, 'register', 1),"
    " (3, 2, 2, '102', 'flat', 1, 'register', 1)",
    "INSERT INTO app_user (id, openid, nickname, created_at) VALUES (1, 'o', '', '2026-01-01T00:00:00+00:00')",
    "INSERT INTO owner (id, kind, name, phone, id_hash, is_developer, user_id) VALUES"
    " (1, 'person', 'Z', '139', 'h1', 0, 1), (2, 'person', 'L', NULL, 'h2', 0, NULL),"
    " (3, 'person', 'orphan', NULL, 'h3', 0, NULL)",
    "INSERT INTO ownership (id, unit_id, owner_id, share, votes_for_unit, cert_hash, since) VALUES"
    " (1, 1, 1, 1, 1, 'c1', '2026-01-01T00:00:00+00:00'), (2, 2, 1, 1, 1, 'c2', '2026-01-01T00:00:00+00:00'),"
    " (3, 3, 2, 1, 1, NULL, '2026-01-01T00:00:00+00:00')",
    "INSERT INTO committee (id, compound_id, term_starts_on, term_ends_on, filing_status)"
    " VALUES (1, 2, '2026-01-01', '2030-01-01', 'filed')",
    "INSERT INTO committee_member (id, committee_id, owner_id, position) VALUES (1, 1, 1, 'x')",
]

async def main(url):
    config = tortoise_config(url)
    for target in ("models.0003_lookup_indexes", "voting.0002_lookup_indexes"):
        await migrate(config=config, target=target)
        await Tortoise.close_connections()
    await Tortoise.init(config=config)
    for row in ROWS:
        await connections.get("default").execute_script(row)
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    conn = connections.get("default")
    out = {}
    for query in (
        "SELECT id, compound_id, name, phone, id_hash, user_id FROM owner ORDER BY id",
        "SELECT id, unit_id, owner_id, cert_hash FROM ownership ORDER BY id",
        "SELECT id, committee_id, owner_id FROM committee_member ORDER BY id",
        "PRAGMA foreign_key_check",
    ):
        out[query.split()[-4] if "ORDER" in query else "fk"] = [list(r.values()) for r in await conn.execute_query_dict(query)]
    indexes = await conn.execute_query_dict("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='owner'")
    out["indexes"] = sorted(r["name"] for r in indexes)
    await Tortoise.close_connections()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
"""


def test_shared_owner_is_split_per_compound_keeping_the_account(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'old.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    # Z held units in A and B: the record stays with A, B gets a copy (same account, name, phone)
    assert state["owner"] == [
        [1, 1, "Z", "139", "h1", 1],
        [2, 2, "L", None, "h2", None],
        [3, None, "orphan", None, "h3", None],
        [4, 2, "Z", "139", "h1", 1],
    ]
    assert state["ownership"] == [[1, 1, 1, "c1"], [2, 2, 4, "c2"], [3, 3, 2, None]]
    assert state["committee_member"] == [[1, 1, 4]]  # B's committee seat moved to B's record
    assert state["fk"] == []
    assert "idx_owner_user_id_da06b3" in state["indexes"] and "uid_owner_compoun_163fcd" in state["indexes"]
