"""The fund ledger: append-only, one hash chain per compound, balances computed from the entries.

Each entry's hash covers its content and the previous entry's hash (canonical JSON, SHA-256), in
the compound's sequence. Appending locks the compound's chain head (SELECT … FOR UPDATE on
PostgreSQL; SQLite runs one transaction at a time), so concurrent appenders queue; the unique
(compound, seq) and ``key`` constraints are the last line of defence (a second entry for the same
deposit, interest share or deduction is impossible). A batch (an interest run over 5,000 accounts)
is one bulk insert with its hashes computed in order.

Call ``lock`` first inside your transaction when a decision depends on balances (a deduction must
not make one negative): balances read after it cannot change until the transaction ends."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from core import clock
from core.jsonutil import canonical
from fund.models import ChainHead, FundEntry
from fund.rules import EntryKind

GENESIS = "0" * 64
SCHEME = "wuye-fund-ledger/1"


@dataclass(frozen=True, slots=True)
class NewEntry:
    key: str
    kind: EntryKind
    account_id: int
    amount_fen: int
    note: str = ""
    ref: str = ""


def entry_hash(row: dict[str, Any]) -> str:
    body = {
        "scheme": SCHEME,
        "compound_id": row["compound_id"],
        "seq": row["seq"],
        "key": row["key"],
        "kind": str(row["kind"]),
        "account_id": row["account_id"],
        "amount_fen": row["amount_fen"],
        "note": row["note"],
        "ref": row["ref"],
        "at": clock.iso_utc(row["at"]),
        "actor": row["actor"],
        "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(canonical(body)).hexdigest()


async def lock(compound_id: int) -> ChainHead:
    """The compound's chain head, locked until the caller's transaction ends (created if new)."""
    head = await ChainHead.filter(compound_id=compound_id).select_for_update().first()
    if head is None:
        try:
            async with in_transaction():
                await ChainHead.create(compound_id=compound_id, seq=0, hash=GENESIS)
        except IntegrityError:
            pass  # another appender created it first: lock theirs
        head = await ChainHead.filter(compound_id=compound_id).select_for_update().first()
        assert head is not None
    return head


async def append(
    compound_id: int, entries: Iterable[NewEntry], *, actor: str, at: datetime | None = None
) -> list[FundEntry]:
    """Append entries to the compound's chain (inside the caller's transaction, or one of its own)."""
    async with in_transaction():
        head = await lock(compound_id)
        moment = at or clock.now()
        seq, prev = head.seq, head.hash
        rows: list[FundEntry] = []
        for e in entries:
            seq += 1
            row: dict[str, Any] = {
                "compound_id": compound_id,
                "seq": seq,
                "key": e.key,
                "kind": e.kind,
                "account_id": e.account_id,
                "amount_fen": e.amount_fen,
                "note": e.note[:200],
                "ref": e.ref[:64],
                "at": moment,
                "actor": actor[:40],
                "prev_hash": prev,
            }
            row["hash"] = prev = entry_hash(row)
            rows.append(FundEntry(**row))
        if not rows:
            return []
        if len(rows) == 1:
            await rows[0].save()
        else:  # a bulk insert does not give the rows their ids: read them back
            await FundEntry.bulk_create(rows, batch_size=1000)
            rows = await FundEntry.filter(compound_id=compound_id, seq__gt=head.seq).order_by("seq")
        moved = await ChainHead.filter(compound_id=compound_id, seq=head.seq).update(seq=seq, hash=prev)
        if moved != 1:
            raise IntegrityError("fund chain head moved underneath us")
    return rows


async def balance(account_id: int) -> int:
    row = await FundEntry.filter(account_id=account_id).annotate(s=Sum("amount_fen")).first().values("s")
    return int((row or {}).get("s") or 0)


_BALANCES = """
SELECT e.account_id, SUM(e.amount_fen) AS balance
FROM fund_entry e
WHERE e.compound_id = {p1}{until}
GROUP BY e.account_id
"""


async def balances(compound_id: int, *, until: datetime | None = None) -> dict[int, int]:
    """Every sub-account's balance of the compound (entries before ``until`` when given)."""
    conn = connections.get("default")
    pg = conn.capabilities.dialect == "postgres"
    params: list[Any] = [compound_id]
    until_sql = ""
    if until is not None:
        until_sql = " AND e.at < " + ("$2" if pg else "?")
        params.append(until if pg else _sqlite_instant(until))
    sql = _BALANCES.format(p1="$1" if pg else "?", until=until_sql)
    rows = await conn.execute_query_dict(sql, params)
    return {int(r["account_id"]): int(r["balance"] or 0) for r in rows}


def _sqlite_instant(moment: datetime) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).isoformat(" ", timespec="microseconds")


async def balances_of(account_ids: list[int]) -> dict[int, int]:
    rows = (
        await FundEntry.filter(account_id__in=account_ids)
        .group_by("account_id")
        .annotate(s=Sum("amount_fen"))
        .values_list("account_id", "s")
    )
    found = {int(a): int(s or 0) for a, s in rows}
    return {a: found.get(a, 0) for a in account_ids}


@dataclass(frozen=True, slots=True)
class ChainCheck:
    ok: bool
    entries: int
    problems: list[str]


async def verify(compound_id: int) -> ChainCheck:
    """Recompute the compound's chain: every hash, every link, no gap, and the head at its end."""
    from audit.service import snapshot

    async with snapshot():
        rows = await FundEntry.filter(compound_id=compound_id).order_by("seq").values()
        head = await ChainHead.get_or_none(compound_id=compound_id)
    problems: list[str] = []
    prev, expected_seq = GENESIS, 1
    for row in rows:
        if row["seq"] != expected_seq:
            problems.append(f"seq {expected_seq}: missing (found {row['seq']})")
            expected_seq = row["seq"]
        if row["prev_hash"] != prev:
            problems.append(f"seq {row['seq']}: does not link to the previous entry")
        if entry_hash(row) != row["hash"]:
            problems.append(f"seq {row['seq']}: content does not match its hash")
        prev, expected_seq = row["hash"], expected_seq + 1
    if head is not None and (head.seq != len(rows) or head.hash != prev):
        problems.append("the head does not match the last entry (entries removed or added)")
    return ChainCheck(not problems, len(rows), problems)
