"""Tables of the "payments" Tortoise app. The registry lives in the core app ("models.Unit", ...).

Amounts are integer fen; prices are Decimal fen per m² per month (sub-fen precision allowed); dates
of people (periods, delivery) are Asia/Shanghai calendar dates; moments are aware UTC."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from payments.rules import BillStatus, ItemKind, OrderState, RefundState


class PayeeKind(StrEnum):
    PROPERTY_COMPANY = "property_company"
    FUND_ACCOUNT = "fund_account"  # the maintenance-fund special account (专户), next issue
    SERVICE_PROVIDER = "service_provider"


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"


class PriceBand(Model):
    """The guided price of the county price authority for one service grade from a date on."""

    id = fields.IntField(primary_key=True)
    grade = fields.IntField()
    base_fen = fields.DecimalField(max_digits=12, decimal_places=4)
    float_percent = fields.DecimalField(max_digits=5, decimal_places=2)
    effective_from = fields.DateField()
    set_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    set_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pay_price_band"
        unique_together = (("grade", "effective_from"),)


class Payee(Model):
    """Who receives money: a WeChat Pay sub-merchant of ours. One payee per order."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(PayeeKind, max_length=20)
    name = fields.CharField(max_length=100)
    sub_mchid = fields.CharField(max_length=32, unique=True)
    company: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, null=True, unique=True, on_delete=fields.RESTRICT
    )
    company_id: int | None
    receipt_seq = fields.IntField(default=0)  # receipts are numbered per payee

    class Meta:
        table = "pay_payee"


class FeeContract(Model):
    """The fee terms of a compound with its property company: grade, price (inside the band) and payee."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    company: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, on_delete=fields.RESTRICT
    )
    company_id: int
    payee: fields.ForeignKeyRelation[Payee] = fields.ForeignKeyField(
        "payments.Payee", related_name="contracts", on_delete=fields.RESTRICT
    )
    payee_id: int
    grade = fields.IntField()
    price_fen = fields.DecimalField(max_digits=12, decimal_places=4)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pay_fee_contract"
        indexes = (("compound_id", "starts_on"),)


class FeeItem(Model):
    """One fee item of a compound, billed only while its standard is posted (notice ``notice_id``,
    category fee_standard, on the board of the compound)."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    contract: fields.ForeignKeyRelation[FeeContract] = fields.ForeignKeyField(
        "payments.FeeContract", related_name="items", on_delete=fields.RESTRICT
    )
    contract_id: int
    name = fields.CharField(max_length=50)
    kind = fields.CharEnumField(ItemKind, max_length=20)
    price_fen = fields.DecimalField(max_digits=12, decimal_places=4, null=True)  # by_area
    monthly_fen = fields.IntField(null=True)  # fixed_monthly
    unit_kind = fields.CharField(max_length=10, null=True)  # only units of this kind; null: all
    notice_id = fields.IntField()
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pay_fee_item"
        indexes = (("compound_id",),)


class BillingStart(Model):
    """The local date the fees of a unit start (delivery, 交付): a unit delivered mid-period is billed
    pro rata by days. No row: billed for whole periods."""

    # its own id: Tortoise 1.1's migration state reads a one-to-one primary key back as "unit", not
    # "unit_id", and then always sees a model change
    id = fields.IntField(primary_key=True)
    unit: fields.OneToOneRelation[Any] = fields.OneToOneField(
        "models.Unit", related_name=False, on_delete=fields.CASCADE
    )
    unit_id: int
    starts_on = fields.DateField()

    class Meta:
        table = "pay_billing_start"


class BillingRun(Model):
    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    period = fields.CharField(max_length=7)
    created_bills = fields.IntField()
    total_fen = fields.BigIntField()
    by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    by_id: int | None
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pay_billing_run"
        indexes = (("compound_id", "period"),)


class Bill(Model):
    """The charge of one unit for one item and period. Unique per (compound, period, item, unit), so a
    billing run repeated creates nothing."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    unit: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Unit", related_name=False, on_delete=fields.RESTRICT
    )
    unit_id: int
    item: fields.ForeignKeyRelation[FeeItem] = fields.ForeignKeyField(
        "payments.FeeItem", related_name="bills", on_delete=fields.RESTRICT
    )
    item_id: int
    payee: fields.ForeignKeyRelation[Payee] = fields.ForeignKeyField(
        "payments.Payee", related_name="bills", on_delete=fields.RESTRICT
    )
    payee_id: int
    period = fields.CharField(max_length=7)
    amount_fen = fields.BigIntField()
    status = fields.CharEnumField(BillStatus, max_length=10, default=BillStatus.UNPAID)
    # the order currently paying it (set while an order is created, until it is paid or closed)
    pending_order_id = fields.IntField(null=True)
    paid_order_id = fields.IntField(null=True)
    paid_at = fields.DatetimeField(null=True)
    # when its payers were told it is overdue (payments.reminders; once per bill)
    overdue_notified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pay_bill"
        unique_together = (("compound", "period", "item", "unit"),)
        indexes = (("unit_id", "status"), ("compound_id", "status", "period"), ("status", "period"))


BILLS = "bills"  # the purpose of an order for bills (payments' own); others: payments.purposes


class PaymentOrder(Model):
    """A WeChat Pay order of one payee: for bills (``purpose`` "bills", lines in OrderBill), or for a
    purpose of a higher domain ("fund_deposit", "booking", ...; payments.purposes) with its
    ``reference`` there. ``state`` moves only through conditional updates (payments.orders):
    created → paid | closed; paid → partially_refunded → refunded. ``live_key`` ("purpose:reference")
    is set while a purpose order is created or paid and cleared when it closes: unique, so one thing
    of a higher domain has at most one live order however many requests race."""

    id = fields.IntField(primary_key=True)
    out_trade_no = fields.CharField(max_length=32, unique=True)
    payee: fields.ForeignKeyRelation[Payee] = fields.ForeignKeyField(
        "payments.Payee", related_name="orders", on_delete=fields.RESTRICT
    )
    payee_id: int
    sub_mchid = fields.CharField(max_length=32)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    unit: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Unit", related_name=False, on_delete=fields.RESTRICT
    )
    unit_id: int
    payer: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    payer_id: int
    payer_openid = fields.CharField(max_length=64)
    purpose = fields.CharField(max_length=20, default=BILLS)
    reference = fields.CharField(max_length=40, null=True)
    live_key = fields.CharField(max_length=64, null=True, unique=True)
    description = fields.CharField(max_length=40)
    amount_fen = fields.BigIntField()
    refunded_fen = fields.BigIntField(default=0)  # requested and not failed
    state = fields.CharEnumField(OrderState, max_length=20, default=OrderState.CREATED)
    prepay_id = fields.CharField(max_length=64, null=True)
    transaction_id = fields.CharField(max_length=32, null=True, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    paid_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # the expiry job's claim (payments.orders.expire_due): two runs at once never both close it
    claimed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pay_order"
        indexes = (
            ("payer_id", "created_at"),
            ("state", "expires_at"),
            ("payee_id", "paid_at"),
            ("purpose", "reference"),
        )


class OrderBill(Model):
    id = fields.IntField(primary_key=True)
    order: fields.ForeignKeyRelation[PaymentOrder] = fields.ForeignKeyField(
        "payments.PaymentOrder", related_name="lines", on_delete=fields.RESTRICT
    )
    order_id: int
    bill: fields.ForeignKeyRelation[Bill] = fields.ForeignKeyField(
        "payments.Bill", related_name="order_lines", on_delete=fields.RESTRICT
    )
    bill_id: int
    amount_fen = fields.BigIntField()

    class Meta:
        table = "pay_order_bill"
        unique_together = (("order", "bill"),)


class RefundRecord(Model):
    id = fields.IntField(primary_key=True)
    out_refund_no = fields.CharField(max_length=64, unique=True)
    order: fields.ForeignKeyRelation[PaymentOrder] = fields.ForeignKeyField(
        "payments.PaymentOrder", related_name="refunds", on_delete=fields.RESTRICT
    )
    order_id: int
    amount_fen = fields.BigIntField()
    reason = fields.CharField(max_length=80)
    state = fields.CharEnumField(RefundState, max_length=12, default=RefundState.PROCESSING)
    refund_id = fields.CharField(max_length=64, null=True)
    requested_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    requested_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)
    # closed / abnormal: why it failed (for people); the money is still owed back until settled
    failure = fields.CharField(max_length=120, default="")
    # a failed refund dealt with: a closed one retried (``retried_as``), an abnormal one that
    # WeChat Pay reported successful after a person handled it there
    settled_at = fields.DatetimeField(null=True)
    retried_as = fields.CharField(max_length=64, null=True)
    # the polling job's claim (payments.refunds.poll_processing): queried by one run at a time
    claimed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "pay_refund"
        indexes = (("state", "settled_at"),)


class LedgerEntry(Model):
    """Append-only, double entry: ``amount_fen`` moves from ``debit`` to ``credit``
    (a payment: the unit of the payer → the payee; a refund: back). ``key`` makes each payment or
    refund enter the ledger once; ``chain_hash`` is the hash of this entry as an event in the audit stream of the payee
    (``ledger:payee:<id>``), so an edited or deleted entry is detectable."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=40, unique=True)
    kind = fields.CharEnumField(LedgerKind, max_length=10)
    payee: fields.ForeignKeyRelation[Payee] = fields.ForeignKeyField(
        "payments.Payee", related_name="entries", on_delete=fields.RESTRICT
    )
    payee_id: int
    debit = fields.CharField(max_length=40)
    credit = fields.CharField(max_length=40)
    amount_fen = fields.BigIntField()
    order: fields.ForeignKeyRelation[PaymentOrder] = fields.ForeignKeyField(
        "payments.PaymentOrder", related_name="entries", on_delete=fields.RESTRICT
    )
    order_id: int
    bill_id = fields.IntField(null=True)  # set when the order paid exactly one bill
    refund: fields.ForeignKeyNullableRelation[RefundRecord] = fields.ForeignKeyField(
        "payments.RefundRecord", related_name="entries", null=True, on_delete=fields.RESTRICT
    )
    refund_id: int | None
    compound_id = fields.IntField()
    at = fields.DatetimeField()
    chain_hash = fields.CharField(max_length=64)

    class Meta:
        table = "pay_ledger_entry"
        indexes = (("payee_id", "at"), ("compound_id", "at"))


class Receipt(Model):
    """电子收据: one per paid order, numbered per payee."""

    id = fields.IntField(primary_key=True)
    payee: fields.ForeignKeyRelation[Payee] = fields.ForeignKeyField(
        "payments.Payee", related_name="receipts", on_delete=fields.RESTRICT
    )
    payee_id: int
    seq = fields.IntField()
    number = fields.CharField(max_length=40, unique=True)
    order: fields.OneToOneRelation[PaymentOrder] = fields.OneToOneField(
        "payments.PaymentOrder", related_name="receipt", on_delete=fields.RESTRICT
    )
    order_id: int
    unit: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Unit", related_name=False, on_delete=fields.RESTRICT
    )
    unit_id: int
    amount_fen = fields.BigIntField()
    lines: fields.Field[list] = fields.JSONField()
    issued_at = fields.DatetimeField()

    class Meta:
        table = "pay_receipt"
        unique_together = (("payee", "seq"),)
        indexes = (("unit_id", "issued_at"),)


class Reconciliation(Model):
    """One comparison of the trade bill of a day with the ledger: the differences are for a person."""

    id = fields.IntField(primary_key=True)
    bill_date = fields.DateField()
    payee: fields.ForeignKeyNullableRelation[Payee] = fields.ForeignKeyField(
        "payments.Payee", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    payee_id: int | None
    matched = fields.IntField()
    differences: fields.Field[list] = fields.JSONField()
    by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    by_id: int | None
    # "<payee id>:<bill date>" on the daily job's report, unique: the day of a payee is recorded once
    # however often the job runs; None on reports a person asked for (as many as they like)
    daily_key = fields.CharField(max_length=32, null=True, unique=True)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "pay_reconciliation"
        indexes = (("bill_date",),)
