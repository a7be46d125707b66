from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class AuditEvent(Model):
    """One event of one stream. Never updated or deleted by the product. The chain makes any edit,
    deletion, insertion or reordering detectable (audit.chain.verify)."""

    id = fields.BigIntField(primary_key=True)
    stream = fields.CharField(max_length=64)
    seq = fields.BigIntField()
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=64)
    actor_name = fields.CharField(max_length=100)
    action = fields.CharField(max_length=64)
    subject = fields.CharField(max_length=128)
    payload: fields.Field[dict] = fields.JSONField()
    request_id = fields.CharField(max_length=64, null=True)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_event"
        unique_together = (("stream", "seq"),)


class AuditHead(Model):
    """The newest event of each stream. Appenders lock this one row, so concurrent appends to one
    stream queue up instead of forking the chain. It also makes a truncated tail detectable."""

    stream = fields.CharField(max_length=64, primary_key=True)
    seq = fields.BigIntField()
    hash = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "audit_head"
