"""A compound's registry pages: overview, roster import (the per-row problem list; fix and re-import),
owners, organisation owners' verification requests, and committees with their filing (备案).

Who may open each page is the API route's own Access object (miniprogram_api.admin and friends)."""

from __future__ import annotations

from datetime import date

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import admin, organisations, roster
from accounts.errors import RosterInvalid
from accounts.models import FilingStatus
from accounts.roster_parse import LABELS
from console import reads
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
from miniprogram_api import organisation_claims
from miniprogram_api.auth import Principal
from miniprogram_api.me import organisation_claim_out

bp = Blueprint("console_compound")
ROSTER_TYPES = {"csv": "csv", "json": "json"}


async def compound(compound_id: int) -> admin.CompoundSummary:
    return await admin.compound_summary(compound_id)


@page(bp, "GET", "/compounds/<compound_id:int>", access=admin_api.COMPOUND_READERS)
async def overview(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    return render(request, "compound.html", compound=await compound(compound_id), roles=sorted(who.roles))


async def _roster_page(
    request: Request,
    compound_id: int,
    *,
    http_status: int = 200,
    report: object = None,
    problems: object = None,
) -> HTTPResponse:
    q = query_text(request, "q", 50)
    verified = {"yes": True, "no": False}.get(request.args.get("verified", ""))
    offset = query_int(request, "offset")
    owners, more = await reads.owners_of(compound_id, q=q, verified=verified, offset=offset)
    return render(
        request,
        "roster.html",
        http_status=http_status,
        compound=await compound(compound_id),
        owners=owners,
        more=more,
        offset=offset,
        page_size=reads.PAGE,
        q=q or "",
        verified=request.args.get("verified", ""),
        report=report,
        problems=problems,
        LABELS={**LABELS, "file": "文件"},
    )


@page(bp, "GET", "/compounds/<compound_id:int>/roster", access=admin_api.REGISTRY_KEEPERS)
async def roster_page(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    return await _roster_page(request, compound_id)


@page(bp, "POST", "/compounds/<compound_id:int>/roster", access=admin_api.REGISTRY_KEEPERS)
async def roster_import(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    upload = request.files.get("file") if request.files else None
    if upload is None or not upload.body:
        raise errors.Invalid("请选择要导入的花名册文件（CSV 或 JSON）", code="empty_body")
    suffix = (upload.name or "").rsplit(".", 1)[-1].lower()
    fmt = ROSTER_TYPES.get(suffix)
    if fmt is None:
        raise errors.UnsupportedMedia("花名册须为 CSV 或 JSON 文件")
    try:
        report = await roster.import_roster(
            compound_id, upload.body, fmt,  # type: ignore[arg-type]
            hmac_key=request.app.ctx.hmac_key, actor=who.actor,
        )  # fmt: skip
    except RosterInvalid as exc:
        return await _roster_page(request, compound_id, http_status=400, problems=exc.details)
    return await _roster_page(request, compound_id, report=report)


@page(bp, "GET", "/compounds/<compound_id:int>/roster.csv", access=admin_api.REGISTRY_KEEPERS)
async def roster_export(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    data = await roster.export_roster_csv(compound_id)
    await admin.record_export(who.actor, compound_id, len(data))
    return HTTPResponse(
        data,
        content_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="roster-{compound_id}.csv"'},
    )


@page(bp, "GET", "/compounds/<compound_id:int>/claims", access=organisation_claims.REVIEWERS)
async def claims(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    status = request.args.get("status") or None
    scope = f"claims:{compound_id}:{status or ''}"
    query = form_model(
        request, organisation_claims.ClaimsQuery, {"status": status, "cursor": cursor_in(request, scope)}
    )
    listed = await organisations.claims_of_compound(
        compound_id, status=query.status, cursor=query.cursor, limit=query.limit
    )
    items = [organisation_claim_out(request, view, who.user.id) for view in listed.items]
    return render(
        request, "claims.html", compound=await compound(compound_id), claims=items,
        next_cursor=cursor_out(request, listed.next_cursor, scope), status=status or "",
    )  # fmt: skip


@page(
    bp,
    "POST",
    "/compounds/<compound_id:int>/claims/<claim_id:int>/decision",
    access=organisation_claims.REVIEWERS,
)
async def claim_decision(request: Request, who: Principal, compound_id: int, claim_id: int) -> HTTPResponse:
    body = form_model(
        request,
        organisation_claims.ClaimDecisionIn,
        {"approve": form_text(request, "approve") == "yes", "reason": form_text(request, "reason")},
    )
    await organisations.decide(who.actor, who.user.id, compound_id, claim_id, body.approve, body.reason)
    return see_other(f"{PREFIX}/compounds/{compound_id}/claims")


@page(bp, "GET", "/compounds/<compound_id:int>/committees", access=admin_api.COMPOUND_READERS)
async def committees(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    return render(
        request,
        "committees.html",
        compound=await compound(compound_id),
        committees=await reads.committees_of(compound_id),
        may_file="community_admin" in who.roles,
        today=date.today().isoformat(),
    )


@page(bp, "POST", "/compounds/<compound_id:int>/committees", access=admin_api.COMMUNITY_ONLY)
async def create_committee(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    body = form_model(
        request,
        admin_api.CommitteeIn,
        {
            "term_starts_on": form_text(request, "term_starts_on"),
            "term_ends_on": form_text(request, "term_ends_on"),
        },
    )
    await admin.create_committee(
        who.actor, compound_id, starts_on=body.term_starts_on, ends_on=body.term_ends_on
    )
    return see_other(f"{PREFIX}/compounds/{compound_id}/committees")


@page(
    bp,
    "POST",
    "/compounds/<compound_id:int>/committees/<committee_id:int>/filing",
    access=admin_api.COMMUNITY_ONLY,
)
async def filing(request: Request, who: Principal, compound_id: int, committee_id: int) -> HTTPResponse:
    body = form_model(request, admin_api.FilingIn, {"status": form_text(request, "status")})
    await admin.set_filing(who.actor, compound_id, committee_id, FilingStatus(body.status))
    return see_other(f"{PREFIX}/compounds/{compound_id}/committees")
