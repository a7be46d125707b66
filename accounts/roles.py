"""Roles and their scopes, and the question every admin endpoint asks: which roles does this user
hold over this compound (or community, or the county)?

Held by grant (RoleGrant rows): property staff (per company: the compounds it has a current contract
with), community admin and grid worker (per community), department staff (per department),
supervisor and the maintenance-fund office (the county). Held by being someone: owner (a verified
owner of a unit in the compound), resident (tenant or family member of a unit), committee (an owner
sitting on the compound's current committee)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from accounts.models import CommitteeMember, Compound, Ownership, Resident, RoleGrant, ServiceContract
from core import clock


class Role(StrEnum):
    RESIDENT = "resident"
    OWNER = "owner"
    COMMITTEE = "committee"
    PROPERTY_STAFF = "property_staff"
    COMMUNITY_ADMIN = "community_admin"
    DEPARTMENT_STAFF = "department_staff"
    GRID_WORKER = "grid_worker"
    SUPERVISOR = "supervisor"
    # 住建局's maintenance-fund office: holds the special account, sets rates, approves payouts
    FUND_OFFICE = "fund_office"


class Scope(StrEnum):
    COUNTY = "county"
    COMMUNITY = "community"
    COMPANY = "company"
    DEPARTMENT = "department"


# The scope each granted role is held in; the others are derived and never granted.
GRANTABLE: dict[Role, Scope] = {
    Role.PROPERTY_STAFF: Scope.COMPANY,
    Role.COMMUNITY_ADMIN: Scope.COMMUNITY,
    Role.GRID_WORKER: Scope.COMMUNITY,
    Role.DEPARTMENT_STAFF: Scope.DEPARTMENT,
    Role.SUPERVISOR: Scope.COUNTY,
    Role.FUND_OFFICE: Scope.COUNTY,
}

# Who may grant what: the supervisor any granted role, a community admin grid workers and property
# staff for work in their own community (checked by the service against the scope).
GRANTORS: dict[Role, frozenset[Role]] = {
    Role.SUPERVISOR: frozenset(GRANTABLE),
    Role.COMMUNITY_ADMIN: frozenset({Role.GRID_WORKER}),
}


def today() -> date:
    return clock.to_local(clock.now()).date()


async def grants_of(user_id: int) -> list[tuple[Role, Scope, int]]:
    rows = await RoleGrant.filter(user_id=user_id).values_list("role", "scope_type", "scope_id")
    return [(Role(r), Scope(s), int(i)) for r, s, i in rows]


async def county_roles(user_id: int) -> set[Role]:
    return {role for role, scope, _ in await grants_of(user_id) if scope is Scope.COUNTY}


async def community_roles(user_id: int, community_id: int) -> set[Role]:
    roles: set[Role] = set()
    for role, scope, scope_id in await grants_of(user_id):
        if scope is Scope.COUNTY or (scope is Scope.COMMUNITY and scope_id == community_id):
            roles.add(role)
    return roles


async def compound_roles(user_id: int, compound_id: int) -> set[Role]:
    """Every role the user holds over one compound, in a handful of small queries."""
    compound = await Compound.get_or_none(id=compound_id).only("id", "community_id")
    if compound is None:
        return set()
    roles = await community_roles(user_id, compound.community_id)  # type: ignore[attr-defined]
    companies = [i for role, scope, i in await grants_of(user_id) if scope is Scope.COMPANY]
    on = today()
    if (
        companies
        and await ServiceContract.filter(
            compound_id=compound_id, company_id__in=companies, starts_on__lte=on, ends_on__gte=on
        ).exists()
    ):
        roles.add(Role.PROPERTY_STAFF)
    if await Ownership.filter(owner__user_id=user_id, unit__compound_id=compound_id).exists():
        roles.add(Role.OWNER)
    if await Resident.filter(user_id=user_id, unit__compound_id=compound_id).exists():
        roles.add(Role.RESIDENT)
    if await CommitteeMember.filter(
        owner__user_id=user_id,
        committee__compound_id=compound_id,
        committee__term_starts_on__lte=on,
        committee__term_ends_on__gte=on,
    ).exists():
        roles.add(Role.COMMITTEE)
    return roles
