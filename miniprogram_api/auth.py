"""Who may call an endpoint, declared once per endpoint (see miniprogram_api.endpoint.Access).

AUTHENTICATED                              any logged-in user
Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, over="compound")   roles held over the compound in the
                                           path parameter compound_id
Allow(Role.COMMUNITY_ADMIN, over="community")                   ... over community_id
Allow(Role.SUPERVISOR, over="county")                           ... county-wide
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sanic import Request

from accounts import roles, sessions
from accounts.errors import RoleMissing, SessionInvalid
from accounts.models import User
from accounts.roles import Role
from accounts.service import actor_for
from audit.service import Actor
from core.errors import Unauthenticated
from miniprogram_api.context import request_id_of


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    token: str
    roles: frozenset[Role]  # the roles that let this call through (empty for AUTHENTICATED)
    request_id: str

    @property
    def actor(self) -> Actor:
        return actor_for(self.user, self.request_id)


def bearer_token(request: Request) -> str:
    # The web console (console/) authenticates by its session cookie, checked with its CSRF token
    # before it names the session here; an API request never carries one.
    console = getattr(request.ctx, "console_token", None)
    if console:
        return str(console)
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


async def authenticate(request: Request) -> Principal:
    token = bearer_token(request)
    user_id = await sessions.user_of(request.app.ctx.cache, token)
    user = await User.get_or_none(id=user_id)
    if user is None:
        raise SessionInvalid()
    request.ctx.user_id = user.id  # for the access log line (server/ops/logs.py)
    return Principal(user, token, frozenset(), request_id_of(request))


@dataclass(frozen=True)
class _Authenticated:
    public: bool = False
    description: str = "已登录用户"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        return await authenticate(request)


AUTHENTICATED = _Authenticated()

Over = Literal["compound", "community", "county"]


class Allow:
    """Logged in and holding one of ``allowed`` over the target named by the path parameter."""

    public = False

    def __init__(self, *allowed: Role, over: Over) -> None:
        self.allowed = frozenset(allowed)
        self.over = over
        names = "、".join(ROLE_NAMES[r] for r in allowed)
        self.description = f"{names}（限{SCOPE_NAMES[over]}范围）"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        uid = principal.user.id
        if self.over == "compound":
            held = await roles.compound_roles(uid, int(params["compound_id"]))
        elif self.over == "community":
            held = await roles.community_roles(uid, int(params["community_id"]))
        else:
            held = await roles.county_roles(uid)
        granted = held & self.allowed
        if not granted:
            raise RoleMissing(details={"required": sorted(self.allowed)})
        return Principal(principal.user, principal.token, frozenset(granted), principal.request_id)


ROLE_NAMES = {
    Role.RESIDENT: "住户",
    Role.OWNER: "业主",
    Role.COMMITTEE: "业主委员会委员",
    Role.PROPERTY_STAFF: "物业服务企业人员",
    Role.COMMUNITY_ADMIN: "社区管理员",
    Role.DEPARTMENT_STAFF: "部门工作人员",
    Role.GRID_WORKER: "网格员",
    Role.SUPERVISOR: "主管部门",
    Role.FUND_OFFICE: "维修资金管理机构",
}
SCOPE_NAMES = {"compound": "本小区", "community": "本社区", "county": "全县"}
