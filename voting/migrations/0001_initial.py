from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops

from voting.models import Channel, MotionStatus, ProxyStatus


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial"), ("models", "0002_invitations_departments")]

    initial = True

    operations = [
        ops.CreateModel(
            name="Motion",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "compound",
                    fields.ForeignKeyField(
                        "models.Compound",
                        source_field="compound_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="motions",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("title", fields.CharField(max_length=100)),
                ("text", fields.TextField(unique=False)),
                ("attachments", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "status",
                    fields.CharEnumField(
                        default=MotionStatus.DRAFT,
                        description="DRAFT: draft\nANNOUNCED: announced\nOPEN: open\nCLOSED: closed\nCOUNTED: counted\nOBJECTION: objection\nFINAL: final\nCANCELLED: cancelled",
                        enum_type=MotionStatus,
                        max_length=10,
                    ),
                ),
                ("scope_buildings", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("allow_change", fields.BooleanField(default=True)),
                ("secret", fields.BooleanField(default=False)),
                ("announce_days", fields.IntField(default=7)),
                ("objection_days", fields.IntField(default=7)),
                ("max_extension_days", fields.IntField(default=7)),
                ("opens_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("closes_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("extension_reason", fields.TextField(null=True, unique=False)),
                ("announced_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("opened_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("closed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("counted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("objection_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("final_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("cancelled_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("cancel_reason", fields.TextField(null=True, unique=False)),
                ("follow_majority", fields.BooleanField(default=False)),
                ("roll_hash", fields.CharField(null=True, max_length=64)),
                ("total_area_h", fields.BigIntField(null=True)),
                ("total_headcount", fields.IntField(null=True)),
                ("result", fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="created_by_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "voting_motion",
                "app": "voting",
                "pk_attr": "id",
                "table_description": "表决事项 of one compound. Status moves only through voting.lifecycle (guarded updates).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MotionItem",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "motion",
                    fields.ForeignKeyField(
                        "voting.Motion",
                        source_field="motion_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="items",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                ("title", fields.CharField(max_length=200)),
                ("matter", fields.CharField(max_length=40)),
                ("seats", fields.IntField(null=True)),
                ("candidates", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "voting_item",
                "app": "voting",
                "unique_together": (("motion", "position"),),
                "pk_attr": "id",
                "table_description": "One question of a motion: a resolution (agree / oppose / abstain) or an election (seats > 0).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SealBatch",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "motion",
                    fields.ForeignKeyField(
                        "voting.Motion",
                        source_field="motion_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="batches",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("seq", fields.IntField()),
                ("root", fields.CharField(max_length=64)),
                ("count", fields.IntField()),
                ("event_hash", fields.CharField(max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "voting_seal_batch",
                "app": "voting",
                "unique_together": (("motion", "seq"),),
                "pk_attr": "id",
                "table_description": "A batch of ballots sealed into the motion's audit chain by the Merkle root of their hashes.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Voter",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "motion",
                    fields.ForeignKeyField(
                        "voting.Motion",
                        source_field="motion_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="voters",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "owner",
                    fields.ForeignKeyField(
                        "models.Owner",
                        source_field="owner_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="roll_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("area_h", fields.BigIntField()),
                ("is_developer", fields.BooleanField(default=False)),
                ("rooms", fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={
                "table": "voting_voter",
                "app": "voting",
                "unique_together": (("motion", "owner"),),
                "pk_attr": "id",
                "table_description": "One entry of the roll frozen when the motion opened: an owner (or the developer) with the sum of",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Ballot",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "motion",
                    fields.ForeignKeyField(
                        "voting.Motion",
                        source_field="motion_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ballots",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "voter",
                    fields.ForeignKeyField(
                        "voting.Voter",
                        source_field="voter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ballots",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        description="ELECTRONIC: electronic\nPROXY: proxy\nPAPER: paper",
                        enum_type=Channel,
                        max_length=10,
                    ),
                ),
                (
                    "cast_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="cast_by_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("cast_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("choices", fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ("nonce", fields.CharField(max_length=32)),
                ("ballot_hash", fields.CharField(unique=True, max_length=64)),
                ("receipt_code", fields.CharField(unique=True, max_length=16)),
                ("scan_ref", fields.CharField(null=True, max_length=100)),
                (
                    "batch",
                    fields.ForeignKeyField(
                        "voting.SealBatch",
                        source_field="batch_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="ballots",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "voting_ballot",
                "app": "voting",
                "pk_attr": "id",
                "table_description": "Every cast is kept: a change of mind, a proxy's cast and a paper entry are all new rows.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="BallotChoice",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "ballot",
                    fields.ForeignKeyField(
                        "voting.Ballot",
                        source_field="ballot_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="choice_rows",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "item",
                    fields.ForeignKeyField(
                        "voting.MotionItem",
                        source_field="item_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("choice", fields.CharField(max_length=10)),
                ("candidate", fields.IntField(null=True)),
            ],
            options={
                "table": "voting_ballot_choice",
                "app": "voting",
                "pk_attr": "id",
                "table_description": "The choices of a ballot, one row per item (per candidate for elections), so a tally is one",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CurrentBallot",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "motion",
                    fields.ForeignKeyField(
                        "voting.Motion",
                        source_field="motion_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "voter",
                    fields.ForeignKeyField(
                        "voting.Voter",
                        source_field="voter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "ballot",
                    fields.ForeignKeyField(
                        "voting.Ballot",
                        source_field="ballot_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "channel",
                    fields.CharEnumField(
                        description="ELECTRONIC: electronic\nPROXY: proxy\nPAPER: paper",
                        enum_type=Channel,
                        max_length=10,
                    ),
                ),
                ("version", fields.IntField(default=1)),
            ],
            options={
                "table": "voting_current_ballot",
                "app": "voting",
                "unique_together": (("motion", "voter"),),
                "pk_attr": "id",
                "table_description": "The ballot that counts, one per voter and motion: the unique constraint is the invariant.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ProxyAuthorization",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "motion",
                    fields.ForeignKeyField(
                        "voting.Motion",
                        source_field="motion_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="proxies",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "voter",
                    fields.ForeignKeyField(
                        "voting.Voter",
                        source_field="voter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="proxies",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "proxy_user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="proxy_user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("document_ref", fields.CharField(max_length=100)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ProxyStatus.PENDING,
                        description="PENDING: pending\nAPPROVED: approved\nREJECTED: rejected",
                        enum_type=ProxyStatus,
                        max_length=10,
                    ),
                ),
                (
                    "decided_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="decided_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "voting_proxy",
                "app": "voting",
                "pk_attr": "id",
                "table_description": "A written authorization for someone else to vote for an owner, approved by the committee.",
            },
            bases=["Model"],
        ),
    ]
