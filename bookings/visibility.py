"""Who may see a service: the people of its compound (its residents, owners, committee, staff and
community), never another compound's."""

from __future__ import annotations

from accounts.roles import Role, compound_roles
from bookings.errors import ServiceNotFound
from bookings.models import Service

SEES_CATALOGUE = frozenset(
    {Role.RESIDENT, Role.OWNER, Role.COMMITTEE, Role.PROPERTY_STAFF, Role.COMMUNITY_ADMIN}
)


async def visible_service(user_id: int, service_id: int) -> Service:
    service = await Service.get_or_none(id=service_id, active=True)
    if service is None or not await compound_roles(user_id, service.compound_id) & SEES_CATALOGUE:
        raise ServiceNotFound()
    return service
