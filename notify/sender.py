"""Delivering the outbox to WeChat, at most once per row.

A sender claims a batch (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so concurrent senders take
different rows; both databases: a conditional UPDATE stamped with the sender's token, so a row is
claimed by one sender only). Each row then moves CLAIMED → SENDING by another conditional UPDATE
right before WeChat is called, and to SENT / NO_CONSENT / FAILED / back to PENDING (a transient
error, with backoff) after. A sender that dies leaves its rows with an expired lease: CLAIMED rows
(WeChat never called) go back to PENDING; SENDING rows (WeChat may have delivered them and offers no
idempotency key) are not resent but marked FAILED "interrupted" - never twice, at the price of the
rare message whose sender died during the HTTP call.

Consent is spent by a conditional UPDATE (``remaining > 0``) before the call and given back when
WeChat did not take the message for a reason other than 43101."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core import clock
from core.errors import DomainError, RateLimited, Unavailable
from notify.models import Consent, ConsentStatus, Notification, State
from notify.rules import MAX_ATTEMPTS, backoff
from wechat.errors import WeChatSubscribeRefused
from wechat.protocol import WeChatApi

log = logging.getLogger("wuye.notify")
LEASE = timedelta(seconds=15)  # far above one batch of sends (each bounded by the client timeout)
BATCH = 32  # a dead sender holds at most this many rows until its lease ends
CONCURRENCY = 8
INTERRUPTED = "发送中断（可能已送达），为避免重复不再重发"


@dataclass
class RelayResult:
    sent: int = 0
    no_consent: int = 0
    retry: int = 0
    failed: int = 0
    reclaimed: int = 0
    interrupted: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return self.sent + self.no_consent + self.retry + self.failed


def _on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def recover_expired() -> tuple[int, int]:
    """Rows of senders that died: CLAIMED back to PENDING, SENDING to FAILED (see the module doc)."""
    now = clock.now()
    back = await Notification.filter(state=State.CLAIMED, claimed_until__lt=now).update(
        state=State.PENDING, claimed_until=None, claimed_by=""
    )
    lost = await Notification.filter(state=State.SENDING, claimed_until__lt=now).update(
        state=State.FAILED, last_error=INTERRUPTED, claimed_until=None
    )
    if lost:
        log.warning("%d notifications were interrupted mid-send and are not resent", lost)
    return back, lost


async def claim(limit: int = BATCH) -> list[dict[str, Any]]:
    token = secrets.token_hex(8)
    now = clock.now()
    due = Notification.filter(state=State.PENDING, next_attempt_at__lte=now).order_by("id").limit(limit)
    async with in_transaction():
        if _on_postgres():
            due = due.select_for_update(skip_locked=True)
        ids = list(await due.values_list("id", flat=True))
        if not ids:
            return []
        await Notification.filter(id__in=ids, state=State.PENDING).update(
            state=State.CLAIMED, claimed_by=token, claimed_until=now + LEASE
        )
    return list(
        await Notification.filter(claimed_by=token, state=State.CLAIMED).values(
            "id", "user_id", "user__openid", "template_id", "data", "page", "attempts", "claimed_by"
        )
    )


async def _spend_consent(user_id: int, template_id: str) -> bool:
    base = Consent.filter(user_id=user_id, template_id=template_id, status=ConsentStatus.ACCEPT)
    if await base.filter(always=True).exists():
        return True
    return bool(await base.filter(remaining__gt=0).update(remaining=F("remaining") - 1))


async def _refund_consent(user_id: int, template_id: str) -> None:
    await Consent.filter(
        user_id=user_id, template_id=template_id, status=ConsentStatus.ACCEPT, always=False
    ).update(remaining=F("remaining") + 1)


async def _finish(row_id: int, **changes: Any) -> None:
    await Notification.filter(id=row_id, state=State.SENDING).update(claimed_until=None, **changes)


async def deliver_one(wechat: WeChatApi, row: dict[str, Any], result: RelayResult) -> None:
    row_id, user_id, template_id = row["id"], row["user_id"], row["template_id"]
    moved = await Notification.filter(id=row_id, state=State.CLAIMED, claimed_by=row["claimed_by"]).update(
        state=State.SENDING, attempts=F("attempts") + 1, claimed_until=clock.now() + LEASE
    )
    if not moved:  # our lease expired and another sender has it
        return
    if not await _spend_consent(user_id, template_id):
        await _finish(row_id, state=State.NO_CONSENT, last_error="用户未订阅该模板")
        result.no_consent += 1
        return
    try:
        await wechat.send_subscribe(
            openid=row["user__openid"], template_id=template_id, data=row["data"], page=row["page"] or None
        )
    except WeChatSubscribeRefused:
        # WeChat counts authorisations itself: none left, whatever we believed. Used up.
        await Consent.filter(user_id=user_id, template_id=template_id).update(
            remaining=0, always=False, updated_at=clock.now()
        )
        await _finish(row_id, state=State.NO_CONSENT, last_error="43101 授权次数已用完")
        result.no_consent += 1
        return
    except (Unavailable, RateLimited) as exc:
        await _refund_consent(user_id, template_id)
        attempts = row["attempts"] + 1
        reason = f"{exc.error_code}: {exc.user_message}"[:200]
        if attempts >= MAX_ATTEMPTS:
            await _finish(row_id, state=State.FAILED, last_error=f"重试{attempts}次后放弃 {reason}"[:200])
            result.failed += 1
        else:
            await _finish(
                row_id, state=State.PENDING, claimed_by="", last_error=reason,
                next_attempt_at=clock.now() + backoff(attempts),
            )  # fmt: skip
            result.retry += 1
        return
    except DomainError as exc:  # permanent: a bad template, bad data, an unknown openid
        await _refund_consent(user_id, template_id)
        await _finish(row_id, state=State.FAILED, last_error=f"{exc.error_code}: {exc.details}"[:200])
        result.failed += 1
        return
    await _finish(row_id, state=State.SENT, sent_at=clock.now(), last_error="")
    result.sent += 1


async def relay(wechat: WeChatApi, *, max_rows: int = 10_000) -> RelayResult:
    """Deliver what is due, batch after batch, until nothing is due or ``max_rows`` were handled."""
    result = RelayResult()
    result.reclaimed, result.interrupted = await recover_expired()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(row: dict[str, Any]) -> None:
        async with gate:
            try:
                await deliver_one(wechat, row, result)
            except Exception:  # the row keeps its lease and is recovered; the others go on
                log.exception("delivering notification %s failed", row["id"])

    while result.total() < max_rows:
        rows = await claim()
        if not rows:
            break
        await asyncio.gather(*(one(r) for r in rows))
    return result


async def backlog() -> dict[str, int]:
    """Outbox rows per state that are not finished (for /ready and the supervisors' page)."""
    out = {}
    for state in (State.PENDING, State.CLAIMED, State.SENDING):
        out[str(state)] = await Notification.filter(state=state).count()
    out["failed"] = await Notification.filter(Q(state=State.FAILED)).count()
    return out


@dataclass(frozen=True, slots=True)
class FailedView:
    id: int
    event: str
    template_id: str
    user_id: int
    attempts: int
    last_error: str
    interrupted: bool  # the sender died during the call: WeChat may have delivered it
    created_at: datetime


MAX_FAILED_PAGE = 50


async def failed(*, cursor: int | None, limit: int) -> tuple[list[FailedView], int | None]:
    """Deliveries given up on, newest first, with their reason (for supervisors); keyset pages by id."""
    limit = max(1, min(limit, MAX_FAILED_PAGE))
    query = Notification.filter(state=State.FAILED)
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = await query.order_by("-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    views = [FailedView(r.id, r.event, r.template_id, r.user_id, r.attempts, r.last_error,  # type: ignore[attr-defined]
                        r.last_error == INTERRUPTED, r.created_at) for r in rows]  # fmt: skip
    return views, (rows[-1].id if more else None)
