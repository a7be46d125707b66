"""Interest of a period credited to a compound's sub-accounts by balance, exactly (fund.rules)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit import service as audit
from audit.service import Actor
from core import clock
from fund import errors, ledger
from fund.models import InterestRun
from fund.rules import EntryKind, allocate_interest
from fund.subaccounts import compound_stream

MAX_PERIOD = 10


def end_of_local_day(day: date) -> datetime:
    """The first instant after ``day`` in Asia/Shanghai: balances "at the end of the period"."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.SHANGHAI)


async def allocate(
    actor: Actor, *, compound_id: int, period: str, period_end: date, total_fen: int, user_id: int
) -> InterestRun:
    """Credit ``total_fen`` of interest earned in ``period`` (a label: "2026", "2026-H1") to the
    compound's sub-accounts in proportion to their balances at the end of ``period_end``; once per
    (compound, period). The shares add up to the total exactly."""
    if total_fen <= 0:
        raise errors.FundAmountInvalid("利息金额须大于零")
    if not period or len(period) > MAX_PERIOD or period_end > clock.to_local(clock.now()).date():
        raise errors.InterestPeriodInvalid("计息期须已结束")
    async with in_transaction():
        await ledger.lock(compound_id)  # no entry lands between reading the balances and crediting
        weights = await ledger.balances(compound_id, until=end_of_local_day(period_end))
        shares = [(a, fen) for a, fen in allocate_interest(total_fen, list(weights.items())) if fen]
        if not shares:
            raise errors.InterestPeriodInvalid("计息期末没有余额为正的分户账")
        try:
            run = await InterestRun.create(
                compound_id=compound_id,
                period=period,
                period_end=period_end,
                total_fen=total_fen,
                accounts=len(shares),
                by_id=user_id,
            )
        except IntegrityError as exc:
            raise errors.InterestRunExists() from exc
        await ledger.append(
            compound_id,
            [
                ledger.NewEntry(
                    key=f"interest:{run.id}:{account_id}",
                    kind=EntryKind.INTEREST,
                    account_id=account_id,
                    amount_fen=fen,
                    note=f"{period} 利息",
                    ref=f"interest:{run.id}",
                )
                for account_id, fen in shares
            ],
            actor=actor.id,
        )
        await audit.append(
            compound_stream(compound_id),
            "fund.interest",
            actor=actor,
            subject=f"interest:{run.id}",
            payload={"period": period, "total_fen": total_fen, "accounts": len(shares)},
        )
    return run
