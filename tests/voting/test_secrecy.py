"""Ballot secrecy as a table (issue 10, item 2): motion open or counted × secret or not × who asks →
what each read shows. While open nobody, the committee included, sees a choice or which room cast
which ballot, only participation totals; after the count an open motion publishes room + area +
choice, a secret one only totals. The export still verifies offline in every case."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from accounts.demo import FILLED
from accounts.models import Compound, Owner, Resident, ResidentRelation, RoleGrant, Unit, User
from accounts.sessions import open_session
from core.cache import Cache
from tests.conftest import run_cli
from voting.models import Voter

from .conftest import World, every_page

ROLES = ["anonymous", "unrelated", "other_compound_owner", "owner", "resident", "committee", "supervisor"]
READERS = {"owner", "resident", "committee", "supervisor"}  # roll, results, ballot list, export
WATCHERS = {"committee", "supervisor"}  # the committee's live turnout and archives
CHOICES = ["agree", "oppose", "abstain", "agree"]

# (phase, secret) -> what a reader sees: ballot list (choices by room), which keys each exported
# ballot has, whether the archive ties rooms to ballots and shows choices, whether totals are out
VISIBLE: dict[tuple[str, bool], dict[str, Any]] = {
    ("open", False): {"ballot_list": (409, "results_not_ready"), "export_keys": {"id", "ballot_hash", "batch"},
                      "archive_by_room": False, "totals": False},
    ("open", True): {"ballot_list": (409, "results_not_ready"), "export_keys": {"id", "ballot_hash", "batch"},
                     "archive_by_room": False, "totals": False},
    ("counted", False): {"ballot_list": (200, None), "archive_by_room": True, "totals": True,
                         "export_keys": {"id", "ballot_hash", "batch", "counted", "motion", "voter", "channel",
                                         "choices", "cast_at", "nonce"}},
    ("counted", True): {"ballot_list": (409, "motion_secret"), "export_keys": {"id", "ballot_hash", "batch", "counted"},
                        "archive_by_room": False, "totals": True},
}  # fmt: skip


async def _headers(role: str, world: World, motion_id: int, cache: Cache) -> dict[str, str]:
    if role == "anonymous":
        return {}
    if role == "committee":
        return world.chair
    if role == "owner":
        return world.owners[(await world.on_roll(motion_id))[-1]]  # not on the committee (its first five)
    user = await User.create(openid=f"secrecy-{role}")
    if role == "resident":
        unit = await Unit.filter(compound=world.compound).first()
        await Resident.create(unit=unit, user=user, relation=ResidentRelation.TENANT)
    elif role == "other_compound_owner":
        other = await Compound.filter(name=FILLED[1], community_id=world.compound.community_id).first()  # type: ignore[attr-defined]
        owner = await Owner.filter(ownerships__unit__compound=other, user_id=None, is_developer=False).first()
        assert owner is not None
        owner.user = user
        await owner.save(update_fields=["user_id"])
    elif role == "supervisor":
        await RoleGrant.create(user=user, role="supervisor", scope_type="county", scope_id=0)
    return {"authorization": f"Bearer {(await open_session(cache, user.id, 600)).token}"}


def _denied(role: str, allowed: set[str], response: httpx.Response) -> bool:
    expected = 401 if role == "anonymous" else 403
    return role not in allowed and response.status_code == expected


def _archive_rows(csv_body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_body.decode("utf-8-sig"))))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("secret", [False, True], ids=["open_motion", "secret_motion"])
@pytest.mark.parametrize("phase", ["open", "counted"])
async def test_what_each_role_sees(
    phase: str, secret: bool, role: str, world: World, cache: Cache, tmp_path: Path
) -> None:
    motion_id = await world.open(secret=secret)
    (item,) = await world.item_ids(motion_id)
    voters = (await world.on_roll(motion_id))[1:5]
    for owner_id, choice in zip(voters, CHOICES, strict=True):
        assert (await world.cast(motion_id, owner_id, {str(item): choice})).status_code == 201
    if phase == "counted":
        await world.count(motion_id)
    visible = VISIBLE[(phase, secret)]
    headers = await _headers(role, world, motion_id, cache)
    base, admin = f"/api/v1/motions/{motion_id}", f"{world.admin}/{motion_id}"
    get = world.api.get

    # the roll: rooms and areas of who may vote, for the compound's readers only
    roll = await get(f"{base}/roll", headers=headers)
    if role in READERS:
        rows = await every_page(world.api, f"{base}/roll", headers, limit=50)
        assert roll.status_code == 200 and len(rows) == await Voter.filter(motion_id=motion_id).count()
        assert set(rows[0]) == {"voter_id", "area", "developer", "rooms"}
    else:
        assert _denied(role, READERS, roll), roll.text

    # live turnout: participation totals, never a choice
    turnout = await get(f"{admin}/turnout", headers=headers)
    if role in WATCHERS:
        assert turnout.status_code == 200
        assert set(turnout.json()) == {
            "total",
            "participating",
            "participation_area",
            "participation_headcount",
        }
        assert set(turnout.json()["participation_area"]) == {"ratio", "numerator", "denominator", "percent"}
        assert turnout.json()["participating"]["headcount"] == len(voters)
    else:
        assert _denied(role, WATCHERS, turnout), turnout.text

    # totals: after the count, for both kinds
    results = await get(f"{base}/results", headers=headers)
    if role not in READERS:
        assert _denied(role, READERS, results), results.text
    elif visible["totals"]:
        assert results.status_code == 200
        counted = results.json()["items"][0]
        assert [counted[s]["headcount"] for s in ("agree", "oppose", "abstain")] == [2, 1, 1]
    else:
        assert (results.status_code, results.json()["code"]) == (409, "results_not_ready")

    # choices by room: an open motion after the count only
    listing = await get(f"{base}/ballot-list", headers=headers)
    if role not in READERS:
        assert _denied(role, READERS, listing), listing.text
    else:
        status, code = visible["ballot_list"]
        assert listing.status_code == status, listing.text
        if code:
            assert listing.json()["code"] == code
        else:
            rows = await every_page(world.api, f"{base}/ballot-list", headers, limit=50)
            assert sorted(r["choices"][str(item)] for r in rows) == sorted(CHOICES)
            # the roll's entry (rooms and area, as the public roll lists them), never a name
            assert all(set(r) == {"voter_id", "rooms", "area", "choices", "channel"} for r in rows)

    # the export: every ballot by its hash; contents only where published; verifies offline
    export = await get(f"{base}/export", headers=headers)
    if role not in READERS:
        assert _denied(role, READERS, export), export.text
    else:
        assert export.status_code == 200
        document = export.json()
        assert [set(b) for b in document["ballots"]] == [visible["export_keys"]] * len(voters)
        assert (document["motion"]["result"] is not None) is visible["totals"]
        if phase == "open":  # no choice anywhere in it, not even as a total
            assert not any(f'"{choice}"' in export.text for choice in CHOICES)
        path = tmp_path / "export.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        verified = await asyncio.to_thread(run_cli, "audit", "verify", "--file", str(path))
        assert verified.returncode == 0, verified.stdout + verified.stderr

    # the archive: rooms tied to ballots (and choices) only where published
    archive_csv = await get(f"{admin}/archive.csv", headers=headers)
    archive_xlsx = await get(f"{admin}/archive.xlsx", headers=headers)
    if role not in WATCHERS:
        assert _denied(role, WATCHERS, archive_csv) and _denied(role, WATCHERS, archive_xlsx)
        return
    assert archive_csv.status_code == archive_xlsx.status_code == 200
    csv_rows = _archive_rows(archive_csv.content)[1:]
    sheet = load_workbook(io.BytesIO(archive_xlsx.content)).active
    assert sheet is not None
    xlsx_rows = [
        ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    for rows in (csv_rows, xlsx_rows):
        by_room = [r for r in rows if r[1] and r[7]]  # a row with both a room and a ballot hash
        choices = sorted(r[5].split(":")[1] for r in rows if r[5])
        if visible["archive_by_room"]:
            assert len(by_room) == len(voters) and choices == sorted(CHOICES)
        else:
            assert by_room == [] and choices == []
            assert len([r for r in rows if r[7]]) == len(voters)  # every ballot, by its hash alone
            assert all(r[3] == r[4] == "" for r in rows)  # no channel, time or "未投票" mark
