"""The notice board's rules as data and pure functions: categories (plan task 20, committee duties,
votes, emergencies), who may post which category where, who may read what, and the states.

Who posts what is declared once, here, in ``CATEGORIES``; the service and the permission tests read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accounts.roles import Role


class Scope(StrEnum):
    COMPOUND = "compound"
    COMMUNITY = "community"  # official notice of the community, on every board of its compounds
    COUNTY = "county"  # official notice of the county, on every board


class Audience(StrEnum):
    EVERYONE = "everyone"  # everyone living in or serving the compound
    OWNERS = "owners"  # verified owners only


class Status(StrEnum):
    DRAFT = "draft"
    CHECKING = "checking"  # text passed; waiting for the asynchronous image verdicts
    REVIEW = "review"  # WeChat said "review": a person decides
    HELD = "held"  # WeChat said "risky": held with the reason, the author must edit
    PUBLISHED = "published"  # live between publish_at and expires_at
    WITHDRAWN = "withdrawn"


class Category(StrEnum):
    # plan task 20: the property company's notice board (公示栏)
    PROJECT_MANAGER = "project_manager"
    COMPLAINT_PHONE = "complaint_phone"
    SERVICE_STANDARD = "service_standard"
    FEE_STANDARD = "fee_standard"
    MAINTENANCE_CONTRACTORS = "maintenance_contractors"
    PARKING = "parking"
    PUBLIC_ELECTRICITY = "public_electricity"
    FEE_INCOME_EXPENSE = "fee_income_expense"
    LIFT_MAINTENANCE = "lift_maintenance"
    LIFE_SERVICES = "life_services"
    PROPERTY_DISCLOSURE = "property_disclosure"  # structured periodic disclosure
    # plan tasks 8 and 17: the committee
    COMMITTEE_DECISION = "committee_decision"
    COMMITTEE_ANNUAL = "committee_annual"  # structured annual disclosure
    FUND_USE = "fund_use"  # maintenance-fund use, disclosed after completion
    # posted by the voting feature through post_system_notice
    MOTION = "motion"
    VOTE_RESULT = "vote_result"
    # everyone who posts
    ANNOUNCEMENT = "announcement"
    EMERGENCY = "emergency"
    # the community or the county
    OFFICIAL = "official"


@dataclass(frozen=True, slots=True)
class CategoryRule:
    label: str
    posters: dict[Scope, frozenset[Role]]  # empty: only the system posts it (post_system_notice)
    structured: bool = False  # published from a disclosure document, not free text


_STAFF = frozenset({Role.PROPERTY_STAFF})
_COMMITTEE = frozenset({Role.COMMITTEE})
_ANYONE = frozenset({Role.COMMITTEE, Role.PROPERTY_STAFF, Role.COMMUNITY_ADMIN})


def _compound(roles: frozenset[Role]) -> dict[Scope, frozenset[Role]]:
    return {Scope.COMPOUND: roles}


CATEGORIES: dict[Category, CategoryRule] = {
    Category.PROJECT_MANAGER: CategoryRule("项目负责人及联系方式", _compound(_STAFF)),
    Category.COMPLAINT_PHONE: CategoryRule("物业服务投诉电话", _compound(_STAFF)),
    Category.SERVICE_STANDARD: CategoryRule("物业服务内容和标准", _compound(_STAFF)),
    Category.FEE_STANDARD: CategoryRule("收费项目和标准", _compound(_STAFF)),
    Category.MAINTENANCE_CONTRACTORS: CategoryRule("电梯、消防等设施设备维保单位", _compound(_STAFF)),
    Category.PARKING: CategoryRule("车位车库使用情况", _compound(_STAFF)),
    Category.PUBLIC_ELECTRICITY: CategoryRule("公共电费分摊情况", _compound(_STAFF)),
    Category.FEE_INCOME_EXPENSE: CategoryRule("物业费和共有部分经营收益收支", _compound(_STAFF)),
    Category.LIFT_MAINTENANCE: CategoryRule("电梯维护保养支出", _compound(_STAFF)),
    Category.LIFE_SERVICES: CategoryRule("家政、养老等生活服务及价格", _compound(_STAFF)),
    Category.PROPERTY_DISCLOSURE: CategoryRule("物业服务企业定期公示", _compound(_STAFF), structured=True),
    Category.COMMITTEE_DECISION: CategoryRule("业主委员会决定", _compound(_COMMITTEE)),
    Category.COMMITTEE_ANNUAL: CategoryRule("业主委员会年度公示", _compound(_COMMITTEE), structured=True),
    # where no committee exists the community has emergency repairs done and discloses the use
    Category.FUND_USE: CategoryRule(
        "维修资金使用公示", _compound(frozenset({Role.COMMITTEE, Role.COMMUNITY_ADMIN}))
    ),
    Category.MOTION: CategoryRule("业主大会表决事项", {}),
    Category.VOTE_RESULT: CategoryRule("业主大会表决结果", {}),
    Category.ANNOUNCEMENT: CategoryRule("通知公告", _compound(_ANYONE)),
    Category.EMERGENCY: CategoryRule("紧急通知", _compound(_ANYONE)),
    Category.OFFICIAL: CategoryRule(
        "社区及主管部门通知",
        {
            # task 8: the community orders corrections and "公告业主" in the compound itself
            Scope.COMPOUND: frozenset({Role.COMMUNITY_ADMIN, Role.SUPERVISOR}),
            Scope.COMMUNITY: frozenset({Role.COMMUNITY_ADMIN, Role.SUPERVISOR}),
            Scope.COUNTY: frozenset({Role.SUPERVISOR}),
        },
    ),
}

# Everyone who may post anything in a scope: the gate on the management routes; the category check
# inside the service then narrows it.
POSTERS: dict[Scope, frozenset[Role]] = {
    scope: frozenset(role for rule in CATEGORIES.values() for role in rule.posters.get(scope, ()))
    for scope in Scope
}
# A person decides on content WeChat marked "review" (not the author's own side).
REVIEWERS = frozenset({Role.COMMUNITY_ADMIN, Role.SUPERVISOR})
# Who reads a compound's board at all, and who also reads owners-only notices. Property staff and grid
# workers serve the compound but are not owners: an owners-only notice may concern the company itself.
READERS = frozenset(
    {
        Role.RESIDENT,
        Role.OWNER,
        Role.COMMITTEE,
        Role.PROPERTY_STAFF,
        Role.COMMUNITY_ADMIN,
        Role.GRID_WORKER,
        Role.SUPERVISOR,
    }
)
OWNER_READERS = frozenset({Role.OWNER, Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.SUPERVISOR})

EDITABLE = frozenset({Status.DRAFT, Status.HELD, Status.REVIEW, Status.CHECKING, Status.PUBLISHED})
PUBLISHABLE = frozenset({Status.DRAFT, Status.HELD})


def may_post(category: Category, scope: Scope, roles: Iterable[Role]) -> bool:
    allowed = CATEGORIES[category].posters.get(scope, frozenset())
    return bool(allowed & set(roles))


def reads_owner_notices(roles: Iterable[Role]) -> bool:
    return bool(OWNER_READERS & set(roles))


def audiences_for(roles: Iterable[Role]) -> tuple[Audience, ...]:
    if reads_owner_notices(roles):
        return (Audience.EVERYONE, Audience.OWNERS)
    return (Audience.EVERYONE,)


def check_window(publish_at: datetime, expires_at: datetime | None) -> str | None:
    """The reason a publication window is refused, or None."""
    if expires_at is not None and expires_at <= publish_at:
        return "下架时间须晚于发布时间"
    return None


def live(status: Status, publish_at: datetime | None, expires_at: datetime | None, at: datetime) -> bool:
    return (
        status is Status.PUBLISHED
        and publish_at is not None
        and publish_at <= at
        and (expires_at is None or expires_at > at)
    )


def public_state(
    status: Status, publish_at: datetime | None, expires_at: datetime | None, at: datetime
) -> str:
    """What the publisher sees: the status, with "published" split by the clock."""
    if status is not Status.PUBLISHED or publish_at is None:
        return status.value
    if publish_at > at:
        return "scheduled"
    if expires_at is not None and expires_at <= at:
        return "expired"
    return "live"
