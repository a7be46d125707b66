"""Notices, their revisions, attachments and read receipts, and structured disclosures.

Tables of the "notices" Tortoise app; the registry lives in the core app ("models.Compound", ...).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from notices.rules import Audience, Scope, Status


class AttachmentKind(StrEnum):
    IMAGE = "image"
    PDF = "pdf"


class MediaVerdict(StrEnum):
    NONE = "none"  # not checked (PDFs: WeChat checks images and audio only)
    PENDING = "pending"
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    REVIEW = "review"
    RISKY = "risky"


class DisclosureKind(StrEnum):
    COMMITTEE_ANNUAL = "committee_annual"
    PROPERTY_PERIODIC = "property_periodic"


class Notice(Model):
    """A notice on the board of a compound, or an official one of a community or the county"""

    id = fields.IntField(primary_key=True)
    scope = fields.CharEnumField(Scope, max_length=10)
    compound: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Compound", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    community: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.Community", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    category = fields.CharField(max_length=30)
    audience = fields.CharEnumField(Audience, max_length=10, default=Audience.EVERYONE)
    status = fields.CharEnumField(Status, max_length=10, default=Status.DRAFT)
    pinned = fields.BooleanField(default=False)
    # the current revision, copied here so the board is one query
    title = fields.CharField(max_length=100)
    summary = fields.CharField(max_length=120, default="")
    revision = fields.IntField(default=1)
    publisher = fields.CharField(max_length=100, default="")  # who speaks: 业主委员会, the company, ...
    # the role it was posted in: only holders of that role manage it (the company cannot edit the
    # committee's announcement, although both may post announcements)
    poster_role = fields.CharField(max_length=30, null=True)
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    system = fields.BooleanField(default=False)
    publish_at = fields.DatetimeField(null=True)  # set when published; in the future = scheduled
    expires_at = fields.DatetimeField(null=True)
    hold_reason = fields.CharField(max_length=200, null=True)
    hold_label = fields.IntField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    withdraw_reason = fields.CharField(max_length=200, null=True)
    read_count = fields.IntField(default=0)
    # the addressed owners and residents are asked to acknowledge it (notices.acknowledgement)
    requires_ack = fields.BooleanField(default=False)
    data: Any = fields.JSONField(null=True)  # machine-readable body (disclosures, vote results)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "notice"
        indexes = (("compound_id", "status", "publish_at"), ("community_id", "status", "publish_at"))


class NoticeRevision(Model):
    """One version of a notice's text. Editing adds a revision, and the history stays visible"""

    id = fields.IntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "notices.Notice", related_name="revisions", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    title = fields.CharField(max_length=100)
    body_markdown = fields.TextField()
    body_html = fields.TextField()
    data: Any = fields.JSONField(null=True)
    note = fields.CharField(max_length=200, default="")  # why it was changed
    # set when this revision went live: the public history shows only revisions that were published
    published_at = fields.DatetimeField(null=True)
    editor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    editor_name = fields.CharField(max_length=100, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notice_revision"
        unique_together = (("notice", "number"),)


class NoticeAttachment(Model):
    """An image or PDF of a notice. Image originals and PDFs are private storage keys"""

    id = fields.IntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "notices.Notice", related_name="attachments", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(AttachmentKind, max_length=10)
    name = fields.CharField(max_length=100, default="")
    content_type = fields.CharField(max_length=50)
    byte_size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    key = fields.CharField(max_length=512)  # the PDF, or the image original (private)
    display_key = fields.CharField(max_length=512, null=True)
    thumbnail_key = fields.CharField(max_length=512, null=True)
    verdict = fields.CharEnumField(MediaVerdict, max_length=10, default=MediaVerdict.NONE)
    verdict_label = fields.IntField(null=True)
    trace_id = fields.CharField(max_length=100, null=True, unique=True)
    uploaded_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notice_attachment"


class NoticeRead(Model):
    """A read receipt: this person opened this notice (once)"""

    id = fields.IntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "notices.Notice", related_name="reads", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    read_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notice_read"
        unique_together = (("notice", "user"),)


class NoticeAck(Model):
    """A person a notice requiring acknowledgement was addressed to, and when they acknowledged it"""

    id = fields.IntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "notices.Notice", related_name="acks", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    addressed_at = fields.DatetimeField()
    acknowledged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notice_ack"
        unique_together = (("notice", "user"),)
        indexes = (("notice_id", "acknowledged_at", "id"),)


class Disclosure(Model):
    """A structured disclosure, published as the notice it belongs to"""

    id = fields.IntField(primary_key=True)
    notice: fields.OneToOneRelation[Notice] = fields.OneToOneField(
        "notices.Notice", related_name="disclosure", on_delete=fields.CASCADE
    )
    compound: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Compound", related_name=False, on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(DisclosureKind, max_length=20)
    period_start = fields.DateField()
    period_end = fields.DateField()
    document: Any = fields.JSONField()  # validated, with the totals the server computed
    # "<start>~<end>" while the disclosure stands for its period; null once withdrawn. Unique per
    # compound and kind: one disclosure per period, a correction is a revision of it.
    period_key = fields.CharField(max_length=30, null=True)

    class Meta:
        table = "notice_disclosure"
        indexes = (("compound_id", "kind", "period_start"),)
        unique_together = (("compound", "kind", "period_key"),)
