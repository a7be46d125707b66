"""The grid workers (网格员) of a community: the people a community admin may name as a compound's
grid worker on its board (accounts.contacts.set_community_contacts checks the same grant).

A grid worker is a RoleGrant of Role.GRID_WORKER in the community's scope, granted by the supervisor
or by the community's admin. The list shows who they are (nickname or a masked label) and the phone
on their account, masked unless it is the viewer's own: an account's phone is personal, unlike the
work phone a community admin posts for the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from accounts.errors import CommunityNotFound
from accounts.identity import mask_phone
from accounts.models import Community, RoleGrant
from accounts.profile import display_name
from accounts.roles import Role, Scope
from core import pages


@dataclass(frozen=True, slots=True)
class GridWorkerEntry:
    grant_id: int
    user_id: int
    nickname: str
    display_name: str
    phone: str | None  # masked unless the viewer's own
    granted_at: datetime


async def grid_workers_of(
    community_id: int, viewer_id: int, *, cursor: str | None = None, limit: int = 20
) -> pages.Page[GridWorkerEntry]:
    """The community's grid workers in the order they were granted, a keyset page over the grants."""
    if not await Community.exists(id=community_id):
        raise CommunityNotFound()
    rows = (
        await RoleGrant.filter(
            role=Role.GRID_WORKER,
            scope_type=Scope.COMMUNITY,
            scope_id=community_id,
            id__gt=pages.after(cursor),
        )
        .order_by("id")
        .limit(limit + 1)
        .prefetch_related("user")
    )
    found = pages.page(rows, limit, key=lambda g: g.id)
    return pages.Page(
        [
            GridWorkerEntry(
                grant_id=grant.id,
                user_id=grant.user.id,
                nickname=grant.user.nickname,
                display_name=display_name(grant.user, "网格员"),
                phone=grant.user.phone if grant.user.id == viewer_id else mask_phone(grant.user.phone),
                granted_at=grant.created_at,
            )
            for grant in found.items
        ],
        found.next_cursor,
    )
