"""Fee arithmetic and the payment state machine, as pure functions.

Money is integer fen. Prices are fen per m² per month and may carry sub-fen precision (a contract
price of 1.85 元 = 185 fen, or a banded 182.5 fen); areas are Decimal m² with two places.

The one rounding rule (``fee_fen``): multiply everything exactly in Decimal — area × price × months
× (billed days / days in the period) — and round once, at the end, to whole fen with ROUND_HALF_UP
(四舍五入). Why half-up and once:
- it is the rule residents, the price authority and the fapiao system use, so a resident checking a
  bill with a calculator gets the same fen;
- banker's rounding (half-even) would make two identical flats' bills differ by a fen depending on
  parity, which looks like an error on a notice board;
- rounding intermediate results (per month, per day) accumulates error; rounding once cannot be off
  by more than half a fen.
Splits of one total (metered electricity by area) use largest remainders, so the parts add up to the
total exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

FEN = Decimal(1)
HUNDRED = Decimal(100)


def fee_fen(area_m2: Decimal, price_fen_per_m2_month: Decimal, months: Decimal | int = 1) -> int:
    """area × price × months → integer fen, rounded once, half up."""
    exact = Decimal(area_m2) * Decimal(price_fen_per_m2_month) * Decimal(months)
    if exact < 0:
        raise ValueError("a fee is never negative")
    return int(exact.quantize(FEN, rounding=ROUND_HALF_UP))


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period: one calendar month in Asia/Shanghai, written ``YYYY-MM``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            year_s, month_s = text.split("-")
            year, month = int(year_s), int(month_s)
        except ValueError as exc:
            raise ValueError(f"not a period: {text!r}") from exc
        if len(year_s) != 4 or len(month_s) != 2 or not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError(f"not a period: {text!r}")
        return cls(year, month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, self.days)


def billed_fraction(period: Period, starts_on: date | None) -> Decimal:
    """The share of the period a unit is billed for: whole when it was delivered before the period
    (or no date is known), days from delivery to the end of the month (both days counted) over the
    days of the month when delivered inside it, none when delivered after it. Days are calendar days
    of Asia/Shanghai: ``starts_on`` is a local date, never a UTC instant."""
    if starts_on is None or starts_on <= period.first_day:
        return Decimal(1)
    if starts_on > period.last_day:
        return Decimal(0)
    billed_days = (period.last_day - starts_on).days + 1
    return Decimal(billed_days) / Decimal(period.days)


def pro_rata_fen(area_m2: Decimal, price: Decimal, period: Period, starts_on: date | None) -> int:
    """One month of an area-based fee, pro rata by days; still rounded once (see the module)."""
    return fee_fen(area_m2, price, billed_fraction(period, starts_on))


def fixed_pro_rata_fen(monthly_fen: int, period: Period, starts_on: date | None) -> int:
    exact = Decimal(monthly_fen) * billed_fraction(period, starts_on)
    return int(exact.quantize(FEN, rounding=ROUND_HALF_UP))


def split_by_area(total_fen: int, areas: list[Decimal]) -> list[int]:
    """Split ``total_fen`` over units in proportion to their areas; the parts add up to the total
    (largest remainders, ties to the earlier unit)."""
    if total_fen < 0:
        raise ValueError("a total is never negative")
    whole = sum(areas, Decimal(0))
    if not areas or whole <= 0:
        return [0 for _ in areas]
    exact = [Decimal(total_fen) * a / whole for a in areas]
    parts = [int(e) for e in exact]  # floor: all non-negative
    short = total_fen - sum(parts)
    order = sorted(range(len(areas)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:short]:
        parts[i] += 1
    return parts


# --- the price band --------------------------------------------------------------------------

GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}


@dataclass(frozen=True, slots=True)
class Band:
    """The government-guided price of one service grade: base ± float percent, edges inclusive."""

    grade: int
    base_fen: Decimal  # fen per m² per month
    float_percent: Decimal  # e.g. 20 for ±20 %

    @property
    def low(self) -> Decimal:
        return self.base_fen * (HUNDRED - self.float_percent) / HUNDRED

    @property
    def high(self) -> Decimal:
        return self.base_fen * (HUNDRED + self.float_percent) / HUNDRED


def yuan(fen: Decimal) -> str:
    """Fen per m² as the 元 a notice board shows (two places, more only when the price has them)."""
    value = (Decimal(fen) / HUNDRED).normalize()
    text = format(value, "f")
    if "." not in text:
        return text + ".00"
    whole, frac = text.split(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def band_refusal(band: Band, price_fen: Decimal) -> str | None:
    """The Chinese reason a contract price lies outside its band, or None when inside (edges count)."""
    if band.low <= Decimal(price_fen) <= band.high:
        return None
    grade = GRADE_NAMES.get(band.grade, f"{band.grade}级")
    return (
        f"合同单价 {yuan(Decimal(price_fen))} 元/㎡·月 超出{grade}服务的政府指导价区间 "
        f"{yuan(band.low)}–{yuan(band.high)} 元/㎡·月（基准价 {yuan(band.base_fen)} 元，"
        f"上下浮动 {band.float_percent.normalize():f}%）"
    )


# --- states ----------------------------------------------------------------------------------


class OrderState(StrEnum):
    CREATED = "created"
    PAID = "paid"
    CLOSED = "closed"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


ORDER_MOVES: dict[OrderState, frozenset[OrderState]] = {
    OrderState.CREATED: frozenset({OrderState.PAID, OrderState.CLOSED}),
    OrderState.PAID: frozenset({OrderState.PARTIALLY_REFUNDED, OrderState.REFUNDED}),
    OrderState.PARTIALLY_REFUNDED: frozenset({OrderState.PARTIALLY_REFUNDED, OrderState.REFUNDED}),
    OrderState.CLOSED: frozenset(),
    OrderState.REFUNDED: frozenset(),
}


def may_move(current: OrderState, target: OrderState) -> bool:
    return target in ORDER_MOVES[current]


def refunded_state(amount_fen: int, refunded_fen: int) -> OrderState:
    return OrderState.REFUNDED if refunded_fen >= amount_fen else OrderState.PARTIALLY_REFUNDED


class BillStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"


class RefundState(StrEnum):
    PROCESSING = "processing"
    SUCCESS = "success"
    CLOSED = "closed"
    ABNORMAL = "abnormal"


class ItemKind(StrEnum):
    BY_AREA = "by_area"  # fen per m² per month (the property fee: the contract price)
    FIXED_MONTHLY = "fixed_monthly"  # fen per unit per month (parking management)
    METERED_BY_AREA = "metered_by_area"  # a metered total of the period split by area (shared power)
