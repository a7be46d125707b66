"""Structured disclosures (公示 / 年度公开) in the console: a line-item editor per section, saved by
notices.disclosures (draft, revise), which computes every total; the page then shows the totals of the
saved document, never numbers of its own. Amounts are typed in yuan and read as integer fen (no
float). The form is plain POST; console.js only adds and removes rows. Publishing and withdrawing
are the notice's own (console.notices)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from console.committee import compound
from console.notices import AUDIENCE_NAMES, MANAGERS, POSTING, caller, kinds_for, problems_of, where
from console.web import MAX_FORM_TEXT, PREFIX, form_model, form_text, page, render, see_other, status_of
from core import errors
from miniprogram_api import notices_admin as api
from miniprogram_api.auth import Principal
from notices import disclosures, ledger, lifecycle
from notices.errors import DisclosureTotalsMismatch
from notices.models import DisclosureKind
from notices.rules import CATEGORIES, EDITABLE, Audience, Category, Scope, Status, may_post

bp = Blueprint("console_disclosures")
BASE = "/compounds/<compound_id:int>/disclosures"
BLANK_ROWS = 2  # empty rows under the typed ones, so a browser without script can add lines
MAX_ROWS = 200  # the API's bound on a section's lines
YUAN = re.compile(r"^(\d{1,11})(?:\.(\d{1,2}))?$")
LINE_FIELD = re.compile(r"^sections\.(\w+)\.lines\[(\d+)\]\.(\w+)$")
COLUMNS = {"item": "项目", "amount_fen": "金额", "voucher": "凭证编号"}


class AmountInvalid(errors.Invalid):
    code = "amount_invalid"
    message = "金额填写有误：请填写不小于 0 的金额（元），最多两位小数"


def fen_of(text: str) -> int | None:
    """Yuan typed as "1,200.5" read as 120050 fen, read digit by digit; None when it is not an amount."""
    found = YUAN.match(text.replace(",", "").replace("，", "").strip())
    if found is None:
        return None
    return int(found.group(1)) * 100 + int((found.group(2) or "0").ljust(2, "0"))


def yuan_input(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _values(request: Request, name: str) -> list[str]:
    values = request.form.getlist(name) if request.form else []
    if len(values) > MAX_ROWS + BLANK_ROWS or any(len(v) > MAX_FORM_TEXT or "\x00" in v for v in values):
        raise errors.Invalid("填写的内容过长或含有非法字符", code="form_value_invalid")
    return [str(v).strip() for v in values]


def typed_form(request: Request, kind: DisclosureKind) -> dict[str, Any]:
    """What the person typed, kept as typed (shown again with an error)."""
    sections = {}
    for name in ledger.SECTIONS[kind]:
        items, amounts, vouchers = (
            _values(request, f"{name}.{col}") for col in ("item", "amount", "voucher")
        )
        width = max(len(items), len(amounts), len(vouchers))
        rows = [
            {
                "item": items[i] if i < len(items) else "",
                "amount": amounts[i] if i < len(amounts) else "",
                "voucher": vouchers[i] if i < len(vouchers) else "",
            }
            for i in range(width)
        ]
        sections[name] = {"rows": rows, "stated": form_text(request, f"{name}.stated")}
    return {
        "period_start": form_text(request, "period_start"),
        "period_end": form_text(request, "period_end"),
        "note": form_text(request, "note"),
        "title": form_text(request, "title"),
        "audience": form_text(request, "audience", Audience.EVERYONE.value),
        "change_note": form_text(request, "change_note"),
        "sections": sections,
    }


def _line_name(kind: DisclosureKind, section: str, row: int, column: str) -> str:
    label = ledger.SECTIONS[kind].get(section, section)
    return f"{label} 第 {row + 1} 行 {COLUMNS.get(column, column)}"


def sections_of(kind: DisclosureKind, typed: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The API's ``sections`` from the typed rows (blank rows left out), and for each section the typed
    row of each line, so a problem the model finds names the row the person sees."""
    out: dict[str, Any] = {}
    rows_of: dict[str, list[int]] = {}
    problems = []
    for name, section in typed["sections"].items():
        lines, kept = [], []
        for i, row in enumerate(section["rows"]):
            if not (row["item"] or row["amount"] or row["voucher"]):
                continue
            amount = fen_of(row["amount"])
            if amount is None:
                problems.append(
                    {"field": _line_name(kind, name, i, "amount_fen"), "reason": "须为金额（元）"}
                )
            lines.append({"item": row["item"], "amount_fen": amount or 0, "voucher": row["voucher"]})
            kept.append(i)
        stated = section["stated"]
        stated_fen = fen_of(stated) if stated else None
        if stated and stated_fen is None:
            problems.append({"field": f"{ledger.SECTIONS[kind][name]} 填报合计", "reason": "须为金额（元）"})
        out[name] = {"lines": lines, "stated_total_fen": stated_fen}
        rows_of[name] = kept
    if problems:
        raise AmountInvalid(details=problems)
    return out, rows_of


def _readable(kind: DisclosureKind, exc: errors.DomainError, rows_of: dict[str, list[int]]) -> None:
    """The model's field paths (sections.x.lines[0].item) as the row and column on the page."""
    if not isinstance(exc.details, list):
        return
    for problem in exc.details:
        found = LINE_FIELD.match(str(problem.get("field", ""))) if isinstance(problem, dict) else None
        if found and found.group(1) in rows_of and int(found.group(2)) < len(rows_of[found.group(1)]):
            row = rows_of[found.group(1)][int(found.group(2))]
            problem["field"] = _line_name(kind, found.group(1), row, found.group(3))


def _mismatches(exc: errors.DomainError | None) -> list[dict[str, Any]]:
    if isinstance(exc, DisclosureTotalsMismatch) and isinstance(exc.details, dict):
        return list(exc.details.get("mismatches", []))
    return []


def in_order(kind: DisclosureKind, document: dict[str, Any]) -> dict[str, Any]:
    """The document with its sections and balances in the kind's order (PostgreSQL's jsonb keeps
    an object's keys in an order of its own)."""
    return {
        **document,
        "sections": {k: document["sections"][k] for k in ledger.SECTIONS[kind] if k in document["sections"]},
        "balances": {k: document["balances"][k] for k in ledger.BALANCES[kind] if k in document["balances"]},
    }


def typed_of_document(document: dict[str, Any], body_markdown: str) -> dict[str, Any]:
    """A saved document as the editor's rows; the note is what its body has after the tables."""
    tables = ledger.markdown_of(document) + "\n\n"
    return {
        "period_start": document["period"]["start"],
        "period_end": document["period"]["end"],
        "note": body_markdown[len(tables) :] if body_markdown.startswith(tables) else "",
        "title": "",
        "audience": Audience.EVERYONE.value,
        "change_note": "",
        "sections": {
            name: {
                "rows": [
                    {
                        "item": line["item"],
                        "amount": yuan_input(line["amount_fen"]),
                        "voucher": line["voucher"],
                    }
                    for line in section["lines"]
                ],
                "stated": "",
            }
            for name, section in document["sections"].items()
        },
    }


def _blank(kind: DisclosureKind) -> dict[str, Any]:
    last = date.today().year - 1
    return {
        "period_start": f"{last}-01-01",
        "period_end": f"{last}-12-31",
        "note": "",
        "title": "",
        "audience": Audience.EVERYONE.value,
        "change_note": "",
        "sections": {name: {"rows": [], "stated": ""} for name in ledger.SECTIONS[kind]},
    }


def _kind(value: str | None) -> DisclosureKind:
    try:
        return DisclosureKind(value or DisclosureKind.COMMITTEE_ANNUAL.value)
    except ValueError:
        raise errors.Invalid("未知的公示类型", code="disclosure_kind_unknown") from None


async def _editor(
    request: Request,
    who: Principal,
    compound_id: int,
    kind: DisclosureKind,
    typed: dict[str, Any],
    *,
    notice: dict[str, Any] | None = None,
    http_status: int = 200,
    failure: errors.DomainError | None = None,
) -> HTTPResponse:
    editable = notice is None or Status(notice["status"]) in EDITABLE
    return render(
        request,
        "disclosure.html",
        http_status=http_status,
        compound=await compound(compound_id),
        kind=kind.value,
        title=ledger.TITLES[kind],
        labels=ledger.SECTIONS[kind],
        typed=typed,
        blank_rows=BLANK_ROWS,
        notice=notice,
        document=in_order(kind, notice["data"]) if notice else None,
        may_edit=editable and may_post(ledger.CATEGORY_OF[kind], Scope.COMPOUND, who.roles),
        kinds=kinds_for(who),
        failure=failure,
        problems=problems_of(failure),
        mismatches=_mismatches(failure),
        AUDIENCES=AUDIENCE_NAMES,
    )


@page(bp, "GET", BASE + "/new", access=MANAGERS)
async def new(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    kind = _kind(request.args.get("kind"))
    return await _editor(request, who, compound_id, kind, _blank(kind))


@page(bp, "POST", BASE, access=POSTING)
async def create(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    kind = _kind(form_text(request, "kind"))
    typed = typed_form(request, kind)
    rows_of: dict[str, list[int]] = {}
    try:
        sections, rows_of = sections_of(kind, typed)
        body = form_model(
            request, api.DisclosureIn,
            {"kind": kind.value, "period_start": typed["period_start"], "period_end": typed["period_end"],
             "sections": sections, "note": typed["note"], "title": typed["title"] or None,
             "audience": typed["audience"]},
        )  # fmt: skip
        notice = await disclosures.draft(
            caller(who), where(compound_id), kind=body.kind, period_start=body.period_start,
            period_end=body.period_end, sections={k: v.model_dump() for k, v in body.sections.items()},
            stated_balances=body.stated_balances, note=body.note, title=body.title, audience=body.audience,
        )  # fmt: skip
    except (errors.Invalid, errors.Conflict) as exc:
        _readable(kind, exc, rows_of)
        return await _editor(request, who, compound_id, kind, typed, http_status=status_of(exc), failure=exc)
    return see_other(f"{PREFIX}/compounds/{compound_id}/disclosures/{notice.id}")


async def _saved(compound_id: int, notice_id: int) -> dict[str, Any] | None:
    shown = await lifecycle.manage_detail(where(compound_id), notice_id)
    structured = CATEGORIES[Category(shown["category"])].structured
    return shown if structured and isinstance(shown["data"], dict) else None


@page(bp, "GET", BASE + "/<notice_id:int>", access=MANAGERS)
async def detail(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    shown = await _saved(compound_id, notice_id)
    if shown is None:  # an ordinary notice: its own page
        return see_other(f"{PREFIX}/compounds/{compound_id}/notices/{notice_id}")
    kind = _kind(shown["data"]["kind"])
    typed = typed_of_document(in_order(kind, shown["data"]), shown["body_markdown"])
    return await _editor(request, who, compound_id, kind, typed, notice=shown)


@page(bp, "POST", BASE + "/<notice_id:int>", access=POSTING)
async def revise(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    shown = await _saved(compound_id, notice_id)
    kind = _kind(shown["data"]["kind"]) if shown else DisclosureKind.COMMITTEE_ANNUAL
    typed = typed_form(request, kind)
    rows_of: dict[str, list[int]] = {}
    try:
        sections, rows_of = sections_of(kind, typed)
        body = form_model(
            request, api.DisclosureEditIn,
            {"period_start": typed["period_start"], "period_end": typed["period_end"], "sections": sections,
             "note": typed["note"], "change_note": typed["change_note"]},
        )  # fmt: skip
        await disclosures.revise(
            request.app.ctx.cache, request.app.ctx.wechat, caller(who), where(compound_id), notice_id,
            period_start=body.period_start, period_end=body.period_end,
            sections={k: v.model_dump() for k, v in body.sections.items()},
            stated_balances=body.stated_balances, note=body.note, change_note=body.change_note,
        )  # fmt: skip
    except (errors.Invalid, errors.Conflict) as exc:
        if shown is None:
            raise
        _readable(kind, exc, rows_of)
        return await _editor(
            request, who, compound_id, kind, typed, notice=shown, http_status=status_of(exc), failure=exc
        )
    return see_other(f"{PREFIX}/compounds/{compound_id}/disclosures/{notice_id}")
