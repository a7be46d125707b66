"""Demo life services for the demo county (accounts.demo): the property company of 阳光花园 offers
housekeeping, repairs and elderly care at posted prices (each posts its entry on the compound's
board), open on weekdays and Saturdays. Idempotent: loading twice adds nothing."""

from __future__ import annotations

from accounts.demo import FILLED
from accounts.models import Compound, ServiceContract
from audit.service import SYSTEM
from bookings import catalogue, providers
from bookings.models import Provider, Service
from bookings.rules import Category, Delivery, PriceUnit

DEMO_SUB_MCHID = "1900000209"  # the provider's sub-merchant (fake WeChat Pay)
MORNING, AFTERNOON = (8 * 60 + 30, 11 * 60 + 30), (13 * 60 + 30, 17 * 60 + 30)
SERVICES = [
    catalogue.Terms(
        name="日常保洁", category=Category.HOUSEKEEPING, description="两小时上门保洁，自带清洁工具",
        delivery=Delivery.AT_HOME, duration_minutes=120, price_fen=8000, price_unit=PriceUnit.PER_VISIT,
        slot_minutes=120, capacity=3, lead_minutes=240, horizon_days=14,
    ),
    catalogue.Terms(
        name="家电维修", category=Category.REPAIRS, description="上门检测，材料费另按公示价格",
        delivery=Delivery.AT_HOME, duration_minutes=60, price_fen=3000, price_unit=PriceUnit.PER_VISIT,
        slot_minutes=60, capacity=2, lead_minutes=120, horizon_days=7, pay_on_site=True,
    ),
    catalogue.Terms(
        name="助老陪护", category=Category.ELDERLY_CARE, description="陪同就医、代办、居家照看",
        delivery=Delivery.AT_HOME, duration_minutes=180, price_fen=4000, price_unit=PriceUnit.PER_HOUR,
        slot_minutes=180, capacity=2, lead_minutes=720, horizon_days=14, free_cancel_hours=12,
    ),
]  # fmt: skip


async def seed_bookings() -> str:
    compound = await Compound.get_or_none(name=FILLED[0])
    if compound is None:
        return "no demo compound: demo life services not loaded"
    contract = await ServiceContract.filter(compound_id=compound.id).order_by("-starts_on").first()
    if contract is None:
        return "no demo service contract: demo life services not loaded"
    provider = await providers.provider_of_company(contract.company_id)  # type: ignore[attr-defined]
    if not provider.sub_mchid:
        await Provider.filter(id=provider.id).update(sub_mchid=DEMO_SUB_MCHID)
        provider = await Provider.get(id=provider.id)
    added = 0
    for terms in SERVICES:
        if await Service.exists(provider_id=provider.id, compound_id=compound.id, name=terms.name):
            continue
        service = await catalogue.publish(
            SYSTEM, provider, compound_id=compound.id, terms=terms, user_id=None
        )
        hours = [(d, *w) for d in range(6) for w in (MORNING, AFTERNOON)]
        if terms.slot_minutes == 180:  # three-hour slots: one each half day
            hours = [(d, 8 * 60, 11 * 60) for d in range(6)] + [(d, 14 * 60, 17 * 60) for d in range(6)]
        await catalogue.set_hours(SYSTEM, provider, service.id, hours)
        added += 1
    return f"demo life services: {added} published for {compound.name} by {provider.name}"
