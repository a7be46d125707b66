"""Ratings for everyone logged in, and the shapes the admin routes share (miniprogram_api.ratings_admin).

/ratings/lists                                the published quarterly red and black lists (history)
/ratings/lists/<list_id>                      one published list with every entry and why
/ratings/compounds/<compound_id>/grades       the star grade of a compound and its company's credit grade,
                                              for the people of the compound and those who serve or oversee it
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role
from miniprogram_api.auth import AUTHENTICATED, Allow
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery
from ratings import grades, lists
from ratings.errors import ListNotFound
from ratings.models import ListEntry, QuarterList

bp = Blueprint("ratings", url_prefix="/ratings")

PEOPLE_OF_COMPOUND = Allow(
    Role.RESIDENT,
    Role.OWNER,
    Role.COMMITTEE,
    Role.PROPERTY_STAFF,
    Role.COMMUNITY_ADMIN,
    Role.GRID_WORKER,
    Role.SUPERVISOR,
    over="compound",
)


class EntryOut(BaseModel):
    id: int
    list_id: int
    quarter: str
    company_id: int
    company_name: str
    color: str = Field(description="red 红榜 | black 黑榜")
    rank: int
    rank_from_bottom: int
    score: Decimal
    grade: str
    reasons: dict[str, Any] = Field(description="规则条款（clause）与构成信用分的记录（records）")


class ListOut(BaseModel):
    id: int
    quarter: str
    status: str
    as_of: date
    rule: str
    k: int = Field(description="红黑榜各取排名前 / 后 k 名（含并列）")
    ranked: int = Field(description="参与排名的企业数")
    computed_at: datetime
    review_note: str
    published_at: datetime | None
    notice_id: int | None


class ListDetailOut(BaseModel):
    rating_list: ListOut
    entries: list[EntryOut] = Field(max_length=10_000)


def list_out(row: QuarterList) -> ListOut:
    return ListOut(
        id=row.id,
        quarter=row.quarter,
        status=row.status,
        as_of=row.as_of,
        rule=row.rule,
        k=row.k,
        ranked=row.ranked,
        computed_at=row.computed_at,
        review_note=row.review_note,
        published_at=row.published_at,
        notice_id=row.notice_id,
    )


def entry_out(row: ListEntry, quarter: str, company_name: str) -> EntryOut:
    return EntryOut(
        id=row.id,
        list_id=row.list_id,
        quarter=quarter,
        company_id=row.company_id,
        company_name=company_name,
        color=row.color,
        rank=row.rank,
        rank_from_bottom=row.rank_from_bottom,
        score=Decimal(row.score),
        grade=row.grade,
        reasons=row.reasons,
    )


async def list_detail(row: QuarterList) -> ListDetailOut:
    listed = await lists.entries(row.id)
    return ListDetailOut(
        rating_list=list_out(row),
        entries=[entry_out(x["entry"], row.quarter, x["company_name"]) for x in listed],
    )


@endpoint(
    bp,
    "GET",
    "/lists",
    summary="已发布的季度红黑榜（历史）",
    access=AUTHENTICATED,
    query=PageQuery,
    response=Page[ListOut],
)
async def published_lists(request: Request, call: Call[None, PageQuery]) -> Page[ListOut]:
    page = await lists.listing(status="published", cursor=call.query.cursor, limit=call.query.limit)
    return Page[ListOut].of(page, list_out)


@endpoint(
    bp,
    "GET",
    "/lists/<list_id:int>",
    summary="一期已发布的红黑榜及每家企业上榜的理由",
    access=AUTHENTICATED,
    response=ListDetailOut,
    raises=(ListNotFound,),
)
async def published_list(request: Request, call: Call[None, None], list_id: int) -> ListDetailOut:
    return await list_detail(await lists.get(list_id, published_only=True))


class GradesOut(BaseModel):
    """Star fields are null without a finished inspection in the year before ``on``; credit fields
    null without a company or a credit record valid on ``on``."""

    compound_id: int
    on: date
    company_id: int | None
    stars: int | None = Field(description="星级 0–5（0 为未达星级）")
    star_score: Decimal | None
    inspection_id: int | None = Field(description="星级所依据的考核")
    inspection_kind: str | None = Field(description="daily 日常考核 | annual 年度综合评定")
    inspection_finished_on: date | None
    template_version: int | None
    credit_score: Decimal | None
    credit_grade: str | None = Field(description="AAA | AA | A | B | C")


class GradesQuery(BaseModel):
    model_config = {"extra": "forbid"}
    on: date | None = Field(default=None, description="某日（北京时间）；缺省为今天")


def grades_out(compound_id: int, on: date, g: grades.Grades) -> GradesOut:
    star, credit = g.star, g.credit
    return GradesOut(
        compound_id=compound_id,
        on=on,
        company_id=g.company_id,
        stars=star.stars if star else None,
        star_score=star.score if star else None,
        inspection_id=star.inspection_id if star else None,
        inspection_kind=star.kind if star else None,
        inspection_finished_on=star.finished_on if star else None,
        template_version=star.template_version if star else None,
        credit_score=credit.score if credit else None,
        credit_grade=credit.grade if credit else None,
    )


@endpoint(
    bp,
    "GET",
    "/compounds/<compound_id:int>/grades",
    summary="本小区的星级与物业服务企业的信用等级",
    access=PEOPLE_OF_COMPOUND,
    query=GradesQuery,
    response=GradesOut,
)
async def compound_grades(request: Request, call: Call[None, GradesQuery], compound_id: int) -> GradesOut:
    from accounts.roles import today

    on = call.query.on or today()
    found = await grades.current_grades(compound_ids=[compound_id], at=on)
    return grades_out(compound_id, on, found[compound_id])
