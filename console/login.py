"""Signing in and out, and the start page listing where the signed-in person may work.

Sign-in: the page shows a one-time code (miniprogram_api.console_login), the person confirms it in
the mini-program, and this browser, polling, gets a session. In fake WeChat mode (development, demos,
tests) a demo login by openid goes through the same WeChat login the mini-program uses (the fake's
"test:<openid>" code), so a demo session is made exactly as a real one."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from accounts import discovery, service, sessions
from accounts.demo import DEMO_USERS
from accounts.models import ServiceContract
from accounts.roles import Role, today
from console.web import (
    COOKIE,
    PENDING,
    PREFIX,
    drop_cookie,
    form_text,
    page,
    render,
    see_other,
    set_cookie,
)
from core import errors
from miniprogram_api import console_login
from miniprogram_api.auth import AUTHENTICATED, Principal

bp = Blueprint("console_login_pages")

DEMO_ACCOUNTS = (("demo-committee", "阳光花园业委会主任"), *((o, n) for o, n, _, _ in DEMO_USERS))


def _next(request: Request) -> str:
    target = request.args.get("next") or (request.form.get("next") if request.form else None) or ""
    # only a page of the console itself: never an open redirect
    if not target.startswith(PREFIX + "/") or target.startswith("//") or "\\" in target or len(target) > 300:
        return PREFIX + "/"
    return target


def _fake(request: Request) -> bool:
    return bool(request.app.ctx.settings.wechat_mode == "fake")


async def _start_session(request: Request, user_id: int, response: HTTPResponse) -> HTTPResponse:
    ttl = request.app.ctx.settings.session_ttl
    session = await sessions.open_session(request.app.ctx.cache, user_id, ttl)
    set_cookie(request, response, COOKIE, session.token, ttl)
    drop_cookie(request, response, PENDING)
    return response


@page(bp, "GET", "/login", access=None)
async def login_page(request: Request, _: None) -> HTTPResponse:
    current = request.cookies.get(COOKIE)
    if current:
        try:
            await sessions.user_of(request.app.ctx.cache, current)
            return see_other(_next(request))  # signed in already
        except errors.Unauthenticated:
            pass  # a stale cookie: dropped below
    issued = await console_login.issue(request.app.ctx.cache)
    # the code shown is also kept (HttpOnly) with its nonce: the poll sends neither in the page's script
    pending = f"{issued.nonce}.{console_login.normalise(issued.code)}"
    request.ctx.csrf_basis = issued.nonce
    response = render(
        request,
        "login.html",
        code=issued.code,
        ttl=console_login.CODE_TTL,
        next=_next(request),
        demo=DEMO_ACCOUNTS if _fake(request) else (),
    )
    set_cookie(request, response, PENDING, pending, console_login.CODE_TTL)
    drop_cookie(request, response, COOKIE)  # a stale session cookie would otherwise decide the CSRF token
    return response


@page(bp, "POST", "/login/poll", access=None)
async def login_poll(request: Request, _: None) -> HTTPResponse:
    nonce, _dot, code = (request.cookies.get(PENDING) or "").partition(".")
    try:
        user_id = await console_login.claim(request.app.ctx.cache, code, nonce)
    except console_login.ConsoleCodeInvalid as exc:
        return json({"state": "expired", "message": exc.user_message})
    if user_id is None:
        return json({"state": "waiting"})
    return await _start_session(request, user_id, json({"state": "done", "next": _next(request)}))


@page(bp, "POST", "/login/demo", access=None)
async def demo_login(request: Request, _: None) -> HTTPResponse:
    if not _fake(request):
        raise errors.NotFound("演示登录仅在模拟微信模式下可用")
    openid = form_text(request, "openid")
    if not 1 <= len(openid) <= 64:
        raise errors.Invalid("请填写演示账号的 openid", code="openid_invalid")
    ctx = request.app.ctx
    result = await service.login(
        ctx.wechat, ctx.cache, f"test:{openid}", session_ttl=ctx.settings.session_ttl
    )
    response = see_other(_next(request))
    set_cookie(request, response, COOKIE, result.session.token, ctx.settings.session_ttl)
    drop_cookie(request, response, PENDING)
    return response


@page(bp, "POST", "/logout", access=AUTHENTICATED)
async def logout(request: Request, who: Principal) -> HTTPResponse:
    await sessions.close_session(request.app.ctx.cache, who.token)
    response = see_other(PREFIX + "/login")
    drop_cookie(request, response, COOKIE)
    return response


async def _workplaces(who: Principal) -> dict[str, Any]:
    profile = await service.profile(who.user)
    compounds: dict[int, dict[str, Any]] = {}
    names = {u.compound_id: u.compound for u in profile.units}
    communities: list[dict[str, Any]] = []
    county = False
    company = False
    fund_office = False
    companies: list[int] = []
    for role in profile.roles:
        if role.scope_type == "compound" and role.role in (Role.COMMITTEE, Role.OWNER):
            entry = compounds.setdefault(
                role.scope_id, {"id": role.scope_id, "name": names.get(role.scope_id, ""), "roles": []}
            )
            entry["roles"].append(role.role)
        elif role.role in (Role.COMMUNITY_ADMIN, Role.GRID_WORKER) and role.scope_type == "community":
            listed = await discovery.compounds(community_id=role.scope_id, limit=100)
            communities.append({"id": role.scope_id, "role": role.role, "compounds": listed.items})
        elif role.role == Role.SUPERVISOR:
            county = True
        elif role.role == Role.FUND_OFFICE:
            fund_office = True
        elif role.role == Role.PROPERTY_STAFF:
            company = True
            companies.append(role.scope_id)
    served = (
        await ServiceContract.filter(
            company_id__in=companies, starts_on__lte=today(), ends_on__gte=today()
        ).values_list("compound_id", "compound__name")
        if companies
        else []
    )
    return {
        "fund_office": fund_office,
        "companies": companies,
        "served": sorted({(int(i), str(n)) for i, n in served}),
        "compounds": sorted(compounds.values(), key=lambda c: c["id"]),
        "communities": communities,
        "county": county,
        "company": company,
        "roles": profile.roles,
    }


@page(bp, "GET", "/", access=AUTHENTICATED)
async def home(request: Request, who: Principal) -> HTTPResponse:
    return render(request, "home.html", **await _workplaces(who))
