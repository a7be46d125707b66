"""The quarterly red and black lists (红黑榜): a draft computed from the credit ranking on the
quarter's last day (the records valid that day and known when the draft is computed) by the rule of
rules.quarterly_lists, recomputed until the supervisor reviews and
publishes it; published once per quarter (unique (quarter, status)), then kept as history with the
reasons of each entry (the rule clause and the records behind the score), and posted on the county
board as an official notice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import PropertyCompany
from audit import service as audit
from core import clock, pages
from core.cache import Cache
from notices import official
from ratings import credit
from ratings.errors import ListNotFound, ListStateConflict
from ratings.models import CreditRecord, ListEntry, ListStatus, QuarterList
from ratings.paging import newest_first
from ratings.rules import LIST_RULE, LIST_SHARE, Ranked, parse_quarter, quarter_last_day, quarterly_lists

STREAM = "county"


def _clause(color: str, r: Ranked, k: int) -> str:
    if color == "red":
        return f"信用分 {r.score}（{r.grade}），名次第 {r.rank}，在前 {k} 名之内（含并列）"
    if r.grade == "C":
        return f"信用分 {r.score}，等级 C（低于 60 分）"
    return f"信用分 {r.score}（{r.grade}），倒数第 {r.rank_from_bottom} 名，在倒数 {k} 名之内（含并列）"


async def compute_draft(actor: audit.Actor, quarter: str) -> QuarterList:
    """(Re)compute the draft of ``quarter`` from the credit of every company on its last day."""
    parse_quarter(quarter)
    if await QuarterList.exists(quarter=quarter, status=ListStatus.PUBLISHED):
        raise ListStateConflict(details={"quarter": quarter})
    as_of = quarter_last_day(quarter)
    ids = [int(i) for i in await PropertyCompany.all().values_list("id", flat=True)]  # type: ignore[call-overload]
    computed_at = clock.now()
    credits = await credit.scores(ids, as_of, known_by=computed_at)
    ranked = {i: c.score for i, c in credits.items() if c is not None}
    outcome = quarterly_lists(ranked)
    async with in_transaction():
        await QuarterList.filter(quarter=quarter, status=ListStatus.DRAFT).delete()
        row = await QuarterList.create(
            quarter=quarter,
            as_of=as_of,
            rule=LIST_RULE,
            k=outcome.k,
            ranked=len(outcome.ranking),
            computed_at=computed_at,
        )
        for color, entries in (("red", outcome.red), ("black", outcome.black)):
            for r in entries:
                c = credits[r.company_id]
                assert c is not None
                records = await CreditRecord.filter(id__in=list(c.counted)).order_by("valid_from", "id")
                await ListEntry.create(
                    list_id=row.id,
                    company_id=r.company_id,
                    color=color,
                    rank=r.rank,
                    rank_from_bottom=r.rank_from_bottom,
                    score=r.score,
                    grade=r.grade,
                    reasons={
                        "clause": _clause(color, r, outcome.k),
                        "share": str(LIST_SHARE),
                        "base": str(c.base),
                        "additions": str(c.additions),
                        "deductions": str(c.deductions),
                        "records": [
                            {
                                k: (str(v) if isinstance(v, Decimal | date) else v)
                                for k, v in credit.record_view(x).items()
                            }
                            for x in records
                        ],
                    },
                )
        await audit.append(
            STREAM,
            "rating.list_computed",
            actor=actor,
            subject=f"rating_list:{row.id}",
            payload={
                "quarter": quarter,
                "red": [r.company_id for r in outcome.red],
                "black": [r.company_id for r in outcome.black],
            },
        )
    return row


async def get(list_id: int, *, published_only: bool = False) -> QuarterList:
    row = await QuarterList.get_or_none(id=list_id)
    if row is None or (published_only and row.status != ListStatus.PUBLISHED):
        raise ListNotFound()
    return row


async def entries(list_id: int) -> list[dict[str, Any]]:
    rows = await ListEntry.filter(list_id=list_id).order_by("color", "rank", "company_id")
    names = dict(await PropertyCompany.filter(id__in=[r.company_id for r in rows]).values_list("id", "name"))
    return [{"entry": r, "company_name": names.get(r.company_id, "")} for r in rows]


def _markdown(row: QuarterList, listed: list[dict[str, Any]]) -> str:
    lines = [
        f"# {row.quarter} 物业服务企业红黑榜",
        "",
        f"评定规则：{row.rule}",
        f"统计日期：{row.as_of.isoformat()}",
        "",
    ]
    for color, title in (("red", "红榜"), ("black", "黑榜")):
        lines.append(f"## {title}")
        chosen = [x for x in listed if x["entry"].color == color]
        if not chosen:
            lines.append("（无）")
        for x in chosen:
            e = x["entry"]
            lines.append(f"- {x['company_name']}：信用分 {e.score}，等级 {e.grade}。{e.reasons['clause']}")
        lines.append("")
    if row.review_note:
        lines.append(f"审核意见：{row.review_note}")
    return "\n".join(lines)


async def publish(
    actor: audit.Actor, *, user_id: int, list_id: int, note: str, cache: Cache | None = None
) -> QuarterList:
    """The supervisor has reviewed the draft: publish it (once per quarter) and post it on the county
    board."""
    row = await get(list_id)
    if row.status != ListStatus.DRAFT:
        raise ListStateConflict()
    at = clock.now()
    try:
        async with in_transaction():
            moved = await QuarterList.filter(id=row.id, status=ListStatus.DRAFT).update(
                status=ListStatus.PUBLISHED, reviewed_by_id=user_id, review_note=note, published_at=at
            )
            if moved != 1:
                raise ListStateConflict()
            row = await get(list_id)
            listed = await entries(row.id)
            notice_id = await official.post_county_notice(
                title=f"{row.quarter} 物业服务企业红黑榜",
                body_markdown=_markdown(row, listed),
                publisher="县住房和城乡建设局",
                actor=actor,
                subject=f"rating_list:{row.id}",
                data={
                    "quarter": row.quarter,
                    "red": [x["entry"].company_id for x in listed if x["entry"].color == "red"],
                    "black": [x["entry"].company_id for x in listed if x["entry"].color == "black"],
                },
                cache=cache,
            )
            await QuarterList.filter(id=row.id).update(notice_id=notice_id)
            row.notice_id = notice_id
            await audit.append(
                STREAM,
                "rating.list_published",
                actor=actor,
                subject=f"rating_list:{row.id}",
                payload={"quarter": row.quarter, "note": note, "notice_id": notice_id},
            )
    except IntegrityError as exc:  # two drafts of one quarter published at once
        raise ListStateConflict() from exc
    return row


async def listing(*, status: str | None, cursor: str | None, limit: int) -> pages.Page[QuarterList]:
    query = QuarterList.all() if status is None else QuarterList.filter(status=status)
    return await newest_first(query, cursor=cursor, limit=limit)


async def of_company(company_id: int, *, cursor: str | None, limit: int) -> pages.Page[ListEntry]:
    """The company's entries on published lists, with why (newest first)."""
    query = ListEntry.filter(company_id=company_id, list__status=ListStatus.PUBLISHED).prefetch_related(
        "list"
    )
    return await newest_first(query, cursor=cursor, limit=limit)
