"""The fund's arithmetic: first deposit per building type, the cost split's remainder fen, the top-up
threshold at exactly 30 %, interest allocated exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fund.rules import (
    ApplicationStatus,
    BuildingType,
    EntryKind,
    allocate_interest,
    due_of,
    first_deposit_fen,
    largest_remainder,
    may_move,
    shortfalls,
    split_cost,
    top_up_amount,
    top_up_due,
)

# One city's published amounts (fen per m²): no lift 50 元, lift 70 元, high-rise 85.5 元
RATES = {
    BuildingType.NO_LIFT: Decimal(5000),
    BuildingType.LIFT: Decimal(7000),
    BuildingType.HIGH_RISE: Decimal(8550),
}


@pytest.mark.parametrize(
    ("kind", "area", "expected"),
    [
        (BuildingType.NO_LIFT, Decimal("88.80"), 444_000),  # 88.80 × 5000 = 444000 exactly
        (BuildingType.LIFT, Decimal("88.80"), 621_600),
        (BuildingType.HIGH_RISE, Decimal("88.80"), 759_240),
        (BuildingType.HIGH_RISE, Decimal("0.01"), 86),  # 85.5 fen: half up
        (BuildingType.HIGH_RISE, Decimal("0.03"), 257),  # 256.5 → 257
        (BuildingType.NO_LIFT, Decimal("123.45"), 617_250),
    ],
)
def test_first_deposit_is_area_times_the_rate_of_the_building_type(
    kind: BuildingType, area: Decimal, expected: int
) -> None:
    assert first_deposit_fen(area, RATES[kind]) == expected


def test_first_deposit_rounds_once_half_up_like_the_fee_rule() -> None:
    # 0.01 m² × 8549.9 fen = 85.499 → 85; × 8550.1 = 85.501 → 86
    assert first_deposit_fen(Decimal("0.01"), Decimal("8549.9")) == 85
    assert first_deposit_fen(Decimal("0.01"), Decimal("8550.1")) == 86


def test_a_cost_split_that_does_not_divide_evenly() -> None:
    # 100.00 fen over three equal flats: 33.33… each; floors 33 + 33 + 33 = 99, one fen left over,
    # the dropped fractions tie, so it goes to the lowest unit id
    shares = split_cost(100, [(12, Decimal("80.00")), (11, Decimal("80.00")), (13, Decimal("80.00"))])
    assert [(s.unit_id, s.share_fen) for s in shares] == [(11, 34), (12, 33), (13, 33)]
    assert sum(s.share_fen for s in shares) == 100


def test_the_remainder_goes_to_the_largest_dropped_fraction() -> None:
    # 1,000,001 fen over 70.00 / 89.50 / 120.25 m² (total 279.75):
    # exact 250223.77… / 319928.85… / 429848.37…; floors sum 999999, two fen left:
    # the largest fractions are .85 (unit 2) and .77 (unit 1)
    shares = split_cost(1_000_001, [(1, Decimal("70.00")), (2, Decimal("89.50")), (3, Decimal("120.25"))])
    assert [s.share_fen for s in shares] == [250_224, 319_929, 429_848]
    assert sum(s.share_fen for s in shares) == 1_000_001


def test_split_parts_never_differ_from_the_exact_share_by_a_fen() -> None:
    areas = [Decimal(f"{50 + i * 7 % 61}.{i * 13 % 100:02d}") for i in range(97)]
    total = 9_876_543
    parts = largest_remainder(total, list(areas))
    whole = sum(areas)
    assert sum(parts) == total
    assert all(abs(Decimal(p) - Decimal(total) * a / whole) < 1 for p, a in zip(parts, areas, strict=True))


def test_top_up_threshold_at_exactly_30_percent() -> None:
    first = 444_000  # 30 % = 133,200 fen
    assert not top_up_due(133_200, first)  # exactly 30 %: not below it
    assert top_up_due(133_199, first)
    assert not top_up_due(133_201, first)
    assert top_up_amount(133_200, first) == 0
    assert top_up_amount(133_199, first) == 444_000 - 133_199  # back to the first deposit
    # 30 % of an odd first deposit is not a whole fen: 1001 × 0.3 = 300.3
    assert top_up_due(300, 1001) and not top_up_due(301, 1001)


def test_what_is_due_first_the_deposit_then_top_ups() -> None:
    assert due_of(first_deposit_fen=444_000, first_paid=False, balance_fen=0) == (
        due_of(first_deposit_fen=444_000, first_paid=False, balance_fen=0)
    )
    unpaid = due_of(first_deposit_fen=444_000, first_paid=False, balance_fen=0)
    assert (unpaid.kind, unpaid.amount_fen) == (EntryKind.FIRST_DEPOSIT, 444_000)
    fine = due_of(first_deposit_fen=444_000, first_paid=True, balance_fen=133_200)
    assert (fine.kind, fine.amount_fen) == (None, 0)
    low = due_of(first_deposit_fen=444_000, first_paid=True, balance_fen=100_000)
    assert (low.kind, low.amount_fen) == (EntryKind.TOP_UP, 344_000)


def test_interest_allocated_by_balance_exactly() -> None:
    # 1,000 fen over balances 300,000 / 200,000 / 100,000 / 0 / -50 (never negative interest):
    # exact 500 / 333.33 / 166.67 / 0 / 0 → floors 500 + 333 + 166 = 999; the one fen to .67
    shares = allocate_interest(1_000, [(4, 0), (1, 300_000), (2, 200_000), (3, 100_000), (5, -50)])
    assert shares == [(1, 500), (2, 333), (3, 167), (4, 0), (5, 0)]
    assert sum(fen for _, fen in shares) == 1_000


def test_interest_remainder_ties_go_to_the_lower_account() -> None:
    shares = allocate_interest(2, [(9, 100), (7, 100), (8, 100)])
    assert shares == [(7, 1), (8, 1), (9, 0)]


def test_nothing_to_allocate_to_leaves_it_unallocated() -> None:
    assert allocate_interest(500, [(1, 0), (2, 0)]) == [(1, 0), (2, 0)]
    assert largest_remainder(500, []) == []


def test_shortfalls_name_the_units_whose_balance_would_go_negative() -> None:
    shares = split_cost(300, [(1, Decimal("1.00")), (2, Decimal("2.00"))])
    assert shortfalls(shares, {1: 100, 2: 199}) == [{"unit_id": 2, "share_fen": 200, "balance_fen": 199}]
    assert shortfalls(shares, {1: 100, 2: 200}) == []


def test_a_rejected_application_can_never_be_paid() -> None:
    assert may_move(ApplicationStatus.VOTING, ApplicationStatus.APPROVED)
    assert may_move(ApplicationStatus.VOTING, ApplicationStatus.REJECTED)
    assert not any(may_move(ApplicationStatus.REJECTED, s) for s in ApplicationStatus)
    assert not may_move(ApplicationStatus.VOTING, ApplicationStatus.PAID)
    assert not may_move(ApplicationStatus.APPROVED, ApplicationStatus.PAID)
