"""Grid patrols (网格巡查): a grid worker's patrol of a compound and what they found on it.

A finding may become a complaint in one step (supervision.patrols.escalate); it then points at the
complaint, and its photos move to the complaint (evidence is kept once, under whoever handles it)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Patrol(Model):
    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    # Copied from the compound at recording: the coverage of a community is one indexed query
    community: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.Community", related_name=False, on_delete=fields.RESTRICT
    )
    worker: fields.ForeignKeyRelation[Any] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField()
    # Optional route: [[latitude, longitude, "RFC 3339 time"], ...] as the mini-program's location gave it
    route: Any = fields.JSONField(default=list)
    note = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "patrol"
        indexes = (("community_id", "started_at"), ("compound_id", "started_at"), ("worker_id", "started_at"))


class Finding(Model):
    """One problem seen on a patrol, with its photos attached to ``finding:<id>``."""

    id = fields.IntField(primary_key=True)
    patrol: fields.ForeignKeyRelation[Patrol] = fields.ForeignKeyField(
        "supervision.Patrol", related_name="findings", on_delete=fields.RESTRICT
    )
    seq = fields.SmallIntField()
    text = fields.CharField(max_length=500)
    place_note = fields.CharField(max_length=100, default="")
    building: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "models.Building", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    # Set by the one escalation that won (a conditional UPDATE ... WHERE complaint_id IS NULL)
    complaint: fields.ForeignKeyNullableRelation[Any] = fields.ForeignKeyField(
        "complaints.Complaint", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    escalating = fields.BooleanField(default=False)

    class Meta:
        table = "patrol_finding"
        unique_together = (("patrol", "seq"),)
