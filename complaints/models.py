"""Complaints and reports (投诉报事): the complaint, its immutable event history, "me too" supports,
the responsibility table per category, and the working calendar of the time limits."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    REOPENED = "reopened"
    CLOSED = "closed"


class Moderation(StrEnum):
    """Content security of the text: staff see only PASSED complaints."""

    PASSED = "passed"
    HELD = "held"  # "review" (or WeChat unreachable): a person decides
    REJECTED = "rejected"  # refused by a person


class PlaceKind(StrEnum):
    UNIT = "unit"
    BUILDING = "building"
    COMMON = "common"  # a common area of the compound, described in place_note


class Party(StrEnum):
    """Who is responsible for a category: the property company, or a county department."""

    PROPERTY = "property"
    DEPARTMENT = "department"


class Category(Model):
    """One row of the responsibility table: a complaint category and who handles it."""

    code = fields.CharField(max_length=30, primary_key=True)
    name = fields.CharField(max_length=30)
    party = fields.CharEnumField(Party, max_length=10)
    department: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Department", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    # Working hours from "in progress" to "resolved"
    resolve_hours = fields.IntField()
    sort = fields.IntField(default=0)

    class Meta:
        table = "complaint_category"


class CalendarDay(Model):
    """A date that breaks the Monday-to-Friday rule: a holiday on a weekday, or a working weekend day."""

    id = fields.IntField(primary_key=True)
    day = fields.DateField(unique=True)
    working = fields.BooleanField()
    name = fields.CharField(max_length=30, default="")

    class Meta:
        table = "work_calendar_day"


class Complaint(Model):
    """A complaint or report about a place in a compound, moving through guarded transitions."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    building: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Building", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    unit: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Unit", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    place_kind = fields.CharEnumField(PlaceKind, max_length=10)
    place_note = fields.CharField(max_length=100, default="")
    category: fields.ForeignKeyRelation[Category] = fields.ForeignKeyField(
        "complaints.Category", related_name=False, on_delete=fields.RESTRICT
    )
    text = fields.CharField(max_length=1000)
    anonymous = fields.BooleanField(default=True)
    # The account that filed it (a resident, or a grid worker on someone's behalf) ...
    filer: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    # ... and the resident it is for, who confirms and rates (null: filed for someone without an account)
    complainant: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    status = fields.CharEnumField(Status, max_length=12, default=Status.SUBMITTED, db_index=True)
    moderation = fields.CharEnumField(Moderation, max_length=10, default=Moderation.PASSED)
    moderation_reason = fields.CharField(max_length=200, default="")
    party = fields.CharEnumField(Party, max_length=10)
    company: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    department: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Department", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    # Bumped by every event; each write is "UPDATE ... WHERE version = <the one read>"
    version = fields.IntField(default=0)
    stage_entered_at = fields.DatetimeField()
    stage_due_at = fields.DatetimeField(null=True)
    stage_escalated = fields.BooleanField(default=False)
    overdue = fields.BooleanField(default=False)  # some stage missed its limit; frozen at close
    escalations = fields.IntField(default=0)
    supporters = fields.IntField(default=0)
    rating = fields.SmallIntField(null=True)
    reopen_count = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "complaint"
        indexes = (("compound_id", "status"), ("building_id", "category_id", "status"))


class Event(Model):
    """One step of a complaint's history, never changed once written."""

    id = fields.IntField(primary_key=True)
    complaint: fields.ForeignKeyRelation[Complaint] = fields.ForeignKeyField(
        "complaints.Complaint", related_name="events", on_delete=fields.RESTRICT
    )
    seq = fields.IntField()
    action = fields.CharField(max_length=20)
    from_status = fields.CharField(max_length=12)
    to_status = fields.CharField(max_length=12)
    actor: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    actor_role = fields.CharField(max_length=30)  # "resident", "property_staff", ... or "system"
    note = fields.CharField(max_length=500, default="")
    photo_ids: Any = fields.JSONField(default=list)
    data: Any = fields.JSONField(default=dict)  # e.g. {"rating": 5} or {"department_id": 3}
    at = fields.DatetimeField()

    class Meta:
        table = "complaint_event"
        unique_together = (("complaint", "seq"),)

    async def save(self, *args: Any, **kwargs: Any) -> None:
        if self._saved_in_db:
            raise TypeError("complaint events are immutable")
        await super().save(*args, **kwargs)

    async def delete(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("complaint events are immutable")


class Support(Model):
    """A resident's "me too" on someone else's open complaint."""

    id = fields.IntField(primary_key=True)
    complaint: fields.ForeignKeyRelation[Complaint] = fields.ForeignKeyField(
        "complaints.Complaint", related_name="supports", on_delete=fields.RESTRICT
    )
    user: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "complaint_support"
        unique_together = (("complaint", "user"),)
