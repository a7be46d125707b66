"""Providers and who acts for them; a community's admissions (准入); staff, their hours and leave.

A property company is a provider by itself: its staff (role grant over the company) manage it, and
it serves the compounds it has a current service contract with. An outside organisation serves the
compounds of the communities that admitted it, and its people are its ProviderMember rows (the
manager named at admission adds staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Community, Compound, PropertyCompany, ServiceContract, User
from accounts.roles import Role, Scope, grants_of, today
from audit.service import Actor, append
from bookings.errors import (
    AlreadyAdmitted,
    BookingInvalid,
    NotAdmitted,
    NotProviderMember,
    ProviderNotFound,
    StaffNotFound,
)
from bookings.models import (
    Admission,
    Provider,
    ProviderMember,
    Service,
    ServiceStaff,
    Staff,
    StaffHours,
    StaffLeave,
)
from bookings.rules import MemberRole, ProviderKind, Window, check_window
from core import clock, pages


def stream_of(provider_id: int) -> str:
    return f"provider:{provider_id}"


async def provider_of_company(company_id: int) -> Provider:
    """The provider a property company is (made on first use; two at once: the unique company wins)."""
    found = await Provider.get_or_none(company_id=company_id)
    if found:
        return found
    company = await PropertyCompany.get_or_none(id=company_id)
    if company is None:
        raise ProviderNotFound()
    try:
        return await Provider.create(
            kind=ProviderKind.PROPERTY_COMPANY,
            name=company.name,
            company_id=company.id,
            contact_phone=company.contact_phone,
        )
    except IntegrityError:
        return await Provider.get(company_id=company_id)


async def _companies(user_id: int) -> set[int]:
    return {
        i
        for role, scope, i in await grants_of(user_id)
        if role is Role.PROPERTY_STAFF and scope is Scope.COMPANY
    }


async def member_role(user_id: int, provider: Provider) -> MemberRole | None:
    if provider.kind is ProviderKind.PROPERTY_COMPANY:
        return MemberRole.MANAGER if provider.company_id in await _companies(user_id) else None
    member = await ProviderMember.get_or_none(provider_id=provider.id, user_id=user_id)
    return member.role if member else None


async def require_member(
    user_id: int, provider_id: int, *, manager: bool = False
) -> tuple[Provider, MemberRole]:
    provider = await Provider.get_or_none(id=provider_id)
    role = await member_role(user_id, provider) if provider else None
    if provider is None or role is None:
        raise NotProviderMember()
    if manager and role is not MemberRole.MANAGER:
        raise NotProviderMember("只有服务机构的负责人可以执行此操作", code="not_provider_manager")
    return provider, role


async def providers_of_user(user_id: int) -> list[tuple[Provider, MemberRole]]:
    found = [(await provider_of_company(c), MemberRole.MANAGER) for c in sorted(await _companies(user_id))]
    for member in (
        await ProviderMember.filter(user_id=user_id).order_by("provider_id").prefetch_related("provider")
    ):
        found.append((member.provider, member.role))
    return found


async def may_serve(provider: Provider, compound_id: int) -> bool:
    if provider.kind is ProviderKind.PROPERTY_COMPANY:
        on = today()
        return await ServiceContract.exists(
            company_id=provider.company_id, compound_id=compound_id, starts_on__lte=on, ends_on__gte=on
        )
    compound = await Compound.get_or_none(id=compound_id).only("id", "community_id")
    if compound is None:
        return False
    return await Admission.exists(
        provider_id=provider.id,
        community_id=compound.community_id,  # type: ignore[attr-defined]
        revoked_at=None,
    )


async def require_may_serve(provider: Provider, compound_id: int) -> None:
    if not await may_serve(provider, compound_id):
        raise NotAdmitted(details={"compound_id": compound_id})


# --- admissions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewProvider:
    name: str
    credit_code: str
    contact_phone: str
    manager_user_id: int
    sub_mchid: str | None = None


async def admit(actor: Actor, *, community_id: int, new: NewProvider, by_user_id: int) -> Provider:
    """Admit an organisation (found by its credit code, or registered now) to the community's
    compounds, naming the person who manages it here."""
    if not await User.exists(id=new.manager_user_id):
        raise BookingInvalid("负责人账号不存在", details={"manager_user_id": new.manager_user_id})
    if not await Community.exists(id=community_id):
        raise ProviderNotFound()
    async with in_transaction():
        provider = await Provider.get_or_none(credit_code=new.credit_code)
        if provider is None:
            provider = await Provider.create(
                kind=ProviderKind.ORGANISATION,
                name=new.name,
                credit_code=new.credit_code,
                contact_phone=new.contact_phone,
                sub_mchid=new.sub_mchid,
            )
        existing = await Admission.get_or_none(provider_id=provider.id, community_id=community_id)
        if existing and existing.revoked_at is None:
            raise AlreadyAdmitted()
        if existing:
            await Admission.filter(id=existing.id).update(
                revoked_at=None, revoke_reason="", admitted_by_id=by_user_id, admitted_at=clock.now()
            )
        else:
            await Admission.create(
                provider_id=provider.id, community_id=community_id, admitted_by_id=by_user_id
            )
        await ProviderMember.get_or_create(
            provider_id=provider.id, user_id=new.manager_user_id, defaults={"role": MemberRole.MANAGER}
        )
        await append(
            f"community:{community_id}",
            "provider.admitted",
            actor=actor,
            subject=stream_of(provider.id),
            payload={"name": provider.name, "manager_user_id": new.manager_user_id},
        )
    return provider


async def revoke(actor: Actor, *, community_id: int, provider_id: int, reason: str) -> list[int]:
    """End the admission: the provider's services in the community's compounds leave the catalogue;
    returns their ids (bookings.revocation withdraws their board entries and open bookings)."""
    async with in_transaction():
        moved = await Admission.filter(
            provider_id=provider_id, community_id=community_id, revoked_at=None
        ).update(revoked_at=clock.now(), revoke_reason=reason)
        if moved != 1:
            raise ProviderNotFound()
        compounds = await Compound.filter(community_id=community_id).values_list("id", flat=True)
        services = Service.filter(provider_id=provider_id, compound_id__in=list(compounds))
        service_ids = [int(i) for i in await services.values_list("id", flat=True)]  # type: ignore[call-overload]
        await Service.filter(id__in=service_ids).update(active=False, updated_at=clock.now())
        await append(
            f"community:{community_id}",
            "provider.revoked",
            actor=actor,
            subject=stream_of(provider_id),
            payload={"reason": reason, "service_ids": service_ids},
        )
    return service_ids


async def admitted(community_id: int, *, cursor: str | None, limit: int) -> pages.Page[Admission]:
    after = pages.after(cursor)
    rows = (
        await Admission.filter(community_id=community_id, revoked_at=None, id__gt=after)
        .order_by("id")
        .limit(limit + 1)
        .prefetch_related("provider")
    )
    return pages.page(rows, limit, key=lambda a: a.id)


async def provider_in_community(community_id: int, provider_id: int) -> Provider:
    """A provider admitted by the community, or one serving one of its compounds."""
    provider = await Provider.get_or_none(id=provider_id)
    if provider is None:
        raise ProviderNotFound()
    if await Admission.exists(provider_id=provider_id, community_id=community_id):
        return provider
    if await Service.exists(provider_id=provider_id, compound__community_id=community_id):
        return provider
    raise ProviderNotFound()


# --- staff --------------------------------------------------------------------------------------


async def add_staff(actor: Actor, provider: Provider, *, name: str, user_id: int | None) -> Staff:
    if user_id is not None and not await User.exists(id=user_id):
        raise BookingInvalid("该账号不存在", details={"user_id": user_id})
    async with in_transaction():
        staff = await Staff.create(provider_id=provider.id, name=name, user_id=user_id)
        if user_id is not None and provider.kind is ProviderKind.ORGANISATION:
            await ProviderMember.get_or_create(
                provider_id=provider.id, user_id=user_id, defaults={"role": MemberRole.STAFF}
            )
        await append(
            stream_of(provider.id),
            "staff.added",
            actor=actor,
            subject=f"staff:{staff.id}",
            payload={"name": name},
        )
    return staff


async def staff_of(provider: Provider, staff_id: int) -> Staff:
    staff = await Staff.get_or_none(id=staff_id, provider_id=provider.id)
    if staff is None:
        raise StaffNotFound()
    return staff


async def staff_list(provider: Provider, *, cursor: str | None, limit: int) -> pages.Page[Staff]:
    rows = (
        await Staff.filter(provider_id=provider.id, id__gt=pages.after(cursor))
        .order_by("id")
        .limit(limit + 1)
    )
    return pages.page(rows, limit, key=lambda s: s.id)


async def _touch_services_of(staff_id: int) -> None:
    """The services a staff member delivers depend on their hours and leave (bookings.availability)."""
    ids = await ServiceStaff.filter(staff_id=staff_id).values_list("service_id", flat=True)
    await Service.filter(id__in=list(ids)).update(updated_at=clock.now())


def check_hours(hours: list[tuple[int, int, int]]) -> list[tuple[int, Window]]:
    checked = []
    for weekday, start, end in hours:
        if not 0 <= weekday <= 6:
            raise BookingInvalid("星期须为 0（周一）至 6（周日）", details={"weekday": weekday})
        try:
            check_window(start, end)
        except ValueError:
            raise BookingInvalid(
                "营业时段须在一天之内且开始早于结束", details={"start": start, "end": end}
            ) from None
        checked.append((weekday, (start, end)))
    return checked


async def set_staff_hours(
    actor: Actor, provider: Provider, staff_id: int, hours: list[tuple[int, int, int]]
) -> None:
    staff = await staff_of(provider, staff_id)
    checked = check_hours(hours)
    async with in_transaction():
        await StaffHours.filter(staff_id=staff.id).delete()
        await _touch_services_of(staff.id)
        for weekday, (start, end) in checked:
            await StaffHours.create(staff_id=staff.id, weekday=weekday, start_minute=start, end_minute=end)
        await append(
            stream_of(provider.id),
            "staff.hours_set",
            actor=actor,
            subject=f"staff:{staff.id}",
            payload={"hours": hours},
        )


async def add_leave(
    actor: Actor, provider: Provider, staff_id: int, *, starts_on: date, ends_on: date, reason: str
) -> StaffLeave:
    staff = await staff_of(provider, staff_id)
    if ends_on < starts_on:
        raise BookingInvalid("请假结束日期不能早于开始日期")
    async with in_transaction():
        await _touch_services_of(staff.id)
        leave = await StaffLeave.create(
            staff_id=staff.id, starts_on=starts_on, ends_on=ends_on, reason=reason
        )
        await append(
            stream_of(provider.id),
            "staff.leave",
            actor=actor,
            subject=f"staff:{staff.id}",
            payload={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "reason": reason},
        )
    return leave
