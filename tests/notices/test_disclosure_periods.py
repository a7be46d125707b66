"""One disclosure per period: a second one for the same (or an overlapping) period of the same kind
is refused with 409 and changes nothing, even when both arrive at once; a correction is a revision
of the existing one; a withdrawn one frees its period. And every total the server shows (in the
document, the table, the revisions and the year-over-year view) equals the sum of its lines."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from audit.models import AuditEvent
from notices.models import Disclosure, Notice, NoticeRevision
from tests.notices.conftest import manage, publish
from tests.notices.test_disclosures import committee_sections, submit

TAKEN = "该期间已有同类公示，不能重复发布；如需更正，请修改原公示（将生成新版本）"


async def counts() -> tuple[int, int, int, int]:
    return (
        await Notice.all().count(),
        await Disclosure.all().count(),
        await NoticeRevision.all().count(),
        await AuditEvent.all().count(),
    )


async def test_a_second_disclosure_for_the_same_period_is_refused(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    first = await submit(api, world)
    assert first.status_code == 201, first.text
    await publish(api, world, first.json()["id"])
    before = await counts()
    second = await submit(api, world, sections=committee_sections(parking=9_999_999))
    assert second.status_code == 409
    assert second.json() | {"request_id": ""} == {
        "code": "disclosure_period_taken",
        "message": TAKEN,
        "request_id": "",
        "details": {
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "notice_id": first.json()["id"],
            "existing_period": {"period_start": "2025-01-01", "period_end": "2025-12-31"},
        },
    }
    assert await counts() == before
    # the property company's periodic disclosure is another kind: its periods are its own
    property_kind = await submit(
        api, world, role="property_staff", kind="property_periodic", sections=property_sections()
    )
    assert property_kind.status_code == 201, property_kind.text


@pytest.mark.parametrize(
    ("start", "end"),
    [("2025-06-01", "2026-05-31"), ("2024-07-01", "2025-01-01"), ("2025-03-01", "2025-03-31")],
)
async def test_an_overlapping_period_is_refused(
    api: httpx.AsyncClient, world: dict[str, Any], start: str, end: str
) -> None:
    assert (await submit(api, world)).status_code == 201
    before = await counts()
    overlapping = await submit(api, world, period_start=start, period_end=end)
    assert (overlapping.status_code, overlapping.json()["code"]) == (409, "disclosure_period_taken")
    assert await counts() == before
    adjacent = await submit(api, world, period_start="2026-01-01", period_end="2026-12-31")
    assert adjacent.status_code == 201


async def test_two_at_once_for_one_period_exactly_one_is_accepted(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    answers = await asyncio.gather(*(submit(api, world) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"disclosure_period_taken"}
    assert (await Notice.all().count(), await Disclosure.all().count()) == (1, 1)


async def test_a_correction_is_a_revision_and_may_not_take_another_period(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    ids = []
    for year in (2024, 2025):
        created = await submit(api, world, period_start=f"{year}-01-01", period_end=f"{year}-12-31")
        ids.append(created.json()["id"])
        await publish(api, world, ids[-1])
    url = f"{manage(world)}/disclosures/{ids[1]}"
    before = await counts()
    onto_2024 = await api.put(
        url,
        headers=world["auth"]["committee"],
        json={"period_start": "2024-06-01", "period_end": "2025-12-31", "sections": committee_sections()},
    )
    assert (onto_2024.status_code, onto_2024.json()["code"]) == (409, "disclosure_period_taken")
    assert await counts() == before
    row = await Disclosure.get(notice_id=ids[1])
    assert (str(row.period_start), str(row.period_end), row.period_key) == (
        "2025-01-01",
        "2025-12-31",
        "2025-01-01~2025-12-31",
    )
    # its own period, corrected: a new revision of the same notice
    fixed = await api.put(
        url,
        headers=world["auth"]["committee"],
        json={"period_start": "2025-01-01", "period_end": "2025-12-30", "sections": committee_sections()},
    )
    assert (fixed.status_code, fixed.json()["revision"]) == (200, 2)
    assert (await Disclosure.get(notice_id=ids[1])).period_key == "2025-01-01~2025-12-30"


async def test_a_withdrawn_disclosure_frees_its_period(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    first = (await submit(api, world)).json()["id"]
    await publish(api, world, first)
    withdrawn = await api.post(
        f"{manage(world)}/notices/{first}/withdraw",
        headers=world["auth"]["committee"],
        json={"reason": "数字有误"},
    )
    assert withdrawn.status_code == 200
    again = await submit(api, world, sections=committee_sections(parking=2_100_000))
    assert again.status_code == 201, again.text
    await publish(api, world, again.json()["id"])
    table = await compare(api, world)
    assert table["periods"] == ["2025-01-01~2025-12-31"]
    income = next(s for s in table["sections"] if s["section"] == "common_income")
    assert income["totals"] == {"2025-01-01~2025-12-31": 3_660_005}


async def test_every_total_shown_is_the_sum_of_its_lines(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    ids = []
    for year, parking in ((2023, 1), (2024, 1_860_000), (2025, 2_040_000)):
        created = await submit(
            api, world, period_start=f"{year}-01-01", period_end=f"{year}-12-31",
            sections=committee_sections(parking),
        )  # fmt: skip
        ids.append(created.json()["id"])
        await publish(api, world, ids[-1])
    repeated = await submit(api, world, period_start="2025-01-01", period_end="2025-12-31")
    assert repeated.status_code == 409
    corrected = await api.put(
        f"{manage(world)}/disclosures/{ids[2]}",
        headers=world["auth"]["committee"],
        json={"period_start": "2025-01-01", "period_end": "2025-12-31", "sections": committee_sections(7)},
    )
    assert corrected.status_code == 200
    for notice in ids:
        detail = await api.get(
            f"/compounds/{world['compound']}/notices/{notice}", headers=world["auth"]["owner"]
        )
        assert_document_adds_up(detail.json()["data"])
        history = await api.get(
            f"/compounds/{world['compound']}/notices/{notice}/revisions", headers=world["auth"]["owner"]
        )
        assert history.status_code == 200
    table = await compare(api, world)
    assert table["periods"] == ["2023-01-01~2023-12-31", "2024-01-01~2024-12-31", "2025-01-01~2025-12-31"]
    checked = 0
    for section in table["sections"]:
        for period in table["periods"]:
            lines = sum(item["amounts"].get(period, 0) for item in section["items"])
            assert section["totals"][period] == lines, (section["section"], period)
            checked += 1
    assert checked == 4 * 3
    income = next(s for s in table["sections"] if s["section"] == "common_income")
    assert income["totals"]["2025-01-01~2025-12-31"] == 1_200_000 + 7 + 360_005


def assert_document_adds_up(document: dict[str, Any]) -> None:
    for section in document["sections"].values():
        assert section["total_fen"] == sum(line["amount_fen"] for line in section["lines"])
    balance = document["balances"]["common_income_balance"]["amount_fen"]
    sections = document["sections"]
    assert balance == sections["common_income"]["total_fen"] - sections["common_income_use"]["total_fen"]


async def compare(api: httpx.AsyncClient, world: dict[str, Any]) -> Any:
    response = await api.get(
        f"/compounds/{world['compound']}/disclosures/compare",
        headers=world["auth"]["owner"],
        params={"kind": "committee_annual"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def property_sections() -> dict[str, Any]:
    return {
        "fee_income": {"lines": [{"item": "物业费", "amount_fen": 100}]},
        "fee_spending": {"lines": [{"item": "保洁", "amount_fen": 40}]},
        "common_income": {"lines": []},
        "lift_maintenance": {"lines": []},
        "public_electricity": {"lines": []},
    }
