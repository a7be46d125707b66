"""Community and county pages: a community's compounds (new compound; each compound's committees are
filed from its committees page), and the county's audit log viewer with the chain's verification."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import admin, discovery
from audit import service as audit
from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_text,
    page,
    query_int,
    query_text,
    render,
    see_other,
)
from core import errors
from miniprogram_api import admin as admin_api
from miniprogram_api.auth import Principal

bp = Blueprint("console_oversight")
EVENTS_PAGE = 50


@page(bp, "GET", "/communities/<community_id:int>/compounds", access=admin_api.COMMUNITY_OR_SUPERVISOR)
async def compounds(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    q = query_text(request, "q", 50)
    scope = f"compounds:{community_id}:{q or ''}"
    listed = await discovery.compounds(
        community_id=community_id, q=q, cursor=cursor_in(request, scope), limit=50
    )
    summaries = [await admin.compound_summary(c.id) for c in listed.items]
    return render(
        request, "compounds.html", community_id=community_id, compounds=summaries,
        next_cursor=cursor_out(request, listed.next_cursor, scope), q=q or "",
    )  # fmt: skip


@page(bp, "POST", "/communities/<community_id:int>/compounds", access=admin_api.COMMUNITY_OR_SUPERVISOR)
async def create_compound(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    body = form_model(
        request,
        admin_api.CompoundIn,
        {
            "name": form_text(request, "name"),
            "address": form_text(request, "address"),
            "standalone": form_text(request, "standalone") == "yes",
        },
    )
    compound = await admin.create_compound(
        who.actor, community_id, name=body.name, address=body.address, standalone=body.standalone
    )
    return see_other(f"{PREFIX}/compounds/{compound.id}/committees")


@page(bp, "GET", "/audit", access=admin_api.SUPERVISOR)
async def audit_log(request: Request, who: Principal) -> HTTPResponse:
    stream = query_text(request, "stream", 100)
    after = query_int(request, "after", high=2**31 - 1)
    if stream is not None and (":" not in stream or len(stream) > 100):
        raise errors.Invalid("日志流名称形如 compound:12", code="stream_invalid")
    report = await audit.verify_database()
    rows = await audit.events(stream, after_seq=after, limit=EVENTS_PAGE + 1) if stream else []
    return render(
        request,
        "audit.html",
        report=report,
        stream=stream or "",
        events=rows[:EVENTS_PAGE],
        more=len(rows) > EVENTS_PAGE,
        next_after=rows[EVENTS_PAGE - 1]["seq"] if len(rows) > EVENTS_PAGE else None,
        head=await audit.head(stream) if stream else None,
    )
