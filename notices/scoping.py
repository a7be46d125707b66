"""Where a notice lives and who is acting on it: the scope of a route, the caller's roles over it,
the audit stream, and the compounds whose board cache a change replaces."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Compound, PropertyCompany, ServiceContract
from accounts.roles import Role, today
from audit import service as audit
from core.cache import Cache
from notices import cache as board_cache
from notices.errors import CategoryNotAllowed, NoticeInvalid, NoticeNotFound
from notices.models import Notice
from notices.rules import CATEGORIES, Category, Scope, may_post

_SPEAKERS = {
    Role.COMMITTEE: "业主委员会",
    Role.PROPERTY_STAFF: "物业服务企业",
    Role.COMMUNITY_ADMIN: "城市社区",
    Role.SUPERVISOR: "县住房和城乡建设局",
}


@dataclass(frozen=True, slots=True)
class Where:
    """The board a notice belongs to: a compound, a community (official) or the county (id 0)."""

    scope: Scope
    scope_id: int


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    openid: str
    actor: audit.Actor
    roles: frozenset[Role]  # held over the scope of the route


def stream_of(where: Where) -> str:
    if where.scope is Scope.COMPOUND:
        return audit.compound_stream(where.scope_id)
    return "county" if where.scope is Scope.COUNTY else f"community:{where.scope_id}"


async def compounds_of(where: Where) -> list[int]:
    if where.scope is Scope.COMPOUND:
        return [where.scope_id]
    query = Compound.all() if where.scope is Scope.COUNTY else Compound.filter(community_id=where.scope_id)
    return list(await query.values_list("id", flat=True))  # type: ignore[arg-type]


def where_of(notice: Notice) -> Where:
    if notice.scope is Scope.COMPOUND:
        return Where(Scope.COMPOUND, int(notice.compound_id))  # type: ignore[attr-defined]
    if notice.scope is Scope.COMMUNITY:
        return Where(Scope.COMMUNITY, int(notice.community_id))  # type: ignore[attr-defined]
    return Where(Scope.COUNTY, 0)


async def invalidate(cache: Cache | None, where: Where) -> None:
    await board_cache.bump(cache or board_cache.default_cache(), await compounds_of(where))


async def load(where: Where, notice_id: int) -> Notice:
    notice = await Notice.get_or_none(id=notice_id)
    if notice is None or where_of(notice) != where:
        raise NoticeNotFound()
    return notice


def category_of(value: str) -> Category:
    try:
        return Category(value)
    except ValueError as exc:
        raise NoticeInvalid("未知的公告类别", code="category_unknown") from exc


def require_poster(caller: Caller, where: Where, category: Category) -> None:
    if not may_post(category, where.scope, caller.roles):
        raise CategoryNotAllowed(details={"category": category.value, "scope": where.scope.value})


def poster_role(caller: Caller, where: Where, category: Category) -> Role:
    allowed = CATEGORIES[category].posters.get(where.scope, frozenset())
    return next(r for r in _SPEAKERS if r in allowed and r in caller.roles)


def require_manager(caller: Caller, where: Where, notice: Notice) -> None:
    """May post the category here, and holds the role the notice was posted in."""
    require_poster(caller, where, Category(notice.category))
    if notice.poster_role and Role(notice.poster_role) not in caller.roles:
        raise CategoryNotAllowed("只能管理本单位发布的公告", code="not_your_notice")


async def speaker(caller: Caller, where: Where, category: Category) -> str:
    role = poster_role(caller, where, category)
    if role is Role.PROPERTY_STAFF:
        on = today()
        contract = await ServiceContract.filter(
            compound_id=where.scope_id, starts_on__lte=on, ends_on__gte=on
        ).first()
        company = await PropertyCompany.get_or_none(id=contract.company_id) if contract else None  # type: ignore[attr-defined]
        return company.name if company else _SPEAKERS[role]
    return _SPEAKERS[role]
