"""The provider's day: its schedule, staff assignment, arrival, completion and no-show; the
resident's rating afterwards, and a complaint filed from a booking (through complaints' service)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import User
from audit.service import Actor, append
from bookings import booking as booking_service
from bookings.booking import Moved, booking_of_user, move
from bookings.errors import AlreadyRated, BookingNotFound, BookingStateConflict
from bookings.models import Booking, BookingEvent, Provider, Staff
from bookings.providers import staff_of, stream_of
from bookings.rules import Action, MemberRole, State, check_stars, local_moment
from complaints import service as complaints
from complaints.models import PlaceKind  # the enum the filing compares by identity
from core import clock, pages
from core.cache import Cache
from wechat.protocol import WeChatApi

SCHEDULE_MAX = 500
SCHEDULED = (State.HELD, State.CONFIRMED, State.IN_SERVICE, State.COMPLETED, State.NO_SHOW)
COMPLAINT_CATEGORY = "property_service"


async def booking_of_provider(provider: Provider, booking_id: int) -> Booking:
    booking = await Booking.get_or_none(id=booking_id, provider_id=provider.id)
    if booking is None:
        raise BookingNotFound()
    return booking


async def day_schedule(provider: Provider, day: date) -> list[Booking]:
    """Every booking of the provider starting on one Beijing day, by start."""
    start = local_moment(day, 0)
    return (
        await Booking.filter(
            provider_id=provider.id,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
            state__in=list(SCHEDULED),
        )
        .order_by("starts_at", "id")
        .limit(SCHEDULE_MAX)
        .prefetch_related("service", "unit__building")
    )


async def assign(
    actor: Actor, provider: Provider, booking_id: int, *, staff_id: int, user_id: int
) -> Booking:
    booking = await booking_of_provider(provider, booking_id)
    staff = await staff_of(provider, staff_id)
    if booking.state not in (State.CONFIRMED, State.IN_SERVICE):
        raise BookingStateConflict(details={"state": booking.state.value})
    async with in_transaction() as conn:
        moved = (
            await Booking.filter(id=booking.id, state=booking.state).using_db(conn).update(staff_id=staff.id)
        )
        if moved != 1:
            raise BookingStateConflict("预约状态已变化，请刷新后重试")
        await BookingEvent.create(
            booking_id=booking.id, action="assign", from_state=booking.state.value, to_state=booking.state.value,
            actor_id=user_id, note=staff.name, at=clock.now(), using_db=conn,
        )  # fmt: skip
        await append(
            stream_of(provider.id), "booking.assigned", actor=actor, subject=f"booking:{booking.id}",
            payload={"staff_id": staff.id},
        )  # fmt: skip
    return await Booking.get(id=booking.id)


async def _staff_step(
    actor: Actor,
    provider: Provider,
    booking_id: int,
    action: Action,
    *,
    user_id: int,
    role: MemberRole,
    **changes: Any,
) -> Booking:
    booking = await booking_of_provider(provider, booking_id)
    # a staff member (not a manager) acts on their own assignments only
    if role is MemberRole.STAFF and (
        booking.staff_id is None or not await Staff.exists(id=booking.staff_id, user_id=user_id)
    ):
        raise BookingNotFound()
    moved = await move(booking, action, actor_id=user_id, **changes)
    await append(
        stream_of(provider.id), f"booking.{action.value}", actor=actor, subject=f"booking:{booking.id}"
    )
    return moved


async def arrive(
    actor: Actor, provider: Provider, booking_id: int, *, user_id: int, role: MemberRole
) -> Booking:
    return await _staff_step(
        actor, provider, booking_id, Action.ARRIVE, user_id=user_id, role=role, arrived_at=clock.now()
    )


async def complete(
    actor: Actor, provider: Provider, booking_id: int, *, user_id: int, role: MemberRole
) -> Booking:
    return await _staff_step(
        actor, provider, booking_id, Action.COMPLETE, user_id=user_id, role=role, finished_at=clock.now()
    )


async def no_show(
    actor: Actor, provider: Provider, booking_id: int, *, user_id: int, role: MemberRole
) -> Booking:
    return await _staff_step(
        actor, provider, booking_id, Action.NO_SHOW, user_id=user_id, role=role, finished_at=clock.now()
    )


async def rate(
    user_id: int, booking_id: int, *, stars: int, comment: str, now: datetime | None = None
) -> Booking:
    """1-5 stars and a comment, once, after the service was completed."""
    booking = await booking_of_user(user_id, booking_id)
    check_stars(stars)
    if booking.state is not State.COMPLETED:
        raise BookingStateConflict("服务完成后才能评价", details={"state": booking.state.value})
    async with in_transaction() as conn:
        moved = (
            await Booking.filter(id=booking.id, stars=None)
            .using_db(conn)
            .update(stars=stars, comment=comment, rated_at=now or clock.now())
        )
        if moved != 1:
            raise AlreadyRated()
        await BookingEvent.create(
            booking_id=booking.id, action="rate", from_state=booking.state.value, to_state=booking.state.value,
            actor_id=user_id, note=str(stars), at=clock.now(), using_db=conn,
        )  # fmt: skip
    return await Booking.get(id=booking.id)


async def complain(
    booking_id: int,
    *,
    user: User,
    actor: Actor,
    text: str,
    wechat: WeChatApi,
    cache: Cache,
    media_url: Callable[[Any], str],
) -> int:
    """File a complaint about a booking through complaints, placed at the booking's unit; the booking
    keeps the link (one complaint per booking)."""
    booking = await booking_of_user(user.id, booking_id)
    if booking.complaint_id is not None:
        raise BookingStateConflict("该预约已提交过投诉", code="booking_already_complained")
    if booking.state in (State.HELD, State.EXPIRED):
        raise BookingStateConflict("未确认的预约不能投诉", details={"state": booking.state.value})
    complaint = await complaints.file_complaint(
        complaints.NewComplaint(
            compound_id=booking.compound_id,
            category=COMPLAINT_CATEGORY,
            text=text,
            place_kind=PlaceKind.UNIT,
            unit_id=booking.unit_id,
            anonymous=False,
        ),
        user=user,
        actor=actor,
        wechat=wechat,
        cache=cache,
        media_url=media_url,
    )
    moved = await Booking.filter(id=booking.id, complaint_id=None).update(complaint_id=complaint.id)
    if moved != 1:  # two at once: the second complaint stands on its own, unlinked
        raise BookingStateConflict("该预约已提交过投诉", code="booking_already_complained")
    return int(complaint.id)


async def mine(user_id: int, *, cursor: str | None, limit: int) -> pages.Page[Booking]:
    before = pages.before(cursor)
    query = Booking.filter(user_id=user_id)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1).prefetch_related("service__provider")
    return pages.page(rows, limit, key=lambda b: b.id)


async def cancel_by_provider(
    actor: Actor, provider: Provider, booking_id: int, *, reason: str, user_id: int
) -> Moved:
    """The provider cancels with a reason: any paid amount goes back in full (bookings.payment)."""
    moved = await booking_service.cancel_by_provider(provider.id, booking_id, reason=reason, actor_id=user_id)
    await append(
        stream_of(provider.id), "booking.cancelled", actor=actor, subject=f"booking:{booking_id}",
        payload={"reason": reason, "refund_fen": moved.refund_fen},
    )  # fmt: skip
    return moved
