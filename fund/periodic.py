"""The fund work that runs by itself (server/jobs.py "fund_votes", "fund_top_ups", "fund_disclosures"):
each step idempotent or a guarded transition, so a run repeated after a crash, or by two schedulers,
does no harm.

- votes: an ordinary application whose matter-5 motion became final (or was cancelled) moves on by
  itself, approved or rejected by the motion's art. 278 result (applications.record_vote: a
  conditional UPDATE from ``voting``, audited), within a minute (the job runs every minute; the
  committee's "vote-result" route does the same step at once). Voting sits below the fund and calls
  nothing of it, so this sweep is the only way a result reaches an application by itself.
- top-ups: once a day, the owners of every unit whose balance fell below 30 % of its first deposit
  are told what is due ("fund.topup_due", once per unit and top-up round).
- disclosures: from 1 January on, each compound's annual statement of the year that ended is posted
  to its board, once (unique per compound and year).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from audit import service as audit
from core import clock
from fund import applications, disclosure, errors
from fund import payments as deposits
from fund.models import AnnualDisclosure, SubAccount, UseApplication
from fund.rules import TOP_UP_PERCENT, ApplicationStatus
from notify import service as notify

SCAN_EVENT = "fund.topup_scan"
SCAN_CHUNK = 500


# --- votes ---------------------------------------------------------------------------------------------


async def _settle(application: UseApplication) -> bool:
    try:
        await applications.record_vote(audit.SYSTEM, application)
    except (errors.VoteNotDecided, errors.ApplicationState):
        return False  # not final yet, or moved a moment earlier (a committee member, another worker)
    return True


async def settle_votes() -> int:
    """Every application still waiting on a motion whose result is final by now."""
    settled = 0
    for application in await UseApplication.filter(status=ApplicationStatus.VOTING, motion_id__isnull=False):
        settled += await _settle(application)
    return settled


# --- top-ups -------------------------------------------------------------------------------------------

_BELOW = """
SELECT a.id
FROM fund_sub_account a
JOIN (
  SELECT account_id, SUM(amount_fen) AS balance,
    SUM(CASE WHEN kind IN ('first_deposit', 'developer_deposit') THEN 1 ELSE 0 END) AS firsts
  FROM fund_entry GROUP BY account_id
) e ON e.account_id = a.id
WHERE e.firsts > 0 AND a.first_deposit_fen > 0 AND e.balance * 100 < a.first_deposit_fen * {percent}
ORDER BY a.id
"""


async def accounts_below_threshold() -> list[int]:
    """Sub-accounts whose first deposit was paid and whose balance is now below 30 % of it (one
    aggregate query; the same exact integer comparison as rules.top_up_due)."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_BELOW.format(percent=int(TOP_UP_PERCENT)))
    return [int(r["id"]) for r in rows]


async def notify_top_ups_due(today: date) -> int:
    """Once per day: tell the owners of every unit below the threshold (the outbox writes each unit's
    round once per owner, so a unit still short tomorrow is not told twice)."""
    told = 0
    async with in_transaction():
        if not await notify.mark_published(SCAN_EVENT, today.isoformat()):
            return 0  # today's scan ran already
        ids = await accounts_below_threshold()
        for start in range(0, len(ids), SCAN_CHUNK):
            told += await deposits.notify_top_ups(ids[start : start + SCAN_CHUNK])
    return told


# --- annual disclosures --------------------------------------------------------------------------------


async def post_annual_disclosures(today: date) -> int:
    """Each compound with sub-accounts opened before the year that ended gets its statement, once."""
    year = today.year - 1
    _, end = disclosure.year_bounds(year)
    opened = await SubAccount.filter(opened_at__lt=end).distinct().values_list("compound_id", flat=True)
    done = await AnnualDisclosure.filter(year=year).values_list("compound_id", flat=True)
    posted = 0
    for compound_id in sorted({int(str(c)) for c in opened} - {int(str(c)) for c in done}):
        try:
            await disclosure.post_annual(audit.SYSTEM, compound_id=compound_id, year=year)
        except errors.DisclosureExists:
            continue  # another scheduler posted it a moment earlier
        posted += 1
    return posted


async def run_periodic(*, now: datetime | None = None) -> dict[str, Any]:
    """All three steps (the seed and tests call it; the jobs call each step on its own)."""
    today = clock.to_local(now or clock.now()).date()
    return {
        "settled": await settle_votes(),
        "top_ups": await notify_top_ups_due(today),
        "disclosures": await post_annual_disclosures(today),
    }
