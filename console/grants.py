"""Role grants of a community: its grid workers (accounts.grid_workers, phones masked unless the
viewer's own), granting a role and revoking a grant. Access objects and the request model are those of
miniprogram_api.admin (GRANTORS: the supervisor and the community's admin); which role a granter may
grant or revoke the domain decides (accounts.admin.grant_role / revoke_role), as for the API."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import admin
from accounts.grid_workers import grid_workers_of
from accounts.roles import Role
from console.web import PREFIX, cursor_in, cursor_out, form_model, form_text, page, render, see_other
from miniprogram_api import admin as api
from miniprogram_api.auth import Principal

bp = Blueprint("console_grants")
PAGE = 50
ROLES = [role.value for role in Role]  # what the API's GrantIn accepts; the domain refuses the rest


@page(bp, "GET", "/communities/<community_id:int>/grants", access=api.GRANTORS)
async def grants(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    scope = f"grants:{community_id}"
    found = await grid_workers_of(community_id, who.user.id, cursor=cursor_in(request, scope), limit=PAGE)
    return render(
        request,
        "grants.html",
        community_id=community_id,
        workers=found.items,
        next_cursor=cursor_out(request, found.next_cursor, scope),
        roles=ROLES,
    )


@page(bp, "POST", "/communities/<community_id:int>/grants", access=api.GRANTORS)
async def grant(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    body = form_model(
        request,
        api.GrantIn,
        {
            "user_id": form_text(request, "user_id"),
            "role": form_text(request, "role"),
            "scope_id": form_text(request, "scope_id") or 0,
        },
    )
    # the API's rule: a community-level role is held in the path's community
    scope_id = community_id if body.role in (Role.COMMUNITY_ADMIN, Role.GRID_WORKER) else body.scope_id
    await admin.grant_role(who.actor, who.user.id, user_id=body.user_id, role=body.role, scope_id=scope_id)
    return see_other(f"{PREFIX}/communities/{community_id}/grants")


@page(bp, "POST", "/communities/<community_id:int>/grants/<grant_id:int>/revoke", access=api.GRANTORS)
async def revoke(request: Request, who: Principal, community_id: int, grant_id: int) -> HTTPResponse:
    await admin.revoke_role(who.actor, who.user.id, grant_id)
    return see_other(f"{PREFIX}/communities/{community_id}/grants")
