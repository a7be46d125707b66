"""Services at posted prices: publishing one posts its entry on the compound's board (category
life_services) and records the price with the board revision it was posted in; a price change
revises that entry and records a new price, which applies to bookings made after it. Opening hours,
closures and the staff a service names."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

from tortoise.transactions import in_transaction

from audit.service import Actor, append
from bookings.errors import BookingInvalid, ServiceConflict, ServiceNotFound
from bookings.models import Provider, Service, ServiceClosure, ServiceHours, ServicePrice, ServiceStaff, Staff
from bookings.providers import check_hours, require_may_serve, stream_of
from bookings.rules import CATEGORY_LABELS, Category, Delivery, PriceUnit
from core import clock, pages
from core.cache import Cache
from notices import service as notices

LIFE_SERVICES = "life_services"
UNIT_LABELS = {PriceUnit.PER_VISIT: "次", PriceUnit.PER_HOUR: "小时"}
DELIVERY_LABELS = {Delivery.AT_HOME: "上门服务", Delivery.ON_SITE: "到店服务"}


@dataclass(frozen=True, slots=True)
class Terms:
    """A service as its provider describes it (every field of a publish or an update)."""

    name: str
    category: Category
    description: str
    delivery: Delivery
    duration_minutes: int
    price_fen: int
    price_unit: PriceUnit
    slot_minutes: int
    capacity: int
    lead_minutes: int = 120
    horizon_days: int = 14
    free_cancel_hours: int = 2
    hold_minutes: int = 10
    pay_on_site: bool = False
    open_on_holidays: bool = False
    remind_day_before: bool = True
    remind_hours: int = 2


async def touch(service_ids: list[int]) -> None:
    """A change of what a service's slots depend on: its ``updated_at`` moves, so every worker's
    cached rules of it (bookings.availability) are stale at once."""
    await Service.filter(id__in=service_ids).update(updated_at=clock.now())


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def board_text(provider: Provider, terms: Terms) -> tuple[str, str, dict[str, object]]:
    """(title, body, data) of the service's entry on the board: the price a resident is charged."""
    title = f"{terms.name}（{provider.name}）"
    body = "\n\n".join(
        line
        for line in (
            f"**{CATEGORY_LABELS[terms.category]}：{terms.name}**",
            f"服务机构：{provider.name}",
            f"价格：{yuan(terms.price_fen)} 元/{UNIT_LABELS[terms.price_unit]}",
            f"服务时长：{terms.duration_minutes} 分钟，{DELIVERY_LABELS[terms.delivery]}",
            "到场付款" if terms.pay_on_site else "在线支付",
            f"开始前 {terms.free_cancel_hours} 小时以前可免费取消或改约",
            terms.description,
        )
        if line
    )
    data: dict[str, object] = {
        "provider": provider.name,
        "service": terms.name,
        "price_fen": terms.price_fen,
        "price_unit": terms.price_unit.value,
    }
    return title, body, data


def check_terms(terms: Terms) -> None:
    if terms.slot_minutes < 15 or terms.slot_minutes % 15 or terms.slot_minutes > 12 * 60:
        raise BookingInvalid(
            "时段长度须为 15 分钟的整数倍，且不超过 12 小时", details={"slot_minutes": terms.slot_minutes}
        )
    if terms.duration_minutes > terms.slot_minutes:
        raise BookingInvalid("服务时长不能超过时段长度", details={"duration_minutes": terms.duration_minutes})
    if not 0 <= terms.remind_hours <= 72:
        raise BookingInvalid("提前提醒须在 0 至 72 小时之间", details={"remind_hours": terms.remind_hours})


def terms_of(service: Service) -> Terms:
    return Terms(**{f.name: getattr(service, f.name) for f in fields(Terms)})


async def _post_entry(
    actor: Actor,
    provider: Provider,
    service: Service,
    terms: Terms,
    *,
    user_id: int | None,
    cache: Cache | None,
) -> int:
    """Post a new board entry for the service and record its price with revision 1 of it; the
    service points at both (call inside the caller's transaction)."""
    title, body, data = board_text(provider, terms)
    notice_id = await notices.post_system_notice(
        compound_id=service.compound_id,
        category=LIFE_SERVICES,
        title=title,
        body_markdown=body,
        actor=actor,
        subject=f"service:{service.id}",
        data={**data, "service_id": service.id},
        cache=cache,
    )
    price = await ServicePrice.create(
        service_id=service.id,
        price_fen=terms.price_fen,
        price_unit=terms.price_unit,
        notice_id=notice_id,
        notice_revision=1,
        set_by_id=user_id,
        effective_at=clock.now(),
    )
    # conditional on the entry it replaces: two reactivations at once post one entry, not two
    moved = await Service.filter(id=service.id, notice_id=service.notice_id).update(
        notice_id=notice_id, price_id=price.id
    )
    if moved != 1:
        raise ServiceConflict()
    return notice_id


async def publish(
    actor: Actor,
    provider: Provider,
    *,
    compound_id: int,
    terms: Terms,
    user_id: int | None,
    cache: Cache | None = None,
) -> Service:
    await require_may_serve(provider, compound_id)
    check_terms(terms)
    async with in_transaction():
        service = await Service.create(
            provider_id=provider.id,
            compound_id=compound_id,
            **{f.name: getattr(terms, f.name) for f in fields(Terms)},
        )
        notice_id = await _post_entry(actor, provider, service, terms, user_id=user_id, cache=cache)
        await append(
            stream_of(provider.id),
            "service.published",
            actor=actor,
            subject=f"service:{service.id}",
            payload={
                "compound_id": compound_id,
                "name": terms.name,
                "price_fen": terms.price_fen,
                "notice_id": notice_id,
            },
        )
    return await Service.get(id=service.id)


async def service_of(provider: Provider, service_id: int) -> Service:
    service = await Service.get_or_none(id=service_id, provider_id=provider.id)
    if service is None:
        raise ServiceNotFound()
    return service


async def update(
    actor: Actor,
    provider: Provider,
    service_id: int,
    *,
    terms: Terms,
    active: bool,
    user_id: int | None,
    cache: Cache | None = None,
) -> Service:
    """Change a service. Its board entry is revised whenever what it shows changes; a new price is
    recorded with the board revision, and bookings made from now on are charged it (those made
    before keep theirs)."""
    service = await service_of(provider, service_id)
    if active:
        await require_may_serve(provider, service.compound_id)
    check_terms(terms)
    before = terms_of(service)
    shown_before, shown_now = board_text(provider, before), board_text(provider, terms)
    # Its entry leaves the board for good when its provider loses the admission
    # (bookings.revocation): the price is then posted afresh when the service comes back.
    posted = service.notice_id is not None and await notices.is_posted(
        compound_id=service.compound_id, notice_id=service.notice_id, category=LIFE_SERVICES
    )
    reposted: int | None = None
    async with in_transaction():
        changes = {f.name: getattr(terms, f.name) for f in fields(Terms)}
        await Service.filter(id=service.id).update(**changes, active=active, updated_at=clock.now())
        if posted and shown_now != shown_before:
            assert service.notice_id is not None
            title, body, data = shown_now
            revision = await notices.revise_system_notice(
                notice_id=service.notice_id,
                compound_id=service.compound_id,
                title=title,
                body_markdown=body,
                actor=actor,
                subject=f"service:{service.id}",
                note="价格调整"
                if (terms.price_fen, terms.price_unit) != (before.price_fen, before.price_unit)
                else "服务信息更新",
                data={**data, "service_id": service.id},
                cache=cache,
            )
            price = await ServicePrice.create(
                service_id=service.id,
                price_fen=terms.price_fen,
                price_unit=terms.price_unit,
                notice_id=service.notice_id,
                notice_revision=revision,
                set_by_id=user_id,
                effective_at=clock.now(),
            )
            await Service.filter(id=service.id).update(price_id=price.id)
        elif not posted and active:
            reposted = await _post_entry(actor, provider, service, terms, user_id=user_id, cache=cache)
        await append(
            stream_of(provider.id),
            "service.updated",
            actor=actor,
            subject=f"service:{service.id}",
            payload={
                "active": active,
                "price_fen": terms.price_fen,
                "before_price_fen": before.price_fen,
                **({"reposted_notice_id": reposted} if reposted is not None else {}),
            },
        )
    return await Service.get(id=service.id)


def with_changes(terms: Terms, **changes: object) -> Terms:
    return replace(terms, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


async def set_hours(
    actor: Actor, provider: Provider, service_id: int, hours: list[tuple[int, int, int]]
) -> list[ServiceHours]:
    service = await service_of(provider, service_id)
    checked = check_hours(hours)
    async with in_transaction():
        await ServiceHours.filter(service_id=service.id).delete()
        await touch([service.id])
        for weekday, (start, end) in checked:
            await ServiceHours.create(
                service_id=service.id, weekday=weekday, start_minute=start, end_minute=end
            )
        await append(
            stream_of(provider.id),
            "service.hours_set",
            actor=actor,
            subject=f"service:{service.id}",
            payload={"hours": hours},
        )
    return await ServiceHours.filter(service_id=service.id).order_by("weekday", "start_minute")


async def hours_of(service_id: int) -> list[ServiceHours]:
    return await ServiceHours.filter(service_id=service_id).order_by("weekday", "start_minute")


async def add_closure(
    actor: Actor, provider: Provider, service_id: int, *, day: date, reason: str
) -> ServiceClosure:
    service = await service_of(provider, service_id)
    async with in_transaction():
        await touch([service.id])
        closure, _ = await ServiceClosure.get_or_create(
            service_id=service.id, day=day, defaults={"reason": reason}
        )
        await append(
            stream_of(provider.id), "service.closed", actor=actor, subject=f"service:{service.id}",
            payload={"day": day.isoformat(), "reason": reason},
        )  # fmt: skip
    return closure


async def closures_of(
    provider: Provider, service_id: int, *, cursor: str | None, limit: int
) -> pages.Page[ServiceClosure]:
    service = await service_of(provider, service_id)
    rows = (
        await ServiceClosure.filter(service_id=service.id, id__gt=pages.after(cursor))
        .order_by("id")
        .limit(limit + 1)
    )
    return pages.page(rows, limit, key=lambda c: c.id)


async def set_staff(actor: Actor, provider: Provider, service_id: int, staff_ids: list[int]) -> None:
    """Name the staff who deliver the service: from now on a slot has no more places than the named
    staff who can take it (an empty list: the service's capacity alone)."""
    service = await service_of(provider, service_id)
    found = set(
        await Staff.filter(provider_id=provider.id, id__in=staff_ids, active=True).values_list(
            "id", flat=True
        )
    )
    if found != set(staff_ids):
        raise BookingInvalid("服务人员不属于本机构", details={"staff_ids": sorted(set(staff_ids) - found)})
    async with in_transaction():
        await ServiceStaff.filter(service_id=service.id).delete()
        for staff_id in sorted(found):
            await ServiceStaff.create(service_id=service.id, staff_id=staff_id)
        await Service.filter(id=service.id).update(staffed=bool(found), updated_at=clock.now())
        await append(
            stream_of(provider.id),
            "service.staff_set",
            actor=actor,
            subject=f"service:{service.id}",
            payload={"staff_ids": sorted(found)},
        )


async def catalogue(
    compound_id: int, *, category: Category | None, cursor: str | None, limit: int
) -> pages.Page[Service]:
    query = Service.filter(compound_id=compound_id, active=True, id__gt=pages.after(cursor))
    if category is not None:
        query = query.filter(category=category)
    rows = await query.order_by("id").limit(limit + 1).prefetch_related("provider")
    return pages.page(rows, limit, key=lambda s: s.id)


async def services_of(provider: Provider, *, cursor: str | None, limit: int) -> pages.Page[Service]:
    rows = (
        await Service.filter(provider_id=provider.id, id__gt=pages.after(cursor))
        .order_by("id")
        .limit(limit + 1)
        .prefetch_related("provider")
    )
    return pages.page(rows, limit, key=lambda s: s.id)


async def service_view(service_id: int) -> Service:
    service = await Service.get_or_none(id=service_id).prefetch_related("provider")
    if service is None:
        raise ServiceNotFound()
    return service
