"""Demo fees for the demo county (accounts.demo, notices.demo): the county's price bands, the fee
contract of 阳光花园 with its property company, the posted fee items (the board's fee standard), and a
billing run for the current month, so that in fake mode a demo resident can pay a demo bill.
Idempotent: loading twice adds nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from accounts.demo import FILLED
from accounts.models import Compound, ServiceContract
from audit.service import SYSTEM
from core import clock
from notices import service as notices
from payments import billing, setup
from payments.models import FeeContract, FeeItem, PriceBand
from payments.rules import ItemKind

DEMO_SUB_MCHID = "1900000109"  # the demo property company's sub-merchant (fake WeChat Pay)
BANDS = {1: 180, 2: 150, 3: 120, 4: 100, 5: 80}  # fen per m² per month, ±20 %


async def seed_payments() -> str:
    compound = await Compound.get_or_none(name=FILLED[0])
    if compound is None:
        return "no demo compound: demo fees not loaded"
    for grade, base in BANDS.items():
        if not await PriceBand.exists(grade=grade, effective_from=date(2025, 1, 1)):
            await setup.set_price_band(
                SYSTEM, grade=grade, base_fen=Decimal(base), float_percent=Decimal(20),
                effective_from=date(2025, 1, 1), user_id=None,
            )  # fmt: skip
    service = await ServiceContract.filter(compound_id=compound.id).order_by("-starts_on").first()
    if service is None:
        return "no demo service contract: demo fees not loaded"
    contract = await FeeContract.filter(compound_id=compound.id).first()
    if contract is None:
        contract = await setup.set_fee_contract(
            SYSTEM,
            setup.ContractTerms(
                compound.id,
                service.company_id,  # type: ignore[attr-defined]
                2,
                Decimal(150),
                service.starts_on,
                service.ends_on,
                DEMO_SUB_MCHID,
            ),
        )
    posted = await notices.live_notice_ids(compound_id=compound.id, category=setup.FEE_STANDARD)
    if not posted:
        return "no posted fee standard: demo fees not loaded (seed the notices first)"
    items = [
        setup.ItemTerms("物业服务费", ItemKind.BY_AREA, posted[0], unit_kind="flat"),
        setup.ItemTerms(
            "地面停车管理费", ItemKind.FIXED_MONTHLY, posted[0], monthly_fen=8000, unit_kind="parking"
        ),
    ]
    for terms in items:
        if not await FeeItem.exists(compound_id=compound.id, name=terms.name):
            await setup.add_fee_item(SYSTEM, contract, terms)
    period = clock.to_local(clock.now()).strftime("%Y-%m")
    run = await billing.run_billing(
        SYSTEM, compound_id=compound.id, period_text=period, metered_fen={}, user_id=None
    )
    return f"demo fees: {run.created} new bills for {period}"
