"""Life services in the mini-program (plan task 16): the catalogue of a compound, a service's free
slots, booking, paying, my bookings, cancel, reschedule, rate, and a complaint from a booking.

GET  /bookings/compounds/<compound_id>/services     the catalogue (by category)
GET  /bookings/services/<service_id>                one service with its photos
GET  /bookings/services/<service_id>/slots          free slots over a range of Beijing dates
POST /bookings                                       book a slot (held while paying, or confirmed)
GET  /bookings/mine                                  my bookings, newest first
GET  /bookings/<booking_id>                          one of mine
POST /bookings/<booking_id>/pay                      pay a held booking (WeChat Pay)
POST /bookings/<booking_id>/cancel | reschedule | rating | complaint

Every time answered is in Asia/Shanghai (+08:00), whatever zone the phone sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role
from bookings import availability, booking, catalogue, gallery, payment, work
from bookings.availability import FreeSlot
from bookings.models import Booking, Service
from bookings.rules import CATEGORY_LABELS, MAX_SEARCH_DAYS, Category
from bookings.visibility import visible_service
from core import clock
from miniprogram_api.auth import AUTHENTICATED, Allow
from miniprogram_api.bounds import Id, Moment, RequestModel
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery
from miniprogram_api.payments import PaymentParamsOut
from miniprogram_api.photos import PhotoOut, checker_url, photo_out
from wechat.pay.protocol import WeChatPayApi

bp = Blueprint("bookings", url_prefix="/bookings")

NEIGHBOURS = Allow(
    Role.RESIDENT, Role.OWNER, Role.COMMITTEE, Role.PROPERTY_STAFF, Role.COMMUNITY_ADMIN, over="compound"
)
MAX_SLOTS = MAX_SEARCH_DAYS * 24 * 4  # 15-minute slots around the clock: the most a range can have


def pay_api(request: Request) -> WeChatPayApi | None:
    """WeChat Pay as the composition root holds it (None: not configured)."""
    return getattr(request.app.ctx, "wechat_pay", None)


def beijing(moment: datetime | None) -> datetime | None:
    return clock.to_local(moment) if moment is not None else None


class ServiceOut(BaseModel):
    id: int
    compound_id: int
    provider_id: int
    provider: str = Field(description="服务机构")
    name: str
    category: Category
    category_label: str
    description: str
    delivery: str = Field(description="at_home 上门 / on_site 到店")
    duration_minutes: int
    price_fen: int = Field(description="公示价格（分）")
    price_unit: str = Field(description="per_visit 每次 / per_hour 每小时")
    slot_minutes: int
    capacity: int = Field(description="每个时段的名额")
    lead_minutes: int = Field(description="至少提前多少分钟预约")
    horizon_days: int = Field(description="最多可预约多少天以内")
    free_cancel_hours: int = Field(description="开始前多少小时以前可免费取消或改约")
    pay_on_site: bool
    open_on_holidays: bool
    remind_day_before: bool = Field(description="前一天 18:00（北京时间）提醒")
    remind_hours: int = Field(description="开始前多少小时提醒；0 为不提醒")
    notice_id: int | None = Field(description="公示栏上的公示（生活服务）")
    active: bool
    photos: list[PhotoOut] = Field(
        default_factory=list, max_length=gallery.MAX_PHOTOS,
        description="服务照片（绝对签名链接，一小时内有效）；住户只看到已通过内容安全检测的",
    )  # fmt: skip

    @classmethod
    def of(cls, s: Service, photos: Sequence[PhotoOut] = ()) -> ServiceOut:
        return cls(
            id=s.id, compound_id=s.compound_id, provider_id=s.provider_id, provider=s.provider.name, name=s.name,
            category=s.category, category_label=CATEGORY_LABELS[s.category], description=s.description,
            delivery=s.delivery.value, duration_minutes=s.duration_minutes, price_fen=s.price_fen,
            price_unit=s.price_unit.value, slot_minutes=s.slot_minutes, capacity=s.capacity,
            lead_minutes=s.lead_minutes, horizon_days=s.horizon_days, free_cancel_hours=s.free_cancel_hours,
            pay_on_site=s.pay_on_site, open_on_holidays=s.open_on_holidays, remind_day_before=s.remind_day_before,
            remind_hours=s.remind_hours, notice_id=s.notice_id, active=s.active, photos=list(photos),
        )  # fmt: skip


async def services_out(
    request: Request, services: Sequence[Service], viewer_id: int, *, passed_only: bool = True
) -> dict[int, ServiceOut]:
    """Each service with its photos, their links signed for ``viewer_id`` on the configured public
    base (never the request's Host); ``passed_only``: as residents see them."""
    found = await gallery.photos_of([s.id for s in services], passed_only=passed_only)
    return {
        s.id: ServiceOut.of(s, [photo_out(request, p, viewer_id) for p in found.get(s.id, [])])
        for s in services
    }


class CatalogueQuery(PageQuery):
    category: Category | None = Field(default=None, description="服务类别；缺省为全部")


class SlotsQuery(BaseModel):
    first_day: date = Field(description="起始日期（北京时间）")
    last_day: date = Field(description=f"结束日期（含），至多 {MAX_SEARCH_DAYS} 天")


class SlotOut(BaseModel):
    starts_at: datetime = Field(description="开始时间（北京时间 +08:00）")
    ends_at: datetime
    day: date = Field(description="北京时间的日期")
    time: str = Field(description="北京时间 HH:MM")
    capacity: int
    free: int

    @classmethod
    def of(cls, s: FreeSlot) -> SlotOut:
        local = clock.to_local(s.starts_at)
        return cls(
            starts_at=local, ends_at=clock.to_local(s.ends_at), day=local.date(), time=local.strftime("%H:%M"),
            capacity=s.capacity, free=s.free,
        )  # fmt: skip


class SlotsOut(BaseModel):
    service_id: int
    items: list[SlotOut] = Field(max_length=MAX_SLOTS)


class BookIn(RequestModel):
    service_id: Id
    unit_id: Id = Field(description="为哪套房屋预约（上门地址）；限该房屋的业主或住户")
    starts_at: Moment = Field(description="时段开始时间，须带时区（按北京时间计算时段）")
    note: str = Field(default="", max_length=200, description="给服务人员的留言")


class BookingOut(BaseModel):
    id: int
    service_id: int
    service: str
    provider: str
    unit_id: int
    state: str = Field(
        description="held 待支付 / confirmed 已确认 / in_service 服务中 / completed 已完成 / no_show 未遇 / "
        "cancelled 已取消 / expired 已超时"
    )
    starts_at: datetime = Field(description="北京时间 +08:00")
    amount_fen: int = Field(description="预约时公示价格计得的金额（分）")
    pay_on_site: bool
    hold_expires_at: datetime | None = Field(description="待支付的保留截止时间")
    note: str
    staff_id: int | None
    arrived_at: datetime | None
    finished_at: datetime | None
    cancelled_by: str
    cancel_reason: str
    stars: int | None
    comment: str
    complaint_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, b: Booking) -> BookingOut:
        return cls(
            id=b.id, service_id=b.service_id, service=b.service.name, provider=b.service.provider.name,
            unit_id=b.unit_id, state=b.state.value, starts_at=clock.to_local(b.starts_at), amount_fen=b.amount_fen,
            pay_on_site=b.pay_on_site, hold_expires_at=beijing(b.hold_expires_at), note=b.note,
            staff_id=b.staff_id, arrived_at=beijing(b.arrived_at), finished_at=beijing(b.finished_at),
            cancelled_by=b.cancelled_by, cancel_reason=b.cancel_reason, stars=b.stars, comment=b.comment,
            complaint_id=b.complaint_id, created_at=clock.to_local(b.created_at),
        )  # fmt: skip


async def booking_out(b: Booking) -> BookingOut:
    await b.fetch_related("service__provider")
    return BookingOut.of(b)


class CancelIn(RequestModel):
    reason: str = Field(default="", max_length=200)


class RescheduleIn(RequestModel):
    starts_at: Moment


class RateIn(RequestModel):
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=300)


class ComplaintIn(RequestModel):
    text: str = Field(min_length=5, max_length=1000)


class ComplaintOut(BaseModel):
    booking_id: int
    complaint_id: int


@endpoint(bp, "GET", "/compounds/<compound_id:int>/services", summary="本小区的生活服务目录",
          access=NEIGHBOURS, query=CatalogueQuery, response=Page[ServiceOut])  # fmt: skip
async def list_catalogue(
    request: Request, call: Call[None, CatalogueQuery], compound_id: int
) -> Page[ServiceOut]:
    q = call.query
    found = await catalogue.catalogue(compound_id, category=q.category, cursor=q.cursor, limit=q.limit)
    shaped = await services_out(request, found.items, call.principal.user.id)
    return Page[ServiceOut].of(found, lambda s: shaped[s.id])


@endpoint(bp, "GET", "/services/<service_id:int>", summary="服务项目详情（含照片）", access=AUTHENTICATED,
          response=ServiceOut, description="限该小区的住户、业主等；照片为已通过内容安全检测的。")  # fmt: skip
async def show_service(request: Request, call: Call[None, None], service_id: int) -> ServiceOut:
    service = await visible_service(call.principal.user.id, service_id)
    return (await services_out(request, [await catalogue.service_view(service.id)], call.principal.user.id))[
        service.id
    ]


@endpoint(bp, "GET", "/services/<service_id:int>/slots", summary="服务的可预约时段",
          access=AUTHENTICATED, query=SlotsQuery, response=SlotsOut,
          description="限该小区的住户、业主等；按北京时间计算，已过提前量或超出可预约天数的时段不列出。")  # fmt: skip
async def list_slots(request: Request, call: Call[None, SlotsQuery], service_id: int) -> SlotsOut:
    service = await visible_service(call.principal.user.id, service_id)
    found = await availability.free_slots(service, call.query.first_day, call.query.last_day, clock.now())
    return SlotsOut(service_id=service.id, items=[SlotOut.of(s) for s in found])


@endpoint(bp, "POST", "", summary="预约时段", access=AUTHENTICATED, body=BookIn, response=BookingOut, status=201,
          description="在线支付的服务先保留名额待支付（超时自动取消）；到场付款或免费的服务立即确认。"
          "时段约满时返回 409 slot_full。")  # fmt: skip
async def book(request: Request, call: Call[BookIn, None]) -> BookingOut:
    b = call.body
    made = await booking.book(
        booking.NewBooking(b.service_id, b.unit_id, b.starts_at, b.note), user_id=call.principal.user.id
    )
    return await booking_out(made)


class PayOut(BaseModel):
    booking: BookingOut
    order_id: int
    out_trade_no: str
    expires_at: datetime = Field(description="订单支付截止时间（不晚于预约保留时间）")
    payment: PaymentParamsOut = Field(description="原样传给 wx.requestPayment")


@endpoint(bp, "POST", "/<booking_id:int>/pay", summary="支付待支付的预约", access=AUTHENTICATED, response=PayOut,
          status=201, description="金额为预约时的公示价格；支付结果以微信支付通知为准，确认后预约状态变为 confirmed。")  # fmt: skip
async def pay(request: Request, call: Call[None, None], booking_id: int) -> PayOut:
    created = await payment.pay(pay_api(request), user=call.principal.user, booking_id=booking_id)
    order = created.order
    return PayOut(
        booking=await booking_out(await booking.booking_of_user(call.principal.user.id, booking_id)),
        order_id=order.id, out_trade_no=order.out_trade_no, expires_at=clock.to_local(order.expires_at),
        payment=PaymentParamsOut(**created.params.as_dict()),
    )  # fmt: skip


@endpoint(
    bp, "GET", "/mine", summary="我的预约", access=AUTHENTICATED, query=PageQuery, response=Page[BookingOut]
)
async def my_bookings(request: Request, call: Call[None, PageQuery]) -> Page[BookingOut]:
    found = await work.mine(call.principal.user.id, cursor=call.query.cursor, limit=call.query.limit)
    return Page[BookingOut].of(found, BookingOut.of)


@endpoint(bp, "GET", "/<booking_id:int>", summary="预约详情", access=AUTHENTICATED, response=BookingOut)
async def show_booking(request: Request, call: Call[None, None], booking_id: int) -> BookingOut:
    return await booking_out(await booking.booking_of_user(call.principal.user.id, booking_id))


@endpoint(bp, "POST", "/<booking_id:int>/cancel", summary="取消预约", access=AUTHENTICATED, body=CancelIn,
          response=BookingOut, description="开始前超过免费取消时限可取消，已支付的全额退款。")  # fmt: skip
async def cancel(request: Request, call: Call[CancelIn, None], booking_id: int) -> BookingOut:
    moved = await booking.cancel_by_resident(call.principal.user.id, booking_id, reason=call.body.reason)
    await payment.after_cancel(pay_api(request), moved, reason="用户取消预约")
    return await booking_out(moved.booking)


@endpoint(bp, "POST", "/<booking_id:int>/reschedule", summary="改约到其他时段", access=AUTHENTICATED,
          body=RescheduleIn, response=BookingOut, description="价格仍按原预约时的公示价格。")  # fmt: skip
async def reschedule(request: Request, call: Call[RescheduleIn, None], booking_id: int) -> BookingOut:
    return await booking_out(
        await booking.reschedule(call.principal.user.id, booking_id, call.body.starts_at)
    )


@endpoint(bp, "POST", "/<booking_id:int>/rating", summary="评价服务（1–5 星）", access=AUTHENTICATED, body=RateIn,
          response=BookingOut)  # fmt: skip
async def rate(request: Request, call: Call[RateIn, None], booking_id: int) -> BookingOut:
    b = call.body
    return await booking_out(
        await work.rate(call.principal.user.id, booking_id, stars=b.stars, comment=b.comment)
    )


@endpoint(bp, "POST", "/<booking_id:int>/complaint", summary="就该预约投诉", access=AUTHENTICATED,
          body=ComplaintIn, response=ComplaintOut, status=201)  # fmt: skip
async def complain(request: Request, call: Call[ComplaintIn, None], booking_id: int) -> ComplaintOut:
    principal = call.principal
    complaint_id = await work.complain(
        booking_id, user=principal.user, actor=principal.actor, text=call.body.text, wechat=request.app.ctx.wechat,
        cache=request.app.ctx.cache, media_url=lambda photo: checker_url(request, photo.id),
    )  # fmt: skip
    return ComplaintOut(booking_id=booking_id, complaint_id=complaint_id)
