"""Use cases of notify: consent, enqueue (inside the caller's transaction), the inbox.
Delivery is in notify.sender; periodic-job bookkeeping in notify.jobstate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import clock
from notify import catalogue, errors
from notify.models import Consent, ConsentStatus, EventMark, Notification, State
from notify.rules import fit

MAX_PAGE = 50
# What wx.requestSubscribeMessage answers per template id; "filter" (the template was filtered out,
# e.g. a duplicate title) authorises nothing, like a rejection.
RESULTS = {"accept": ConsentStatus.ACCEPT, "reject": ConsentStatus.REJECT, "ban": ConsentStatus.BAN,
           "filter": ConsentStatus.REJECT}  # fmt: skip


async def record_consent(user_id: int, results: Mapping[str, str], always: Iterable[str] = ()) -> None:
    """Record one wx.requestSubscribeMessage answer. Each accept adds one send; a reject or ban ends
    the authorisation (nothing is sent with it until the user accepts again); a template listed in
    ``always`` and accepted keeps its authorisation for every send until WeChat says 43101."""
    known = catalogue.template_ids()
    keep = set(always)
    for template_id, result in results.items():
        if template_id not in known:
            raise errors.TemplateUnknown(details={"template_id": template_id[:64]})
        if result not in RESULTS:
            raise errors.ConsentInvalid(details={"template_id": template_id, "result": result[:20]})
    now = clock.now()
    for template_id, result in results.items():
        status = RESULTS[result]
        if status is ConsentStatus.ACCEPT:
            changes: dict[str, Any] = {"remaining": F("remaining") + 1, "status": status, "updated_at": now}
            if template_id in keep:
                changes["always"] = True
        else:
            changes = {"remaining": 0, "always": False, "status": status, "updated_at": now}
        # Atomic on both databases: an increment in place, or the first row (a racing first answer
        # makes the insert fail and the increment then applies).
        for _ in range(2):
            if await Consent.filter(user_id=user_id, template_id=template_id).update(**changes):
                break
            try:
                await Consent.create(
                    user_id=user_id,
                    template_id=template_id,
                    status=status,
                    remaining=1 if status is ConsentStatus.ACCEPT else 0,
                    always=status is ConsentStatus.ACCEPT and template_id in keep,
                    updated_at=now,
                )
                break
            except IntegrityError:
                continue


@dataclass(frozen=True, slots=True)
class ConsentView:
    template_id: str
    events: list[str]
    status: str | None
    remaining: int
    always: bool


async def consents(user_id: int) -> list[ConsentView]:
    rows = {c.template_id: c for c in await Consent.filter(user_id=user_id)}
    out = []
    for template_id in sorted(catalogue.template_ids()):
        row = rows.get(template_id)
        out.append(
            ConsentView(
                template_id,
                catalogue.events_of(template_id),
                str(row.status) if row else None,
                row.remaining if row else 0,
                row.always if row else False,
            )
        )
    return out


def _render(event: str, params: Mapping[str, Any]) -> tuple[str, str, str, dict[str, str], str]:
    template = catalogue.BY_EVENT.get(event)
    if template is None:
        raise errors.TemplateUnknown(details={"event": event})
    values = dict(params)
    if "amount_fen" in values:
        values.setdefault("amount_text", fit(catalogue.A, values["amount_fen"]))
    data = {key: fit(kind, values[name]) for key, kind, name in template.fields}
    summary = template.summary.format(**values)[:200]
    page = template.page.format(**values)[:200]
    return template.template_id, template.title, summary, data, page


async def enqueue(
    event: str,
    *,
    subject: str,
    user_ids: Iterable[int],
    params: Mapping[str, Any],
    using_db: Any = None,
    not_before: datetime | None = None,
) -> int:
    """Write one outbox row per user for ``event`` about ``subject`` (e.g. "motion:7"). Call it inside
    the transaction of the change: the rows exist exactly when the change does. The same event about
    the same subject for the same user is written once (the key is unique), so a retried transition
    never notifies twice. ``not_before`` (a notice scheduled for later) holds the rows back, from the
    sender and the inbox, until then. Returns the number of users asked for."""
    return await enqueue_many(event, [(subject, user_ids, params)], using_db=using_db, not_before=not_before)


async def enqueue_many(
    event: str,
    items: Iterable[tuple[str, Iterable[int], Mapping[str, Any]]],
    *,
    using_db: Any = None,
    not_before: datetime | None = None,
) -> int:
    """``enqueue`` for many subjects at once, (subject, user ids, params) each, written in a few bulk
    inserts (a billing run's thousands of bills). Returns the number of rows asked for."""
    rows = outbox_rows(event, items, not_before=not_before)
    if rows:
        await Notification.bulk_create(rows, batch_size=500, ignore_conflicts=True, using_db=using_db)
    return len(rows)


def outbox_rows(
    event: str,
    items: Iterable[tuple[str, Iterable[int], Mapping[str, Any]]],
    *,
    not_before: datetime | None = None,
) -> list[Notification]:
    """The rows ``enqueue_many`` writes, not yet written: for a caller that inserts them in its own
    statement of the change's transaction (ignoring a conflict on ``key``, as ``enqueue_many`` does)."""
    return [Notification(**values) for values in outbox_values(event, items, not_before=not_before)]


def outbox_values(
    event: str,
    items: Iterable[tuple[str, Iterable[int], Mapping[str, Any]]],
    *,
    not_before: datetime | None = None,
) -> list[dict[str, Any]]:
    """``outbox_rows`` as the rows' field values, for a caller that writes them without making
    instances (bookings.batch_pg)."""
    now = clock.now()
    if not_before is not None and not_before > now:
        now = not_before  # the row is due, and enters the inbox, then
    rows: list[dict[str, Any]] = []
    for subject, user_ids, params in items:
        template_id, title, summary, data, page = _render(event, params)
        rows += [
            {
                "key": f"{event}:{subject}:{uid}"[:160],
                "user_id": uid,
                "event": event,
                "template_id": template_id,
                "title": title,
                "summary": summary,
                "data": data,
                "page": page,
                "state": State.PENDING,
                "next_attempt_at": now,
                "created_at": now,
            }
            for uid in sorted(set(user_ids))
        ]
    return rows


async def withdraw_pending(event: str, subject: str, reason: str) -> int:
    """What ``enqueue`` wrote for ``event`` about ``subject`` and nobody was told yet, called in the
    transaction that withdraws the subject (a scheduled notice taken down before it went live): rows
    still held back (``not_before`` ahead) are removed, as nobody could see them; rows due but not sent
    are given up with ``reason``, and stay in the inbox. Returns how many were removed or given up."""
    prefix = f"{event}:{subject}:"
    now = clock.now()
    held = await Notification.filter(key__startswith=prefix, state=State.PENDING, created_at__gt=now).delete()
    given_up = await Notification.filter(key__startswith=prefix, state=State.PENDING).update(
        state=State.FAILED, last_error=reason[:200]
    )
    return int(held) + int(given_up)


async def published(event: str, subject: str) -> bool:
    """Whether ``mark_published`` was called for this event and subject (an indexed lookup)."""
    return await EventMark.exists(key=f"{event}:{subject}"[:160])


async def mark_published(event: str, subject: str) -> bool:
    """Record that a clock-driven event about ``subject`` is being published (call it in the
    transaction that enqueues it). False when it already was: then enqueue nothing."""
    try:
        async with in_transaction():  # a savepoint: a duplicate must not abort the caller's transaction
            await EventMark.create(key=f"{event}:{subject}"[:160], at=clock.now())
    except IntegrityError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    event: str
    title: str
    summary: str
    page: str
    state: str
    delivered: bool
    reason: str
    created_at: datetime
    read_at: datetime | None


def _item(n: Notification) -> InboxItem:
    reason = {State.NO_CONSENT: "未订阅该类消息，仅在消息中心显示", State.FAILED: "微信消息发送失败，仅在消息中心显示"}.get(
        n.state, ""
    )  # fmt: skip
    return InboxItem(
        n.id, n.event, n.title, n.summary, n.page, str(n.state), n.state is State.SENT, reason,
        n.created_at, n.read_at,
    )  # fmt: skip


async def inbox(user_id: int, *, cursor: int | None, limit: int) -> tuple[list[InboxItem], int | None]:
    """Newest first; keyset pages by id."""
    limit = max(1, min(limit, MAX_PAGE))
    query = Notification.filter(user_id=user_id, created_at__lte=clock.now())
    if cursor is not None:
        query = query.filter(id__lt=cursor)
    rows = await query.order_by("-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [_item(n) for n in rows], (rows[-1].id if more else None)


async def unread(user_id: int) -> int:
    return await Notification.filter(user_id=user_id, read_at=None, created_at__lte=clock.now()).count()


async def mark_read(user_id: int, notification_id: int) -> None:
    if not await Notification.exists(id=notification_id, user_id=user_id):
        raise errors.NotificationNotFound()
    await Notification.filter(id=notification_id, user_id=user_id, read_at=None).update(read_at=clock.now())
