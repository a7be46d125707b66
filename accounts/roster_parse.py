"""Reading and checking a compound's roster file (花名册) before anything touches the database.

One row per (unit, owner): a co-owned unit has one row per co-owner, each repeating the unit's data; a
unit without an owner yet has one row with the owner columns empty. Problems give 1-based data rows:
row 1 is the first row under the header (line 2 in Excel), or the first object of a JSON list.

Any cell may hold an ID or certificate number (even a header cell, when a file has no header row), so a
problem names the row and the field, never a cell's content. The numbers themselves live only in
OwnerEntry fields left out of repr(), until accounts.roster hashes them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from accounts.errors import RosterInvalid
from accounts.identity import normalise_certificate, normalise_credit_code, normalise_id_number
from accounts.models import AreaSource, OwnerKind, UnitKind
from core.errors import UnsupportedMedia

Format = Literal["csv", "json"]
MAX_ROWS = 20_000
MAX_BYTES = 16 * 1024 * 1024
MAX_PROBLEMS = 200  # problems shown; "total" counts them all

# English key -> Chinese header; also the export's column order (minus the two numbers)
LABELS: dict[str, str] = {
    "building": "楼栋",
    "unit": "房号",
    "kind": "类型",
    "area": "面积",
    "area_source": "面积来源",
    "delivered": "已交付",
    "owner_kind": "业主类型",
    "owner_name": "业主姓名",
    "phone": "手机号",
    "id_number": "证件号码",
    "certificate": "不动产权证号",
    "votes_for_unit": "表决代表",
    "developer": "开发商",
}
REQUIRED_COLUMNS = ("building", "unit", "kind", "area")
_COLUMNS = {**{key: key for key in LABELS}, **{label: key for key, label in LABELS.items()}}
KINDS = {"flat": UnitKind.FLAT, "住宅": UnitKind.FLAT, "shop": UnitKind.SHOP, "商铺": UnitKind.SHOP}
KINDS |= {"parking": UnitKind.PARKING, "车位": UnitKind.PARKING}
SOURCES = {"register": AreaSource.REGISTER, "登记": AreaSource.REGISTER, "survey": AreaSource.SURVEY}
SOURCES |= {"实测": AreaSource.SURVEY, "contract": AreaSource.CONTRACT, "合同": AreaSource.CONTRACT}
OWNER_KINDS = {"person": OwnerKind.PERSON, "个人": OwnerKind.PERSON, "单位": OwnerKind.ORGANISATION}
OWNER_KINDS |= {"organisation": OwnerKind.ORGANISATION, "organization": OwnerKind.ORGANISATION}
BOOLS = dict.fromkeys(("yes", "是", "true", "1"), True) | dict.fromkeys(("no", "否", "false", "0"), False)
_UNIT_KEYS = ("building", "unit", "kind", "area", "area_source", "delivered")
_MAX_LENGTH = {"building": 50, "unit": 30, "owner_name": 100}
_AREA = re.compile(r"^\d{1,9}(\.\d{1,9})?$")
_MAX_AREA = Decimal("99999.99")
_CENT = Decimal("0.01")
_PHONE = re.compile(r"^1\d{10}$")
_MESSAGES = {
    "required": "{label}不能为空",
    "too_long": "{label}过长",
    "bad_value": "{label}须为文字或数字",
    "bad_kind": "类型须为 住宅、商铺 或 车位（flat/shop/parking）",
    "bad_area_source": "面积来源须为 登记、实测 或 合同（register/survey/contract）",
    "bad_owner_kind": "业主类型须为 个人 或 单位（person/organisation）",
    "bad_bool": "{label}须为 是 或 否",
    "bad_area": "面积须为大于0、不超过99999.99、最多两位小数的数字",
    "bad_phone": "手机号须为1开头的11位数字",
    "masked_phone": "手机号是脱敏号码：导出的名册仅供查阅，不能直接导入",
    "bad_id_number": "身份证号码格式或校验位不正确（在Excel中请将该列设为文本格式）",
    "bad_credit_code": "单位的证件号码须为18位统一社会信用代码（数字或大写字母，校验位须正确）",
    "bad_certificate": "不动产权证号须为4到60个字符",
    "developer_not_organisation": "只有业主类型为单位的业主可以标为开发商",
    "unknown_building": "本小区没有这个楼栋，请先在系统中添加楼栋或核对楼栋名称",
    "extra_cell": "本行在没有列名的列中填写了内容",
}


@dataclass(frozen=True, slots=True)
class Problem:
    row: int | None  # None: the file as a whole, or its header
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message}


def problem(row: int | None, key: str, code: str, message: str | None = None) -> Problem:
    return Problem(row, key, code, message or _MESSAGES[code].format(label=LABELS.get(key, key)))


@dataclass(frozen=True, slots=True)
class OwnerEntry:
    kind: OwnerKind
    name: str
    phone: str | None  # None: not given, a stored phone is kept
    # Normalised ID number (person) or credit code (organisation): hashed before storage, never shown.
    number: str = field(repr=False)
    certificate: str | None = field(repr=False)  # None: not given, a stored certificate hash is kept
    votes_for_unit: bool
    developer: bool


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int
    building: str
    unit: str
    kind: UnitKind
    area: Decimal
    area_source: AreaSource
    delivered: bool
    owner: OwnerEntry | None


@dataclass(slots=True)
class _Draft:
    """One row as read; a field that failed its check is None and does not take part in cross-checks."""

    row: int
    values: dict[str, Any]
    has_owner: bool = False
    bad: set[str] = field(default_factory=set)

    def get(self, key: str) -> Any:
        return None if key in self.bad else self.values.get(key)


def parse_roster(data: bytes, fmt: Format) -> list[RosterRow]:
    """Read and check a roster on its own: everything except that its buildings exist."""
    return validate_roster(data, fmt, buildings=None)


def validate_roster(data: bytes, fmt: Format, *, buildings: Collection[str] | None) -> list[RosterRow]:
    """The file's rows, or RosterInvalid listing every problem found (capped at MAX_PROBLEMS)."""
    if fmt not in ("csv", "json"):
        raise UnsupportedMedia("花名册须为 CSV 或 JSON 文件")
    records, problems = _read(data, fmt)
    drafts = [_parse_row(row, raw, problems) for row, raw in records]
    if buildings is not None:
        known = set(buildings)
        unknown = [d for d in drafts if d.get("building") and d.get("building") not in known]
        problems += [problem(d.row, "building", "unknown_building") for d in unknown]
    problems += _cross_check(drafts)
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise RosterInvalid(
            f"花名册有 {len(problems)} 处问题，未导入任何数据，请修改后重新上传",
            details={"problems": [p.as_dict() for p in problems[:MAX_PROBLEMS]], "total": len(problems)},
        )
    return _rows(drafts)


def _file_problem(code: str, message: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    return [], [problem(None, "file", code, message)]


def _read(data: bytes, fmt: Format) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    if not data.strip():
        return _file_problem("empty", "文件为空")
    if len(data) > MAX_BYTES:
        return _file_problem("too_large", f"文件过大（不能超过 {MAX_BYTES // 1024 // 1024} MB）")
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return _file_problem("unparseable", "这是Excel工作簿，请在Excel中另存为“CSV UTF-8”后上传")
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
            text = data.decode("utf-16")
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:  # Excel in China saves CSV in the ANSI code page (GBK)
                text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        return _file_problem("unparseable", "无法识别文件编码，请保存为UTF-8或GBK编码的CSV文件")
    try:
        return _read_json(text) if fmt == "json" else _read_csv(text)
    except json.JSONDecodeError as exc:  # its message carries the position only, its .doc is not used
        return _file_problem("unparseable", f"JSON格式错误（第{exc.lineno}行第{exc.colno}列）")
    except ValueError:
        return _file_problem("unparseable", "JSON格式错误")
    except RecursionError:  # a document nested thousands deep: the parser runs out of stack
        return _file_problem("unparseable", "JSON嵌套层数过多")


def _column(name: str) -> str | None:
    return _COLUMNS.get(name.strip().lstrip("\ufeff").rstrip("*").strip().lower())


def _read_csv(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return _read_csv_rows(reader)
    except csv.Error:
        message = f"CSV格式错误（文件第{reader.line_num}行附近），请检查引号是否配对"
        return _file_problem("unparseable", message)


def _read_csv_rows(reader: Any) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        return _file_problem("empty", "文件第一行须为列名")
    problems: list[Problem] = []
    columns: list[str | None] = []
    for position, name in enumerate(header, start=1):
        key = _column(name) if name.strip() else None
        if name.strip() and key is None:
            problems.append(problem(None, "column", "unknown_column", f"第{position}列的列名无法识别"))
        elif key is not None and key in columns:
            problems.append(problem(None, key, "duplicate_column", f"“{LABELS[key]}”列重复"))
        columns.append(key)
    problems += _missing_columns(set(filter(None, columns)))
    if problems:
        return [], problems
    records: list[tuple[int, dict[str, Any]]] = []
    for row, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue  # Excel leaves empty rows behind; the numbering still counts them
        if len(records) == MAX_ROWS:
            return _file_problem("too_many_rows", f"数据行过多（不能超过 {MAX_ROWS} 行）")
        raw = {key: cell for key, cell in zip(columns, cells, strict=False) if key is not None}
        unnamed = [c for i, c in enumerate(cells) if (i >= len(columns) or columns[i] is None) and c.strip()]
        if unnamed:
            problems.append(problem(row, "column", "extra_cell"))
        records.append((row, raw))
    if not records:
        return _file_problem("empty", "文件中没有数据行")
    return records, problems


def _missing_columns(present: set[str]) -> list[Problem]:
    missing = [problem(None, key, "missing_column", f"缺少“{LABELS[key]}”列") for key in REQUIRED_COLUMNS]
    found = [p for p in missing if p.field not in present]
    if "owner_name" in present and "id_number" not in present:
        message = "缺少“证件号码”列：每位业主都须有证件号码（导出的名册不含证件号码，仅供查阅，不能直接导入）"
        found.append(problem(None, "id_number", "missing_column", message))
    return found


def _read_json(text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem]]:
    def refuse_constant(name: str) -> Any:
        raise ValueError(name)

    document = json.loads(text, parse_float=Decimal, parse_constant=refuse_constant)
    if not isinstance(document, list):
        return _file_problem("unparseable", "JSON须为对象列表，每个对象一行")
    if not document:
        return _file_problem("empty", "文件中没有数据行")
    if len(document) > MAX_ROWS:
        return _file_problem("too_many_rows", f"数据行过多（不能超过 {MAX_ROWS} 行）")
    problems: list[Problem] = []
    records: list[tuple[int, dict[str, Any]]] = []
    for row, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            problems.append(problem(row, "row", "not_an_object", "每一行须为一个JSON对象"))
            continue
        raw: dict[str, Any] = {}
        for name, value in item.items():
            key = _column(name)
            if key is None:
                problems.append(problem(row, "column", "unknown_column", "本行有无法识别的字段名"))
            elif key in raw:
                problems.append(problem(row, key, "duplicate_column", f"“{LABELS[key]}”字段重复"))
            else:
                raw[key] = value
        records.append((row, raw))
    return records, problems


def _text(value: Any) -> str | None:
    """A cell as stripped text; None when it is not a scalar (a JSON list or object)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | Decimal):
        return str(value).strip()
    return None


def _parse_row(row: int, raw: dict[str, Any], problems: list[Problem]) -> _Draft:
    draft = _Draft(row, {})
    text: dict[str, str] = {}
    for key in LABELS:
        value = _text(raw.get(key))
        if value is None:
            problems.append(problem(row, key, "bad_value"))
            draft.bad.add(key)
        text[key] = value or ""

    def check(key: str, value: Any, code: str) -> None:
        draft.values[key] = value
        if value is None and key not in draft.bad:
            draft.bad.add(key)
            problems.append(problem(row, key, code))

    def choose(key: str, table: dict[str, Any], code: str, default: Any = None) -> None:
        value = text[key].lower()
        check(key, table.get(value) if value else default, code if value else "required")

    def name(key: str) -> None:
        value, too_long = text[key], len(text[key]) > _MAX_LENGTH[key]
        check(key, value if value and not too_long else None, "too_long" if too_long else "required")

    name("building")
    name("unit")
    choose("kind", KINDS, "bad_kind")
    check("area", _area(text["area"]) if text["area"] else None, "bad_area" if text["area"] else "required")
    choose("area_source", SOURCES, "bad_area_source", AreaSource.REGISTER)
    choose("delivered", BOOLS, "bad_bool", True)
    choose("developer", BOOLS, "bad_bool", False)
    draft.has_owner = any(text[k] for k in ("owner_name", "id_number", "phone", "certificate"))
    draft.has_owner |= draft.values["developer"] is True
    if not draft.has_owner:
        return draft
    choose("owner_kind", OWNER_KINDS, "bad_owner_kind", OwnerKind.PERSON)
    name("owner_name")
    kind = draft.get("owner_kind")
    number = text["id_number"]
    if not number:
        check("id_number", None, "required")
    elif kind is OwnerKind.PERSON:
        check("id_number", normalise_id_number(number), "bad_id_number")
    elif kind is OwnerKind.ORGANISATION:
        check("id_number", normalise_credit_code(number), "bad_credit_code")
    if text["phone"]:
        phone = re.sub(r"[\s-]", "", text["phone"]).removeprefix("+86")
        phone = phone[2:] if len(phone) == 13 and phone.startswith("86") else phone
        check(
            "phone", phone if _PHONE.match(phone) else None, "masked_phone" if "*" in phone else "bad_phone"
        )
    if text["certificate"]:
        check("certificate", normalise_certificate(text["certificate"]), "bad_certificate")
    if text["votes_for_unit"]:
        choose("votes_for_unit", BOOLS, "bad_bool")
    if draft.get("developer") is True and kind is OwnerKind.PERSON:
        check("developer", None, "developer_not_organisation")
    return draft


def _area(text: str) -> Decimal | None:
    if not _AREA.match(text):
        return None
    value = Decimal(text)
    if value <= 0 or value > _MAX_AREA or value != value.quantize(_CENT):
        return None
    return value.quantize(_CENT)


def _rows_list(rows: list[int]) -> str:
    return "、".join(str(r) for r in rows[:10]) + ("等" if len(rows) > 10 else "")


def _cross_check(drafts: list[_Draft]) -> list[Problem]:
    problems: list[Problem] = []
    units: dict[tuple[str, str], list[_Draft]] = {}
    for draft in drafts:
        if draft.get("building") and draft.get("unit"):
            units.setdefault((draft.get("building"), draft.get("unit")), []).append(draft)
    for group in units.values():
        first = group[0]
        for draft in group[1:]:
            for key in _UNIT_KEYS[2:]:
                mine, theirs = draft.get(key), first.get(key)
                if mine is not None and theirs is not None and mine != theirs:
                    message = f"与第{first.row}行同一房屋的{LABELS[key]}不一致"
                    problems.append(problem(draft.row, key, "unit_mismatch", message))
        if len(group) > 1:
            message = "同一房屋有多行时，每行都须填写业主（无业主的房屋只写一行）"
            problems += [
                problem(d.row, "owner_name", "owner_missing", message) for d in group if not d.has_owner
            ]
        owner_rows = [d for d in group if d.has_owner]
        seen: dict[str, int] = {}
        for draft in owner_rows:
            number = draft.get("id_number")
            if number in seen:
                message = f"与第{seen[number]}行重复（同一房屋、同一业主）"
                problems.append(problem(draft.row, "id_number", "duplicate_row", message))
            elif number:
                seen[number] = draft.row
        if owner_rows and not any("votes_for_unit" in d.bad for d in owner_rows):
            votes = [d.values.get("votes_for_unit") for d in owner_rows]
            voters = (votes[0] is not False) if len(votes) == 1 else sum(v is True for v in votes)
            if voters != 1:
                rows = [d.row for d in owner_rows]
                message = f"该房屋（第{_rows_list(rows)}行）须有且只有一位表决代表，现有{voters}位"
                problems.append(problem(rows[0], "votes_for_unit", "voter_count", message))
    owners: dict[str, _Draft] = {}
    for draft in drafts:
        number = draft.get("id_number") if draft.has_owner else None
        first = owners.setdefault(number, draft) if number else draft
        if first is draft:
            continue
        for key in ("owner_kind", "owner_name", "phone", "developer"):
            mine, theirs = draft.get(key), first.get(key)
            if mine is not None and theirs is not None and mine != theirs:
                message = f"与第{first.row}行证件号码相同，但{LABELS[key]}不一致"
                problems.append(problem(draft.row, key, "owner_mismatch", message))
    return problems


def _rows(drafts: list[_Draft]) -> list[RosterRow]:
    phones: dict[str, str] = {}  # the owner's phone, from whichever of their rows gives one
    owner_rows: dict[tuple[str, str], int] = {}
    for draft in drafts:
        if draft.has_owner:
            unit = (draft.values["building"], draft.values["unit"])
            owner_rows[unit] = owner_rows.get(unit, 0) + 1
            if draft.values.get("phone"):
                phones.setdefault(draft.values["id_number"], draft.values["phone"])
    rows: list[RosterRow] = []
    for draft in drafts:
        v = draft.values
        owner = None
        if draft.has_owner:
            single = owner_rows[(v["building"], v["unit"])] == 1
            owner = OwnerEntry(
                kind=v["owner_kind"],
                name=v["owner_name"],
                phone=phones.get(v["id_number"]),
                number=v["id_number"],
                certificate=v.get("certificate"),
                votes_for_unit=single or v.get("votes_for_unit") is True,
                developer=v["developer"],
            )
        rows.append(RosterRow(row=draft.row, owner=owner, **{k: v[k] for k in _UNIT_KEYS}))
    return rows
