"""Forms of the maintenance fund: a compound's use applications (an ordinary one creates its matter-5
motion, an emergency one needs no vote), each application's page with the steps the API offers
(the vote's final result taken, the works' final cost, the fund office's payout), and the fund
office's corrections of a sub-account (one person requests with a reason, another decides).

Every step is irreversible and asks before it is taken (data-confirm). The Access objects, request
models and services are those of miniprogram_api.fund_admin and fund_office."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from console.committee import compound
from console.fund import STATUS_NAMES
from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_moment,
    form_text,
    page,
    render,
    see_other,
)
from core import errors
from fund import applications, corrections
from miniprogram_api import fund_admin, fund_office
from miniprogram_api.auth import Principal
from miniprogram_api.voting import min_announce_days

bp = Blueprint("console_fund_forms")
APPS = "/compounds/<compound_id:int>/fund/applications"
PAGE = 50
MAX_BUILDINGS = 200  # fund_admin.ScopeIn.buildings
CORRECTION_STATES = {"pending": "待审核", "approved": "已更正", "rejected": "已驳回"}


def _buildings(request: Request) -> list[str]:
    """The ticked buildings of the cost split (none: the whole compound), bounded before the model
    reads them (which then refuses anything but ids)."""
    values = request.form.getlist("buildings") if request.form else []
    if len(values) > MAX_BUILDINGS or any(len(v) > 10 for v in values):
        raise errors.Invalid("分摊楼栋过多或有误", code="form_value_invalid")
    return list(values)


def _proposal(request: Request) -> dict[str, Any]:
    return {
        "title": form_text(request, "title"),
        "works": form_text(request, "works"),
        "budget_fen": form_text(request, "budget_fen"),
        "scope": {"buildings": _buildings(request), "units": []},
    }


def _detail(compound_id: int, application_id: int) -> HTTPResponse:
    return see_other(f"{PREFIX}/compounds/{compound_id}/fund/applications/{application_id}")


@page(bp, "POST", APPS, access=fund_admin.COMMITTEE)
async def apply_ordinary(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    announce = form_text(request, "announce_days")
    body = form_model(
        request,
        fund_admin.OrdinaryIn,
        {
            **_proposal(request),
            "opens_at": form_moment(request, "opens_at"),
            "closes_at": form_moment(request, "closes_at"),
            "announce_days": announce or None,
        },
    )
    created = await applications.apply_ordinary(
        who.actor,
        compound_id=compound_id,
        user_id=who.user.id,
        proposal=fund_admin._proposal(body),
        opens_at=body.opens_at,
        closes_at=body.closes_at,
        min_announce_days=min_announce_days(request),
        announce_days=body.announce_days,
    )
    return _detail(compound_id, created.id)


@page(bp, "POST", APPS + "/emergency", access=fund_admin.APPLICANTS)
async def apply_emergency(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    body = form_model(
        request, fund_admin.EmergencyIn, {**_proposal(request), "category": form_text(request, "category")}
    )
    created = await applications.apply_emergency(
        who.actor,
        compound_id=compound_id,
        user_id=who.user.id,
        proposal=fund_admin._proposal(body),
        category=body.category,
        as_committee=Role.COMMITTEE in who.roles,
    )
    return _detail(compound_id, created.id)


@page(bp, "GET", APPS + "/<application_id:int>", access=fund_admin.READERS)
async def application(
    request: Request, who: Principal, compound_id: int, application_id: int
) -> HTTPResponse:
    found = await applications.get(application_id, compound_id)
    return render(
        request,
        "fund_application.html",
        compound=await compound(compound_id),
        a=fund_admin.application_out(found),
        emergency_name=applications.emergency_name(found.emergency),
        may_record_vote=bool(who.roles & fund_admin.COMMITTEE.allowed),
        may_complete=bool(who.roles & fund_admin.APPLICANTS.allowed),
        may_pay=Role.FUND_OFFICE in who.roles,
        STATUS_NAMES=STATUS_NAMES,
    )


@page(bp, "POST", APPS + "/<application_id:int>/vote-result", access=fund_admin.COMMITTEE)
async def vote_result(
    request: Request, who: Principal, compound_id: int, application_id: int
) -> HTTPResponse:
    found = await applications.get(application_id, compound_id)
    await applications.record_vote(who.actor, found)
    return _detail(compound_id, application_id)


@page(bp, "POST", APPS + "/<application_id:int>/completion", access=fund_admin.APPLICANTS)
async def completion(request: Request, who: Principal, compound_id: int, application_id: int) -> HTTPResponse:
    body = form_model(request, fund_admin.CompletionIn, {"cost_fen": form_text(request, "cost_fen")})
    found = await applications.get(application_id, compound_id)
    await applications.complete(who.actor, found, cost_fen=body.cost_fen)
    return _detail(compound_id, application_id)


# --- corrections (the fund office) ------------------------------------------------------------


@page(bp, "GET", "/fund/corrections", access=fund_office.OFFICE)
async def correction_list(request: Request, who: Principal) -> HTTPResponse:
    status = request.args.get("status") or None
    scope = f"fund-corrections:{status or ''}"
    query = form_model(
        request,
        fund_office.CorrectionsQuery,
        {"status": status, "cursor": cursor_in(request, scope), "limit": PAGE},
    )
    found = await corrections.listing(status=query.status, cursor=query.cursor, limit=query.limit)
    return render(
        request,
        "fund_corrections.html",
        rows=[await fund_office.correction_out(c) for c in found.items],
        next_cursor=cursor_out(request, found.next_cursor, scope),
        status=status or "",
        me_id=who.user.id,
        CORRECTION_STATES=CORRECTION_STATES,
    )


@page(bp, "POST", "/fund/corrections", access=fund_office.OFFICE)
async def request_correction(request: Request, who: Principal) -> HTTPResponse:
    body = form_model(
        request,
        fund_office.CorrectionIn,
        {
            "unit_id": form_text(request, "unit_id"),
            "amount_fen": form_text(request, "amount_fen"),
            "reason": form_text(request, "reason"),
        },
    )
    await fund_office._unit(body.unit_id)
    await corrections.request(
        who.actor, unit_id=body.unit_id, amount_fen=body.amount_fen, reason=body.reason, user_id=who.user.id
    )
    return see_other(f"{PREFIX}/fund/corrections")


@page(bp, "POST", "/fund/corrections/<correction_id:int>/decision", access=fund_office.OFFICE)
async def decide_correction(request: Request, who: Principal, correction_id: int) -> HTTPResponse:
    body = form_model(request, fund_office.DecisionIn, {"approve": form_text(request, "approve") == "yes"})
    await corrections.decide(
        who.actor, correction_id=correction_id, approve=body.approve, user_id=who.user.id
    )
    return see_other(f"{PREFIX}/fund/corrections")
