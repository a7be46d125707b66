"""The county dashboards over HTTP: JSON for the console and the mini-program (the county's for the
supervisor, a community's for its admin), the compound list with every column, and CSV/XLSX exports
of the compound list, the figures per community and the complaints by month (every cell through
core.tabular; the same filters, permissions and cached answer as the JSON routes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from core import tabular
from core.pages import Page as FoundPage
from core.pages import after, page
from miniprogram_api.auth import Allow
from miniprogram_api.bounds import Id
from miniprogram_api.endpoint import Call, endpoint, to_response
from miniprogram_api.pagination import CURSOR, LIMIT, Page
from miniprogram_api.supervision import PeriodQuery
from supervision import service

community_bp = Blueprint(
    "supervision_community_dashboard", url_prefix="/admin/communities/<community_id:int>"
)
county_bp = Blueprint("supervision_county", url_prefix="/supervision")
COMMUNITY_DASHBOARD = Allow(Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="community")
SUPERVISOR = Allow(Role.SUPERVISOR, over="county")


class ComplaintFiguresOut(BaseModel):
    count: int
    resolved: int
    overdue_share: float = Field(description="超时占比（0–1）")
    median_hours_to_resolve: float | None = Field(description="从提交到办结的小时数中位数")
    average_rating: float | None
    ratings: int


class SummaryOut(BaseModel):
    compounds: int
    committees_formed: int = Field(description="截止日在任的业主委员会数")
    committees_filed: int = Field(description="其中已备案的")
    committee_share: float
    committee_share_met: bool = Field(description="是否达到全覆盖目标")
    professional_service: int = Field(description="截止日有有效物业服务合同的小区数")
    professional_service_share: float
    professional_service_met: bool = Field(description="是否达到专业化物业服务占比目标（≥50%）")
    patrol_coverage: float = Field(description="统计期内每周巡查到的小区占比的平均")
    patrolled_last_week: int
    patrolled_last_week_share: float
    complaints: ComplaintFiguresOut
    star_grades: dict[str, int] = Field(description="各星级（0 为未达星级）的小区数；无一年内考核结果的不计")
    credit_grades: dict[str, int] = Field(description="服务企业信用等级（AAA/AA/A/B/C）的小区数")


class CommitteeTargetOut(BaseModel):
    deadline: date
    target: int
    as_of: date = Field(description="按此日统计（截止日与统计截止日中较早者）")
    formed: int
    filed: int
    met: bool
    due: bool = Field(description="目标期限是否已到")


class CommunityOut(SummaryOut):
    community_id: int
    name: str
    committee_targets: list[CommitteeTargetOut] = Field(max_length=20)


class MonthOut(ComplaintFiguresOut):
    month: str = Field(description="年月（北京时间），如 2026-03")


class PeriodOut(BaseModel):
    since: date
    until: date


class FiltersOut(BaseModel):
    community_id: int | None
    compound_id: int | None
    company_id: int | None


class TargetsOut(BaseModel):
    committee_share: Decimal
    professional_service_share: Decimal
    patrol_share: Decimal


class DashboardOut(BaseModel):
    period: PeriodOut
    filters: FiltersOut
    targets: TargetsOut = Field(description="实施方案的目标（数据文件 supervision/targets.csv）")
    county: SummaryOut
    communities: list[CommunityOut] = Field(max_length=100)
    months: list[MonthOut] = Field(max_length=30)


class CompoundRowOut(BaseModel):
    compound_id: int
    name: str
    community_id: int
    community: str
    standalone: bool
    company_id: int | None
    company: str | None
    committee_formed: bool
    committee_filed: bool
    professional_service: bool
    weeks: int
    weeks_patrolled: int
    patrolled_last_week: bool
    last_patrol_at: datetime | None
    complaints: ComplaintFiguresOut
    star_grade: int | None = Field(description="星级：一年内最近一次考核（0 为未达星级）")
    star_score: Decimal | None
    credit_grade: str | None = Field(description="现服务企业的信用等级")
    credit_score: Decimal | None


class DashboardQuery(PeriodQuery):
    community_id: Id | None = None
    compound_id: Id | None = None
    company_id: Id | None = Field(default=None, description="物业服务企业：统计期内由其服务的小区")


class CompoundsQuery(DashboardQuery):
    cursor: str | None = CURSOR
    limit: int = LIMIT


class ExportQuery(DashboardQuery):
    format: Literal["csv", "xlsx"] = "csv"


def _filters(q: DashboardQuery, community_id: int | None = None) -> service.Filters:
    return service.filters(
        since=q.since, until=q.until, community_id=community_id or q.community_id,
        compound_id=q.compound_id, company_id=q.company_id,
    )  # fmt: skip


async def _dashboard(request: Request, f: service.Filters) -> HTTPResponse:
    """The dashboard's JSON body, cached whole (shaped and encoded once per period and filters)."""
    cache = request.app.ctx.cache

    async def build(mark: str) -> bytes:
        data = await service.dashboard(cache, f, mark=mark)
        answer = to_response(DashboardOut(**{k: v for k, v in data.items() if k != "compounds"}), 200)
        return bytes(answer.body or b"")

    body = await service.cached_bytes(cache, "dashboard-answer", service.filter_params(f), build)
    return HTTPResponse(body, content_type="application/json; charset=utf-8")


@endpoint(
    county_bp,
    "GET",
    "/dashboard",
    summary="全县看板：各社区业主委员会组建与备案对照目标、专业化物业服务覆盖、网格巡查覆盖、投诉按月统计",
    description="可按社区、小区、物业服务企业和时段筛选；结果有缓存，任何相关数据（投诉、巡查、考核、信用、业委会、合同）变动后即时更新。",
    access=SUPERVISOR,
    query=DashboardQuery,
    response=DashboardOut,
)
async def county_dashboard(request: Request, call: Call[None, DashboardQuery]) -> HTTPResponse:
    return await _dashboard(request, _filters(call.query))


@endpoint(
    community_bp,
    "GET",
    "/dashboard",
    summary="本社区看板（同全县看板，限本社区）",
    access=COMMUNITY_DASHBOARD,
    query=DashboardQuery,
    response=DashboardOut,
)
async def community_dashboard(
    request: Request, call: Call[None, DashboardQuery], community_id: int
) -> HTTPResponse:
    return await _dashboard(request, _filters(call.query, community_id))


def _page(rows: list[dict[str, Any]], cursor: str | None, limit: int) -> FoundPage[dict[str, Any]]:
    start = after(cursor)
    return page(
        [r for r in rows if r["compound_id"] > start][: limit + 1], limit, key=lambda r: r["compound_id"]
    )


@endpoint(
    county_bp,
    "GET",
    "/compounds",
    summary="小区一览（看板各项指标，按小区编号）",
    access=SUPERVISOR,
    query=CompoundsQuery,
    response=Page[CompoundRowOut],
)
async def compound_list(request: Request, call: Call[None, CompoundsQuery]) -> Page[CompoundRowOut]:
    q = call.query
    data = await service.dashboard(request.app.ctx.cache, _filters(q))
    return Page[CompoundRowOut].of(_page(data["compounds"], q.cursor, q.limit), lambda r: CompoundRowOut(**r))


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = ("text/csv", XLSX)
EXPORT_FILE = {"type": "string", "format": "binary"}


async def _export(
    format: str, name: str, title: str, header: Sequence[str], rows: list[list[Any]]
) -> HTTPResponse:
    """A table as a CSV or XLSX download, every cell through core.tabular (formula-like text defused)."""
    if format == "xlsx":
        data, kind = await asyncio.to_thread(tabular.xlsx_bytes, title, header, rows), XLSX
    else:
        data, kind = tabular.csv_bytes(header, rows), CSV
    return HTTPResponse(
        data, content_type=kind, headers={"content-disposition": f'attachment; filename="{name}.{format}"'}
    )


@endpoint(
    county_bp,
    "GET",
    "/compounds/export",
    summary="导出小区一览（CSV 或 Excel，时间为北京时间）",
    access=SUPERVISOR,
    query=ExportQuery,
    response=EXPORT_FILE,
    response_type=EXPORT_TYPES,
)
async def compound_export(request: Request, call: Call[None, ExportQuery]) -> HTTPResponse:
    q = call.query
    f = _filters(q)
    rows = service.compound_rows((await service.dashboard(request.app.ctx.cache, f))["compounds"])
    return await _export(
        q.format, f"compounds-{f.since}-{f.until}", "小区一览", service.COMPOUND_HEADER, rows
    )


async def _communities(request: Request, q: ExportQuery, community_id: int | None) -> HTTPResponse:
    f = _filters(q, community_id)
    header, rows = service.community_table(await service.dashboard(request.app.ctx.cache, f))
    return await _export(q.format, f"communities-{f.since}-{f.until}", "各社区指标", header, rows)


async def _months(request: Request, q: ExportQuery, community_id: int | None) -> HTTPResponse:
    f = _filters(q, community_id)
    header, rows = service.month_table(await service.dashboard(request.app.ctx.cache, f))
    return await _export(q.format, f"complaints-by-month-{f.since}-{f.until}", "投诉按月统计", header, rows)


COMMUNITIES_TEXT = (
    "每个社区一行（业委会组建与备案对照目标、专业化物业服务占比、巡查覆盖、投诉、星级与信用等级的小区数），"
    "末行为合计；数字与看板 JSON 相同，占比为 0–1。"
)
MONTHS_TEXT = (
    "统计期内每个月（北京时间）一行：投诉数、办结、超时占比、办结时长中位数、评价；数字与看板 JSON 相同。"
)


@endpoint(
    county_bp,
    "GET",
    "/dashboard/communities/export",
    summary="导出全县看板的各社区指标（CSV 或 Excel）",
    description=COMMUNITIES_TEXT + "筛选同全县看板。",
    access=SUPERVISOR,
    query=ExportQuery,
    response=EXPORT_FILE,
    response_type=EXPORT_TYPES,
)
async def county_communities_export(request: Request, call: Call[None, ExportQuery]) -> HTTPResponse:
    return await _communities(request, call.query, None)


@endpoint(
    county_bp,
    "GET",
    "/dashboard/months/export",
    summary="导出全县看板的投诉按月统计（CSV 或 Excel）",
    description=MONTHS_TEXT + "筛选同全县看板。",
    access=SUPERVISOR,
    query=ExportQuery,
    response=EXPORT_FILE,
    response_type=EXPORT_TYPES,
)
async def county_months_export(request: Request, call: Call[None, ExportQuery]) -> HTTPResponse:
    return await _months(request, call.query, None)


@endpoint(
    community_bp,
    "GET",
    "/dashboard/communities/export",
    summary="导出本社区看板的社区指标（CSV 或 Excel）",
    description=COMMUNITIES_TEXT + "限本社区，筛选同本社区看板。",
    access=COMMUNITY_DASHBOARD,
    query=ExportQuery,
    response=EXPORT_FILE,
    response_type=EXPORT_TYPES,
)
async def community_communities_export(
    request: Request, call: Call[None, ExportQuery], community_id: int
) -> HTTPResponse:
    return await _communities(request, call.query, community_id)


@endpoint(
    community_bp,
    "GET",
    "/dashboard/months/export",
    summary="导出本社区看板的投诉按月统计（CSV 或 Excel）",
    description=MONTHS_TEXT + "限本社区，筛选同本社区看板。",
    access=COMMUNITY_DASHBOARD,
    query=ExportQuery,
    response=EXPORT_FILE,
    response_type=EXPORT_TYPES,
)
async def community_months_export(
    request: Request, call: Call[None, ExportQuery], community_id: int
) -> HTTPResponse:
    return await _months(request, call.query, community_id)
