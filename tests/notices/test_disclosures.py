"""Structured disclosures: integer-fen line items, totals computed by the server, refusal of stated
totals that disagree, the machine-readable body, corrections as revisions, years side by side."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from notices import ledger
from notices.errors import DisclosureInvalid, DisclosureTotalsMismatch
from notices.models import Disclosure, DisclosureKind, Notice
from tests.notices.conftest import manage, publish


def committee_sections(parking: int = 2_040_000, stated_income: int | None = None) -> dict[str, Any]:
    return {
        "common_income": {
            "lines": [
                {"item": "广告", "amount_fen": 1_200_000, "voucher": "凭-001"},
                {"item": "停车", "amount_fen": parking},
                {"item": "场地租赁", "amount_fen": 360_005},
            ],
            "stated_total_fen": stated_income,
        },
        "common_income_use": {"lines": [{"item": "补充维修资金", "amount_fen": 2_000_000}]},
        "fund_use": {"lines": [{"item": "电梯主板", "amount_fen": 3_850_000}], "stated_total_fen": 3_850_000},
        "committee_expenses": {"lines": []},
    }


async def submit(
    api: httpx.AsyncClient, world: dict[str, Any], role: str = "committee", **fields: Any
) -> httpx.Response:
    body = {"kind": "committee_annual", "period_start": "2025-01-01", "period_end": "2025-12-31"} | fields
    body.setdefault("sections", committee_sections())
    return await api.post(f"{manage(world)}/disclosures", headers=world["auth"][role], json=body)


async def test_stated_totals_that_disagree_are_refused(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    wrong = await submit(
        api,
        world,
        sections=committee_sections(stated_income=3_600_000),
        stated_balances={"common_income_balance": 1},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "disclosure_totals_mismatch")
    assert wrong.json()["details"]["mismatches"] == [
        {
            "section": "common_income",
            "label": "共有部分经营收益（按来源）",
            "stated_fen": 3_600_000,
            "computed_fen": 3_600_005,
        },
        {
            "section": "common_income_balance",
            "label": "共有部分经营收益结余",
            "stated_fen": 1,
            "computed_fen": 1_600_005,
        },
    ]
    assert await Notice.all().count() == 0 and await Disclosure.all().count() == 0
    fractional = await submit(
        api,
        world,
        sections=committee_sections() | {"committee_expenses": {"lines": [{"item": "x", "amount_fen": 1.5}]}},
    )
    assert fractional.status_code == 400
    negative = await submit(
        api,
        world,
        sections=committee_sections() | {"committee_expenses": {"lines": [{"item": "x", "amount_fen": -1}]}},
    )
    assert negative.status_code == 400
    missing = await submit(api, world, sections={"common_income": {"lines": []}})
    assert missing.json()["code"] == "disclosure_invalid"
    assert missing.json()["details"]["missing_sections"] == [
        "committee_expenses",
        "common_income_use",
        "fund_use",
    ]
    backwards = await submit(api, world, period_start="2025-12-31", period_end="2025-01-01")
    assert backwards.json()["code"] == "period_invalid"


async def test_a_disclosure_is_published_as_a_notice_with_a_machine_readable_body(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    created = await submit(api, world, sections=committee_sections(stated_income=3_600_005))
    assert created.status_code == 201, created.text
    notice = created.json()["id"]
    assert created.json()["category"] == "committee_annual"
    await publish(api, world, notice)
    detail = (
        await api.get(f"/compounds/{world['compound']}/notices/{notice}", headers=world["auth"]["resident"])
    ).json()
    data = detail["data"]
    assert data["format"] == "wuye-disclosure/1" and data["period"] == {
        "start": "2025-01-01",
        "end": "2025-12-31",
    }
    assert {k: v["total_fen"] for k, v in data["sections"].items()} == {
        "common_income": 3_600_005,
        "common_income_use": 2_000_000,
        "fund_use": 3_850_000,
        "committee_expenses": 0,
    }
    assert data["balances"]["common_income_balance"]["amount_fen"] == 1_600_005
    assert (
        '<td style="text-align:left">场地租赁</td>\n<td style="text-align:right">3,600.05</td>'
        in detail["body_html"]
    )
    assert "<strong>36,000.05</strong>" in detail["body_html"]


async def test_property_staff_may_not_post_the_committee_report(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    refused = await submit(api, world, role="property_staff")
    assert (refused.status_code, refused.json()["code"]) == (403, "category_not_allowed")
    plain = await api.post(
        f"{manage(world)}/notices",
        headers=world["auth"]["committee"],
        json={"category": "committee_annual", "title": "手写的年报", "body_markdown": "x"},
    )
    assert (plain.status_code, plain.json()["code"]) == (400, "category_structured")
    assert await Notice.all().count() == 0


async def test_years_side_by_side_and_corrections(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    ids = []
    for year, parking in ((2024, 1_860_000), (2025, 2_040_000)):
        created = await submit(
            api,
            world,
            period_start=f"{year}-01-01",
            period_end=f"{year}-12-31",
            sections=committee_sections(parking),
        )
        ids.append(created.json()["id"])
        await publish(api, world, ids[-1])
    draft_only = await submit(api, world, period_start="2023-01-01", period_end="2023-12-31")
    assert draft_only.status_code == 201  # a draft is never compared
    url = f"/compounds/{world['compound']}/disclosures/compare"
    table = (await api.get(url, headers=world["auth"]["owner"], params={"kind": "committee_annual"})).json()
    assert table["periods"] == ["2024-01-01~2024-12-31", "2025-01-01~2025-12-31"]
    income = next(s for s in table["sections"] if s["section"] == "common_income")
    assert income["totals"] == {"2024-01-01~2024-12-31": 3_420_005, "2025-01-01~2025-12-31": 3_600_005}
    assert {
        "item": "停车",
        "amounts": {"2024-01-01~2024-12-31": 1_860_000, "2025-01-01~2025-12-31": 2_040_000},
    } in income["items"]
    corrected = await api.put(
        f"{manage(world)}/disclosures/{ids[1]}",
        headers=world["auth"]["committee"],
        json={
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "sections": committee_sections(2_100_000),
            "change_note": "停车收入少计一笔",
        },
    )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["revision"], corrected.json()["state"]) == (2, "live")
    table = (
        await api.get(
            url, headers=world["auth"]["owner"], params={"kind": "committee_annual", "years": "2025"}
        )
    ).json()
    assert table["periods"] == ["2025-01-01~2025-12-31"]
    income = next(s for s in table["sections"] if s["section"] == "common_income")
    assert income["totals"] == {"2025-01-01~2025-12-31": 3_660_005}
    history = (
        await api.get(
            f"/compounds/{world['compound']}/notices/{ids[1]}/revisions", headers=world["auth"]["owner"]
        )
    ).json()["items"]
    assert [r["note"] for r in history] == ["", "停车收入少计一笔"]


def test_ledger_is_exact_in_fen() -> None:
    document = ledger.build_document(
        DisclosureKind.PROPERTY_PERIODIC,
        date(2025, 1, 1),
        date(2025, 3, 31),
        {
            "fee_income": {
                "lines": [{"item": "物业费", "amount_fen": 10}, {"item": "物业费", "amount_fen": 20}],
                "stated_total_fen": 30,
            },
            "fee_spending": {"lines": [{"item": "保洁", "amount_fen": 45}]},
            "common_income": {"lines": []},
            "lift_maintenance": {"lines": [{"item": "维保", "amount_fen": 1}]},
            "public_electricity": {"lines": [{"item": "公共照明", "amount_fen": 99}]},
        },
        {"fee_balance": -15},
    )
    assert document["balances"]["fee_balance"] == {"label": "物业费收支结余", "amount_fen": -15}
    assert ledger.yuan(-15) == "-0.15" and ledger.yuan(123_456_789) == "1,234,567.89"
    with pytest.raises(DisclosureTotalsMismatch):
        ledger.build_document(
            DisclosureKind.PROPERTY_PERIODIC,
            date(2025, 1, 1),
            date(2025, 3, 31),
            {
                s: {"lines": [], "stated_total_fen": 1 if s == "fee_income" else None}
                for s in ledger.SECTIONS[DisclosureKind.PROPERTY_PERIODIC]
            },
        )
    with pytest.raises(DisclosureInvalid):
        ledger.build_document(
            DisclosureKind.PROPERTY_PERIODIC,
            date(2025, 1, 1),
            date(2025, 3, 31),
            {s: {"lines": []} for s in ledger.SECTIONS[DisclosureKind.PROPERTY_PERIODIC]},
            {"made_up": 0},
        )
