"""Backup → destroy → restore: every motion's chain and ballots verify in the restored system and its
exports equal the originals, every photo's bytes are identical; a tampered backup and a non-empty
target are refused with nothing written. On both backends (the suite's database is backed up live;
the restore goes into a scratch database and an empty media directory)."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from audit.service import export as audit_export
from audit.service import verify_database
from config.settings import Settings
from core.jsonutil import dumps
from photos.models import Photo
from server.ops.backup import BackupError, backup, database_is_empty, restore, verify_backup
from tests.ops.conftest import World
from voting import service as voting_service
from voting.models import Motion
from voting.verify import verify_motion_export

ROOT = Path(__file__).resolve().parents[2]

# Reads the restored system in its own process (Tortoise's connections are global).
READ_BACK = r"""
import asyncio, json, sys
from server import db
from audit.service import export, verify_database
from core.jsonutil import dumps
from voting import service
from voting.models import Motion
from voting.verify import verify_motion_export

async def main(url):
    await db.init_db(url)
    try:
        motions = {}
        for motion in await Motion.all().order_by("id"):
            document = json.loads(dumps(await service.export(motion)))
            document.pop("exported_at")
            motions[motion.id] = {"document": document, "problems": verify_motion_export(document)}
        report = await verify_database()
        audit = json.loads(dumps(await export()))
        audit.pop("exported_at", None)
        print(json.dumps({"motions": motions, "audit_ok": report.ok, "events": report.events, "audit": audit}))
    finally:
        await db.close_db()

asyncio.run(main(sys.argv[1]))
"""


def _jpeg(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise(size, 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


async def _motion_with_ballots(world: World, *, count: bool) -> int:
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    for n, owner_id in enumerate((await world.on_roll(motion_id))[:4]):
        cast = await world.cast(motion_id, owner_id, {str(item): ["agree", "oppose"][n % 2]})
        assert cast.status_code == 201, cast.text
    if count:
        await world.count(motion_id)
    return motion_id


def _normalised(document: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(dumps(document))
    document.pop("exported_at", None)
    return document


async def test_backup_destroy_restore_keeps_every_chain_and_photo(
    world: World, settings: Settings, tmp_path: Path, scratch_database: Callable[[], str]
) -> None:
    # given a counted motion, an open one with unsealed ballots, and two uploaded photos
    counted = await _motion_with_ballots(world, count=True)
    still_open = await _motion_with_ballots(world, count=False)
    for size in ((64, 48), (40, 40)):
        upload = await world.api.post(
            "/api/v1/photos", content=_jpeg(size), headers={**world.chair, "content-type": "image/jpeg"}
        )
        assert upload.status_code == 201, upload.text
    originals = {
        m.id: _normalised(await voting_service.export(m))
        for m in await Motion.filter(id__in=[counted, still_open])
    }
    assert all(verify_motion_export(doc) == [] for doc in originals.values())
    assert all(doc["ballots"] for doc in originals.values())
    audit_before = _normalised(await audit_export())
    assert (await verify_database()).ok
    photo_files = {}
    for photo in await Photo.all():
        for key in (photo.original_key, photo.display_key, photo.thumbnail_key):
            photo_files[key] = (Path(settings.media_dir) / key).read_bytes()
    assert len(photo_files) == 6

    # when the live system is backed up, then restored into an empty database and media directory
    result = await backup(settings.database_url, settings.media_dir, tmp_path / "backup")
    assert result.problems == []
    assert set(photo_files) <= set(result.manifest["media"]["files"])
    target_url, target_media = scratch_database(), tmp_path / "restored-media"
    assert await database_is_empty(target_url)
    await restore(target_url, target_media, tmp_path / "backup")

    # then every chain verifies there, the exports and the audit log are the originals, photos identical
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", READ_BACK, target_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    restored = json.loads(done.stdout)
    assert restored["audit_ok"] is True
    assert restored["audit"] == audit_before
    assert {int(k): v["problems"] for k, v in restored["motions"].items()} == {counted: [], still_open: []}
    assert {int(k): v["document"] for k, v in restored["motions"].items()} == originals
    assert {key: (target_media / key).read_bytes() for key in photo_files} == photo_files


async def test_restore_refuses_a_tampered_backup_and_a_target_holding_data(
    world: World, settings: Settings, tmp_path: Path, scratch_database: Callable[[], str]
) -> None:
    upload = await world.api.post(
        "/api/v1/photos", content=_jpeg((32, 32)), headers={**world.chair, "content-type": "image/jpeg"}
    )
    assert upload.status_code == 201, upload.text
    await backup(settings.database_url, settings.media_dir, tmp_path / "backup")
    target_url, target_media = scratch_database(), tmp_path / "restored-media"

    # a backup directory is never reused
    with pytest.raises(BackupError, match="not empty"):
        await backup(settings.database_url, settings.media_dir, tmp_path / "backup")

    # a flipped byte in one photo: refused before anything is written
    photo = await Photo.get(id=upload.json()["id"])
    tampered = tmp_path / "backup" / "media" / photo.display_key
    good = tampered.read_bytes()
    tampered.write_bytes(bytes([good[0] ^ 1]) + good[1:])
    assert verify_backup(tmp_path / "backup") == [
        f"media/{photo.display_key}: checksum does not match the manifest"
    ]
    with pytest.raises(BackupError, match="checksum"):
        await restore(target_url, target_media, tmp_path / "backup")
    assert await database_is_empty(target_url)
    assert not target_media.exists() or not any(target_media.rglob("*"))
    tampered.write_bytes(good)

    # restored once; a second restore over it is refused unless forced
    await restore(target_url, target_media, tmp_path / "backup")
    assert (target_media / photo.display_key).read_bytes() == good
    with pytest.raises(BackupError, match="not empty"):
        await restore(target_url, target_media, tmp_path / "backup")
    stray = target_media / "public" / "stray.jpg"
    stray.write_bytes(b"x")
    await restore(target_url, target_media, tmp_path / "backup", force=True)
    assert not stray.exists()
    assert (target_media / photo.display_key).read_bytes() == good
    assert not await database_is_empty(target_url)
