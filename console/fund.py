"""The maintenance fund: the county fund office's desk (the published rates, every compound's totals,
the use applications awaiting payout) and a compound's fund for its committee, community and the
county (totals, the ledger's hash chain re-checked, units owing, its use applications). Access
objects and services are those of miniprogram_api.fund_office and fund_admin."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import discovery
from accounts.roles import Role
from console.committee import compound
from console.web import PREFIX, cursor_in, cursor_out, form_model, form_text, page, render, see_other
from core import pages
from fund import applications, ledger, reports, subaccounts
from fund.models import FundRate
from fund.rules import BUILDING_TYPE_NAMES, EMERGENCY_NAMES, ApplicationStatus
from miniprogram_api import fund_admin, fund_office
from miniprogram_api.auth import Principal
from miniprogram_api.voting import min_announce_days

bp = Blueprint("console_fund")
PAGE = 50
STATUS_NAMES = {
    "voting": "业主表决中",
    "rejected": "未通过",
    "approved": "已批准",
    "completed": "已完工待拨付",
    "paid": "已拨付",
}


@page(bp, "GET", "/fund", access=fund_office.WATCHERS)
async def office(request: Request, who: Principal) -> HTTPResponse:
    scope = "fund-county"
    county = await reports.county(cursor=cursor_in(request, scope), limit=PAGE)
    waiting = await applications.listing(None, status=ApplicationStatus.COMPLETED, cursor=None, limit=PAGE)
    rates = await FundRate.all().order_by("building_type", "-effective_from").limit(PAGE)
    return render(
        request,
        "fund.html",
        rates=[fund_office.rate_out(r) for r in rates],
        county=county.items,
        next_cursor=cursor_out(request, county.next_cursor, scope),
        waiting=[fund_admin.application_out(a) for a in waiting.items],
        office=Role.FUND_OFFICE in who.roles,
        BUILDING_TYPE_NAMES={k.value: v for k, v in BUILDING_TYPE_NAMES.items()},
        STATUS_NAMES=STATUS_NAMES,
    )


@page(bp, "POST", "/fund/rates", access=fund_office.OFFICE)
async def set_rate(request: Request, who: Principal) -> HTTPResponse:
    body = form_model(
        request,
        fund_office.RateIn,
        {
            "building_type": form_text(request, "building_type"),
            "fen_per_m2": form_text(request, "fen_per_m2"),
            "effective_from": form_text(request, "effective_from"),
        },
    )
    await subaccounts.set_rate(
        who.actor,
        building_type=body.building_type,
        fen_per_m2=body.fen_per_m2,
        effective_from=body.effective_from,
        user_id=who.user.id,
    )
    return see_other(f"{PREFIX}/fund")


@page(bp, "POST", "/fund/applications/<application_id:int>/payout", access=fund_office.OFFICE)
async def payout(request: Request, who: Principal, application_id: int) -> HTTPResponse:
    found = await applications.get(application_id)
    await applications.pay_out(who.actor, found, user_id=who.user.id)
    return see_other(f"{PREFIX}/fund")


@page(bp, "GET", "/compounds/<compound_id:int>/fund", access=fund_admin.READERS)
async def compound_fund(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    scope = f"fund-arrears:{compound_id}"
    owing: pages.Page[reports.AccountLine] = await reports.arrears(
        compound_id, cursor=cursor_in(request, scope), limit=PAGE
    )
    listed = await applications.listing(compound_id, status=None, cursor=None, limit=PAGE)
    check = await ledger.verify(compound_id)
    applicant = bool(who.roles & fund_admin.APPLICANTS.allowed)
    return render(
        request,
        "compound_fund.html",
        committee=bool(who.roles & fund_admin.COMMITTEE.allowed),
        applicant=applicant,
        buildings=(await discovery.buildings(compound_id, limit=PAGE)).items if applicant else [],
        shortest=min_announce_days(request),
        EMERGENCY_NAMES={k.value: v for k, v in EMERGENCY_NAMES.items()},
        compound=await compound(compound_id),
        report=await reports.compound_report(compound_id),
        check=check,
        owing=owing.items,
        next_cursor=cursor_out(request, owing.next_cursor, scope),
        applications=[fund_admin.application_out(a) for a in listed.items],
        STATUS_NAMES=STATUS_NAMES,
    )
