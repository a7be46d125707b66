"""Transfer on sale (房屋转让): the sub-account stays with the unit, and so does its balance
(管理办法: the fund moves with the house); the ledger records that the owner changed.

The roster (accounts.roster, 花名册) is where a sale shows: a unit's owners are replaced by the buyers.
The fund keeps, per sub-account, a digest of the owners it last saw (SHA-256 of the sorted owner
ids, never a name). ``record_transfers`` compares it with the roster now: a different, non-empty set
of owners is a sale and gets a zero-amount transfer entry (kind ``transfer``) noting it, one audit
event per compound and run. A unit whose owners were all removed is not a sale yet (no buyer named):
it is looked at again once the roster names someone. Accounts never looked at (opened before this
existed) take today's owners as their start, without an entry.

It runs from the "fund_transfers" job once an hour over every compound (accounts sits below the fund
and calls nothing of it; the entry only records the change of owners, the balance never leaves the
unit, so an hour's delay moves no money). Each compound's run holds its chain's lock, so two runs at
once write each sale once (the entry's key is the account and the number of its transfers so far)."""

from __future__ import annotations

from datetime import datetime

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from audit import service as audit
from audit.service import Actor
from core import clock
from fund import ledger
from fund.models import FundEntry, SubAccount
from fund.rules import EntryKind
from fund.subaccounts import compound_stream, current_digests
from notify import service as notify

SCAN_EVENT = "fund.transfer_scan"
NOTE = "房屋转让：产权人变更，分户账及余额随房屋转移"


async def record_transfers(compound_id: int, *, actor: Actor = audit.SYSTEM) -> int:
    """Enter a transfer for every sub-account of the compound whose owners changed since the fund
    last looked; returns how many."""
    async with in_transaction():
        await ledger.lock(compound_id)  # one run per compound at a time: each sale entered once
        accounts = (
            await SubAccount.filter(compound_id=compound_id)
            .order_by("id")
            .values("id", "unit_id", "room", "owners_digest")
        )
        now = await current_digests([int(a["unit_id"]) for a in accounts])
        sold = [
            a for a in accounts if a["owners_digest"] and now[a["unit_id"]] not in (None, a["owners_digest"])
        ]
        rounds = dict(
            await FundEntry.filter(account_id__in=[a["id"] for a in sold], kind=EntryKind.TRANSFER)
            .group_by("account_id")
            .annotate(n=Count("id"))
            .values_list("account_id", "n")
        )
        if sold:
            await ledger.append(
                compound_id,
                [
                    ledger.NewEntry(
                        key=f"sale:{a['id']}:{int(rounds.get(a['id'], 0)) + 1}",
                        kind=EntryKind.TRANSFER,
                        account_id=a["id"],
                        amount_fen=0,
                        note=NOTE,
                        ref=f"owners:{str(now[a['unit_id']])[:16]}",
                    )
                    for a in sold
                ],
                actor=actor.id,
            )
            await audit.append(
                compound_stream(compound_id),
                "fund.transfer",
                actor=actor,
                subject=f"compound:{compound_id}",
                payload={"rooms": [a["room"] for a in sold][:500], "units": len(sold)},
            )
        for a in accounts:
            digest = now[a["unit_id"]]
            if digest is not None and digest != a["owners_digest"]:
                await SubAccount.filter(id=a["id"]).update(owners_digest=digest)
    return len(sold)


async def run_hourly(now: datetime | None = None) -> int:
    """Once an hour: every compound with sub-accounts."""
    hour = clock.to_local(now or clock.now()).strftime("%Y-%m-%dT%H")
    if not await notify.mark_published(SCAN_EVENT, hour):
        return 0  # this hour's run happened
    compounds = await SubAccount.all().distinct().values_list("compound_id", flat=True)
    return sum([await record_transfers(int(str(c))) for c in sorted(set(compounds))])
