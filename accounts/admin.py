"""Registry management by committees, community admins and the supervisor. Every change is one
transaction with its audit event (who, what, before/after where it matters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum
from tortoise.transactions import in_transaction

from accounts import errors
from accounts.models import (
    Building,
    Committee,
    CommitteeMember,
    Community,
    Compound,
    FilingStatus,
    Owner,
    Ownership,
    PropertyCompany,
    RoleGrant,
    ServiceContract,
    Unit,
    User,
)
from accounts.roles import GRANTABLE, GRANTORS, Role, Scope, community_roles, county_roles, today
from audit.service import Actor, append, compound_stream
from core import clock
from core.errors import Conflict, Invalid, NotFound

COUNTY_STREAM = "county"


def community_stream(community_id: int) -> str:
    return f"community:{community_id}"


async def _compound(compound_id: int) -> Compound:
    compound = await Compound.get_or_none(id=compound_id)
    if compound is None:
        raise errors.CompoundNotFound()
    return compound


async def create_compound(
    actor: Actor, community_id: int, *, name: str, address: str, standalone: bool
) -> Compound:
    if not await Community.exists(id=community_id):
        raise errors.CommunityNotFound()
    try:
        async with in_transaction():
            compound = await Compound.create(
                community_id=community_id, name=name.strip(), address=address.strip(), standalone=standalone
            )
            payload = {"compound_id": compound.id, "name": compound.name, "standalone": standalone}
            await append(community_stream(community_id), "compound.created", actor=actor, payload=payload)
    except IntegrityError as exc:
        raise errors.DuplicateName("该社区已有同名小区") from exc
    return compound


async def create_building(actor: Actor, compound_id: int, *, name: str) -> Building:
    await _compound(compound_id)
    try:
        async with in_transaction():
            building = await Building.create(compound_id=compound_id, name=name.strip())
            await append(
                compound_stream(compound_id),
                "building.created",
                actor=actor,
                subject=f"building:{building.id}",
                payload={"name": building.name},
            )
    except IntegrityError as exc:
        raise errors.DuplicateName("该小区已有同名楼栋") from exc
    return building


@dataclass(frozen=True, slots=True)
class CompoundSummary:
    id: int
    community_id: int
    name: str
    address: str
    standalone: bool
    buildings: int
    units: int
    total_area: Decimal
    owners: int
    verified_owners: int
    committee_id: int | None
    committee_filing: str | None
    company: str | None


async def compound_summary(compound_id: int) -> CompoundSummary:
    compound = await _compound(compound_id)
    units = (
        await Unit.filter(compound_id=compound_id)
        .annotate(n=Count("id"), area=Sum("area"))
        .first()
        .values("n", "area")
    )
    owners = (
        await Owner.filter(ownerships__unit__compound_id=compound_id).distinct().values_list("id", "user_id")
    )
    on = today()
    committee = (
        await Committee.filter(compound_id=compound_id, term_starts_on__lte=on, term_ends_on__gte=on)
        .order_by("-term_starts_on")
        .first()
    )
    contract = (
        await ServiceContract.filter(compound_id=compound_id, starts_on__lte=on, ends_on__gte=on)
        .prefetch_related("company")
        .first()
    )
    return CompoundSummary(
        id=compound.id,
        community_id=compound.community_id,  # type: ignore[attr-defined]
        name=compound.name,
        address=compound.address,
        standalone=compound.standalone,
        buildings=await Building.filter(compound_id=compound_id).count(),
        units=int(units["n"] or 0) if units else 0,
        total_area=Decimal(str(units["area"] or "0")).quantize(Decimal("0.01")) if units else Decimal("0.00"),
        owners=len(owners),
        verified_owners=sum(1 for _, user_id in owners if user_id is not None),
        committee_id=committee.id if committee else None,
        committee_filing=committee.filing_status.value if committee else None,
        company=contract.company.name if contract else None,
    )


def _check_term(starts_on: date, ends_on: date) -> None:
    if ends_on <= starts_on:
        raise Invalid("任期结束日期须晚于开始日期", code="term_invalid")
    if (ends_on - starts_on).days > 5 * 366:
        raise Invalid("业主委员会任期不超过五年", code="term_too_long")


async def create_committee(actor: Actor, compound_id: int, *, starts_on: date, ends_on: date) -> Committee:
    await _compound(compound_id)
    _check_term(starts_on, ends_on)
    overlapping = await Committee.filter(
        compound_id=compound_id, term_starts_on__lt=ends_on, term_ends_on__gt=starts_on
    ).exists()
    if overlapping:
        raise Conflict("与已有一届业主委员会任期重叠", code="term_overlaps")
    async with in_transaction():
        committee = await Committee.create(
            compound_id=compound_id, term_starts_on=starts_on, term_ends_on=ends_on
        )
        await append(
            compound_stream(compound_id),
            "committee.created",
            actor=actor,
            subject=f"committee:{committee.id}",
            payload={"term_starts_on": starts_on.isoformat(), "term_ends_on": ends_on.isoformat()},
        )
    return committee


async def _committee(compound_id: int, committee_id: int) -> Committee:
    committee = await Committee.get_or_none(id=committee_id, compound_id=compound_id)
    if committee is None:
        raise NotFound("未找到该届业主委员会", code="committee_not_found")
    return committee


async def set_filing(actor: Actor, compound_id: int, committee_id: int, status: FilingStatus) -> Committee:
    """备案 by the community: pending → filed or rejected; a filed committee stays filed."""
    committee = await _committee(compound_id, committee_id)
    if committee.filing_status is FilingStatus.FILED:
        raise Conflict("该届业主委员会已备案", code="already_filed")
    if status is FilingStatus.PENDING:
        raise Invalid("备案状态只能设为已备案或不予备案", code="filing_status_invalid")
    async with in_transaction():
        moved = await Committee.filter(id=committee.id, filing_status=committee.filing_status).update(
            filing_status=status, filed_at=clock.now() if status is FilingStatus.FILED else None
        )
        if not moved:
            raise Conflict("备案状态已被他人修改，请刷新后重试", code="filing_changed")
        await append(
            compound_stream(compound_id),
            "committee.filing_set",
            actor=actor,
            subject=f"committee:{committee.id}",
            payload={"from": committee.filing_status.value, "to": status.value},
        )
    await committee.refresh_from_db()
    return committee


async def add_member(
    actor: Actor, compound_id: int, committee_id: int, *, owner_id: int, position: str
) -> CommitteeMember:
    committee = await _committee(compound_id, committee_id)
    if not await Ownership.filter(owner_id=owner_id, unit__compound_id=compound_id).exists():
        raise Invalid("委员须为本小区业主", code="member_not_owner")
    owner = await Owner.get(id=owner_id)
    if owner.is_developer:
        raise Invalid("建设单位不能担任业主委员会委员", code="member_is_developer")
    try:
        async with in_transaction():
            member = await CommitteeMember.create(committee=committee, owner_id=owner_id, position=position)
            await append(
                compound_stream(compound_id),
                "committee.member_added",
                actor=actor,
                subject=f"committee:{committee.id}",
                payload={"owner_id": owner_id, "position": position},
            )
    except IntegrityError as exc:
        raise Conflict("该业主已是本届委员", code="already_member") from exc
    return member


async def remove_member(actor: Actor, compound_id: int, committee_id: int, owner_id: int) -> None:
    committee = await _committee(compound_id, committee_id)
    async with in_transaction():
        deleted = await CommitteeMember.filter(committee=committee, owner_id=owner_id).delete()
        if not deleted:
            raise NotFound("该业主不是本届委员", code="member_not_found")
        await append(
            compound_stream(compound_id),
            "committee.member_removed",
            actor=actor,
            subject=f"committee:{committee.id}",
            payload={"owner_id": owner_id},
        )


async def create_company(actor: Actor, *, name: str, credit_code: str, contact_phone: str) -> PropertyCompany:
    try:
        async with in_transaction():
            company = await PropertyCompany.create(
                name=name.strip(), credit_code=credit_code.strip().upper(), contact_phone=contact_phone
            )
            await append(
                COUNTY_STREAM,
                "company.created",
                actor=actor,
                subject=f"company:{company.id}",
                payload={"name": company.name, "credit_code": company.credit_code},
            )
    except IntegrityError as exc:
        raise errors.DuplicateName("该物业服务企业已登记") from exc
    return company


async def create_contract(
    actor: Actor, compound_id: int, *, company_id: int, starts_on: date, ends_on: date, price_fen_per_m2: int
) -> ServiceContract:
    await _compound(compound_id)
    if not await PropertyCompany.exists(id=company_id):
        raise NotFound("未找到该物业服务企业", code="company_not_found")
    if ends_on <= starts_on:
        raise Invalid("合同结束日期须晚于开始日期", code="contract_dates_invalid")
    if await ServiceContract.filter(
        compound_id=compound_id, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exists():
        raise Conflict("与本小区已有的物业服务合同期限重叠", code="contract_overlaps")
    async with in_transaction():
        contract = await ServiceContract.create(
            compound_id=compound_id,
            company_id=company_id,
            starts_on=starts_on,
            ends_on=ends_on,
            price_fen_per_m2=price_fen_per_m2,
        )
        await append(
            compound_stream(compound_id),
            "contract.created",
            actor=actor,
            subject=f"contract:{contract.id}",
            payload={
                "company_id": company_id,
                "starts_on": starts_on.isoformat(),
                "ends_on": ends_on.isoformat(),
                "price_fen_per_m2": price_fen_per_m2,
            },
        )
    return contract


async def grant_role(actor: Actor, grantor_id: int, *, user_id: int, role: Role, scope_id: int) -> RoleGrant:
    """The supervisor grants any granted role; a community admin grants grid workers of their own
    community. Derived roles (owner, resident, committee) cannot be granted."""
    if role not in GRANTABLE:
        raise Invalid("该角色由身份自动获得，不能授予", code="role_not_grantable")
    scope = GRANTABLE[role]
    scope_id = 0 if scope is Scope.COUNTY else scope_id
    held = await county_roles(grantor_id)
    if scope is Scope.COMMUNITY:
        held |= await community_roles(grantor_id, scope_id)
    if not any(role in GRANTORS.get(mine, frozenset()) for mine in held):
        raise errors.GrantNotAllowed()
    if not await User.exists(id=user_id):
        raise errors.UserNotFound()
    try:
        async with in_transaction():
            grant = await RoleGrant.create(
                user_id=user_id, role=role.value, scope_type=scope.value, scope_id=scope_id
            )
            stream = community_stream(scope_id) if scope is Scope.COMMUNITY else COUNTY_STREAM
            payload = {
                "user_id": user_id,
                "role": role.value,
                "scope_type": scope.value,
                "scope_id": scope_id,
            }
            await append(stream, "role.granted", actor=actor, subject=f"user:{user_id}", payload=payload)
    except IntegrityError as exc:
        raise Conflict("该用户已有此角色", code="already_granted") from exc
    return grant


async def revoke_role(actor: Actor, grantor_id: int, grant_id: int) -> None:
    grant = await RoleGrant.get_or_none(id=grant_id)
    if grant is None:
        raise NotFound("未找到该授权", code="grant_not_found")
    role, scope = Role(grant.role), Scope(grant.scope_type)
    held = await county_roles(grantor_id)
    if scope is Scope.COMMUNITY:
        held |= await community_roles(grantor_id, grant.scope_id)
    if not any(role in GRANTORS.get(mine, frozenset()) for mine in held):
        raise errors.GrantNotAllowed("您不能撤销该授权")
    async with in_transaction():
        await grant.delete()
        stream = community_stream(grant.scope_id) if scope is Scope.COMMUNITY else COUNTY_STREAM
        payload = {"user_id": grant.user_id, "role": role.value, "scope_id": grant.scope_id}  # type: ignore[attr-defined]
        await append(stream, "role.revoked", actor=actor, subject=f"user:{grant.user_id}", payload=payload)  # type: ignore[attr-defined]


async def unit_in_compound(unit_id: int, compound_id: int) -> Unit:
    unit = await Unit.get_or_none(id=unit_id, compound_id=compound_id)
    if unit is None:
        raise errors.UnitNotFound()
    return unit


async def record_export(actor: Actor, compound_id: int, size: int) -> None:
    """Exports of personal data are admin actions like any other: logged."""
    await append(compound_stream(compound_id), "roster.exported", actor=actor, payload={"bytes": size})
