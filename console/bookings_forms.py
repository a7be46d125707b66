"""Bookings forms for a provider's managers: a service's terms (a price change is the catalogue's
price change, which revises its board entry), weekly hours, closures and named staff; the staff with
their hours and leave; on the day schedule, assigning a booking and cancelling it with a reason. For
the community: admitting a provider, revoking it, and a provider's ratings. Access objects, request
models and services are those of miniprogram_api.bookings_provider and bookings_admin."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bookings import catalogue, payment, providers, reviews, revocation, work
from bookings.models import Provider, ServiceStaff, StaffHours, StaffLeave
from bookings.rules import CATEGORY_LABELS
from console.web import PREFIX, cursor_in, cursor_out, form_model, form_text, page, render, see_other
from core import clock, errors
from miniprogram_api import bookings_admin as admin_api
from miniprogram_api import bookings_provider as api
from miniprogram_api.auth import Principal
from miniprogram_api.bookings import ServiceOut, pay_api

bp = Blueprint("console_bookings_forms")
PAGE = 50
STAFF_CHOICES = 100  # the staff offered in a form's choices (a provider rarely has more)
WINDOWS = 2  # opening windows per weekday in the hours form (e.g. morning and afternoon)
WEEKDAYS = "一二三四五六日"
CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
YUAN = re.compile(r"^\d{1,7}(\.\d{1,2})?$")
FLAGS = ("pay_on_site", "open_on_holidays", "remind_day_before", "active")
NUMBERS = (
    "duration_minutes", "slot_minutes", "capacity", "lead_minutes", "horizon_days", "free_cancel_hours",
    "hold_minutes", "remind_hours",
)  # fmt: skip


def _provider(request: Request) -> Provider:
    provider: Provider = request.ctx.provider
    return provider


def _minute(text: str) -> int:
    found = CLOCK.match(text)
    if found is None:
        raise errors.Invalid(
            "时间格式应为 时:分，如 09:30", code="form_value_invalid", details={"time": text}
        )
    return int(found.group(1)) * 60 + int(found.group(2))


def hours_rows(request: Request) -> list[dict[str, int]]:
    """The hours grid (``start-<weekday>-<n>`` / ``end-<weekday>-<n>``, "HH:MM") as the API's rows;
    a window left empty is no window, one with one end only is refused."""
    rows = []
    for weekday in range(7):
        for n in range(WINDOWS):
            start, end = form_text(request, f"start-{weekday}-{n}"), form_text(request, f"end-{weekday}-{n}")
            if not start and not end:
                continue
            if not start or not end:
                raise errors.Invalid(
                    f"周{WEEKDAYS[weekday]}的时段须同时填写开始和结束时间", code="form_value_invalid"
                )
            rows.append({"weekday": weekday, "start_minute": _minute(start), "end_minute": _minute(end)})
    return rows


def grid(rows: list[Any]) -> dict[tuple[int, int], tuple[str, str]]:
    """Stored hours laid out on the form's grid: (weekday, n) -> (start, end) as "HH:MM"."""
    laid: dict[tuple[int, int], tuple[str, str]] = {}
    for r in rows:
        n = sum(1 for w, _ in laid if w == r.weekday)
        if n < WINDOWS:
            laid[(r.weekday, n)] = (_clock(r.start_minute), _clock(r.end_minute))
    return laid


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _fen(text: str) -> int | str:
    """A price typed in yuan ("88" or "88.50") as integer fen; anything else goes on to the model,
    which refuses it with the API's reason."""
    if not YUAN.match(text):
        return text
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern admits decimals only
        return text


# Reads the pages show and no bookings service offers (the API has no such read): they decide nothing.


async def named_staff(service_id: int) -> set[int]:
    """The staff named for a service (catalogue.set_staff)."""
    rows = await ServiceStaff.filter(service_id=service_id).values_list("staff_id", flat=True)
    return {int(i) for i in rows}  # type: ignore[call-overload]


async def staff_hours_and_leave(
    staff_ids: list[int],
) -> tuple[dict[int, dict[tuple[int, int], tuple[str, str]]], dict[int, list[StaffLeave]]]:
    """Each staff member's weekly hours on the form's grid, and their leave not yet over."""
    kept = await StaffHours.filter(staff_id__in=staff_ids).order_by("weekday", "start_minute")
    today = clock.to_local(clock.now()).date()
    leave = (
        await StaffLeave.filter(staff_id__in=staff_ids, ends_on__gte=today)
        .order_by("starts_on")
        .limit(PAGE * 5)
    )
    return (
        {i: grid([h for h in kept if h.staff_id == i]) for i in staff_ids},  # type: ignore[attr-defined]
        {i: [x for x in leave if x.staff_id == i] for i in staff_ids},  # type: ignore[attr-defined]
    )


def _service_url(provider_id: int, service_id: int) -> str:
    return f"{PREFIX}/providers/{provider_id}/services/{service_id}"


# --- a service ---------------------------------------------------------------------------------------


@page(bp, "GET", "/providers/<provider_id:int>/services/<service_id:int>", access=api.MANAGER)
async def service_page(request: Request, who: Principal, provider_id: int, service_id: int) -> HTTPResponse:
    provider = _provider(request)
    service = await catalogue.service_of(provider, service_id)
    await service.fetch_related("provider")
    scope = f"service-closures:{service_id}"
    closures = await catalogue.closures_of(provider, service_id, cursor=cursor_in(request, scope), limit=PAGE)
    staff = await providers.staff_list(provider, cursor=None, limit=STAFF_CHOICES)
    named = await named_staff(service.id)
    return render(
        request,
        "provider_service.html",
        provider=provider,
        s={**ServiceOut.of(service).model_dump(), "hold_minutes": service.hold_minutes},  # the form's values
        hours=grid(await catalogue.hours_of(service.id)),
        closures=closures.items,
        next_cursor=cursor_out(request, closures.next_cursor, scope),
        staff=staff.items,
        named=named,
        CATEGORY_LABELS=CATEGORY_LABELS,
        WEEKDAYS=WEEKDAYS,
        WINDOWS=WINDOWS,
    )


@page(bp, "POST", "/providers/<provider_id:int>/services/<service_id:int>", access=api.MANAGER)
async def update_service(request: Request, who: Principal, provider_id: int, service_id: int) -> HTTPResponse:
    data: dict[str, Any] = {
        "name": form_text(request, "name"),
        "category": form_text(request, "category"),
        "description": form_text(request, "description"),
        "delivery": form_text(request, "delivery"),
        "price_fen": _fen(form_text(request, "price_yuan")),
        "price_unit": form_text(request, "price_unit"),
        **{k: form_text(request, k) for k in NUMBERS},
        **{k: form_text(request, k) == "yes" for k in FLAGS},
    }
    body = form_model(request, api.ServiceUpdateIn, data)
    await catalogue.update(
        who.actor, _provider(request), service_id, terms=api._terms(body), active=body.active, user_id=who.user.id,
        cache=request.app.ctx.cache,
    )  # fmt: skip
    return see_other(_service_url(provider_id, service_id))


@page(bp, "POST", "/providers/<provider_id:int>/services/<service_id:int>/hours", access=api.MANAGER)
async def service_hours(request: Request, who: Principal, provider_id: int, service_id: int) -> HTTPResponse:
    body = form_model(request, api.HoursIn, {"hours": hours_rows(request)})
    rows = [(h.weekday, h.start_minute, h.end_minute) for h in body.hours]
    await catalogue.set_hours(who.actor, _provider(request), service_id, rows)
    return see_other(_service_url(provider_id, service_id))


@page(bp, "POST", "/providers/<provider_id:int>/services/<service_id:int>/closures", access=api.MANAGER)
async def add_closure(request: Request, who: Principal, provider_id: int, service_id: int) -> HTTPResponse:
    body = form_model(
        request, api.ClosureIn, {"day": form_text(request, "day"), "reason": form_text(request, "reason")}
    )
    await catalogue.add_closure(who.actor, _provider(request), service_id, day=body.day, reason=body.reason)
    return see_other(_service_url(provider_id, service_id))


@page(bp, "POST", "/providers/<provider_id:int>/services/<service_id:int>/staff", access=api.MANAGER)
async def service_staff(request: Request, who: Principal, provider_id: int, service_id: int) -> HTTPResponse:
    chosen = request.form.getlist("staff_id", []) if request.form else []
    body = form_model(request, api.ServiceStaffIn, {"staff_ids": chosen})
    await catalogue.set_staff(who.actor, _provider(request), service_id, list(body.staff_ids))
    return see_other(_service_url(provider_id, service_id))


# --- staff -------------------------------------------------------------------------------------------


@page(bp, "GET", "/providers/<provider_id:int>/staff", access=api.MEMBER)
async def staff_page(request: Request, who: Principal, provider_id: int) -> HTTPResponse:
    scope = f"provider-staff:{provider_id}"
    found = await providers.staff_list(_provider(request), cursor=cursor_in(request, scope), limit=PAGE)
    hours, leave = await staff_hours_and_leave([m.id for m in found.items])
    return render(
        request,
        "provider_staff.html",
        provider=_provider(request),
        manager=request.ctx.member_role == "manager",
        staff=found.items,
        next_cursor=cursor_out(request, found.next_cursor, scope),
        WEEKDAYS=WEEKDAYS,
        WINDOWS=WINDOWS,
        hours=hours,
        leave=leave,
    )


@page(bp, "POST", "/providers/<provider_id:int>/staff", access=api.MANAGER)
async def add_staff(request: Request, who: Principal, provider_id: int) -> HTTPResponse:
    account = form_text(request, "user_id")
    body = form_model(request, api.StaffIn, {"name": form_text(request, "name"), "user_id": account or None})
    await providers.add_staff(who.actor, _provider(request), name=body.name, user_id=body.user_id)
    return see_other(f"{PREFIX}/providers/{provider_id}/staff")


@page(bp, "POST", "/providers/<provider_id:int>/staff/<staff_id:int>/hours", access=api.MANAGER)
async def staff_hours(request: Request, who: Principal, provider_id: int, staff_id: int) -> HTTPResponse:
    body = form_model(request, api.HoursIn, {"hours": hours_rows(request)})
    rows = [(h.weekday, h.start_minute, h.end_minute) for h in body.hours]
    await providers.set_staff_hours(who.actor, _provider(request), staff_id, rows)
    return see_other(f"{PREFIX}/providers/{provider_id}/staff")


@page(bp, "POST", "/providers/<provider_id:int>/staff/<staff_id:int>/leave", access=api.MANAGER)
async def add_leave(request: Request, who: Principal, provider_id: int, staff_id: int) -> HTTPResponse:
    body = form_model(
        request,
        api.LeaveIn,
        {k: form_text(request, k) for k in ("starts_on", "ends_on", "reason")},
    )
    await providers.add_leave(
        who.actor, _provider(request), staff_id, starts_on=body.starts_on, ends_on=body.ends_on, reason=body.reason
    )  # fmt: skip
    return see_other(f"{PREFIX}/providers/{provider_id}/staff")


# --- the day schedule --------------------------------------------------------------------------------


def _day_url(provider_id: int, starts_at: Any) -> str:
    return f"{PREFIX}/providers/{provider_id}?day={clock.to_local(starts_at).date().isoformat()}"


@page(bp, "POST", "/providers/<provider_id:int>/bookings/<booking_id:int>/assign", access=api.MANAGER)
async def assign(request: Request, who: Principal, provider_id: int, booking_id: int) -> HTTPResponse:
    body = form_model(request, api.AssignIn, {"staff_id": form_text(request, "staff_id")})
    booking = await work.assign(
        who.actor, _provider(request), booking_id, staff_id=body.staff_id, user_id=who.user.id
    )
    return see_other(_day_url(provider_id, booking.starts_at))


@page(bp, "POST", "/providers/<provider_id:int>/bookings/<booking_id:int>/cancel", access=api.MANAGER)
async def cancel(request: Request, who: Principal, provider_id: int, booking_id: int) -> HTTPResponse:
    body = form_model(request, api.ReasonIn, {"reason": form_text(request, "reason")})
    moved = await work.cancel_by_provider(
        who.actor, _provider(request), booking_id, reason=body.reason, user_id=who.user.id
    )
    await payment.after_cancel(pay_api(request), moved, reason="服务机构取消预约")
    return see_other(_day_url(provider_id, moved.booking.starts_at))


# --- the community -----------------------------------------------------------------------------------


@page(bp, "POST", "/communities/<community_id:int>/providers", access=admin_api.COMMUNITY)
async def admit(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    fields = ("name", "credit_code", "contact_phone", "manager_user_id", "sub_mchid")
    data = {k: form_text(request, k) for k in fields}
    body = form_model(request, admin_api.AdmitIn, {**data, "sub_mchid": data["sub_mchid"] or None})
    await providers.admit(
        who.actor,
        community_id=community_id,
        new=providers.NewProvider(body.name, body.credit_code, body.contact_phone, body.manager_user_id,
                                  body.sub_mchid),
        by_user_id=who.user.id,
    )  # fmt: skip
    return see_other(f"{PREFIX}/communities/{community_id}/providers")


@page(
    bp,
    "POST",
    "/communities/<community_id:int>/providers/<provider_id:int>/revoke",
    access=admin_api.COMMUNITY,
)
async def revoke(request: Request, who: Principal, community_id: int, provider_id: int) -> HTTPResponse:
    body = form_model(request, admin_api.RevokeIn, {"reason": form_text(request, "reason")})
    await revocation.revoke(
        pay_api(request), who.actor, community_id=community_id, provider_id=provider_id, reason=body.reason,
        cache=request.app.ctx.cache,
    )  # fmt: skip
    return see_other(f"{PREFIX}/communities/{community_id}/providers")


@page(
    bp,
    "GET",
    "/communities/<community_id:int>/providers/<provider_id:int>/ratings",
    access=admin_api.COMMUNITY,
)
async def ratings(request: Request, who: Principal, community_id: int, provider_id: int) -> HTTPResponse:
    provider = await providers.provider_in_community(community_id, provider_id)
    scope = f"provider-ratings:{community_id}:{provider_id}"
    found = await reviews.provider_ratings(provider.id, cursor=cursor_in(request, scope), limit=PAGE)
    score = (await reviews.scores([provider.id]))[provider.id]
    return render(
        request,
        "provider_ratings.html",
        community_id=community_id,
        provider=provider,
        score=score,
        ratings=[admin_api.RatingOut.of(r) for r in found.items],
        next_cursor=cursor_out(request, found.next_cursor, scope),
    )
