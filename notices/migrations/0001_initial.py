# ruff: noqa
from tortoise import migrations
from tortoise.migrations import operations as ops
from notices.models import AttachmentKind, DisclosureKind, MediaVerdict
from notices.rules import Audience, Scope, Status
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial"), ("models", "0002_invitations_departments")]

    initial = True

    operations = [
        ops.CreateModel(
            name="Notice",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "scope",
                    fields.CharEnumField(
                        description="COMPOUND: compound\nCOMMUNITY: community\nCOUNTY: county",
                        enum_type=Scope,
                        max_length=10,
                    ),
                ),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "models.Compound",
                        source_field="compound_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "community",
                    fields.ForeignKeyField(
                        "models.Community",
                        source_field="community_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("category", fields.CharField(max_length=30)),
                (
                    "audience",
                    fields.CharEnumField(
                        default=Audience.EVERYONE,
                        description="EVERYONE: everyone\nOWNERS: owners",
                        enum_type=Audience,
                        max_length=10,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=Status.DRAFT,
                        description="DRAFT: draft\nCHECKING: checking\nREVIEW: review\nHELD: held\nPUBLISHED: published\nWITHDRAWN: withdrawn",
                        enum_type=Status,
                        max_length=10,
                    ),
                ),
                ("pinned", fields.BooleanField(default=False)),
                ("title", fields.CharField(max_length=100)),
                ("summary", fields.CharField(default="", max_length=120)),
                ("revision", fields.IntField(default=1)),
                ("publisher", fields.CharField(default="", max_length=100)),
                ("poster_role", fields.CharField(null=True, max_length=30)),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="author_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("system", fields.BooleanField(default=False)),
                ("publish_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("hold_reason", fields.CharField(null=True, max_length=200)),
                ("hold_label", fields.IntField(null=True)),
                ("withdrawn_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("withdraw_reason", fields.CharField(null=True, max_length=200)),
                ("read_count", fields.IntField(default=0)),
                ("data", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "notice",
                "app": "notices",
                "indexes": [
                    Index(fields=["compound_id", "status", "publish_at"]),
                    Index(fields=["community_id", "status", "publish_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A notice on the board of a compound, or an official one of a community or the county",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Disclosure",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "notice",
                    fields.OneToOneField(
                        "notices.Notice",
                        source_field="notice_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="disclosure",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "models.Compound",
                        source_field="compound_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="COMMITTEE_ANNUAL: committee_annual\nPROPERTY_PERIODIC: property_periodic",
                        enum_type=DisclosureKind,
                        max_length=20,
                    ),
                ),
                ("period_start", fields.DateField()),
                ("period_end", fields.DateField()),
                ("document", fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "notice_disclosure",
                "app": "notices",
                "indexes": [Index(fields=["compound_id", "kind", "period_start"])],
                "pk_attr": "id",
                "table_description": "A structured disclosure, published as the notice it belongs to",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NoticeAttachment",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "notice",
                    fields.ForeignKeyField(
                        "notices.Notice",
                        source_field="notice_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attachments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="IMAGE: image\nPDF: pdf", enum_type=AttachmentKind, max_length=10
                    ),
                ),
                ("name", fields.CharField(default="", max_length=100)),
                ("content_type", fields.CharField(max_length=50)),
                ("byte_size", fields.IntField()),
                ("sha256", fields.CharField(max_length=64)),
                ("key", fields.CharField(max_length=512)),
                ("display_key", fields.CharField(null=True, max_length=512)),
                ("thumbnail_key", fields.CharField(null=True, max_length=512)),
                (
                    "verdict",
                    fields.CharEnumField(
                        default=MediaVerdict.NONE,
                        description="NONE: none\nPENDING: pending\nPASS: pass\nREVIEW: review\nRISKY: risky",
                        enum_type=MediaVerdict,
                        max_length=10,
                    ),
                ),
                ("verdict_label", fields.IntField(null=True)),
                ("trace_id", fields.CharField(null=True, unique=True, max_length=100)),
                (
                    "uploaded_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="uploaded_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "notice_attachment",
                "app": "notices",
                "pk_attr": "id",
                "table_description": "An image or PDF of a notice. Image originals and PDFs are private storage keys",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NoticeRead",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "notice",
                    fields.ForeignKeyField(
                        "notices.Notice",
                        source_field="notice_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reads",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("read_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "notice_read",
                "app": "notices",
                "unique_together": (("notice", "user"),),
                "pk_attr": "id",
                "table_description": "A read receipt: this person opened this notice (once)",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NoticeRevision",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "notice",
                    fields.ForeignKeyField(
                        "notices.Notice",
                        source_field="notice_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="revisions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("number", fields.IntField()),
                ("title", fields.CharField(max_length=100)),
                ("body_markdown", fields.TextField(unique=False)),
                ("body_html", fields.TextField(unique=False)),
                ("data", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ("note", fields.CharField(default="", max_length=200)),
                ("published_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "editor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="editor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("editor_name", fields.CharField(default="", max_length=100)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "notice_revision",
                "app": "notices",
                "unique_together": (("notice", "number"),),
                "pk_attr": "id",
                "table_description": "One version of a notice's text. Editing adds a revision, and the history stays visible",
            },
            bases=["Model"],
        ),
    ]
