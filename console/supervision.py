"""Supervision for the county (the dashboard against the targets, the compound list, the quarterly
red and black lists: computed, reviewed, published), the community (its own dashboard) and a
company's credit that explains itself. Access objects and services are those of
miniprogram_api.supervision_dashboard and ratings_admin. A compound's inspections are in
console.inspections, the grid patrols in console.patrols."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_text,
    page,
    query_text,
    render,
    see_other,
)
from miniprogram_api import ratings_admin
from miniprogram_api import supervision_dashboard as dash
from miniprogram_api.auth import Principal
from miniprogram_api.ratings import list_detail, list_out
from ratings import credit, lists
from supervision import service

bp = Blueprint("console_supervision")
PAGE = 50
COLORS = {"red": "红榜", "black": "黑榜"}
LIST_STATUS = {"draft": "草稿", "published": "已发布"}


async def _figures(request: Request, community_id: int | None) -> dict[str, Any]:
    query = form_model(
        request,
        dash.DashboardQuery,
        {"since": query_text(request, "since", 10), "until": query_text(request, "until", 10)},
    )
    return await service.dashboard(request.app.ctx.cache, dash._filters(query, community_id))


@page(bp, "GET", "/supervision", access=dash.SUPERVISOR)
async def county(request: Request, who: Principal) -> HTTPResponse:
    data = await _figures(request, None)
    scope = f"supervision-compounds:{data['period']['since']}:{data['period']['until']}"
    rows = dash._page(data["compounds"], cursor_in(request, scope), PAGE)
    listed = await lists.listing(status=None, cursor=None, limit=8)
    return render(
        request,
        "supervision.html",
        data=data,
        community_id=None,
        compounds=rows.items,
        next_cursor=cursor_out(request, rows.next_cursor, scope),
        lists=[list_out(r) for r in listed.items],
        LIST_STATUS=LIST_STATUS,
    )


@page(bp, "GET", "/communities/<community_id:int>/dashboard", access=dash.COMMUNITY_DASHBOARD)
async def community(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    data = await _figures(request, community_id)
    return render(
        request, "supervision.html", data=data, community_id=community_id, compounds=data["compounds"][:PAGE],
        next_cursor=None, lists=[], LIST_STATUS=LIST_STATUS,
    )  # fmt: skip


@page(bp, "POST", "/supervision/lists", access=ratings_admin.SUPERVISOR)
async def compute_list(request: Request, who: Principal) -> HTTPResponse:
    body = form_model(request, ratings_admin.DraftIn, {"quarter": form_text(request, "quarter")})
    row = await lists.compute_draft(who.actor, body.quarter)
    return see_other(f"{PREFIX}/supervision/lists/{row.id}")


@page(bp, "GET", "/supervision/lists/<list_id:int>", access=ratings_admin.SUPERVISOR)
async def one_list(request: Request, who: Principal, list_id: int) -> HTTPResponse:
    detail = await list_detail(await lists.get(list_id))
    return render(request, "rating_list.html", detail=detail, COLORS=COLORS, LIST_STATUS=LIST_STATUS)


@page(bp, "POST", "/supervision/lists/<list_id:int>/publish", access=ratings_admin.SUPERVISOR)
async def publish_list(request: Request, who: Principal, list_id: int) -> HTTPResponse:
    body = form_model(request, ratings_admin.PublishIn, {"note": form_text(request, "note")})
    await lists.publish(
        who.actor, user_id=who.user.id, list_id=list_id, note=body.note, cache=request.app.ctx.cache
    )
    return see_other(f"{PREFIX}/supervision/lists/{list_id}")


@page(bp, "GET", "/companies/<company_id:int>/credit", access=ratings_admin.COMPANY)
async def company_credit(request: Request, who: Principal, company_id: int) -> HTTPResponse:
    query = form_model(request, ratings_admin.CreditQuery, {"on": query_text(request, "on", 10)})
    return render(
        request, "credit.html", credit=ratings_admin._credit_out(await credit.explain(company_id, query.on))
    )
