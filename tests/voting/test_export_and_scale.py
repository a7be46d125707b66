"""A motion's export verifies offline and betrays any edit; many voters at once all land."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from accounts.models import Building, Community, Compound, Owner, Ownership, Unit, User
from accounts.sessions import open_session
from audit.service import verify_database
from core import clock
from core.cache import Cache
from tests import motion_timing
from tests.conftest import gather_limited, run_cli
from voting.models import Ballot, CurrentBallot, Motion

from .conftest import World, every_page


async def _export(world: World, motion_id: int, path: Path) -> dict:
    document = (await world.api.get(f"/api/v1/motions/{motion_id}/export", headers=world.chair)).json()
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return document


async def test_export_verifies_offline_and_betrays_edits(world: World, tmp_path: Path) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owners = (await world.on_roll(motion_id))[1:6]
    for n, owner_id in enumerate(owners):
        assert (
            await world.cast(motion_id, owner_id, {str(item): ["agree", "oppose"][n % 2]})
        ).status_code == 201
    await world.count(motion_id)
    good = tmp_path / "motion.json"
    document = await _export(world, motion_id, good)
    assert len(document["ballots"]) == 5 and all(b["batch"] == 1 for b in document["ballots"])
    result = await asyncio.to_thread(run_cli, "audit", "verify", "--file", str(good))
    assert result.returncode == 0, result.stdout + result.stderr

    # someone edits a stored ballot's choice: its hash no longer matches
    victim = await Ballot.filter(motion_id=motion_id).order_by("id").first()
    assert victim is not None
    await Ballot.filter(id=victim.id).update(choices={str(item): "abstain"})
    edited = tmp_path / "edited.json"
    await _export(world, motion_id, edited)
    result = await asyncio.to_thread(run_cli, "audit", "verify", "--file", str(edited))
    assert result.returncode == 1 and f"ballot {victim.id}: content does not match" in result.stdout

    # ... and rewrites its hash to match: now the sealed Merkle root in the chain betrays it
    from voting.ballots import ballot_hash

    forged = ballot_hash(
        motion_id,
        victim.voter_id,
        victim.channel.value,
        {str(item): "abstain"},
        clock.iso_utc(victim.cast_at),
        victim.nonce,
    )  # type: ignore[attr-defined]
    await Ballot.filter(id=victim.id).update(ballot_hash=forged)
    rehashed = tmp_path / "rehashed.json"
    await _export(world, motion_id, rehashed)
    result = await asyncio.to_thread(run_cli, "audit", "verify", "--file", str(rehashed))
    assert result.returncode == 1 and "batch 1: ballots do not match the sealed root" in result.stdout


async def test_secret_motion_exports_hashes_only(world: World) -> None:
    motion_id = await world.open(secret=True)
    (item,) = await world.item_ids(motion_id)
    owner_id = (await world.on_roll(motion_id))[1]
    assert (await world.cast(motion_id, owner_id, {str(item): "agree"})).status_code == 201
    await world.count(motion_id)
    document = (await world.api.get(f"/api/v1/motions/{motion_id}/export", headers=world.chair)).json()
    assert set(document["ballots"][0]) == {"id", "ballot_hash", "batch", "counted"}


async def test_archives_list_every_cast_without_names(world: World) -> None:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owner_id = (await world.on_roll(motion_id))[1]
    await world.cast(motion_id, owner_id, {str(item): "agree"})
    await world.cast(motion_id, owner_id, {str(item): "oppose"})
    await world.count(motion_id)
    csv_text = (
        await world.api.get(f"{world.admin}/{motion_id}/archive.csv", headers=world.chair)
    ).content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    voters = len(await every_page(world.api, f"/api/v1/motions/{motion_id}/roll", world.chair, limit=50))
    assert lines[0].startswith("名单编号,房号,面积")
    assert len(lines) == 1 + 2 + (voters - 1)  # two casts of one voter, one line for each other voter
    owner = await Owner.get(id=owner_id)
    assert owner.name not in csv_text
    xlsx = await world.api.get(f"{world.admin}/{motion_id}/archive.xlsx", headers=world.chair)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_a_thousand_voters_casting_at_once_all_land(serve, cache: Cache, clean_db: None) -> None:
    """1,000 owners cast concurrently over HTTP (on PostgreSQL in CI); the tally and the chain agree."""
    n = 1000
    community = await Community.create(name="测试社区")
    compound = await Compound.create(community=community, name="千户小区")
    buildings = [await Building.create(compound=compound, name=f"{b}号楼") for b in range(1, 11)]
    await Unit.bulk_create(
        [
            Unit(
                compound=compound,
                building=buildings[i % 10],
                number=f"{i:04d}",
                area=Decimal("90.01") + Decimal(i % 7),
            )
            for i in range(n)
        ]
    )
    await User.bulk_create([User(openid=f"bulk-{i}") for i in range(n + 1)])
    await Owner.bulk_create([Owner(name=f"业主{i}", user_id=None) for i in range(n)])
    units = await Unit.filter(compound=compound).order_by("id")
    users = await User.filter(openid__startswith="bulk-").order_by("id")
    owners = await Owner.all().order_by("id")
    for owner, user in zip(owners, users, strict=False):
        owner.user_id = user.id  # type: ignore[attr-defined]
    await Owner.bulk_update(owners, fields=["user_id"], batch_size=500)
    await Ownership.bulk_create([Ownership(unit=u, owner=o) for u, o in zip(units, owners, strict=True)])
    chair = users[-1]
    from accounts.models import RoleGrant

    await RoleGrant.create(user=chair, role="community_admin", scope_type="community", scope_id=community.id)
    server = await serve(background=False)
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as api:
        chair_auth = {"authorization": f"Bearer {(await open_session(cache, chair.id, 3600)).token}"}
        admin = f"/api/v1/admin/compounds/{compound.id}/motions"
        now = clock.now()
        body = {"title": "千户表决", "text": "测试", "items": [{"title": "聘用物业", "matter": "hire_property_company"}],
                "opens_at": (now + timedelta(milliseconds=500)).isoformat(), "closes_at": now.replace(year=now.year + 1).isoformat(), "announce_days": 0}  # fmt: skip
        motion_id = (await api.post(admin, headers=chair_auth, json=body)).json()["id"]
        await motion_timing.announce(api, admin, motion_id, chair_auth)
        await motion_timing.until_opens(motion_id)
        assert (await api.post(f"{admin}/{motion_id}/open", headers=chair_auth)).status_code == 200
        item = (await api.get(f"{admin}/{motion_id}", headers=chair_auth)).json()["items"][0]["id"]
        tokens = [(await open_session(cache, u.id, 3600)).token for u in users[:n]]

        async def one(i: int) -> int:
            choice = "agree" if i % 4 else "oppose"
            response = await api.post(
                f"/api/v1/motions/{motion_id}/ballots",
                headers={"authorization": f"Bearer {tokens[i]}"},
                json={"choices": {str(item): choice}},
            )
            return response.status_code

        # 64 requests in flight at a time: the httpx pool is slow to hand out connections to a queue of 1,000
        statuses = await gather_limited([one(i) for i in range(n)], limit=64)
        assert statuses == [201] * n
        assert await CurrentBallot.filter(motion_id=motion_id).count() == n
        await Motion.filter(id=motion_id).update(closes_at=clock.now())
        assert (await api.post(f"{admin}/{motion_id}/close", headers=chair_auth)).status_code == 200
        counted = (await api.post(f"{admin}/{motion_id}/count", headers=chair_auth)).json()
        assert counted["status"] == "counted"
        result = (await api.get(f"/api/v1/motions/{motion_id}/results", headers=chair_auth)).json()
        item_result = result["items"][0]
        assert item_result["agree"]["headcount"] == n - n // 4
        assert item_result["oppose"]["headcount"] == n // 4
        expected_agree_area = sum(
            (Decimal("90.01") + Decimal(i % 7) for i in range(n) if i % 4), Decimal("0")
        )
        assert Decimal(item_result["agree"]["area"]) == expected_agree_area
        assert item_result["passed"] is True
    assert (await verify_database()).ok


async def test_the_database_refuses_to_delete_a_motion_with_ballots(world: World) -> None:
    from tortoise.exceptions import IntegrityError, OperationalError

    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    assert (
        await world.cast(motion_id, (await world.on_roll(motion_id))[1], {str(item): "agree"})
    ).status_code == 201
    with pytest.raises((IntegrityError, OperationalError)):
        await Motion.filter(id=motion_id).delete()
    assert await Motion.filter(id=motion_id).exists()
    assert await Ballot.filter(motion_id=motion_id).count() == 1
