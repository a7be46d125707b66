"""Demo notices for the demo county (accounts.demo): the property company's notice-board items, a
committee decision and annual disclosure, a pinned emergency that asks for acknowledgement, an official
community notice. Each is looked up by its title before it is created, so loading twice adds nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from accounts.demo import FILLED
from accounts.models import Compound, User
from accounts.roles import community_roles, compound_roles
from accounts.service import actor_for
from notices import disclosures, service
from notices.models import DisclosureKind, Notice
from notices.moderation import Outcome
from notices.rules import Scope, Status
from notices.scoping import Caller, Where

_LINE = dict[str, Any]


async def _caller(openid: str, where: Where) -> Caller | None:
    user = await User.get_or_none(openid=openid)
    if user is None:
        return None
    if where.scope is Scope.COMPOUND:
        roles = await compound_roles(user.id, where.scope_id)
    else:
        roles = await community_roles(user.id, where.scope_id)
    return Caller(user.id, user.openid, actor_for(user), frozenset(roles))


async def _live(caller: Caller, notice: Notice) -> None:
    """Demo text is ours, not a person's: published without the WeChat round trip."""
    async with in_transaction():
        await Notice.filter(id=notice.id).update(status=Status.CHECKING)
        await service.settle(
            notice.id, notice.revision, Status.CHECKING, Outcome(Status.PUBLISHED), caller.actor
        )


def _lines(*items: tuple[str, int]) -> dict[str, list[_LINE]]:
    return {
        "lines": [
            {"item": name, "amount_fen": fen, "voucher": f"凭-{i + 1:03d}"}
            for i, (name, fen) in enumerate(items)
        ]
    }


async def seed_notices() -> int:
    """Load the demo notices; returns how many were created."""
    compound = await Compound.get_or_none(name=FILLED[0])
    if compound is None:
        return 0
    here = Where(Scope.COMPOUND, compound.id)
    staff, committee = await _caller("demo-property", here), await _caller("demo-committee", here)
    community = await _caller("demo-community", Where(Scope.COMMUNITY, compound.community_id))  # type: ignore[attr-defined]
    created = 0
    texts = [
        (staff, here, "project_manager", "物业项目负责人及联系方式", "项目负责人：李经理，电话 0816-1234567（工作日 8:30–17:30）。", False),
        (staff, here, "complaint_phone", "物业服务投诉电话", "24 小时投诉电话：0816-1234568；也可拨打 12319 城管热线。", False),
        (staff, here, "fee_standard", "物业服务收费项目和标准", "| 项目 | 标准 |\n|:--|--:|\n| 住宅物业费 | 1.50 元/㎡·月 |\n| 地面停车 | 80 元/月 |", False),
        (staff, here, "emergency", "2 号楼停水通知", "因主管道维修，2 号楼明日 9:00–15:00 停水，请提前储水。", True),
        (committee, here, "committee_decision", "关于增设电动自行车充电桩的决定", "经业主委员会会议决定，在 3 号楼北侧增设充电桩 20 个。", False),
    ]  # fmt: skip
    for caller, where, category, title, body, pinned in texts:
        if caller is None or await Notice.filter(compound_id=compound.id, title=title).exists():
            continue
        notice = await service.create(
            caller, where, category=category, title=title, body_markdown=body, pinned=pinned,
            requires_ack=category == "emergency",  # residents confirm they saw the water cut
        )  # fmt: skip
        await _live(caller, notice)
        created += 1
    if (
        committee is not None
        and not await Notice.filter(compound_id=compound.id, category="committee_annual").exists()
    ):
        for year, parking in ((2024, 1_860_000), (2025, 2_040_000)):
            notice = await disclosures.draft(
                committee,
                here,
                kind=DisclosureKind.COMMITTEE_ANNUAL,
                period_start=date(year, 1, 1),
                period_end=date(year, 12, 31),
                sections={
                    "common_income": _lines(("广告", 1_200_000), ("停车", parking), ("场地租赁", 360_000)),
                    "common_income_use": _lines(("补充维修资金", 2_000_000), ("公共设施维护", 450_000)),
                    "fund_use": _lines(("1 号楼电梯更换主板", 3_850_000)),
                    "committee_expenses": _lines(("办公用品", 52_000), ("会议场地", 30_000)),
                },
            )
            await _live(committee, notice)
            created += 1
    official = "关于开展住宅物业管理服务水平和效能提升年活动的通知"
    if community is not None and not await Notice.filter(title=official).exists():
        where = Where(Scope.COMMUNITY, compound.community_id)  # type: ignore[attr-defined]
        notice = await service.create(
            community, where, category="official", title=official,
            body_markdown="社区将于 6 月底前在各小区设立物业服务信息公示栏，欢迎业主监督。",
        )  # fmt: skip
        await _live(community, notice)
        created += 1
    return created
