"""Roster import and export: all or nothing, matched in place, no ID or certificate number anywhere."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from tortoise import Tortoise

from accounts.errors import CompoundNotFound, RosterInvalid
from accounts.identity import certificate_hash, id_hash, keyed_hash, make_id_number
from accounts.models import (
    AreaSource,
    Building,
    Community,
    Compound,
    Owner,
    OwnerKind,
    Ownership,
    Unit,
    UnitKind,
)
from accounts.roster import export_roster_csv, import_roster, parse_roster
from audit.models import AuditEvent
from audit.service import Actor, compound_stream, events

KEY = b"test-hmac-key"
ACTOR = Actor("user:7", "物业管理员")
COLUMNS = [
    "building",
    "unit",
    "kind",
    "area",
    "area_source",
    "delivered",
    "owner_kind",
    "owner_name",
    "phone",
    "id_number",
    "certificate",
    "votes_for_unit",
    "developer",
]
CHINESE = ["楼栋", "房号", "类型", "面积", "面积来源", "已交付", "业主类型", "业主姓名", "手机号", "证件号码"]
CHINESE += ["不动产权证号", "表决代表", "开发商"]
DEVELOPER_CODE = "91510000MA0000001F"  # GB 32100 check character F


def pid(n: int) -> str:
    """A well-formed resident ID number (valid check digit), distinct for each n < 1000."""
    return make_id_number(f"51100019800101{n:03d}")


def cert(n: int) -> str:
    return f"川(2021)某县不动产权第{n:07d}号"


def line(
    *, building: str = "1号楼", unit: str = "101", kind: str = "flat", area: str = "89.37", **rest: str
) -> dict:
    return {"building": building, "unit": unit, "kind": kind, "area": area, **rest}


def person(n: int, name: str, **rest: str) -> dict[str, str]:
    return {"owner_name": name, "id_number": pid(n), **rest}


def to_csv(rows: list[dict], *, header: list[str] = COLUMNS, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(key, "") for key in COLUMNS[: len(header)]])
    return out.getvalue().encode(encoding)


# The base roster: 101 co-owned (张伟 votes), 张伟 also owns 102, 2号楼 201, the developer's two
# undelivered shops, and a parking space nobody owns yet.
BASE = [
    line(**person(1, "张伟", phone="13900000001", certificate=cert(1), votes_for_unit="yes")),
    line(**person(2, "李娜", certificate=cert(1))),
    line(unit="102", area="126.53", **person(1, "张伟", certificate=cert(2))),
    line(building="2号楼", unit="201", area="72.19", area_source="survey", **person(3, "王芳")),
    line(building="2号楼", unit="S01", kind="shop", area="45.00", delivered="no", owner_kind="organisation",
         owner_name="县城投置业有限公司", id_number=DEVELOPER_CODE, developer="yes"),
    line(building="2号楼", unit="S02", kind="shop", area="45.10", delivered="no", owner_kind="organisation",
         owner_name="县城投置业有限公司", id_number=DEVELOPER_CODE, developer="yes"),
    line(building="地下车库", unit="P001", kind="parking", area="13.20"),
]  # fmt: skip
NUMBERS = [pid(1), pid(2), pid(3), DEVELOPER_CODE, cert(1), cert(2)]


@pytest.fixture
async def compound(clean_db: None) -> Compound:
    community = await Community.create(name="东街社区")
    compound = await Compound.create(community=community, name="阳光花园")
    for name in ("1号楼", "2号楼", "地下车库"):
        await Building.create(compound=compound, name=name)
    return compound


async def snapshot() -> dict[str, Any]:
    """Every row of the registry tables, and how many audit events there are."""
    state: dict[str, Any] = {}
    for model in (Unit, Owner, Ownership):
        state[model.__name__] = sorted(await model.all().values(), key=lambda r: r["id"])
    state["audit"] = await AuditEvent.all().count()
    return state


def problems(error: RosterInvalid) -> list[tuple[int | None, str, str]]:
    return [(p["row"], p["field"], p["code"]) for p in error.details["problems"]]


async def holdings(compound: Compound) -> set[tuple[str, str, str, bool]]:
    rows = await Ownership.filter(unit__compound=compound).values(
        "unit__building__name", "unit__number", "owner__name", "votes_for_unit"
    )
    return {
        (r["unit__building__name"], r["unit__number"], r["owner__name"], r["votes_for_unit"]) for r in rows
    }


async def test_valid_csv_creates_exactly_what_it_says(compound: Compound) -> None:
    report = await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.rows, report.units_created, report.units_updated, report.units_unchanged) == (7, 6, 0, 0)
    assert (report.owners_created, report.owners_updated) == (4, 0)
    assert (report.ownerships_created, report.ownerships_updated, report.ownerships_removed) == (6, 0, 0)
    units = {
        (u.number, u.kind, u.area, u.area_source, u.delivered) for u in await Unit.filter(compound=compound)
    }
    assert units == {
        ("101", UnitKind.FLAT, Decimal("89.37"), AreaSource.REGISTER, True),
        ("102", UnitKind.FLAT, Decimal("126.53"), AreaSource.REGISTER, True),
        ("201", UnitKind.FLAT, Decimal("72.19"), AreaSource.SURVEY, True),
        ("S01", UnitKind.SHOP, Decimal("45.00"), AreaSource.REGISTER, False),
        ("S02", UnitKind.SHOP, Decimal("45.10"), AreaSource.REGISTER, False),
        ("P001", UnitKind.PARKING, Decimal("13.20"), AreaSource.REGISTER, True),
    }
    assert await holdings(compound) == {
        ("1号楼", "101", "张伟", True),
        ("1号楼", "101", "李娜", False),
        ("1号楼", "102", "张伟", True),
        ("2号楼", "201", "王芳", True),
        ("2号楼", "S01", "县城投置业有限公司", True),
        ("2号楼", "S02", "县城投置业有限公司", True),
    }
    owners = {o.name: o for o in await Owner.all()}
    assert owners["张伟"].phone == "13900000001" and owners["李娜"].phone is None
    # the hashes are the ones owner verification (accounts.service) and the demo data compute
    assert owners["张伟"].id_hash == id_hash(KEY, pid(1))
    assert owners["县城投置业有限公司"].id_hash == keyed_hash(KEY, "org", DEVELOPER_CODE)
    developer = owners["县城投置业有限公司"]
    assert (developer.kind, developer.is_developer) == (OwnerKind.ORGANISATION, True)
    assert not any(o.is_developer for o in owners.values() if o is not developer)
    share = await Ownership.get(unit__number="101", owner__name="李娜")
    assert share.cert_hash == certificate_hash(KEY, cert(1))
    assert await Ownership.get(unit__number="201").values_list("cert_hash", flat=True) is None


async def test_multi_unit_owner_is_one_owner_matched_by_id_number(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)

    zhang = await Owner.get(name="张伟")
    assert sorted(await Unit.filter(ownerships__owner=zhang).values_list("number", flat=True)) == [
        "101",
        "102",
    ]
    developer = await Owner.get(is_developer=True)
    assert await Ownership.filter(owner=developer).count() == 2
    assert await Owner.all().count() == 4


async def test_chinese_headers_and_values_in_gbk_give_the_same_roster(compound: Compound) -> None:
    chinese = {"flat": "住宅", "shop": "商铺", "parking": "车位", "survey": "实测", "yes": "是", "no": "否"}
    chinese |= {"organisation": "单位"}
    rows = [{k: chinese.get(v, v) for k, v in row.items()} for row in BASE]
    data = to_csv(rows, header=CHINESE, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")

    report = await import_roster(compound.id, data, "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.units_created, report.owners_created, report.ownerships_created) == (6, 4, 6)
    assert parse_roster(data, "csv") == parse_roster(to_csv(BASE), "csv")
    again = await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    assert not again.changed


async def test_csv_with_bom_and_excel_unicode_text_are_read(compound: Compound) -> None:
    expected = parse_roster(to_csv(BASE), "csv")
    tab_separated = to_csv(BASE).decode().replace(",", "\t").encode("utf-16")  # no commas in BASE's cells

    assert parse_roster(b"\xef\xbb\xbf" + to_csv(BASE), "csv") == expected
    assert parse_roster(tab_separated, "csv") == expected


async def test_json_list_of_objects_with_numbers_and_booleans(compound: Compound) -> None:
    document = [
        {"building": "1号楼", "unit": "101", "kind": "flat", "area": 89.37, "owner_name": "张伟",
         "id_number": pid(1), "phone": 13900000001, "votes_for_unit": True},
        {"楼栋": "1号楼", "房号": "101", "类型": "住宅", "面积": 89.37, "业主姓名": "李娜", "证件号码": pid(2),
         "表决代表": False},
        {"building": "地下车库", "unit": "P001", "kind": "parking", "area": 13.2, "delivered": False,
         "owner_name": None},
    ]  # fmt: skip

    report = await import_roster(
        compound.id, json.dumps(document).encode(), "json", hmac_key=KEY, actor=ACTOR
    )

    assert (report.rows, report.units_created, report.owners_created, report.ownerships_created) == (
        3,
        2,
        2,
        2,
    )
    parking = await Unit.get(number="P001")
    assert (parking.area, parking.delivered) == (Decimal("13.20"), False)
    assert await holdings(compound) == {("1号楼", "101", "张伟", True), ("1号楼", "101", "李娜", False)}
    assert (await Owner.get(name="张伟")).phone == "13900000001"


async def test_co_owned_unit_has_exactly_one_voter(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)

    shares = (
        await Ownership.filter(unit__number="101")
        .order_by("owner__name")
        .values_list("owner__name", "votes_for_unit")
    )
    assert sorted(shares) == [("张伟", True), ("李娜", False)]


# Each invalid file: what replaces BASE, and the exact problems (row, field, code) it must report.
BAD_AREAS = ["0", "-1", "12.345", "abc", "100000", "1e3", "99999.999"]
INVALID: dict[str, tuple[list[dict], list[tuple[int | None, str, str]]]] = {
    "duplicate row": (
        [*BASE, line(**person(2, "李娜"))],
        [(8, "id_number", "duplicate_row")],
    ),
    "unit rows disagree": (
        [
            line(**person(1, "张伟", votes_for_unit="是")),
            line(area="89.38", kind="shop", **person(2, "李娜")),
        ],
        [(2, "kind", "unit_mismatch"), (2, "area", "unit_mismatch")],
    ),
    "co-owned without voter": (
        [line(**person(1, "张伟")), line(**person(2, "李娜")), line(unit="102", **person(3, "王芳"))],
        [(1, "votes_for_unit", "voter_count")],
    ),
    "co-owned with two voters": (
        [line(**person(1, "张伟", votes_for_unit="yes")), line(**person(2, "李娜", votes_for_unit="是"))],
        [(1, "votes_for_unit", "voter_count")],
    ),
    "single owner not voting": (
        [line(**person(1, "张伟", votes_for_unit="no"))],
        [(1, "votes_for_unit", "voter_count")],
    ),
    "bad areas": (
        [line(unit=str(900 + i), area=area) for i, area in enumerate(BAD_AREAS)],
        [(i, "area", "bad_area") for i in range(1, len(BAD_AREAS) + 1)],
    ),
    "unknown building": (
        [*BASE[:3], line(building="9号楼", **person(4, "赵敏"))],
        [(4, "building", "unknown_building")],
    ),
    "malformed ID numbers": (
        [
            line(owner_name="张伟", id_number=pid(1)[:-1] + ("0" if pid(1)[-1] != "0" else "1")),
            line(unit="102", owner_name="李娜", id_number="5.11E+17"),
            line(unit="103", owner_name="县城投", owner_kind="单位", id_number="91510000MA000000IO"),
        ],
        [
            (1, "id_number", "bad_id_number"),
            (2, "id_number", "bad_id_number"),
            (3, "id_number", "bad_credit_code"),
        ],
    ),
    "bad phones": (
        [
            line(**person(1, "张伟", phone="1390000000")),
            line(unit="102", **person(2, "李娜", phone="23900000000")),
            line(unit="103", **person(3, "王芳", phone="139****0003")),
        ],
        [(1, "phone", "bad_phone"), (2, "phone", "bad_phone"), (3, "phone", "masked_phone")],
    ),
    "unknown kinds": (
        [
            line(kind="villa"),
            line(unit="102", owner_kind="公司", owner_name="某公司", id_number=DEVELOPER_CODE),
            line(unit="103", area_source="估算"),
            line(unit="104", delivered="也许"),
        ],
        [
            (1, "kind", "bad_kind"),
            (2, "owner_kind", "bad_owner_kind"),
            (3, "area_source", "bad_area_source"),
            (4, "delivered", "bad_bool"),
        ],
    ),
    "one ID number, two names": (
        [line(**person(1, "张伟")), line(unit="102", **person(1, "张玮"))],
        [(2, "owner_name", "owner_mismatch")],
    ),
    "missing required fields": (
        [
            line(building=""),
            line(unit=""),
            line(unit="103", kind=""),
            line(unit="104", area=""),
            line(unit="105", id_number=pid(5)),
            line(unit="106", owner_name="王芳"),
        ],
        [
            (1, "building", "required"),
            (2, "unit", "required"),
            (3, "kind", "required"),
            (4, "area", "required"),
            (5, "owner_name", "required"),
            (6, "id_number", "required"),
        ],
    ),
    "person as developer": (
        [line(**person(1, "张伟", developer="是"))],
        [(1, "developer", "developer_not_organisation")],
    ),
    "ownerless row beside owner rows": (
        [line(**person(1, "张伟")), line()],
        [(2, "owner_name", "owner_missing")],
    ),
    "bad certificate": (
        [line(**person(1, "张伟", certificate="第1号"))],
        [(1, "certificate", "bad_certificate")],
    ),
}


@pytest.mark.parametrize("case", list(INVALID))
async def test_an_invalid_file_is_refused_whole_and_changes_nothing(compound: Compound, case: str) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    before = await snapshot()
    rows, expected = INVALID[case]

    with pytest.raises(RosterInvalid) as caught:
        await import_roster(compound.id, to_csv(rows), "csv", hmac_key=KEY, actor=ACTOR)

    assert caught.value.error_code == "roster_invalid"
    assert problems(caught.value) == expected
    assert caught.value.details["total"] == len(expected)
    assert all(p["message"] for p in caught.value.details["problems"])
    assert await snapshot() == before


FILE_PROBLEMS: dict[str, tuple[bytes, str, list[tuple[int | None, str, str]]]] = {
    "empty": (b"", "csv", [(None, "file", "empty")]),
    "header only": (to_csv([]), "csv", [(None, "file", "empty")]),
    "excel workbook": (b"PK\x03\x04\x14\x00\x06\x00", "csv", [(None, "file", "unparseable")]),
    "neither utf-8 nor gbk": (b"building\xff\xfe\xfd", "csv", [(None, "file", "unparseable")]),
    "unbalanced quotes": (b'building,unit,kind,area\n"1"x,101,flat,1\n', "csv", [(None, "file", "unparseable")]),
    "nul bytes": (b"building,unit,kind,area\n1\x00,101,flat,1\n", "csv", [(None, "file", "unparseable")]),
    "broken json": (b'[{"building": "1', "json", [(None, "file", "unparseable")]),
    "json not a list": (b'{"building": "1"}', "json", [(None, "file", "unparseable")]),
    "json NaN area": (b'[{"building": "1", "unit": "1", "kind": "flat", "area": NaN}]', "json",
                      [(None, "file", "unparseable")]),
    "json row not an object": (b"[[1, 2]]", "json", [(1, "row", "not_an_object")]),
    "unknown column": ("building,unit,kind,area,面积2\n".encode(), "csv", [(None, "column", "unknown_column")]),
    "missing columns": (b"building,unit\n1,101\n", "csv",
                        [(None, "kind", "missing_column"), (None, "area", "missing_column")]),
    "names without ID numbers": ("楼栋,房号,类型,面积,业主姓名\n1号楼,101,住宅,89.37,张伟\n".encode(), "csv",
                                 [(None, "id_number", "missing_column")]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FILE_PROBLEMS))
async def test_an_unreadable_file_gets_a_clear_error(compound: Compound, case: str) -> None:
    data, fmt, expected = FILE_PROBLEMS[case]
    before = await snapshot()

    with pytest.raises(RosterInvalid) as caught:
        await import_roster(compound.id, data, fmt, hmac_key=KEY, actor=ACTOR)  # type: ignore[arg-type]

    assert problems(caught.value) == expected
    assert await snapshot() == before


async def test_more_than_20000_rows_are_refused(compound: Compound) -> None:
    rows = [line(unit=str(n)) for n in range(20_001)]

    with pytest.raises(RosterInvalid) as caught:
        await import_roster(compound.id, to_csv(rows), "csv", hmac_key=KEY, actor=ACTOR)

    assert problems(caught.value) == [(None, "file", "too_many_rows")]
    assert await Unit.all().count() == 0


async def test_problems_are_capped_at_200_with_the_total(compound: Compound) -> None:
    rows = [line(unit=str(n), area="0") for n in range(250)]

    with pytest.raises(RosterInvalid) as caught:
        await import_roster(compound.id, to_csv(rows), "csv", hmac_key=KEY, actor=ACTOR)

    assert len(caught.value.details["problems"]) == 200
    assert caught.value.details["total"] == 250
    assert caught.value.details["problems"][-1]["row"] == 200


async def test_identical_reimport_changes_nothing(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    before = await snapshot()

    report = await import_roster(compound.id, to_csv(list(reversed(BASE))), "csv", hmac_key=KEY, actor=ACTOR)

    assert not report.changed
    assert (report.units_created, report.units_updated, report.units_unchanged) == (0, 0, 6)
    assert (report.owners_created, report.owners_updated) == (0, 0)
    assert (report.ownerships_created, report.ownerships_updated, report.ownerships_removed) == (0, 0, 0)
    after = await snapshot()
    assert after["audit"] == before["audit"] + 1  # the import itself is recorded
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }


async def test_reimport_updates_in_place(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    ids = dict(await Unit.all().values_list("number", "id"))
    changed = [dict(row) for row in BASE]
    changed[2]["area"] = "126.60"  # 102
    changed[3]["owner_name"] = "王芳芳"  # 201's owner renamed

    report = await import_roster(compound.id, to_csv(changed), "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.units_created, report.units_updated, report.units_unchanged) == (0, 1, 5)
    assert (report.owners_created, report.owners_updated) == (0, 1)
    assert (report.ownerships_created, report.ownerships_removed) == (0, 0)
    assert dict(await Unit.all().values_list("number", "id")) == ids
    assert (await Unit.get(number="102")).area == Decimal("126.60")
    assert await Owner.filter(name="王芳芳").count() == 1 and not await Owner.exists(name="王芳")


async def test_removed_co_owner_loses_the_unit_but_stays_an_owner(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    without_li = [row for row in BASE if row.get("owner_name") != "李娜"]

    report = await import_roster(compound.id, to_csv(without_li), "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.ownerships_removed, report.ownerships_created, report.ownerships_updated) == (1, 0, 0)
    assert ("1号楼", "101", "李娜", False) not in await holdings(compound)
    assert ("1号楼", "101", "张伟", True) in await holdings(compound)
    assert await Owner.exists(name="李娜")


async def test_voter_change_and_new_co_owner_update_ownerships(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    rows = [dict(row) for row in BASE]
    rows[0]["votes_for_unit"], rows[1]["votes_for_unit"] = "no", "yes"
    rows.append(line(unit="102", area="126.53", **person(4, "赵敏")))
    rows[2]["votes_for_unit"] = "yes"

    report = await import_roster(compound.id, to_csv(rows), "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.owners_created, report.ownerships_created, report.ownerships_updated) == (1, 1, 2)
    assert {h for h in await holdings(compound) if h[1] in ("101", "102")} == {
        ("1号楼", "101", "张伟", False),
        ("1号楼", "101", "李娜", True),
        ("1号楼", "102", "张伟", True),
        ("1号楼", "102", "赵敏", False),
    }


async def test_units_absent_from_the_file_are_left_alone(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    before = await holdings(compound)

    report = await import_roster(compound.id, to_csv([BASE[3]]), "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.rows, report.units_unchanged, report.ownerships_removed) == (1, 1, 0)
    assert await holdings(compound) == before
    assert await Unit.filter(compound=compound).count() == 6


async def test_blank_phone_and_certificate_keep_the_stored_ones(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    blank = [{k: v for k, v in row.items() if k not in ("phone", "certificate")} for row in BASE]

    report = await import_roster(compound.id, to_csv(blank), "csv", hmac_key=KEY, actor=ACTOR)

    assert not report.changed
    assert (await Owner.get(name="张伟")).phone == "13900000001"
    assert (await Ownership.get(unit__number="102")).cert_hash == certificate_hash(KEY, cert(2))


async def test_the_import_is_audited_without_personal_data(compound: Compound) -> None:
    data = to_csv(BASE)

    report = await import_roster(compound.id, data, "csv", hmac_key=KEY, actor=ACTOR)

    [event] = await events(compound_stream(compound.id))
    assert (event["action"], event["actor"], event["actor_name"]) == (
        "roster.imported",
        "user:7",
        "物业管理员",
    )
    assert event["subject"] == f"compound:{compound.id}"
    assert event["payload"] == {
        "format": "csv",
        "rows": 7,
        "sha256": report.sha256,
        "units_created": 6,
        "units_updated": 0,
        "units_unchanged": 0,
        "owners_created": 4,
        "owners_updated": 0,
        "ownerships_created": 6,
        "ownerships_updated": 0,
        "ownerships_removed": 0,
    }
    assert report.sha256 == hashlib.sha256(data).hexdigest()


async def test_id_and_certificate_numbers_appear_nowhere(
    compound: Compound, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # includes the SQL Tortoise logs with its parameters
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    bad = [dict(row) for row in BASE]
    bad[0]["area"], bad[4]["owner_name"] = "-1", "另一个名字"
    with pytest.raises(RosterInvalid) as caught:
        await import_roster(compound.id, to_csv(bad), "csv", hmac_key=KEY, actor=ACTOR)
    export = (await export_roster_csv(compound.id)).decode("utf-8-sig")

    stored = []
    for app in Tortoise.apps.values():
        for model in app.values():
            stored += [str(value) for row in await model.all().values() for value in row.values()]
    places = {
        "database": "\n".join(stored),
        "error": f"{caught.value} {caught.value.details}",
        "parsed rows": repr(parse_roster(to_csv(BASE), "csv")),
        "export": export,
        "logs": caplog.text + "".join(str(r.args) for r in caplog.records),
    }
    assert "roster.imported" in places["database"] and "INSERT" in places["logs"].upper()
    for place, text in places.items():
        for number in NUMBERS:
            assert number not in text, f"{place} holds a number"
        assert "不动产权第" not in text, place


async def test_export_lists_units_and_owners_with_masked_phones(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)

    data = await export_roster_csv(compound.id)

    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        [
            "楼栋",
            "房号",
            "类型",
            "面积",
            "面积来源",
            "已交付",
            "业主类型",
            "业主姓名",
            "手机号",
            "表决代表",
            "开发商",
        ],
        ["1号楼", "101", "住宅", "89.37", "登记", "是", "个人", "张伟", "139****0001", "是", "否"],
        ["1号楼", "101", "住宅", "89.37", "登记", "是", "个人", "李娜", "", "否", "否"],
        ["1号楼", "102", "住宅", "126.53", "登记", "是", "个人", "张伟", "139****0001", "是", "否"],
        ["2号楼", "201", "住宅", "72.19", "实测", "是", "个人", "王芳", "", "是", "否"],
        ["2号楼", "S01", "商铺", "45.00", "登记", "否", "单位", "县城投置业有限公司", "", "是", "是"],
        ["2号楼", "S02", "商铺", "45.10", "登记", "否", "单位", "县城投置业有限公司", "", "是", "是"],
        ["地下车库", "P001", "车位", "13.20", "登记", "是", "", "", "", "", ""],
    ]


async def test_export_sorts_naturally_and_defuses_formulas(compound: Compound) -> None:
    await Building.create(compound=compound, name="10号楼")
    rows = [
        line(building="10号楼", unit="101"),
        line(unit="1001"),
        line(unit="901", **person(1, "=HYPERLINK(1)")),
    ]
    await import_roster(compound.id, to_csv(rows), "csv", hmac_key=KEY, actor=ACTOR)

    lines = list(csv.reader(io.StringIO((await export_roster_csv(compound.id)).decode("utf-8-sig"))))[1:]

    assert [(r[0], r[1], r[7]) for r in lines] == [
        ("1号楼", "901", "'=HYPERLINK(1)"),
        ("1号楼", "1001", ""),
        ("10号楼", "101", ""),
    ]


async def test_the_export_cannot_be_imported_back(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    before = await snapshot()

    with pytest.raises(RosterInvalid) as caught:
        await import_roster(
            compound.id, await export_roster_csv(compound.id), "csv", hmac_key=KEY, actor=ACTOR
        )

    assert problems(caught.value) == [(None, "id_number", "missing_column")]
    assert "仅供查阅" in caught.value.details["problems"][0]["message"]
    assert await snapshot() == before


async def test_an_unknown_compound_is_not_found(clean_db: None) -> None:
    with pytest.raises(CompoundNotFound):
        await import_roster(404, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    with pytest.raises(CompoundNotFound):
        await export_roster_csv(404)


async def test_concurrent_identical_imports_create_each_row_once(compound: Compound) -> None:
    data = to_csv(BASE)

    reports = await asyncio.gather(
        *(import_roster(compound.id, data, "csv", hmac_key=KEY, actor=ACTOR) for _ in range(3))
    )

    assert sorted(r.units_created for r in reports) == [0, 0, 6]
    assert (await Unit.all().count(), await Owner.all().count(), await Ownership.all().count()) == (6, 4, 6)


async def test_concurrent_imports_into_two_compounds_each_get_their_own_owner(compound: Compound) -> None:
    other = await Compound.create(community_id=compound.community_id, name="锦绣家园")  # type: ignore[attr-defined]
    await Building.create(compound=other, name="1号楼")
    data = to_csv([line(**person(1, "张伟"))])

    reports = await asyncio.gather(
        import_roster(compound.id, data, "csv", hmac_key=KEY, actor=ACTOR),
        import_roster(other.id, data, "csv", hmac_key=KEY, actor=ACTOR),
    )

    # one ID number in two rosters: one owner record in each compound, never a shared one
    assert [r.owners_created for r in reports] == [1, 1]
    assert sorted(await Owner.all().values_list("compound_id", flat=True)) == sorted([compound.id, other.id])
    pairs = await Ownership.all().values_list("unit__compound_id", "owner__compound_id")
    assert sorted(pairs) == sorted([(compound.id, compound.id), (other.id, other.id)])


async def test_a_roster_never_touches_another_compounds_owner_with_the_same_id(compound: Compound) -> None:
    await import_roster(compound.id, to_csv(BASE), "csv", hmac_key=KEY, actor=ACTOR)
    other = await Compound.create(community_id=compound.community_id, name="锦绣家园")  # type: ignore[attr-defined]
    await Building.create(compound=other, name="1号楼")
    before = await snapshot()
    rows = [line(**person(1, "改名者", phone="13800000000", certificate=cert(99)))]

    report = await import_roster(other.id, to_csv(rows), "csv", hmac_key=KEY, actor=ACTOR)

    assert (report.owners_created, report.owners_updated) == (1, 0)
    after = await snapshot()
    mine = {o["id"] for o in after["Owner"] if o["compound_id"] == compound.id}
    assert [o for o in after["Owner"] if o["id"] in mine] == before["Owner"]
    zhang = await Owner.get(compound=compound, name="张伟")
    assert zhang.phone == "13900000001"
