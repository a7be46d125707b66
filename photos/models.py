"""Stored photos: one row per upload, pointing at its three content-addressed files.

Several rows may share files (the same bytes uploaded twice); a file is deleted only when no row
still needs it (photos.service.purge_*).
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Moderation(StrEnum):
    """Content-security state of a photo: only PASSED photos are shown to anyone but the uploader."""

    PENDING = "pending"  # submitted to WeChat, verdict not in yet
    PASSED = "passed"
    HELD = "held"  # "review": a person decides
    REJECTED = "rejected"  # "risky", or refused by a person


class Photo(Model):
    """An uploaded photo with a private original and public metadata-free renditions."""

    id = fields.IntField(primary_key=True)
    uploader: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    sha256 = fields.CharField(max_length=64, db_index=True)  # of the original upload
    format = fields.CharField(max_length=10)
    width = fields.IntField()  # of the original, upright
    height = fields.IntField()
    byte_size = fields.IntField()  # of the original
    original_key = fields.CharField(max_length=200)
    display_key = fields.CharField(max_length=200)
    display_width = fields.IntField()
    display_height = fields.IntField()
    thumbnail_key = fields.CharField(max_length=200)
    thumbnail_width = fields.IntField()
    thumbnail_height = fields.IntField()
    # "<kind>:<id>" of what the photo belongs to (e.g. "complaint:12"); null until attached
    attached_to = fields.CharField(max_length=60, null=True, db_index=True)
    moderation = fields.CharEnumField(Moderation, max_length=10, default=Moderation.PENDING)
    check_trace_id = fields.CharField(max_length=64, null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # The original is evidence: kept private until this moment, then purge_originals deletes it.
    original_keep_until = fields.DatetimeField()
    original_purged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "photo"
