"""Bookings for service providers (the provider's services with their weekly hours, one day's
bookings with the visit steps) and for the community (the providers it admitted, with their
ratings). Access objects and services are those of miniprogram_api.bookings_provider and
bookings_admin."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bookings import catalogue, providers, work
from bookings.models import Provider
from console.web import PREFIX, cursor_in, cursor_out, form_model, page, query_text, render, see_other
from core import clock
from miniprogram_api import bookings_admin as admin_api
from miniprogram_api import bookings_provider as api
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.bookings import ServiceOut

bp = Blueprint("console_bookings")
PAGE = 50
WEEKDAYS = "一二三四五六日"
STATES = {
    "held": "待支付",
    "confirmed": "已确认",
    "in_service": "服务中",
    "completed": "已完成",
    "no_show": "未遇",
    "cancelled": "已取消",
    "expired": "已超时",
}


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@page(bp, "GET", "/providers", access=AUTHENTICATED)
async def mine(request: Request, who: Principal) -> HTTPResponse:
    found = await providers.providers_of_user(who.user.id)
    return render(request, "providers.html", providers=found[:100])


@page(bp, "GET", "/providers/<provider_id:int>", access=api.MEMBER)
async def desk(request: Request, who: Principal, provider_id: int) -> HTTPResponse:
    provider: Provider = request.ctx.provider
    day_text = query_text(request, "day", 10)
    day = form_model(request, api.DayQuery, {"day": day_text or clock.to_local(clock.now()).date()}).day
    scope = f"provider-services:{provider_id}"
    listed = await catalogue.services_of(provider, cursor=cursor_in(request, scope), limit=PAGE)
    hours = {
        s.id: [
            f"周{WEEKDAYS[h.weekday]} {_clock(h.start_minute)}–{_clock(h.end_minute)}"
            for h in await catalogue.hours_of(s.id)
        ]
        for s in listed.items
    }
    staff = await providers.staff_list(provider, cursor=None, limit=100)
    visits = await work.day_schedule(provider, day)
    for b in visits:
        await b.service.fetch_related("provider")
    return render(
        request,
        "provider.html",
        provider=provider,
        manager=request.ctx.member_role == "manager",
        services=[ServiceOut.of(s) for s in listed.items],
        hours=hours,
        next_cursor=cursor_out(request, listed.next_cursor, scope),
        day=day,
        visits=[api._visit(b) for b in visits],
        staff=staff.items,
        staff_names={m.id: m.name for m in staff.items},
        STATES=STATES,
    )


async def _step(
    request: Request, who: Principal, provider_id: int, booking_id: int, step: str
) -> HTTPResponse:
    moves = {"arrive": work.arrive, "complete": work.complete, "no-show": work.no_show}
    booking = await moves[step](
        who.actor, request.ctx.provider, booking_id, user_id=who.user.id, role=request.ctx.member_role
    )
    day = clock.to_local(booking.starts_at).date()
    return see_other(f"{PREFIX}/providers/{provider_id}?day={day.isoformat()}")


@page(bp, "POST", "/providers/<provider_id:int>/bookings/<booking_id:int>/arrive", access=api.MEMBER)
async def arrive(request: Request, who: Principal, provider_id: int, booking_id: int) -> HTTPResponse:
    return await _step(request, who, provider_id, booking_id, "arrive")


@page(bp, "POST", "/providers/<provider_id:int>/bookings/<booking_id:int>/complete", access=api.MEMBER)
async def complete(request: Request, who: Principal, provider_id: int, booking_id: int) -> HTTPResponse:
    return await _step(request, who, provider_id, booking_id, "complete")


@page(bp, "POST", "/providers/<provider_id:int>/bookings/<booking_id:int>/no-show", access=api.MEMBER)
async def no_show(request: Request, who: Principal, provider_id: int, booking_id: int) -> HTTPResponse:
    return await _step(request, who, provider_id, booking_id, "no-show")


@page(bp, "GET", "/communities/<community_id:int>/providers", access=admin_api.COMMUNITY)
async def admitted(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    scope = f"admitted:{community_id}"
    found = await admin_api._admitted_page(community_id, cursor_in(request, scope), PAGE)
    return render(
        request,
        "admitted.html",
        community_id=community_id,
        providers=found.items,
        next_cursor=cursor_out(request, found.next_cursor, scope),
    )
