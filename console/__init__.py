"""The web console for people at desks (committees, property companies, communities, the county):
server-rendered pages under /console/, served by the same app, calling the same domain services with
the same access rules as the API (miniprogram_api). See console.web for sessions and CSRF."""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, Request
from sanic.blueprint_group import BlueprintGroup
from sanic.response import HTTPResponse

from console import (
    bookings,
    bookings_forms,
    committee,
    complaints,
    disclosures,
    fund,
    fund_forms,
    grants,
    inspections,
    login,
    motions,
    notice_review,
    notices,
    oversight,
    patrols,
    payments,
    payments_forms,
    supervision,
)
from console.web import PREFIX, page
from core.errors import NotFound

static_bp = Blueprint("console_static")
STATIC = Path(__file__).parent / "static"
ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}


@page(static_bp, "GET", "/static/<name:str>", access=None)
async def asset(request: Request, _: None, name: str) -> HTTPResponse:
    if name not in ASSETS:
        raise NotFound("文件不存在")
    return HTTPResponse(
        (STATIC / name).read_bytes(),
        content_type=ASSETS[name],
        headers={"cache-control": "public, max-age=300", "x-content-type-options": "nosniff"},
    )


def blueprint() -> BlueprintGroup:
    return Blueprint.group(
        static_bp,
        login.bp,
        committee.bp,
        motions.bp,
        complaints.bp,
        oversight.bp,
        payments.bp,
        payments_forms.bp,
        fund.bp,
        fund_forms.bp,
        bookings.bp,
        bookings_forms.bp,
        supervision.bp,
        inspections.bp,
        patrols.bp,
        grants.bp,
        notices.bp,
        notice_review.bp,
        disclosures.bp,
        url_prefix=PREFIX,
    )
