"""Notices requiring acknowledgement (阅知确认): a manager marks a compound's notice; when it is
published, each owner and resident with an account it is addressed to gets a row here and an outbox
row (event ``notice.acknowledge``) in the same transaction; a resident acknowledges it once; the
manager sees who has and who has not, by name and room only.

The addressed set is taken when the notice goes live (republishing a revision adds those who moved
in since, keeps every acknowledgement, and notifies nobody twice: the outbox key is per notice and
user). Someone who moved in later and acknowledges joins it then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Ownership, Resident, User
from accounts.roles import Role
from audit import service as audit
from core import clock, pages
from notices.board import visible_notice
from notices.errors import AckNotAddressed, AckNotRequired, NoticeInvalid
from notices.models import Notice, NoticeAck
from notices.rules import Audience, Scope
from notices.scoping import Where, load, stream_of
from notify import service as notify

EVENT = "notice.acknowledge"
MAX_LIMIT = 50


def check_allowed(scope: Scope, requires_ack: bool) -> None:
    """Only a compound's own notice has a roll of people to ask."""
    if requires_ack and scope is not Scope.COMPOUND:
        raise NoticeInvalid("只有小区公告可以要求阅知确认", code="ack_compound_only")


async def addressed_users(compound_id: int, audience: Audience) -> set[int]:
    """The owners with an account of the compound's units, and for a notice to everyone its
    residents too (the same people the read report counts)."""
    users = set(
        await Ownership.filter(unit__compound_id=compound_id, owner__user_id__not_isnull=True).values_list(
            "owner__user_id", flat=True
        )
    )
    if audience is Audience.EVERYONE:
        users |= set(await Resident.filter(unit__compound_id=compound_id).values_list("user_id", flat=True))
    return {int(u) for u in users}  # type: ignore[call-overload]


async def on_published(notice_id: int) -> int:
    """Inside the transaction that publishes the notice: the addressed rows and their outbox rows.
    Returns how many were addressed (0 when the notice does not require acknowledgement)."""
    notice = await Notice.get(id=notice_id)
    if not notice.requires_ack or notice.scope is not Scope.COMPOUND or notice.publish_at is None:
        return 0
    compound_id = int(notice.compound_id)  # type: ignore[attr-defined]
    users = sorted(await addressed_users(compound_id, notice.audience))
    if not users:
        return 0
    now = clock.now()
    await NoticeAck.bulk_create(
        [NoticeAck(notice_id=notice.id, user_id=u, addressed_at=now) for u in users],
        batch_size=500,
        ignore_conflicts=True,
    )
    await notify.enqueue(
        EVENT,
        subject=f"notice:{notice.id}",
        user_ids=users,
        params={"notice_id": notice.id, "title": notice.title, "published_at": notice.publish_at},
        not_before=notice.publish_at,
    )
    return len(users)


async def withdrawn(notice_id: int) -> int:
    """Inside the transaction that withdraws the notice: the requests to acknowledge it that nobody
    has been sent yet are dropped (notify.withdraw_pending). Returns how many."""
    return await notify.withdraw_pending(EVENT, f"notice:{notice_id}", "公告已撤回")


@dataclass(frozen=True, slots=True)
class Acknowledged:
    notice_id: int
    acknowledged_at: datetime
    first: bool  # False: it had been acknowledged before (nothing changed)


async def acknowledge(
    *, compound_id: int, notice_id: int, user_id: int, roles: Iterable[Role], actor: audit.Actor
) -> Acknowledged:
    """The caller acknowledges a live notice of their compound's board that asks for it. Idempotent:
    a second call returns the first acknowledgement and writes nothing."""
    notice = await visible_notice(compound_id, notice_id, roles)
    if not notice.requires_ack or notice.scope is not Scope.COMPOUND:
        raise AckNotRequired()
    async with in_transaction():
        row = await NoticeAck.get_or_none(notice_id=notice.id, user_id=user_id)
        if row is None:
            # not on the roll taken at publication: only someone now owning or living here joins it
            if user_id not in await addressed_users(compound_id, notice.audience):
                raise AckNotAddressed()
            now = clock.now()
            await NoticeAck.bulk_create(
                [NoticeAck(notice_id=notice.id, user_id=user_id, addressed_at=now)], ignore_conflicts=True
            )
            row = await NoticeAck.get(notice_id=notice.id, user_id=user_id)
        if row.acknowledged_at is not None:
            return Acknowledged(notice.id, row.acknowledged_at, first=False)
        now = clock.now()
        moved = await NoticeAck.filter(id=row.id, acknowledged_at=None).update(acknowledged_at=now)
        if moved != 1:  # a second tap at the same moment got there first
            row = await NoticeAck.get(id=row.id)
            assert row.acknowledged_at is not None
            return Acknowledged(notice.id, row.acknowledged_at, first=False)
        await audit.append(
            stream_of(Where(Scope.COMPOUND, compound_id)),
            "notice.acknowledged",
            actor=actor,
            subject=f"notice:{notice.id}",
            payload={"revision": notice.revision},
        )
    return Acknowledged(notice.id, now, first=True)


async def acknowledged_at(notice_id: int, user_id: int) -> datetime | None:
    row = await NoticeAck.get_or_none(notice_id=notice_id, user_id=user_id).only("id", "acknowledged_at")
    return row.acknowledged_at if row else None


async def report(
    where: Where, notice_id: int, *, acknowledged: bool | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Counts, and one page (by id) of the addressed people: name and rooms, when they acknowledged.
    ``acknowledged`` True/False lists only those who have/have not."""
    notice = await load(where, notice_id)
    rows = NoticeAck.filter(notice_id=notice.id)
    total = await rows.count()
    done = await rows.filter(acknowledged_at__not_isnull=True).count()
    query = NoticeAck.filter(notice_id=notice.id, id__gt=pages.after(cursor))
    if acknowledged is not None:
        query = query.filter(acknowledged_at__isnull=not acknowledged)
    limit = max(1, min(limit, MAX_LIMIT))
    found = pages.page(await query.order_by("id").limit(limit + 1), limit, key=lambda r: r.id)
    people = await _people(where, [r.user_id for r in found.items])  # type: ignore[attr-defined]
    return {
        "notice_id": notice.id,
        "requires_ack": notice.requires_ack,
        "addressed": total,
        "acknowledged": done,
        "pending": total - done,
        "items": [
            {**people.get(r.user_id, {"name": "", "rooms": []}), "acknowledged_at": r.acknowledged_at}  # type: ignore[attr-defined]
            for r in found.items
        ],
        "next_cursor": found.next_cursor,
    }


async def _people(where: Where, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Name (the roster's owner name, else the account's nickname) and rooms in this compound."""
    if not user_ids or where.scope is not Scope.COMPOUND:
        return {}
    compound_id = where.scope_id
    names = dict(await User.filter(id__in=user_ids).values_list("id", "nickname"))
    rooms: dict[int, set[str]] = {u: set() for u in user_ids}
    owned = await Ownership.filter(unit__compound_id=compound_id, owner__user_id__in=user_ids).values(
        "owner__user_id", "owner__name", "unit__number", "unit__building__name"
    )
    for r in owned:
        uid = int(r["owner__user_id"])
        names[uid] = r["owner__name"]
        rooms[uid].add(f"{r['unit__building__name']}-{r['unit__number']}")
    lived = await Resident.filter(unit__compound_id=compound_id, user_id__in=user_ids).values(
        "user_id", "unit__number", "unit__building__name"
    )
    for r in lived:
        rooms[int(r["user_id"])].add(f"{r['unit__building__name']}-{r['unit__number']}")
    return {u: {"name": str(names.get(u) or "")[:100], "rooms": sorted(rooms[u])} for u in user_ids}
