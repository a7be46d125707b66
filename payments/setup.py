"""Set-up of fees: the county's price bands (the supervisor), a compound's fee contract and its fee
items (the property company). Every change is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tortoise.transactions import in_transaction

from accounts.models import Compound, PropertyCompany
from audit import service as audit
from audit.service import Actor
from core.errors import NotFound
from notices import service as notices
from payments import errors, rules
from payments.models import FeeContract, FeeItem, Payee, PayeeKind, PriceBand
from payments.rules import Band, ItemKind

COUNTY_STREAM = "county"  # the county-wide stream (accounts.admin.COUNTY_STREAM)
FEE_STANDARD = "fee_standard"


def company_stream(company_id: int) -> str:
    return f"payments:company:{company_id}"


async def set_price_band(
    actor: Actor,
    *,
    grade: int,
    base_fen: Decimal,
    float_percent: Decimal,
    effective_from: date,
    user_id: int | None,
) -> PriceBand:
    if grade not in rules.GRADE_NAMES:
        raise errors.FeeItemInvalid("服务等级须为一级至五级", code="grade_invalid")
    if base_fen <= 0 or not Decimal(0) <= float_percent < Decimal(100):
        raise errors.FeeItemInvalid("基准价须大于零，浮动幅度须在 0–100% 之间", code="band_invalid")
    async with in_transaction():
        band, created = await PriceBand.get_or_create(
            grade=grade,
            effective_from=effective_from,
            defaults={"base_fen": base_fen, "float_percent": float_percent, "set_by_id": user_id},
        )
        if not created:
            band.base_fen, band.float_percent, band.set_by_id = base_fen, float_percent, user_id  # type: ignore[attr-defined]
            await band.save(update_fields=["base_fen", "float_percent", "set_by_id"])
        await audit.append(
            COUNTY_STREAM,
            "payments.price_band_set",
            actor=actor,
            subject=f"price_band:{band.id}",
            payload={
                "grade": grade,
                "base_fen": str(base_fen),
                "float_percent": str(float_percent),
                "effective_from": effective_from.isoformat(),
            },
        )
    return band


async def price_bands() -> list[PriceBand]:
    return await PriceBand.all().order_by("grade", "-effective_from")


async def band_for(grade: int, on: date) -> Band:
    row = await PriceBand.filter(grade=grade, effective_from__lte=on).order_by("-effective_from").first()
    if row is None:
        raise errors.NoPriceBand(details={"grade": grade, "on": on.isoformat()})
    return Band(grade=row.grade, base_fen=Decimal(row.base_fen), float_percent=Decimal(row.float_percent))


@dataclass(frozen=True, slots=True)
class ContractTerms:
    compound_id: int
    company_id: int
    grade: int
    price_fen: Decimal
    starts_on: date
    ends_on: date
    sub_mchid: str


async def set_fee_contract(actor: Actor, terms: ContractTerms) -> FeeContract:
    """The company's fee contract with a compound; the price must lie inside its grade's band (on
    the contract's first day), refused with the band otherwise. The company's payee (its WeChat Pay
    sub-merchant) is created on first use."""
    if terms.ends_on < terms.starts_on:
        raise errors.FeeItemInvalid("合同结束日期不得早于开始日期", code="contract_dates_invalid")
    if not await Compound.exists(id=terms.compound_id):
        raise NotFound("小区不存在", code="compound_not_found")
    company = await PropertyCompany.get_or_none(id=terms.company_id)
    if company is None:
        raise NotFound("物业服务企业不存在", code="company_not_found")
    band = await band_for(terms.grade, terms.starts_on)
    refusal = rules.band_refusal(band, terms.price_fen)
    if refusal is not None:
        raise errors.PriceOutsideBand(
            refusal,
            details={"low_fen": str(band.low), "high_fen": str(band.high), "price_fen": str(terms.price_fen)},
        )
    async with in_transaction():
        payee = await Payee.get_or_none(company_id=terms.company_id)
        if payee is None:
            if await Payee.exists(sub_mchid=terms.sub_mchid):
                raise errors.FeeItemInvalid("该子商户号已属于另一收款方", code="sub_mchid_taken")
            payee = await Payee.create(
                kind=PayeeKind.PROPERTY_COMPANY, name=company.name, sub_mchid=terms.sub_mchid, company=company
            )
        elif payee.sub_mchid != terms.sub_mchid:
            raise errors.FeeItemInvalid("子商户号与该企业已登记的不一致", code="sub_mchid_mismatch")
        contract = await FeeContract.create(
            compound_id=terms.compound_id,
            company_id=terms.company_id,
            payee=payee,
            grade=terms.grade,
            price_fen=terms.price_fen,
            starts_on=terms.starts_on,
            ends_on=terms.ends_on,
        )
        await audit.append(
            audit.compound_stream(terms.compound_id),
            "payments.fee_contract_set",
            actor=actor,
            subject=f"fee_contract:{contract.id}",
            payload={
                "company_id": terms.company_id,
                "grade": terms.grade,
                "price_fen": str(terms.price_fen),
                "starts_on": terms.starts_on.isoformat(),
                "ends_on": terms.ends_on.isoformat(),
            },
        )
    return contract


async def contract_covering(compound_id: int, first: date, last: date) -> FeeContract | None:
    """The newest fee contract of the compound in force on some day of [first, last]."""
    return (
        await FeeContract.filter(compound_id=compound_id, starts_on__lte=last, ends_on__gte=first)
        .order_by("-starts_on", "-id")
        .first()
    )


async def company_contract(compound_id: int, company_ids: list[int], on: date) -> FeeContract:
    """The fee contract of one of ``company_ids`` with the compound on that day, or NoFeeContract:
    a company cannot set items or bill a compound it has no contract with."""
    contract = (
        await FeeContract.filter(
            compound_id=compound_id, company_id__in=company_ids, starts_on__lte=on, ends_on__gte=on
        )
        .order_by("-starts_on", "-id")
        .first()
    )
    if contract is None:
        raise errors.NoFeeContract()
    return contract


@dataclass(frozen=True, slots=True)
class ItemTerms:
    name: str
    kind: ItemKind
    notice_id: int
    price_fen: Decimal | None = None
    monthly_fen: int | None = None
    unit_kind: str | None = None


def _check_item(terms: ItemTerms) -> None:
    if terms.kind is ItemKind.BY_AREA and (terms.monthly_fen is not None or (terms.price_fen or 0) < 0):
        raise errors.FeeItemInvalid("按面积计费的项目只填单价（分/㎡·月），缺省为合同单价")
    if terms.kind is ItemKind.FIXED_MONTHLY and (
        terms.monthly_fen is None or terms.monthly_fen <= 0 or terms.price_fen is not None
    ):
        raise errors.FeeItemInvalid("按月定额的项目须填每月金额（分），不填单价")
    if terms.kind is ItemKind.METERED_BY_AREA and (
        terms.price_fen is not None or terms.monthly_fen is not None
    ):
        raise errors.FeeItemInvalid("按面积分摊的计量项目不填单价或定额，金额在每期计费时填写")


async def add_fee_item(actor: Actor, contract: FeeContract, terms: ItemTerms) -> FeeItem:
    """An item of the compound's fees, whose standard is the given fee_standard notice on the
    compound's board; it must be posted now (and is billed only while it stays posted)."""
    _check_item(terms)
    if not await notices.is_posted(
        compound_id=contract.compound_id, notice_id=terms.notice_id, category=FEE_STANDARD
    ):  # type: ignore[attr-defined]
        raise errors.FeeStandardNotPosted(details={"notice_id": terms.notice_id})
    async with in_transaction():
        item = await FeeItem.create(
            compound_id=contract.compound_id,  # type: ignore[attr-defined]
            contract=contract,
            name=terms.name,
            kind=terms.kind,
            price_fen=terms.price_fen,
            monthly_fen=terms.monthly_fen,
            unit_kind=terms.unit_kind,
            notice_id=terms.notice_id,
        )
        await audit.append(
            audit.compound_stream(contract.compound_id),  # type: ignore[attr-defined]
            "payments.fee_item_added",
            actor=actor,
            subject=f"fee_item:{item.id}",
            payload={
                "name": terms.name,
                "kind": terms.kind.value,
                "price_fen": None if terms.price_fen is None else str(terms.price_fen),
                "monthly_fen": terms.monthly_fen,
                "unit_kind": terms.unit_kind,
                "notice_id": terms.notice_id,
            },
        )
    return item


async def fee_items(compound_id: int) -> list[FeeItem]:
    return await FeeItem.filter(compound_id=compound_id).order_by("id")


async def deactivate_item(actor: Actor, compound_id: int, item_id: int) -> None:
    async with in_transaction():
        changed = await FeeItem.filter(id=item_id, compound_id=compound_id, active=True).update(active=False)
        if not changed:
            raise errors.FeeItemNotFound()
        await audit.append(
            audit.compound_stream(compound_id),
            "payments.fee_item_deactivated",
            actor=actor,
            subject=f"fee_item:{item_id}",
        )


async def acting_company(company_ids: list[int], compound_id: int, on: date) -> int:
    """Which of the caller's companies serves the compound now (its service contract); NoFeeContract
    when none does."""
    from accounts.models import ServiceContract

    found = (
        await ServiceContract.filter(
            compound_id=compound_id, company_id__in=company_ids, starts_on__lte=on, ends_on__gte=on
        )
        .order_by("-starts_on")
        .values_list("company_id", flat=True)
    )
    if not found:
        raise errors.NoFeeContract("贵公司与该小区没有有效的物业服务合同")
    return int(str(found[0]))


async def current_contract(compound_id: int, on: date) -> FeeContract | None:
    return await contract_covering(compound_id, on, on)
