"""Demo maintenance fund for the demo county (accounts.demo): the county's rates by building type, the
special account's sub-merchant, a fund-office user, 阳光花园's sub-accounts with the developer's
first deposits (all but the flats of 3号楼's top floor, which their owners can pay online), last
year's interest, and one ordinary use application (1号楼's lift) whose matter-5 motion is a draft
for the committee to announce. Idempotent: loading twice adds nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from accounts.demo import FILLED
from accounts.models import Building, Compound, RoleGrant, User
from audit.service import SYSTEM
from core import clock
from fund import applications, interest, subaccounts
from fund import payments as deposits
from fund.models import InterestRun, SpecialAccount, SubAccount, UseApplication
from fund.rules import BuildingType

RATES = {  # fen per m²: 50, 70 and 85.50 元/㎡
    BuildingType.NO_LIFT: Decimal(5000),
    BuildingType.LIFT: Decimal(7000),
    BuildingType.HIGH_RISE: Decimal(8550),
}
RATES_FROM = date(2020, 1, 1)
BUILDING_TYPES = {"1号楼": BuildingType.LIFT, "2号楼": BuildingType.LIFT, "3号楼": BuildingType.NO_LIFT}
DEMO_SUB_MCHID = "1900000119"  # the special account's sub-merchant (fake WeChat Pay)
FUND_OFFICE_OPENID = "demo-fund-office"
LIFT_WORKS = "1号楼电梯更换曳引机"
FILED_AT = datetime(2024, 6, 1, 10, 0, tzinfo=clock.SHANGHAI)  # the developer paid at contract filing


async def seed_fund() -> str:
    compound = await Compound.get_or_none(name=FILLED[0])
    if compound is None:
        return "no demo compound: demo fund not loaded"
    office = await _fund_office()
    for kind, rate in RATES.items():
        found = await subaccounts.rates()
        if not any(r.building_type is kind and r.effective_from == RATES_FROM for r in found):
            await subaccounts.set_rate(
                SYSTEM, building_type=kind, fen_per_m2=rate, effective_from=RATES_FROM, user_id=office.id
            )
    if not await SpecialAccount.exists():
        await deposits.set_special_account(SYSTEM, name="县住宅专项维修资金专户", sub_mchid=DEMO_SUB_MCHID)
    buildings = dict(
        await Building.filter(compound_id=compound.id, name__in=list(BUILDING_TYPES)).values_list(
            "name", "id"
        )
    )
    if len(buildings) != len(BUILDING_TYPES):
        return "demo buildings missing: demo fund not loaded"
    opened = await subaccounts.open_accounts(
        SYSTEM,
        compound_id=compound.id,
        buildings={int(buildings[name]): kind for name, kind in BUILDING_TYPES.items()},
        on=date(2024, 6, 1),
    )
    deposited = 0
    for account in await SubAccount.filter(compound_id=compound.id).order_by("id"):
        if account.room.startswith("3号楼-6") or await subaccounts.first_paid(account.id):
            continue  # the top floor of 3号楼 is left for the owners to pay online
        await subaccounts.record_developer_deposit(
            SYSTEM,
            unit_id=account.unit_id,
            voucher=f"DEMO-{account.unit_id:06d}",
            amount_fen=account.first_deposit_fen,
            at=FILED_AT,
        )
        deposited += 1
    last_year = clock.to_local(clock.now()).year - 1
    if not await InterestRun.exists(compound_id=compound.id, period=str(last_year)):
        await interest.allocate(
            SYSTEM, compound_id=compound.id, period=str(last_year), period_end=date(last_year, 12, 31),
            total_fen=123_457, user_id=office.id,
        )  # fmt: skip
    applied = 0
    if not await UseApplication.exists(compound_id=compound.id, title=LIFT_WORKS):
        await _apply_for_the_lift(compound.id, int(buildings["1号楼"]))
        applied = 1
    return (
        f"fund: {opened.opened} sub-accounts opened, {deposited} developer deposits, "
        f"{applied} use application in {compound.name}"
    )


async def _fund_office() -> User:
    user = await User.get_or_none(openid=FUND_OFFICE_OPENID)
    if user is None:
        user = await User.create(openid=FUND_OFFICE_OPENID, nickname="县维修资金管理中心")
    if not await RoleGrant.exists(user_id=user.id, role="fund_office"):
        await RoleGrant.create(user=user, role="fund_office", scope_type="county", scope_id=0)
    return user


async def _apply_for_the_lift(compound_id: int, building_id: int) -> None:
    chair = await User.get_or_none(openid="demo-committee")
    opens = clock.now() + timedelta(days=16)
    await applications.apply_ordinary(
        SYSTEM,
        compound_id=compound_id,
        user_id=chair.id if chair else 0,
        proposal=applications.Proposal(
            LIFT_WORKS,
            "1号楼电梯曳引机磨损严重，经检验机构检测建议更换曳引机及钢丝绳。",
            4_800_000,
            applications.Scope([building_id], []),
        ),
        opens_at=opens,
        closes_at=opens + timedelta(days=7),
        min_announce_days=15,
    )
