"""Reconciliation of a day's trade bill (WeChat Pay's record) against our ledger.

Every difference is listed for a person, never fixed here: a payment or refund in the bill that our
ledger lacks ("missing_here"), one in our ledger the bill lacks ("missing_there"), or both present
with different amounts or sub-merchants ("amount_differs", "payee_differs"). The report is stored
and audited.

A person asks for a day's comparison (``reconcile``, the company's route) as often as they like; the
daily job (``run_daily``) makes one report per payee and day by itself once WeChat Pay's bill is
ready, the same comparison stored the same way, and retries a day it could not download.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit import service as audit
from audit.service import Actor
from core import clock
from core.errors import DomainError, RateLimited, Unavailable
from payments import setup
from payments.models import LedgerEntry, LedgerKind, Payee, PaymentOrder, Reconciliation, RefundRecord
from wechat.pay.errors import WeChatPayBillNotReady
from wechat.pay.protocol import BillRow, WeChatPayApi

log = logging.getLogger("wuye.payments")


def local_day(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)
    return start, start + timedelta(days=1)


async def _ours(
    day: date, payee: Payee | None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    since, until = local_day(day)
    query = LedgerEntry.filter(at__gte=since, at__lt=until)
    if payee is not None:
        query = query.filter(payee_id=payee.id)
    entries = await query
    orders = {
        o.id: o
        for o in await PaymentOrder.filter(id__in={e.order_id for e in entries}).prefetch_related("payee")
    }
    refund_nos = dict(
        await RefundRecord.filter(id__in={e.refund_id for e in entries if e.refund_id}).values_list(
            "id", "out_refund_no"
        )
    )
    payments: dict[str, dict[str, Any]] = {}
    refunds: dict[str, dict[str, Any]] = {}
    for e in entries:
        order = orders[e.order_id]
        row = {"out_trade_no": order.out_trade_no, "amount_fen": e.amount_fen, "sub_mchid": order.sub_mchid}
        if e.kind is LedgerKind.PAYMENT:
            payments[order.out_trade_no] = row
        else:
            refunds[str(refund_nos[e.refund_id])] = {**row, "out_refund_no": refund_nos[e.refund_id]}
    return payments, refunds


def compare(
    rows: list[BillRow], payments: dict[str, dict[str, Any]], refunds: dict[str, dict[str, Any]]
) -> tuple[int, list[dict[str, Any]]]:
    """(lines that match, the differences). Pure, so it is tested on its own."""
    matched = 0
    differences: list[dict[str, Any]] = []
    seen_pay: set[str] = set()
    seen_refund: set[str] = set()
    for row in rows:
        if row.trade_state == "REFUND" and row.out_refund_no:
            key, theirs, ours = row.out_refund_no, row.refund_fen, refunds.get(row.out_refund_no)
            kind = "refund"
            seen_refund.add(key)
        else:
            key, theirs, ours = row.out_trade_no, row.order_total_fen, payments.get(row.out_trade_no)
            kind = "payment"
            seen_pay.add(key)
        base = {"kind": kind, "key": key, "out_trade_no": row.out_trade_no, "bill_fen": theirs}
        if ours is None:
            differences.append({**base, "difference": "missing_here", "ledger_fen": None})
        elif ours["amount_fen"] != theirs:
            differences.append({**base, "difference": "amount_differs", "ledger_fen": ours["amount_fen"]})
        elif ours["sub_mchid"] != row.sub_mchid:
            differences.append({**base, "difference": "payee_differs", "ledger_fen": ours["amount_fen"]})
        else:
            matched += 1
    for kind, ours_all, seen in (("payment", payments, seen_pay), ("refund", refunds, seen_refund)):
        for key, row_ in sorted(ours_all.items()):
            if key not in seen:
                differences.append(
                    {
                        "kind": kind,
                        "key": key,
                        "out_trade_no": row_["out_trade_no"],
                        "bill_fen": None,
                        "difference": "missing_there",
                        "ledger_fen": row_["amount_fen"],
                    }
                )
    return matched, differences


async def reconcile(
    pay: WeChatPayApi, actor: Actor, *, day: date, payee: Payee | None, user_id: int | None
) -> Reconciliation:
    """A person asks: the day's bill compared now, a new report each time."""
    rows = await pay.trade_bill(bill_date=day, sub_mchid=payee.sub_mchid if payee else None)
    report = await _record(actor, rows, day=day, payee=payee, user_id=user_id, daily_key=None)
    assert report is not None  # only a daily key can collide
    return report


async def _record(
    actor: Actor,
    rows: list[BillRow],
    *,
    day: date,
    payee: Payee | None,
    user_id: int | None,
    daily_key: str | None,
) -> Reconciliation | None:
    """The comparison stored and audited in one transaction; None when ``daily_key`` was recorded
    already (another run at the same moment), and then nothing of this one is kept."""
    payments, refunds = await _ours(day, payee)
    matched, differences = compare(rows, payments, refunds)
    try:
        async with in_transaction():
            report = await Reconciliation.create(
                bill_date=day,
                payee=payee,
                matched=matched,
                differences=differences,
                by_id=user_id,
                daily_key=daily_key,
            )
            await audit.append(
                f"payments:payee:{payee.id}" if payee else setup.COUNTY_STREAM,
                "payments.reconciled",
                actor=actor,
                subject=f"reconciliation:{report.id}",
                payload={"day": day.isoformat(), "matched": matched, "differences": len(differences)},
            )
    except IntegrityError:
        if daily_key is None or not await Reconciliation.exists(daily_key=daily_key):
            raise
        return None
    return report


# --- the daily job ("trade_bills" in server/jobs.py) ---------------------------------------------

BILL_READY = time(10, 0)  # WeChat Pay's bill of day D is ready from about 10:00 on D+1, Beijing time
LOOKBACK_DAYS = 7  # days a failed download is retried for; longer outages are the operator's
PER_RUN = 40  # downloads per run, well inside the job's time limit; the next run goes on


class DailyReconciliationFailed(Exception):
    """Some payee's bill could not be had this run (recorded as the job's failure; retried next run)."""


def daily_key(payee_id: int, day: date) -> str:
    return f"{payee_id}:{day.isoformat()}"


def due_days(now: datetime) -> list[date]:
    """The days whose bills are ready by ``now`` and still retried, oldest first."""
    local = clock.to_local(now)
    latest = local.date() - timedelta(days=1 if local.time() >= BILL_READY else 2)
    return [latest - timedelta(days=back) for back in range(LOOKBACK_DAYS - 1, -1, -1)]


async def run_daily(pay: WeChatPayApi, *, now: datetime | None = None, limit: int = PER_RUN) -> int:
    """Each payee's trade bill of each ready day not yet reconciled is downloaded and compared with
    the ledger, its report recorded once per payee and day (``daily_key``) and audited as a person's
    would be. A bill still being made is tried next run. So is any failed day, and the failure is
    raised at the end so that the job shows as failing: WeChat Pay down or rate-limiting ends the run
    there; a refusal for one sub-merchant skips that payee's days and lets the others go on. Two
    runs at once may both download a day; only one report of it is kept. Returns reports made."""
    days = due_days(now or clock.now())
    payees = await Payee.all().order_by("id")
    keys = [daily_key(p.id, d) for p in payees for d in days]
    done = set(await Reconciliation.filter(daily_key__in=keys).values_list("daily_key", flat=True))
    todo = [(p, d) for p in payees for d in days if daily_key(p.id, d) not in done][:limit]
    made = 0
    failed: list[str] = []
    refused: set[int] = set()
    for payee, day in todo:
        if payee.id in refused:
            continue
        key = daily_key(payee.id, day)
        try:
            rows = await pay.trade_bill(bill_date=day, sub_mchid=payee.sub_mchid)
        except WeChatPayBillNotReady:
            continue  # WeChat Pay is late today; the next run asks again
        except DomainError as exc:
            log.warning("trade bill %s could not be downloaded: %s", key, exc.error_code)
            failed.append(f"{key} {exc.error_code}")
            if isinstance(exc, Unavailable | RateLimited):
                break  # WeChat Pay itself is down or pushing back: not hammered, the next run goes on
            refused.add(payee.id)  # refused for this sub-merchant: its other days would be too
            continue
        if await _record(audit.SYSTEM, rows, day=day, payee=payee, user_id=None, daily_key=key):
            made += 1
    if failed:
        raise DailyReconciliationFailed("; ".join(failed)[:400])
    return made


async def reports(payee_id: int, *, limit: int, before_id: int | None = None) -> list[Reconciliation]:
    """The payee's reports, the daily job's and those people asked for, newest first."""
    query = Reconciliation.filter(payee_id=payee_id)
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    return await query.order_by("-id").limit(limit)
