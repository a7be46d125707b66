"""The responsibility table: complaint categories of plan tasks 3, 4 and 10 and who handles each.

"社区吹哨，部门报到": the property company handles what is within its service contract; the community
dispatches the rest to the department responsible under the plan's list (县住建局、市场监管局、自然资源局、
生态环境局、公安局、民政局、司法局、执法局). This is seed data: the rows live in complaint_category
and the county may change them without a release. The mapping below is our reading of the usual split
of duties and must be confirmed by the county's leading group office.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Department
from complaints import calendar
from complaints.models import Category, Party

DEPARTMENTS: tuple[str, ...] = (
    "县住建局",
    "市场监管局",
    "自然资源局",
    "生态环境局",
    "公安局",
    "民政局",
    "司法局",
    "执法局",
)


@dataclass(frozen=True, slots=True)
class CategorySeed:
    code: str
    name: str
    party: Party
    department: str | None  # a name from DEPARTMENTS when party is DEPARTMENT
    resolve_hours: int  # working hours from "in progress" to "resolved"


_P, _D = Party.PROPERTY, Party.DEPARTMENT

CATEGORIES: tuple[CategorySeed, ...] = (
    CategorySeed("repair", "设施报修", _P, None, 16),
    CategorySeed("property_service", "物业服务", _P, None, 24),
    CategorySeed("ebike_charging", "电动自行车违规停放充电", _P, None, 8),
    CategorySeed("blocked_passage", "占用堵塞公共和消防通道", _P, None, 8),
    CategorySeed("rubbish_dumping", "任意弃置垃圾", _P, None, 16),
    CategorySeed("cooking_fumes", "油烟", _D, "生态环境局", 40),
    CategorySeed("noise", "噪音", _D, "公安局", 40),
    CategorySeed("sewage", "污水", _D, "县住建局", 40),
    CategorySeed("illegal_construction", "违法建筑（违章搭建）", _D, "执法局", 80),
    CategorySeed("structural_change", "擅自改变房屋结构", _D, "县住建局", 40),
    CategorySeed("neighbour_dispute", "邻里矛盾纠纷", _D, "司法局", 80),
    CategorySeed("disorderly_parking", "乱停乱放", _D, "公安局", 40),
    CategorySeed("piling_on_common_ground", "乱堆乱建", _D, "执法局", 40),
    CategorySeed("green_space", "毁绿占绿", _D, "自然资源局", 40),
    CategorySeed("animals", "违反规定饲养动物", _D, "公安局", 40),
    CategorySeed("fee_pricing", "物业收费不规范", _D, "市场监管局", 40),
    CategorySeed("vulnerable_residents", "困难群体帮扶", _D, "民政局", 40),
)


async def install() -> dict[str, int]:
    """Load the responsibility table, its departments and the working calendar where missing (what a
    real deployment needs before the first complaint; the demo loads it too). Idempotent: rows are
    found by their natural key before they are created."""
    departments = {}
    for name in DEPARTMENTS:
        department, _ = await Department.get_or_create(name=name)
        departments[name] = department.id
    added = 0
    for sort, seed in enumerate(CATEGORIES):
        _, created = await Category.get_or_create(
            code=seed.code,
            defaults={
                "name": seed.name,
                "party": seed.party,
                "department_id": departments[seed.department] if seed.department else None,
                "resolve_hours": seed.resolve_hours,
                "sort": sort,
            },
        )
        added += created
    return {
        "departments": len(departments),
        "categories_added": added,
        "calendar_added": await calendar.seed(),
    }
