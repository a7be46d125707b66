"""Life services for their providers (the property company, or an organisation a community
admitted): services at posted prices, opening hours, closures, staff with their hours and leave, the
day's schedule, and each booking's assignment, arrival, completion, no-show or cancellation.

GET  /admin/providers                                             the providers I act for
POST /admin/providers/property-company                            my company as a provider
/admin/providers/<provider_id>/...                                per provider (managers; staff: schedule and visits)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from bookings import catalogue, payment, providers, work
from bookings.models import Booking, Provider, ServiceClosure, ServiceHours, Staff, StaffLeave
from bookings.rules import Category, Delivery, MemberRole, PriceUnit
from core.pages import Page as FoundPage
from miniprogram_api.auth import AUTHENTICATED, Principal, authenticate
from miniprogram_api.bookings import BookingOut, ServiceOut, pay_api, services_out
from miniprogram_api.bounds import Id, RequestModel
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery

bp = Blueprint("bookings_provider", url_prefix="/admin/providers")


@dataclass(frozen=True)
class ProviderAccess:
    """Logged in and acting for the provider in the path (``manager``: as its manager)."""

    manager: bool
    public: bool = False

    @property
    def description(self) -> str:
        return (
            "服务机构负责人（物业服务企业人员或准入机构负责人）"
            if self.manager
            else "服务机构负责人或服务人员"
        )

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        provider, role = await providers.require_member(
            principal.user.id, int(params["provider_id"]), manager=self.manager
        )
        request.ctx.provider = provider
        request.ctx.member_role = role
        return principal


MANAGER = ProviderAccess(manager=True)
MEMBER = ProviderAccess(manager=False)

Minute = Annotated[int, Field(ge=0, le=24 * 60, description="当天的第几分钟（北京时间），如 9:30 为 570")]


def _provider(request: Request) -> Provider:
    provider: Provider = request.ctx.provider
    return provider


class ProviderOut(BaseModel):
    id: int
    kind: str = Field(description="property_company 物业服务企业 / organisation 准入机构")
    name: str
    company_id: int | None
    role: MemberRole = Field(description="我在该机构的身份")


class ProvidersOut(BaseModel):
    items: list[ProviderOut] = Field(max_length=100)


class CompanyIn(RequestModel):
    company_id: Id


class ServiceIn(RequestModel):
    compound_id: Id
    name: str = Field(min_length=1, max_length=50)
    category: Category
    description: str = Field(default="", max_length=500)
    delivery: Delivery
    duration_minutes: int = Field(ge=15, le=720)
    price_fen: int = Field(ge=0, le=10_000_000, description="公示价格（分）")
    price_unit: PriceUnit
    slot_minutes: int = Field(ge=15, le=720)
    capacity: int = Field(ge=1, le=500)
    lead_minutes: int = Field(default=120, ge=0, le=30 * 24 * 60)
    horizon_days: int = Field(default=14, ge=1, le=90)
    free_cancel_hours: int = Field(default=2, ge=0, le=168)
    hold_minutes: int = Field(default=10, ge=5, le=30)
    pay_on_site: bool = False
    open_on_holidays: bool = False
    remind_day_before: bool = Field(default=True, description="前一天 18:00（北京时间）提醒预约人")
    remind_hours: int = Field(default=2, ge=0, le=72, description="开始前多少小时提醒预约人；0 为不提醒")


class ServiceUpdateIn(RequestModel):
    name: str = Field(min_length=1, max_length=50)
    category: Category
    description: str = Field(default="", max_length=500)
    delivery: Delivery
    duration_minutes: int = Field(ge=15, le=720)
    price_fen: int = Field(ge=0, le=10_000_000, description="新价格自修改时起适用于此后的预约")
    price_unit: PriceUnit
    slot_minutes: int = Field(ge=15, le=720)
    capacity: int = Field(ge=1, le=500)
    lead_minutes: int = Field(default=120, ge=0, le=30 * 24 * 60)
    horizon_days: int = Field(default=14, ge=1, le=90)
    free_cancel_hours: int = Field(default=2, ge=0, le=168)
    hold_minutes: int = Field(default=10, ge=5, le=30)
    pay_on_site: bool = False
    open_on_holidays: bool = False
    remind_day_before: bool = Field(default=True, description="前一天 18:00（北京时间）提醒预约人")
    remind_hours: int = Field(default=2, ge=0, le=72, description="开始前多少小时提醒预约人；0 为不提醒")
    active: bool = True


class HoursRow(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 周一 … 6 周日")
    start_minute: Minute
    end_minute: Minute


class HoursIn(RequestModel):
    hours: list[HoursRow] = Field(max_length=50)


class HoursOut(BaseModel):
    items: list[HoursRow] = Field(max_length=50)


class ClosureIn(RequestModel):
    day: date = Field(description="停业日期（北京时间）")
    reason: str = Field(default="", max_length=100)


class ClosureOut(BaseModel):
    id: int
    day: date
    reason: str


class StaffIn(RequestModel):
    name: str = Field(min_length=1, max_length=50)
    user_id: Id | None = Field(default=None, description="该人员的小程序账号（可选）")


class StaffOut(BaseModel):
    id: int
    name: str
    user_id: int | None
    active: bool


class ServiceStaffIn(RequestModel):
    staff_ids: list[Id] = Field(max_length=100)


class LeaveIn(RequestModel):
    starts_on: date
    ends_on: date
    reason: str = Field(default="", max_length=100)


class LeaveOut(BaseModel):
    id: int
    staff_id: int
    starts_on: date
    ends_on: date
    reason: str


class DayQuery(BaseModel):
    day: date = Field(description="北京时间的日期")


class VisitOut(BookingOut):
    address: str = Field(description="上门地址：楼栋与房号")


class ScheduleOut(BaseModel):
    day: date
    items: list[VisitOut] = Field(max_length=work.SCHEDULE_MAX)


class AssignIn(RequestModel):
    staff_id: Id


class ReasonIn(RequestModel):
    reason: str = Field(min_length=2, max_length=200)


def _staff_out(s: Staff) -> StaffOut:
    return StaffOut(id=s.id, name=s.name, user_id=s.user_id, active=s.active)


def _terms(body: ServiceIn | ServiceUpdateIn) -> catalogue.Terms:
    data = body.model_dump(exclude={"compound_id", "active"})
    return catalogue.Terms(**data)


async def service_out(request: Request, service_id: int, viewer_id: int) -> ServiceOut:
    """A service as its provider sees it: every photo, with its moderation state."""
    service = await catalogue.service_view(service_id)
    return (await services_out(request, [service], viewer_id, passed_only=False))[service.id]


def _hours_out(rows: list[ServiceHours]) -> HoursOut:
    return HoursOut(
        items=[
            HoursRow(weekday=r.weekday, start_minute=r.start_minute, end_minute=r.end_minute) for r in rows
        ]
    )


@endpoint(bp, "GET", "", summary="我所在的服务机构", access=AUTHENTICATED, response=ProvidersOut)
async def my_providers(request: Request, call: Call[None, None]) -> ProvidersOut:
    found = await providers.providers_of_user(call.principal.user.id)
    return ProvidersOut(
        items=[
            ProviderOut(id=p.id, kind=p.kind.value, name=p.name, company_id=p.company_id, role=r)
            for p, r in found
        ][:100]
    )


@endpoint(bp, "POST", "/property-company", summary="以本物业服务企业作为生活服务机构", access=AUTHENTICATED,
          body=CompanyIn, response=ProviderOut)  # fmt: skip
async def company_provider(request: Request, call: Call[CompanyIn, None]) -> ProviderOut:
    provider = await providers.provider_of_company(call.body.company_id)
    _, role = await providers.require_member(call.principal.user.id, provider.id, manager=True)
    return ProviderOut(
        id=provider.id,
        kind=provider.kind.value,
        name=provider.name,
        company_id=provider.company_id,
        role=role,
    )


@endpoint(bp, "GET", "/<provider_id:int>/services", summary="本机构的服务项目", access=MEMBER, query=PageQuery,
          response=Page[ServiceOut])  # fmt: skip
async def list_services(request: Request, call: Call[None, PageQuery], provider_id: int) -> Page[ServiceOut]:
    found = await catalogue.services_of(_provider(request), cursor=call.query.cursor, limit=call.query.limit)
    shaped = await services_out(request, found.items, call.principal.user.id, passed_only=False)
    return Page[ServiceOut].of(found, lambda s: shaped[s.id])


@endpoint(bp, "POST", "/<provider_id:int>/services", summary="发布服务项目（同时在该小区公示栏公示价格）",
          access=MANAGER, body=ServiceIn, response=ServiceOut, status=201,
          description="物业服务企业限其有服务合同的小区；准入机构限准入社区的小区。")  # fmt: skip
async def publish_service(request: Request, call: Call[ServiceIn, None], provider_id: int) -> ServiceOut:
    p = call.principal
    service = await catalogue.publish(
        p.actor, _provider(request), compound_id=call.body.compound_id, terms=_terms(call.body), user_id=p.user.id,
        cache=request.app.ctx.cache,
    )  # fmt: skip
    return await service_out(request, service.id, p.user.id)


@endpoint(bp, "PUT", "/<provider_id:int>/services/<service_id:int>", summary="修改服务项目（调价同步修订公示）",
          access=MANAGER, body=ServiceUpdateIn, response=ServiceOut,
          description="调价自修改时起适用于此后的预约；已有预约按预约时的公示价格。")  # fmt: skip
async def update_service(
    request: Request, call: Call[ServiceUpdateIn, None], provider_id: int, service_id: int
) -> ServiceOut:
    p = call.principal
    await catalogue.update(
        p.actor, _provider(request), service_id, terms=_terms(call.body), active=call.body.active, user_id=p.user.id,
        cache=request.app.ctx.cache,
    )  # fmt: skip
    return await service_out(request, service_id, p.user.id)


@endpoint(bp, "GET", "/<provider_id:int>/services/<service_id:int>/hours", summary="服务的每周营业时间",
          access=MEMBER, response=HoursOut)  # fmt: skip
async def service_hours(
    request: Request, call: Call[None, None], provider_id: int, service_id: int
) -> HoursOut:
    service = await catalogue.service_of(_provider(request), service_id)
    return _hours_out(await catalogue.hours_of(service.id))


@endpoint(bp, "PUT", "/<provider_id:int>/services/<service_id:int>/hours", summary="设置服务的每周营业时间",
          access=MANAGER, body=HoursIn, response=HoursOut)  # fmt: skip
async def set_service_hours(
    request: Request, call: Call[HoursIn, None], provider_id: int, service_id: int
) -> HoursOut:
    rows = [(h.weekday, h.start_minute, h.end_minute) for h in call.body.hours]
    return _hours_out(await catalogue.set_hours(call.principal.actor, _provider(request), service_id, rows))


@endpoint(bp, "GET", "/<provider_id:int>/services/<service_id:int>/closures", summary="服务的停业日",
          access=MEMBER, query=PageQuery, response=Page[ClosureOut])  # fmt: skip
async def list_closures(
    request: Request, call: Call[None, PageQuery], provider_id: int, service_id: int
) -> Page[ClosureOut]:
    found: FoundPage[ServiceClosure] = await catalogue.closures_of(
        _provider(request), service_id, cursor=call.query.cursor, limit=call.query.limit
    )
    return Page[ClosureOut].of(found, lambda c: ClosureOut(id=c.id, day=c.day, reason=c.reason))


@endpoint(bp, "POST", "/<provider_id:int>/services/<service_id:int>/closures", summary="增加停业日（节假日以外）",
          access=MANAGER, body=ClosureIn, response=ClosureOut, status=201)  # fmt: skip
async def add_closure(
    request: Request, call: Call[ClosureIn, None], provider_id: int, service_id: int
) -> ClosureOut:
    c = await catalogue.add_closure(
        call.principal.actor, _provider(request), service_id, day=call.body.day, reason=call.body.reason
    )
    return ClosureOut(id=c.id, day=c.day, reason=c.reason)


@endpoint(bp, "PUT", "/<provider_id:int>/services/<service_id:int>/staff", summary="指定提供该服务的人员",
          access=MANAGER, body=ServiceStaffIn, response=ServiceOut,
          description="指定后，每个时段的名额不超过当时在岗（未请假、在其工作时间内）的指定人员数。")  # fmt: skip
async def set_service_staff(
    request: Request, call: Call[ServiceStaffIn, None], provider_id: int, service_id: int
) -> ServiceOut:
    await catalogue.set_staff(call.principal.actor, _provider(request), service_id, list(call.body.staff_ids))
    return await service_out(request, service_id, call.principal.user.id)


@endpoint(bp, "GET", "/<provider_id:int>/staff", summary="本机构的服务人员", access=MEMBER, query=PageQuery,
          response=Page[StaffOut])  # fmt: skip
async def list_staff(request: Request, call: Call[None, PageQuery], provider_id: int) -> Page[StaffOut]:
    found = await providers.staff_list(_provider(request), cursor=call.query.cursor, limit=call.query.limit)
    return Page[StaffOut].of(found, _staff_out)


@endpoint(bp, "POST", "/<provider_id:int>/staff", summary="增加服务人员", access=MANAGER, body=StaffIn,
          response=StaffOut, status=201)  # fmt: skip
async def add_staff(request: Request, call: Call[StaffIn, None], provider_id: int) -> StaffOut:
    staff = await providers.add_staff(
        call.principal.actor, _provider(request), name=call.body.name, user_id=call.body.user_id
    )
    return _staff_out(staff)


@endpoint(bp, "PUT", "/<provider_id:int>/staff/<staff_id:int>/hours", summary="设置服务人员的每周工作时间",
          access=MANAGER, body=HoursIn, response=HoursOut)  # fmt: skip
async def set_staff_hours(
    request: Request, call: Call[HoursIn, None], provider_id: int, staff_id: int
) -> HoursOut:
    rows = [(h.weekday, h.start_minute, h.end_minute) for h in call.body.hours]
    await providers.set_staff_hours(call.principal.actor, _provider(request), staff_id, rows)
    return HoursOut(items=[HoursRow(weekday=w, start_minute=s, end_minute=e) for w, s, e in sorted(rows)])


@endpoint(bp, "POST", "/<provider_id:int>/staff/<staff_id:int>/leave", summary="登记服务人员请假",
          access=MANAGER, body=LeaveIn, response=LeaveOut, status=201)  # fmt: skip
async def add_leave(request: Request, call: Call[LeaveIn, None], provider_id: int, staff_id: int) -> LeaveOut:
    b = call.body
    leave: StaffLeave = await providers.add_leave(
        call.principal.actor,
        _provider(request),
        staff_id,
        starts_on=b.starts_on,
        ends_on=b.ends_on,
        reason=b.reason,
    )
    return LeaveOut(
        id=leave.id,
        staff_id=leave.staff_id,
        starts_on=leave.starts_on,
        ends_on=leave.ends_on,
        reason=leave.reason,
    )


def _visit(b: Booking) -> VisitOut:
    unit = b.unit
    return VisitOut(**BookingOut.of(b).model_dump(), address=f"{unit.building.name}{unit.number}")


@endpoint(bp, "GET", "/<provider_id:int>/schedule", summary="某日的预约（日程）", access=MEMBER, query=DayQuery,
          response=ScheduleOut)  # fmt: skip
async def day_schedule(request: Request, call: Call[None, DayQuery], provider_id: int) -> ScheduleOut:
    rows = await work.day_schedule(_provider(request), call.query.day)
    for b in rows:
        await b.service.fetch_related("provider")
    return ScheduleOut(day=call.query.day, items=[_visit(b) for b in rows])


async def _out(b: Booking) -> BookingOut:
    await b.fetch_related("service__provider")
    return BookingOut.of(b)


@endpoint(bp, "POST", "/<provider_id:int>/bookings/<booking_id:int>/assign", summary="派单给服务人员",
          access=MANAGER, body=AssignIn, response=BookingOut)  # fmt: skip
async def assign(
    request: Request, call: Call[AssignIn, None], provider_id: int, booking_id: int
) -> BookingOut:
    p = call.principal
    return await _out(
        await work.assign(
            p.actor, _provider(request), booking_id, staff_id=call.body.staff_id, user_id=p.user.id
        )
    )


@endpoint(bp, "POST", "/<provider_id:int>/bookings/<booking_id:int>/arrive", summary="服务人员到达",
          access=MEMBER, response=BookingOut)  # fmt: skip
async def arrive(request: Request, call: Call[None, None], provider_id: int, booking_id: int) -> BookingOut:
    p = call.principal
    moved = await work.arrive(
        p.actor, _provider(request), booking_id, user_id=p.user.id, role=request.ctx.member_role
    )
    return await _out(moved)


@endpoint(bp, "POST", "/<provider_id:int>/bookings/<booking_id:int>/complete", summary="服务完成",
          access=MEMBER, response=BookingOut)  # fmt: skip
async def complete(request: Request, call: Call[None, None], provider_id: int, booking_id: int) -> BookingOut:
    p = call.principal
    moved = await work.complete(
        p.actor, _provider(request), booking_id, user_id=p.user.id, role=request.ctx.member_role
    )
    return await _out(moved)


@endpoint(bp, "POST", "/<provider_id:int>/bookings/<booking_id:int>/no-show", summary="标记未遇（住户不在）",
          access=MEMBER, response=BookingOut)  # fmt: skip
async def no_show(request: Request, call: Call[None, None], provider_id: int, booking_id: int) -> BookingOut:
    p = call.principal
    moved = await work.no_show(
        p.actor, _provider(request), booking_id, user_id=p.user.id, role=request.ctx.member_role
    )
    return await _out(moved)


@endpoint(bp, "POST", "/<provider_id:int>/bookings/<booking_id:int>/cancel", summary="机构取消预约（须说明原因，全额退款）",
          access=MANAGER, body=ReasonIn, response=BookingOut)  # fmt: skip
async def provider_cancel(
    request: Request, call: Call[ReasonIn, None], provider_id: int, booking_id: int
) -> BookingOut:
    p = call.principal
    moved = await work.cancel_by_provider(
        p.actor, _provider(request), booking_id, reason=call.body.reason, user_id=p.user.id
    )
    await payment.after_cancel(pay_api(request), moved, reason="服务机构取消预约")
    return await _out(moved.booking)
