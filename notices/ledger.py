"""Structured disclosures as pure functions: the sections each kind must have, totals computed from
integer-fen line items, refusal of stated totals that disagree, the Markdown table a reader sees,
and the year-over-year comparison.

Plan task 8: the committee publishes each year the common-part income and its use, maintenance-fund
use and its own expenses. Task 20: the property company publishes fee income and spending,
common-part income, lift maintenance spending and the shared public electricity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from notices.errors import DisclosureInvalid, DisclosureTotalsMismatch
from notices.models import DisclosureKind
from notices.rules import Category

MAX_FEN = 10**13  # 1000 亿元: anything larger is a typing error

SECTIONS: dict[DisclosureKind, dict[str, str]] = {
    DisclosureKind.COMMITTEE_ANNUAL: {
        "common_income": "共有部分经营收益（按来源）",
        "common_income_use": "共有部分经营收益使用",
        "fund_use": "维修资金使用",
        "committee_expenses": "业主委员会经费开支",
    },
    DisclosureKind.PROPERTY_PERIODIC: {
        "fee_income": "物业费收入",
        "fee_spending": "物业费支出",
        "common_income": "共有部分经营收益",
        "lift_maintenance": "电梯维护保养支出",
        "public_electricity": "公共电费分摊",
    },
}
# Balances derived from two sections: name -> (label, plus section, minus section)
BALANCES: dict[DisclosureKind, dict[str, tuple[str, str, str]]] = {
    DisclosureKind.COMMITTEE_ANNUAL: {
        "common_income_balance": ("共有部分经营收益结余", "common_income", "common_income_use")
    },
    DisclosureKind.PROPERTY_PERIODIC: {"fee_balance": ("物业费收支结余", "fee_income", "fee_spending")},
}
CATEGORY_OF: dict[DisclosureKind, Category] = {
    DisclosureKind.COMMITTEE_ANNUAL: Category.COMMITTEE_ANNUAL,
    DisclosureKind.PROPERTY_PERIODIC: Category.PROPERTY_DISCLOSURE,
}
TITLES = {
    DisclosureKind.COMMITTEE_ANNUAL: "业主委员会年度公示",
    DisclosureKind.PROPERTY_PERIODIC: "物业服务收支公示",
}


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def build_document(
    kind: DisclosureKind,
    period_start: date,
    period_end: date,
    sections: Mapping[str, Mapping[str, Any]],
    stated_balances: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Validate and compute. ``sections`` maps a section to {"lines": [{item, amount_fen, voucher}],
    "stated_total_fen": int or None}. Raises DisclosureTotalsMismatch listing every disagreement."""
    if period_end < period_start:
        raise DisclosureInvalid("公示期间的结束日期早于开始日期", code="period_invalid")
    expected = SECTIONS[kind]
    unknown, missing = set(sections) - set(expected), set(expected) - set(sections)
    if unknown or missing:
        raise DisclosureInvalid(
            details={"unknown_sections": sorted(unknown), "missing_sections": sorted(missing)}
        )
    mismatches: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for name, label in expected.items():
        lines: list[dict[str, Any]] = []
        for line in sections[name].get("lines", []):
            amount = line["amount_fen"]
            if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= MAX_FEN:
                raise DisclosureInvalid(
                    "金额须为不小于 0 的整数（分）", details={"section": name, "item": line.get("item")}
                )
            lines.append(
                {"item": str(line["item"]), "amount_fen": amount, "voucher": str(line.get("voucher") or "")}
            )
        total = sum(int(entry["amount_fen"]) for entry in lines)
        stated = sections[name].get("stated_total_fen")
        if stated is not None and stated != total:
            mismatches.append({"section": name, "label": label, "stated_fen": stated, "computed_fen": total})
        out[name] = {"label": label, "lines": lines, "total_fen": total}
    balances: dict[str, Any] = {}
    for name, (label, plus, minus) in BALANCES[kind].items():
        value = out[plus]["total_fen"] - out[minus]["total_fen"]
        stated = (stated_balances or {}).get(name)
        if stated is not None and stated != value:
            mismatches.append({"section": name, "label": label, "stated_fen": stated, "computed_fen": value})
        balances[name] = {"label": label, "amount_fen": value}
    unknown_balances = set(stated_balances or {}) - set(BALANCES[kind])
    if unknown_balances:
        raise DisclosureInvalid(details={"unknown_balances": sorted(unknown_balances)})
    if mismatches:
        raise DisclosureTotalsMismatch(details={"mismatches": mismatches})
    return {
        "format": "wuye-disclosure/1",
        "kind": kind.value,
        "period": {"start": period_start.isoformat(), "end": period_end.isoformat()},
        "currency": "CNY-fen",
        "sections": out,
        "balances": balances,
    }


def markdown_of(document: Mapping[str, Any], note: str = "") -> str:
    """The human-readable body: one table per section, amounts in yuan."""
    period = document["period"]
    parts = [f"公示期间：{period['start']} 至 {period['end']}（金额单位：元）", ""]
    for section in document["sections"].values():
        parts += [f"### {section['label']}", "", "| 项目 | 金额（元） | 凭证 |", "|:--|--:|:--|"]
        parts += [
            f"| {_cell(line['item'])} | {yuan(line['amount_fen'])} | {_cell(line['voucher'])} |"
            for line in section["lines"]
        ]
        parts += [f"| **合计** | **{yuan(section['total_fen'])}** | |", ""]
    for balance in document["balances"].values():
        parts.append(f"**{balance['label']}：{yuan(balance['amount_fen'])} 元**")
    if note.strip():
        parts += ["", note]
    return "\n".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")


def compare(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Side by side: each period a column; each section's total and each line item (by its name)."""
    docs = sorted(documents, key=lambda d: d["period"]["start"])
    periods = [f"{d['period']['start']}~{d['period']['end']}" for d in docs]
    rows: dict[str, dict[str, Any]] = {}
    for period, doc in zip(periods, docs, strict=True):
        for name, section in doc["sections"].items():
            row = rows.setdefault(
                name, {"section": name, "label": section["label"], "totals": {}, "items": {}}
            )
            # The total shown is the sum of the lines shown, never a number stored beside them
            row["totals"][period] = row["totals"].get(period, 0) + sum(
                int(line["amount_fen"]) for line in section["lines"]
            )
            for line in section["lines"]:
                row["items"].setdefault(line["item"], {})
                row["items"][line["item"]][period] = (
                    row["items"][line["item"]].get(period, 0) + line["amount_fen"]
                )
    return {
        "periods": periods,
        "sections": [
            {**row, "items": [{"item": k, "amounts": v} for k, v in row["items"].items()]}
            for row in rows.values()
        ],
    }
