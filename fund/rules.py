"""Maintenance-fund arithmetic (住宅专项维修资金), as pure functions.

Money is integer fen; areas are Decimal m² (two places); rates are Decimal fen per m² (the city
publishes a fixed amount per m² by building type, e.g. 60 元/㎡ = 6000 fen).

Rounding rules, each stated once:
- First deposit = area × rate, rounded once to whole fen half up (payments.rules.fee_fen: the rule
  residents and the price authority use, so a calculator gives the same fen).
- A cost split (use of the fund) shares the total among the units concerned in proportion to their
  area; each share is first rounded down to the fen and the fen left over go one each to the units
  with the largest dropped fractions, ties to the lower unit id (largest remainders). So the shares
  add up to the cost exactly and no share is off by a whole fen from its exact value.
- Interest of a period is allocated to sub-accounts in proportion to their balance at the period's
  end by the same largest-remainder rule (ties to the lower sub-account id); an account with no
  positive balance gets none. The allocation adds up to the interest exactly.
- Top-up (续交) is due when the balance falls below 30 % of the first deposit, compared exactly in
  integers (balance × 100 < first deposit × 30): at exactly 30 % it is not due. The amount due brings
  the balance back to the first deposit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from payments.rules import fee_fen

TOP_UP_PERCENT = 30


class BuildingType(StrEnum):
    """The building types a city's published rate distinguishes."""

    NO_LIFT = "no_lift"  # 多层无电梯
    LIFT = "lift"  # 多层有电梯 / 小高层
    HIGH_RISE = "high_rise"  # 高层


BUILDING_TYPE_NAMES = {
    BuildingType.NO_LIFT: "无电梯住宅",
    BuildingType.LIFT: "电梯住宅",
    BuildingType.HIGH_RISE: "高层住宅",
}


class EntryKind(StrEnum):
    FIRST_DEPOSIT = "first_deposit"  # paid online by the owner
    DEVELOPER_DEPOSIT = "developer_deposit"  # paid by the developer at contract filing, with voucher
    TOP_UP = "top_up"  # 续交
    INTEREST = "interest"
    USE = "use"  # deduction for approved works (negative)
    TRANSFER = "transfer"  # the unit was sold: the balance stays with the unit (zero amount, noted)
    CORRECTION = "correction"  # signed, with a reason and a second person's approval


DEPOSIT_KINDS = frozenset({EntryKind.FIRST_DEPOSIT, EntryKind.DEVELOPER_DEPOSIT, EntryKind.TOP_UP})

ENTRY_NAMES = {
    EntryKind.FIRST_DEPOSIT: "首期交存",
    EntryKind.DEVELOPER_DEPOSIT: "开发建设单位交存",
    EntryKind.TOP_UP: "续交",
    EntryKind.INTEREST: "利息",
    EntryKind.USE: "使用分摊",
    EntryKind.TRANSFER: "房屋转让（余额随房转移）",
    EntryKind.CORRECTION: "更正",
}


def first_deposit_fen(area_m2: Decimal, rate_fen_per_m2: Decimal) -> int:
    """Area × the published rate, rounded once, half up."""
    return fee_fen(Decimal(area_m2), Decimal(rate_fen_per_m2))


def largest_remainder(total_fen: int, weights: list[Decimal | int]) -> list[int]:
    """Split ``total_fen`` in proportion to ``weights`` (non-negative): floors, then the remainder
    fen one each to the largest dropped fractions, ties to the earlier position. Exact sum; all
    weights zero (or none) gives all zeros, and then the total is not shared at all."""
    if total_fen < 0:
        raise ValueError("a total is never negative")
    if any(Decimal(w) < 0 for w in weights):
        raise ValueError("a weight is never negative")
    whole = sum((Decimal(w) for w in weights), Decimal(0))
    if not weights or whole <= 0:
        return [0 for _ in weights]
    # exact rational arithmetic: floor(total × w / whole) and its remainder, in integers when possible
    scaled = [Decimal(total_fen) * Decimal(w) for w in weights]
    parts = [int(s // whole) for s in scaled]
    rests = [s - p * whole for s, p in zip(scaled, parts, strict=True)]
    short = total_fen - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-rests[i], i))
    for i in order[:short]:
        parts[i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class Share:
    unit_id: int
    area: Decimal
    share_fen: int


def split_cost(total_fen: int, units: list[tuple[int, Decimal]]) -> list[Share]:
    """The cost of works shared among ``units`` ((unit_id, area)) by area; ordered by unit id, the
    remainder fen by the rule in the module docstring."""
    ordered = sorted(units)
    parts = largest_remainder(total_fen, [area for _, area in ordered])
    return [Share(uid, area, part) for (uid, area), part in zip(ordered, parts, strict=True)]


def allocate_interest(total_fen: int, balances: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Interest shared among sub-accounts ((account_id, balance_fen)) by balance; non-positive
    balances weigh nothing. Returns (account_id, interest_fen) ordered by account id."""
    ordered = sorted(balances)
    parts = largest_remainder(total_fen, [max(balance, 0) for _, balance in ordered])
    return [(aid, part) for (aid, _), part in zip(ordered, parts, strict=True)]


def top_up_due(balance_fen: int, first_deposit_fen: int) -> bool:
    """Below 30 % of the first deposit, exactly (at 30 % it is not due)."""
    return first_deposit_fen > 0 and balance_fen * 100 < first_deposit_fen * TOP_UP_PERCENT


def top_up_amount(balance_fen: int, first_deposit_fen: int) -> int:
    """What brings the balance back to the first deposit (0 when no top-up is due)."""
    return first_deposit_fen - balance_fen if top_up_due(balance_fen, first_deposit_fen) else 0


@dataclass(frozen=True, slots=True)
class Due:
    kind: EntryKind | None  # FIRST_DEPOSIT, TOP_UP or None
    amount_fen: int


def due_of(*, first_deposit_fen: int | None, first_paid: bool, balance_fen: int) -> Due:
    """What the owner of a unit has to pay now: the first deposit until it is paid (by the owner or
    the developer), then a top-up when the balance fell below the threshold."""
    if first_deposit_fen is None:
        return Due(None, 0)
    if not first_paid:
        return Due(EntryKind.FIRST_DEPOSIT, first_deposit_fen)
    amount = top_up_amount(balance_fen, first_deposit_fen)
    return Due(EntryKind.TOP_UP, amount) if amount else Due(None, 0)


# --- applications -------------------------------------------------------------------------------


class ApplicationKind(StrEnum):
    ORDINARY = "ordinary"
    EMERGENCY = "emergency"


class EmergencyCategory(StrEnum):
    """The plan's list of emergencies that may be applied for without a vote."""

    LIFT_FAULT = "lift_fault"  # 电梯故障危及人身安全
    ROOF_WALL_LEAK = "roof_wall_leak"  # 屋面、外墙渗漏
    WATER_PUMP_MAIN = "water_pump_main"  # 二次供水水泵、供水管道故障
    DRAIN = "drain"  # 排水设施坍塌、堵塞
    FACADE = "facade"  # 外墙面有脱落危险
    FIRE_SYSTEM = "fire_system"  # 消防设施被责令维修


EMERGENCY_NAMES = {
    EmergencyCategory.LIFT_FAULT: "电梯故障危及人身安全",
    EmergencyCategory.ROOF_WALL_LEAK: "屋面、外墙渗漏",
    EmergencyCategory.WATER_PUMP_MAIN: "水泵或供水管道故障",
    EmergencyCategory.DRAIN: "排水设施坍塌或堵塞",
    EmergencyCategory.FACADE: "外墙饰面有脱落危险",
    EmergencyCategory.FIRE_SYSTEM: "消防设施被责令维修",
}


class ApplicationStatus(StrEnum):
    VOTING = "voting"  # ordinary: the matter-5 motion decides
    REJECTED = "rejected"  # the vote failed (or its motion was cancelled): never paid
    APPROVED = "approved"  # the vote passed, or an emergency: works may go ahead
    COMPLETED = "completed"  # works done, final cost stated: awaiting the fund office's payout
    PAID = "paid"  # the office approved: deduction entries written, disclosed


APPLICATION_MOVES: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    ApplicationStatus.VOTING: frozenset({ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}),
    ApplicationStatus.APPROVED: frozenset({ApplicationStatus.COMPLETED}),
    ApplicationStatus.COMPLETED: frozenset({ApplicationStatus.PAID}),
    ApplicationStatus.REJECTED: frozenset(),
    ApplicationStatus.PAID: frozenset(),
}


def may_move(current: ApplicationStatus, target: ApplicationStatus) -> bool:
    return target in APPLICATION_MOVES[current]


def shortfalls(shares: list[Share], balances: dict[int, int]) -> list[dict[str, int]]:
    """Units whose share exceeds their balance (their balance would go negative)."""
    return [
        {"unit_id": s.unit_id, "share_fen": s.share_fen, "balance_fen": balances.get(s.unit_id, 0)}
        for s in shares
        if s.share_fen > balances.get(s.unit_id, 0)
    ]


class CorrectionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"
