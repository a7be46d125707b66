"""Corrections of a sub-account: one fund-office person requests with a reason, a second approves
(never the same person); only the approval writes the entry, and never makes a balance negative."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from audit import service as audit
from audit.service import Actor
from core import clock, pages
from fund import errors, ledger
from fund import payments as deposits
from fund.models import Correction, SubAccount
from fund.rules import CorrectionStatus, EntryKind
from fund.subaccounts import account_of_unit, compound_stream

MAX_CORRECTION_FEN = 10**11


async def request(actor: Actor, *, unit_id: int, amount_fen: int, reason: str, user_id: int) -> Correction:
    if amount_fen == 0 or abs(amount_fen) > MAX_CORRECTION_FEN:
        raise errors.FundAmountInvalid("更正金额不能为零")
    if not reason.strip():
        raise errors.FundAmountInvalid("更正须说明理由", code="correction_reason")
    account = await account_of_unit(unit_id)
    async with in_transaction():
        correction = await Correction.create(
            compound_id=account.compound_id,
            account_id=account.id,
            amount_fen=amount_fen,
            reason=reason.strip(),
            requested_by_id=user_id,
        )
        await audit.append(
            compound_stream(account.compound_id),
            "fund.correction_requested",
            actor=actor,
            subject=f"correction:{correction.id}",
            payload={"unit_id": unit_id, "amount_fen": amount_fen, "reason": correction.reason},
        )
    return correction


async def decide(actor: Actor, *, correction_id: int, approve: bool, user_id: int) -> Correction:
    correction = await Correction.get_or_none(id=correction_id)
    if correction is None:
        raise errors.CorrectionNotFound()
    if correction.requested_by_id == user_id:
        raise errors.SameApprover()
    target = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    async with in_transaction():
        await ledger.lock(correction.compound_id)
        moved = await Correction.filter(id=correction.id, status=CorrectionStatus.PENDING).update(
            status=target, decided_by_id=user_id, decided_at=clock.now()
        )
        if not moved:
            raise errors.CorrectionState()
        seq = None
        if approve:
            balance = await ledger.balance(correction.account_id)
            if balance + correction.amount_fen < 0:
                raise errors.BalanceShort(
                    "更正后余额将为负数",
                    details={"balance_fen": balance, "amount_fen": correction.amount_fen},
                )
            (row,) = await ledger.append(
                correction.compound_id,
                [
                    ledger.NewEntry(
                        key=f"correction:{correction.id}",
                        kind=EntryKind.CORRECTION,
                        account_id=correction.account_id,
                        amount_fen=correction.amount_fen,
                        note=correction.reason,
                        ref=f"correction:{correction.id}",
                    )
                ],
                actor=actor.id,
            )
            seq = row.seq
            await deposits.notify_top_ups([correction.account_id])
        await audit.append(
            compound_stream(correction.compound_id),
            f"fund.correction_{target.value}",
            actor=actor,
            subject=f"correction:{correction.id}",
            payload={"entry_seq": seq},
        )
    return await Correction.get(id=correction.id)


async def listing(
    *, status: CorrectionStatus | None, cursor: str | None, limit: int
) -> pages.Page[Correction]:
    before = pages.before(cursor)
    query = Correction.all()
    if status is not None:
        query = query.filter(status=status)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda c: c.id)


async def room_of(correction: Correction) -> str:
    return str((await SubAccount.get(id=correction.account_id)).room)
