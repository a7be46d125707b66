"""Tables of the "fund" Tortoise app: rates, sub-accounts (分户账), the hash-chained ledger, interest
runs, corrections and use applications. The registry lives in the core app ("models.Unit", ...).

Amounts are integer fen; rates Decimal fen per m²; moments aware UTC. A balance is never stored: it
is the sum of the account's entries (fund.ledger)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from fund.rules import (
    ApplicationKind,
    ApplicationStatus,
    BuildingType,
    CorrectionStatus,
    EmergencyCategory,
    EntryKind,
)


class FundRate(Model):
    """The city's published first-deposit amount per m² for one building type from a date on."""

    id = fields.IntField(primary_key=True)
    building_type = fields.CharEnumField(BuildingType, max_length=12)
    fen_per_m2 = fields.DecimalField(max_digits=12, decimal_places=4)
    effective_from = fields.DateField()
    set_by_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_rate"
        unique_together = (("building_type", "effective_from"),)


class SubAccount(Model):
    """One unit's sub-account in the county fund office's special account. ``first_deposit_fen`` was
    assessed when the account was opened (area × the rate of its building type then in force)."""

    id = fields.IntField(primary_key=True)
    unit: fields.OneToOneRelation[Any] = fields.OneToOneField(
        "models.Unit", related_name=False, on_delete=fields.RESTRICT
    )
    unit_id: int
    compound_id = fields.IntField()
    building_id = fields.IntField()
    room = fields.CharField(max_length=90)  # "1号楼-101": what disclosures show, never a name
    area = fields.DecimalField(max_digits=12, decimal_places=2)
    building_type = fields.CharEnumField(BuildingType, max_length=12)
    rate_fen_per_m2 = fields.DecimalField(max_digits=12, decimal_places=4)
    first_deposit_fen = fields.BigIntField()
    opened_at = fields.DatetimeField(auto_now_add=True)
    # who held the unit when the fund last looked (fund.transfers: SHA-256 of the sorted owner ids);
    # a roster naming other owners is a sale, entered as a transfer. Null: not looked at yet.
    owners_digest = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "fund_sub_account"
        indexes = (("compound_id", "building_id"),)


class ChainHead(Model):
    """The head of one compound's ledger chain: appends lock it (or collide on (compound, seq))."""

    id = fields.IntField(primary_key=True)
    compound_id = fields.IntField(unique=True)
    seq = fields.IntField(default=0)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "fund_chain_head"


class FundEntry(Model):
    """Append-only. ``amount_fen`` is signed (+ into the sub-account, − out of it). ``key`` makes each
    deposit, interest share, deduction or correction enter once. ``hash`` chains the entry to the
    previous one of its compound (``prev_hash``), so an edited, deleted or inserted entry shows."""

    id = fields.IntField(primary_key=True)
    compound_id = fields.IntField()
    seq = fields.IntField()
    key = fields.CharField(max_length=64, unique=True)
    kind = fields.CharEnumField(EntryKind, max_length=20)
    account: fields.ForeignKeyRelation[SubAccount] = fields.ForeignKeyField(
        "fund.SubAccount", related_name="entries", on_delete=fields.RESTRICT
    )
    account_id: int
    amount_fen = fields.BigIntField()
    note = fields.CharField(max_length=200, default="")
    ref = fields.CharField(max_length=64, default="")  # "application:3", "order:...", "voucher:..."
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=40)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64)

    class Meta:
        table = "fund_entry"
        unique_together = (("compound_id", "seq"),)
        indexes = (("account_id", "at"), ("compound_id", "at"))


class InterestRun(Model):
    """Interest of one period credited to a compound's sub-accounts, once per (compound, period)."""

    id = fields.IntField(primary_key=True)
    compound_id = fields.IntField()
    period = fields.CharField(max_length=10)
    period_end = fields.DateField()
    total_fen = fields.BigIntField()
    accounts = fields.IntField()
    by_id = fields.IntField(null=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_interest_run"
        unique_together = (("compound_id", "period"),)


class Correction(Model):
    """A correction of one sub-account: requested by one fund-office person with a reason, entered
    only when a second one approves it."""

    id = fields.IntField(primary_key=True)
    compound_id = fields.IntField()
    account: fields.ForeignKeyRelation[SubAccount] = fields.ForeignKeyField(
        "fund.SubAccount", related_name="corrections", on_delete=fields.RESTRICT
    )
    account_id: int
    amount_fen = fields.BigIntField()
    reason = fields.CharField(max_length=200)
    status = fields.CharEnumField(CorrectionStatus, max_length=10, default=CorrectionStatus.PENDING)
    requested_by_id = fields.IntField()
    decided_by_id = fields.IntField(null=True)
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_correction"
        indexes = (("status", "id"),)


class UseApplication(Model):
    """维修资金使用申请: the works, the units sharing the cost and the budget. Status moves only
    through fund.applications (conditional updates)."""

    id = fields.IntField(primary_key=True)
    compound_id = fields.IntField()
    kind = fields.CharEnumField(ApplicationKind, max_length=10)
    emergency = fields.CharEnumField(EmergencyCategory, max_length=20, null=True)
    title = fields.CharField(max_length=100)
    works = fields.TextField()
    budget_fen = fields.BigIntField()
    cost_fen = fields.BigIntField(null=True)  # the final cost, at completion (≤ budget)
    # the scope the committee named: {"buildings": [...], "units": [...]} (both empty: the compound)
    scope: fields.Field[dict] = fields.JSONField()
    # [{"unit_id", "room", "area", "share_fen"}] of the budget (before the vote) or the final cost
    shares: fields.Field[list] = fields.JSONField()
    status = fields.CharEnumField(ApplicationStatus, max_length=10)
    motion_id = fields.IntField(null=True)
    vote_result: fields.Field[dict] = fields.JSONField(null=True)
    applicant_id = fields.IntField()
    applicant_role = fields.CharField(max_length=20)
    completed_at = fields.DatetimeField(null=True)
    paid_by_id = fields.IntField(null=True)
    paid_at = fields.DatetimeField(null=True)
    notice_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_application"
        indexes = (("compound_id", "id"), ("status", "id"))


class AnnualDisclosure(Model):
    """A compound's yearly fund disclosure as posted (the notice holds the document)."""

    id = fields.IntField(primary_key=True)
    compound_id = fields.IntField()
    year = fields.IntField()
    notice_id = fields.IntField()
    entries_through = fields.IntField()  # the compound's chain seq the document was computed to
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "fund_annual_disclosure"
        unique_together = (("compound_id", "year"),)


class SpecialAccount(Model):
    """The county fund office's special account (专户) as a WeChat Pay sub-merchant: the payee of every
    online deposit. One row."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    sub_mchid = fields.CharField(max_length=32)
    payee_id = fields.IntField()
    set_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "fund_special_account"
