"""The fee arithmetic: one rounding rule at the half-fen, the band edges, pro rata by days."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payments import rules
from payments.rules import Band, OrderState, Period


def test_half_fen_rounds_up() -> None:
    # 0.05 m² × 10 fen = 0.5 fen exactly: half up gives 1 (half-even would give 0)
    assert rules.fee_fen(Decimal("0.05"), Decimal(10)) == 1
    # 2.5 fen → 3, 3.5 fen → 4: no parity effect
    assert rules.fee_fen(Decimal("0.25"), Decimal(10)) == 3
    assert rules.fee_fen(Decimal("0.35"), Decimal(10)) == 4


def test_just_below_half_fen_rounds_down() -> None:
    # 0.49 fen
    assert rules.fee_fen(Decimal("0.49"), Decimal(1)) == 0
    # 89.37 m² × 182.5 fen × 1 = 16310.025 fen → 16310
    assert rules.fee_fen(Decimal("89.37"), Decimal("182.5")) == 16310


def test_rounded_once_not_per_month() -> None:
    # 1.01 m² × 150.5 fen = 152.005 fen a month; twelve months exactly 1824.06 → 1824
    assert rules.fee_fen(Decimal("1.01"), Decimal("150.5"), 12) == 1824
    # 0.5 fen a month for three months: 1.5 → 2 (per-month rounding would give 3)
    assert rules.fee_fen(Decimal("0.05"), Decimal(10), 3) == 2


def test_negative_fee_refused() -> None:
    with pytest.raises(ValueError):
        rules.fee_fen(Decimal("-1"), Decimal(10))


def test_band_both_edges_inside_and_one_step_outside() -> None:
    band = Band(grade=2, base_fen=Decimal(150), float_percent=Decimal(20))
    assert band.low == Decimal(120) and band.high == Decimal(180)
    assert rules.band_refusal(band, Decimal(120)) is None
    assert rules.band_refusal(band, Decimal(180)) is None
    assert rules.band_refusal(band, Decimal(150)) is None
    low = rules.band_refusal(band, Decimal("119.9"))
    high = rules.band_refusal(band, Decimal("180.01"))
    assert low == (
        "合同单价 1.199 元/㎡·月 超出二级服务的政府指导价区间 1.20–1.80 元/㎡·月（基准价 1.50 元，上下浮动 20%）"
    )
    assert high is not None and "1.20–1.80" in high and "1.8001" in high


def test_pro_rata_by_local_days() -> None:
    period = Period.parse("2026-02")  # 28 days
    assert period.days == 28
    # delivered on 15 February: 14 days of 28 billed
    assert rules.billed_fraction(period, date(2026, 2, 15)) == Decimal(14) / Decimal(28)
    # 100 m² × 200 fen = 20000 a month; half of it
    assert rules.pro_rata_fen(Decimal(100), Decimal(200), period, date(2026, 2, 15)) == 10000
    # delivered on the first: whole month; before: whole; after: nothing; on the last day: one day
    assert rules.pro_rata_fen(Decimal(100), Decimal(200), period, date(2026, 2, 1)) == 20000
    assert rules.pro_rata_fen(Decimal(100), Decimal(200), period, date(2025, 12, 1)) == 20000
    assert rules.pro_rata_fen(Decimal(100), Decimal(200), period, date(2026, 3, 1)) == 0
    assert rules.pro_rata_fen(Decimal(100), Decimal(200), period, date(2026, 2, 28)) == 714  # 714.28…
    # a 31-day month, delivered on the 21st: 11 days of 31 → 20000 × 11 / 31 = 7096.77… → 7097
    assert rules.pro_rata_fen(Decimal(100), Decimal(200), Period.parse("2026-03"), date(2026, 3, 21)) == 7097


def test_fixed_item_pro_rata() -> None:
    assert rules.fixed_pro_rata_fen(3000, Period.parse("2026-04"), date(2026, 4, 16)) == 1500
    assert rules.fixed_pro_rata_fen(3000, Period.parse("2026-04"), None) == 3000


def test_split_by_area_adds_up() -> None:
    parts = rules.split_by_area(1000, [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")])
    assert parts == [333, 333, 334]
    assert sum(rules.split_by_area(10001, [Decimal("89.5")] * 7)) == 10001
    assert rules.split_by_area(5, []) == []


@pytest.mark.parametrize("text", ["2026-13", "26-01", "2026-1", "x", "2026-01-01", "1999-12"])
def test_period_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(text)


def test_order_moves() -> None:
    assert rules.may_move(OrderState.CREATED, OrderState.PAID)
    assert rules.may_move(OrderState.CREATED, OrderState.CLOSED)
    assert not rules.may_move(OrderState.CLOSED, OrderState.PAID)
    assert not rules.may_move(OrderState.PAID, OrderState.CLOSED)
    assert rules.may_move(OrderState.PAID, OrderState.PARTIALLY_REFUNDED)
    assert not rules.may_move(OrderState.REFUNDED, OrderState.PAID)
    assert rules.refunded_state(100, 40) is OrderState.PARTIALLY_REFUNDED
    assert rules.refunded_state(100, 100) is OrderState.REFUNDED
