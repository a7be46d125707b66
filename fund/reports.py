"""What the committee sees of its compound (totals, units in arrears) and the fund office of the
county, computed from the ledger (one aggregate query per compound page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import connections

from core import pages
from fund.models import SubAccount
from fund.rules import EntryKind, due_of

_PER_ACCOUNT = """
SELECT a.id, a.compound_id, a.unit_id, a.room, a.area, a.first_deposit_fen,
  COALESCE(SUM(e.amount_fen), 0) AS balance,
  COALESCE(SUM(CASE WHEN e.kind IN ('first_deposit', 'developer_deposit') THEN 1 ELSE 0 END), 0) AS firsts,
  COALESCE(SUM(CASE WHEN e.kind IN ('first_deposit', 'developer_deposit', 'top_up')
      THEN e.amount_fen ELSE 0 END), 0) AS deposits,
  COALESCE(SUM(CASE WHEN e.kind = 'interest' THEN e.amount_fen ELSE 0 END), 0) AS interest,
  COALESCE(SUM(CASE WHEN e.kind = 'use' THEN e.amount_fen ELSE 0 END), 0) AS used
FROM fund_sub_account a LEFT JOIN fund_entry e ON e.account_id = a.id
WHERE a.compound_id IN ({ids})
GROUP BY a.id, a.compound_id, a.unit_id, a.room, a.area, a.first_deposit_fen
ORDER BY a.id
"""

assert EntryKind.FIRST_DEPOSIT.value == "first_deposit"  # the SQL above names the kinds


@dataclass(frozen=True, slots=True)
class AccountLine:
    account_id: int
    compound_id: int
    unit_id: int
    room: str
    area: str
    first_deposit_fen: int
    balance_fen: int
    first_paid: bool
    deposits_fen: int
    interest_fen: int
    used_fen: int  # negative
    due_kind: str | None
    due_fen: int


async def lines(compound_ids: list[int]) -> list[AccountLine]:
    if not compound_ids:
        return []
    conn = connections.get("default")
    marks = ", ".join(
        (f"${i}" if conn.capabilities.dialect == "postgres" else "?") for i in range(1, len(compound_ids) + 1)
    )
    rows = await conn.execute_query_dict(_PER_ACCOUNT.format(ids=marks), list(compound_ids))
    out = []
    for r in rows:
        balance, paid = int(r["balance"]), int(r["firsts"]) > 0
        due = due_of(first_deposit_fen=int(r["first_deposit_fen"]), first_paid=paid, balance_fen=balance)
        out.append(
            AccountLine(
                int(r["id"]), int(r["compound_id"]), int(r["unit_id"]), str(r["room"]), str(r["area"]),
                int(r["first_deposit_fen"]), balance, paid, int(r["deposits"]), int(r["interest"]),
                int(r["used"]), due.kind.value if due.kind else None, due.amount_fen,
            )
        )  # fmt: skip
    return out


def summary(found: list[AccountLine]) -> dict[str, Any]:
    return {
        "accounts": len(found),
        "first_deposit_assessed_fen": sum(line.first_deposit_fen for line in found),
        "deposits_fen": sum(line.deposits_fen for line in found),
        "interest_fen": sum(line.interest_fen for line in found),
        "used_fen": -sum(line.used_fen for line in found),
        "balance_fen": sum(line.balance_fen for line in found),
        "first_unpaid": sum(1 for line in found if line.due_kind == EntryKind.FIRST_DEPOSIT.value),
        "top_up_due": sum(1 for line in found if line.due_kind == EntryKind.TOP_UP.value),
        "due_fen": sum(line.due_fen for line in found),
    }


async def compound_report(compound_id: int) -> dict[str, Any]:
    return {"compound_id": compound_id, **summary(await lines([compound_id]))}


async def arrears(compound_id: int, *, cursor: str | None, limit: int) -> pages.Page[AccountLine]:
    """Units owing their first deposit or a top-up, by sub-account id, a keyset page."""
    after = pages.after(cursor)
    owing = [line for line in await lines([compound_id]) if line.due_fen and line.account_id > after]
    return pages.page(owing[: limit + 1], limit, key=lambda line: line.account_id)


async def county(*, cursor: str | None, limit: int) -> pages.Page[dict[str, Any]]:
    """Each compound with sub-accounts: its totals, by compound id, a keyset page."""
    after = pages.after(cursor)
    ids: list[int] = list(
        await SubAccount.filter(compound_id__gt=after)
        .distinct()
        .order_by("compound_id")
        .limit(limit + 1)
        .values_list("compound_id", flat=True)  # type: ignore[arg-type]
    )
    found = await lines(ids[:limit])
    rows = [
        {"compound_id": cid, **summary([line for line in found if line.compound_id == cid])} for cid in ids
    ]
    return pages.page(rows, limit, key=lambda row: int(row["compound_id"]))
