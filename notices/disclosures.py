"""Structured disclosures as notices: drafted from a document (totals computed, disagreements refused),
published through the ordinary workflow (content security included), compared across years."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Compound
from accounts.roles import Role
from core.cache import Cache
from notices import ledger, service
from notices.board import visible_notice
from notices.errors import DisclosureInvalid, DisclosurePeriodTaken
from notices.models import Disclosure, DisclosureKind, Notice
from notices.rules import Audience, Scope, Status, audiences_for
from notices.scoping import Caller, Where, load, require_manager, require_poster
from wechat import WeChatApi


async def draft(
    caller: Caller,
    where: Where,
    *,
    kind: DisclosureKind,
    period_start: date,
    period_end: date,
    sections: Mapping[str, Mapping[str, Any]],
    stated_balances: Mapping[str, int] | None = None,
    note: str = "",
    title: str | None = None,
    audience: Audience = Audience.EVERYONE,
) -> Notice:
    if where.scope is not Scope.COMPOUND:
        raise DisclosureInvalid("公示须属于一个小区", code="disclosure_scope")
    require_poster(caller, where, ledger.CATEGORY_OF[kind])
    document = ledger.build_document(kind, period_start, period_end, sections, stated_balances)
    heading = title or f"{ledger.TITLES[kind]}（{period_start.isoformat()} 至 {period_end.isoformat()}）"
    async with in_transaction() as conn:
        await _refuse_overlap(where.scope_id, kind, period_start, period_end, using_db=conn)
        notice = await service.create(
            caller,
            where,
            category=ledger.CATEGORY_OF[kind].value,
            title=heading[:100],
            body_markdown=ledger.markdown_of(document, note),
            audience=audience,
            data=document,
        )
        try:
            await Disclosure.create(
                notice=notice,
                compound_id=where.scope_id,
                kind=kind,
                period_start=period_start,
                period_end=period_end,
                period_key=period_key(period_start, period_end),
                document=document,
                using_db=conn,
            )
        except IntegrityError:  # the same period drafted at the same moment: the database decides
            raise DisclosurePeriodTaken(details=_period(period_start, period_end)) from None
    return notice


def period_key(start: date, end: date) -> str:
    return f"{start.isoformat()}~{end.isoformat()}"


def _period(start: date, end: date) -> dict[str, Any]:
    return {"period_start": start.isoformat(), "period_end": end.isoformat()}


async def _refuse_overlap(
    compound_id: int, kind: DisclosureKind, start: date, end: date, *, using_db: Any, exclude: int = 0
) -> None:
    """One disclosure of a kind stands for any day: refuse a period that overlaps a standing one
    (the exact same period is also refused by the unique constraint on period_key). The compound's
    row is locked so that two overlapping drafts cannot both pass this check (PostgreSQL; SQLite
    writes one transaction at a time)."""
    await Compound.filter(id=compound_id).select_for_update().using_db(using_db).first()
    clash = (
        await Disclosure.filter(
            compound_id=compound_id,
            kind=kind,
            period_key__isnull=False,
            period_start__lte=end,
            period_end__gte=start,
        )
        .exclude(id=exclude)
        .using_db(using_db)
        .first()
    )
    if clash is not None:
        raise DisclosurePeriodTaken(
            details={
                **_period(start, end),
                "notice_id": clash.notice_id,  # type: ignore[attr-defined]
                "existing_period": _period(clash.period_start, clash.period_end),
            }
        )


async def revise(
    cache: Cache | None,
    wechat: WeChatApi,
    caller: Caller,
    where: Where,
    notice_id: int,
    *,
    period_start: date,
    period_end: date,
    sections: Mapping[str, Mapping[str, Any]],
    stated_balances: Mapping[str, int] | None = None,
    note: str = "",
    change_note: str = "",
) -> Notice:
    """A corrected document: a new revision of its notice (the earlier one stays in the history)."""
    notice = await load(where, notice_id)
    disclosure = await Disclosure.get_or_none(notice_id=notice.id)
    if disclosure is None:
        raise DisclosureInvalid("该公告不是结构化公示", code="not_a_disclosure")
    require_manager(caller, where, notice)
    document = ledger.build_document(disclosure.kind, period_start, period_end, sections, stated_balances)
    before = {"period_start": disclosure.period_start, "period_end": disclosure.period_end}
    moved = (period_start, period_end) != (disclosure.period_start, disclosure.period_end)
    if moved and disclosure.period_key is not None:
        # The corrected period must be free too; it is taken before the revision is written
        async with in_transaction() as conn:
            await _refuse_overlap(
                disclosure.compound_id,  # type: ignore[attr-defined]
                disclosure.kind,
                period_start,
                period_end,
                using_db=conn,
                exclude=disclosure.id,
            )
            try:
                await (
                    Disclosure.filter(id=disclosure.id)
                    .using_db(conn)
                    .update(
                        period_start=period_start,
                        period_end=period_end,
                        period_key=period_key(period_start, period_end),
                    )
                )
            except IntegrityError:
                raise DisclosurePeriodTaken(details=_period(period_start, period_end)) from None
    try:
        revised = await service.edit(
            cache,
            wechat,
            caller,
            where,
            notice.id,
            title=notice.title,
            body_markdown=ledger.markdown_of(document, note),
            note=change_note,
            data=document,
        )
    except BaseException:
        if moved and disclosure.period_key is not None:  # the revision was refused: give the period back
            await Disclosure.filter(id=disclosure.id).update(
                **before, period_key=period_key(before["period_start"], before["period_end"])
            )
        raise
    await Disclosure.filter(id=disclosure.id).update(
        period_start=period_start, period_end=period_end, document=document
    )
    return revised


async def compare(
    *, compound_id: int, kind: DisclosureKind, roles: Iterable[Role], years: Iterable[int] = ()
) -> dict[str, Any]:
    """The published disclosures of a kind, side by side; only what this reader may read."""
    rows = await Disclosure.filter(
        compound_id=compound_id,
        kind=kind,
        period_key__isnull=False,
        notice__status=Status.PUBLISHED,
        notice__audience__in=list(audiences_for(roles)),
    ).order_by("period_start")
    wanted = set(years)
    documents = []
    for row in rows:
        if wanted and row.period_start.year not in wanted:
            continue
        try:
            await visible_notice(compound_id, row.notice_id, roles)  # type: ignore[attr-defined]
        except Exception:  # noqa: S112 - scheduled, expired: not on the board, not compared
            continue
        documents.append(row.document)
    return {"kind": kind.value, **ledger.compare(documents)}
