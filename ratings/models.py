"""Tables of the "ratings" Tortoise app. The registry lives in the core app ("models.Compound", ...).

Templates, credit records and published lists are append-only (no code path updates them). An
inspection moves draft → submitted → (objected →) finished; once finished, triggers in the database
(migration 0002) refuse every UPDATE of it and of its scores and objection, on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from ratings.rules import CreditPart, CreditSource, InspectionKind, InspectionStatus


class Template(Model):
    """One version of the star-rating template of a kind: the eight aspects with weights and items,
    and the star thresholds. Never changed: a new version is a new row, and an inspection keeps the
    version it was made with."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(InspectionKind, max_length=10)
    version = fields.IntField()
    name = fields.CharField(max_length=100)
    aspects: Any = fields.JSONField()  # [{"aspect", "weight", "items": [{"code", "text", "max_points"}]}]
    thresholds: Any = fields.JSONField()  # [{"stars", "min_score"}]
    created_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating_template"
        unique_together = (("kind", "version"),)


class Inspection(Model):
    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    compound_id: int
    company: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, on_delete=fields.RESTRICT
    )
    company_id: int
    template: fields.ForeignKeyRelation[Template] = fields.ForeignKeyField(
        "ratings.Template", related_name=False, on_delete=fields.RESTRICT
    )
    template_id: int
    kind = fields.CharEnumField(InspectionKind, max_length=10)
    inspector: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    inspector_id: int
    inspector_role = fields.CharField(max_length=30)
    inspected_on = fields.DateField()
    status = fields.CharEnumField(InspectionStatus, max_length=10, default=InspectionStatus.DRAFT)
    total = fields.DecimalField(max_digits=5, decimal_places=2, null=True)
    stars = fields.SmallIntField(null=True)
    aspect_scores: Any = fields.JSONField(null=True)
    # residents' satisfaction at submission: complaint ratings of the compound in the year before
    satisfaction: Any = fields.JSONField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    objection_due_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=0)  # each write is UPDATE ... WHERE version = <read>
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating_inspection"
        indexes = (("compound_id", "status"), ("company_id", "status"))


class InspectionScore(Model):
    id = fields.IntField(primary_key=True)
    inspection: fields.ForeignKeyRelation[Inspection] = fields.ForeignKeyField(
        "ratings.Inspection", related_name="scores", on_delete=fields.RESTRICT
    )
    inspection_id: int
    item_code = fields.CharField(max_length=20)
    points = fields.IntField()
    note = fields.CharField(max_length=500, default="")
    photo_ids: Any = fields.JSONField(default=list)

    class Meta:
        table = "rating_inspection_score"
        unique_together = (("inspection_id", "item_code"),)


class Objection(Model):
    """The company's one objection (unique per inspection) and the inspector's decision on it."""

    id = fields.IntField(primary_key=True)
    inspection: fields.OneToOneRelation[Inspection] = fields.OneToOneField(
        "ratings.Inspection", related_name="objection", on_delete=fields.RESTRICT
    )
    inspection_id: int
    by: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    by_id: int
    reasons = fields.CharField(max_length=1000)
    item_codes: Any = fields.JSONField(default=list)
    at = fields.DatetimeField()
    upheld = fields.BooleanField(null=True)
    decision_note = fields.CharField(max_length=1000, default="")
    decided_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    decided_by_id: int | None
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "rating_objection"


class CreditRecord(Model):
    """One credit record of a company: counts from ``valid_from`` for one year. Never updated.
    ``key`` makes automatic records idempotent ("inspection:12", "complaints:2026Q3", "base:2026-10-01")."""

    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, on_delete=fields.RESTRICT
    )
    company_id: int
    source = fields.CharEnumField(CreditSource, max_length=15)
    part = fields.CharEnumField(CreditPart, max_length=5)
    points = fields.DecimalField(max_digits=6, decimal_places=2)
    reason = fields.CharField(max_length=500)
    valid_from = fields.DateField()
    key = fields.CharField(max_length=60, null=True)
    inspection: fields.ForeignKeyNullableRelation[Inspection] = fields.ForeignKeyField(
        "ratings.Inspection", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    inspection_id: int | None
    by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    by_id: int | None
    recorded_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating_credit_record"
        unique_together = (("company_id", "key"),)
        indexes = (("company_id", "valid_from"),)


class ListStatus:
    DRAFT = "draft"
    PUBLISHED = "published"


class QuarterList(Model):
    """The red and black lists of one quarter: a draft (recomputed until reviewed), then published
    once and kept as history (one published list per quarter)."""

    id = fields.IntField(primary_key=True)
    quarter = fields.CharField(max_length=6)
    status = fields.CharField(max_length=10, default=ListStatus.DRAFT)
    as_of = fields.DateField()
    rule = fields.CharField(max_length=500)
    k = fields.IntField()
    ranked = fields.IntField()
    computed_at = fields.DatetimeField()
    review_note = fields.CharField(max_length=500, default="")
    reviewed_by: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    reviewed_by_id: int | None
    published_at = fields.DatetimeField(null=True)
    notice_id = fields.IntField(null=True)

    class Meta:
        table = "rating_quarter_list"
        unique_together = (("quarter", "status"),)


class ListEntry(Model):
    id = fields.IntField(primary_key=True)
    list: fields.ForeignKeyRelation[QuarterList] = fields.ForeignKeyField(
        "ratings.QuarterList", related_name="entries", on_delete=fields.CASCADE
    )
    list_id: int
    company: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, on_delete=fields.RESTRICT
    )
    company_id: int
    color = fields.CharField(max_length=5)  # "red" | "black"
    rank = fields.IntField()
    rank_from_bottom = fields.IntField()
    score = fields.DecimalField(max_digits=6, decimal_places=2)
    grade = fields.CharField(max_length=3)
    reasons: Any = fields.JSONField()  # the rule clause and the records that made the score

    class Meta:
        table = "rating_list_entry"
        unique_together = (("list_id", "company_id"),)
