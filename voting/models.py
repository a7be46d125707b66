"""Motions of an owners' assembly, the frozen roll, ballots (every cast kept) and their sealing."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class MotionStatus(StrEnum):
    DRAFT = "draft"
    ANNOUNCED = "announced"
    OPEN = "open"
    CLOSED = "closed"
    COUNTED = "counted"
    OBJECTION = "objection"
    FINAL = "final"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    ELECTRONIC = "electronic"
    PROXY = "proxy"
    PAPER = "paper"


class ProxyStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"  # by the owner, before the proxy voted (voting.proxies.revoke)


class Motion(Model):
    """表决事项 of one compound. Status moves only through voting.lifecycle (guarded updates)."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Compound", related_name="motions", on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=100)
    text = fields.TextField()
    attachments: fields.Field[list] = fields.JSONField(default=list)
    status = fields.CharEnumField(MotionStatus, max_length=10, default=MotionStatus.DRAFT)
    scope_buildings: fields.Field[list] = fields.JSONField(default=list)  # empty: the whole compound
    # a set of units instead (a fund use shared by one lift's units); empty: by scope_buildings
    scope_units: fields.Field[list] = fields.JSONField(default=list, db_default="[]")
    allow_change = fields.BooleanField(default=True)
    secret = fields.BooleanField(default=False)
    announce_days = fields.IntField(default=7)
    objection_days = fields.IntField(default=7)
    max_extension_days = fields.IntField(default=7)
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    extension_reason = fields.TextField(null=True)
    announced_at = fields.DatetimeField(null=True)
    opened_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    counted_at = fields.DatetimeField(null=True)
    objection_until = fields.DatetimeField(null=True)
    final_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.TextField(null=True)
    follow_majority = fields.BooleanField(default=False)
    roll_hash = fields.CharField(max_length=64, null=True)
    total_area_h = fields.BigIntField(null=True)
    total_headcount = fields.IntField(null=True)
    result: fields.Field[dict] = fields.JSONField(null=True)
    created_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "voting_motion"
        indexes = (("compound_id", "status"),)


class MotionItem(Model):
    """One question of a motion: a resolution (agree / oppose / abstain) or an election (seats > 0)."""

    id = fields.IntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name="items", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    title = fields.CharField(max_length=200)
    matter = fields.CharField(max_length=40)
    seats = fields.IntField(null=True)
    candidates: fields.Field[list] = fields.JSONField(default=list)  # [{"id": 1, "name": "..."}]

    class Meta:
        table = "voting_item"
        unique_together = (("motion", "position"),)


class Voter(Model):
    """One entry of the roll frozen when the motion opened: an owner (or the developer) with the sum of
    their areas in scope, in integer hundredths of m². Later ownership changes do not touch it."""

    id = fields.IntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name="voters", on_delete=fields.RESTRICT
    )
    owner: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.Owner", related_name="roll_entries", on_delete=fields.RESTRICT
    )
    area_h = fields.BigIntField()
    is_developer = fields.BooleanField(default=False)
    rooms: fields.Field[list] = fields.JSONField()  # [{"unit_id", "room", "area"}] without names

    class Meta:
        table = "voting_voter"
        indexes = (("owner_id",),)
        unique_together = (("motion", "owner"),)


class SealBatch(Model):
    """A batch of ballots sealed into the motion's audit chain by the Merkle root of their hashes."""

    id = fields.IntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name="batches", on_delete=fields.RESTRICT
    )
    seq = fields.IntField()
    root = fields.CharField(max_length=64)
    count = fields.IntField()
    event_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "voting_seal_batch"
        unique_together = (("motion", "seq"),)


class Ballot(Model):
    """Every cast is kept: a change of mind, a proxy's cast and a paper entry are all new rows."""

    id = fields.BigIntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name="ballots", on_delete=fields.RESTRICT
    )
    voter: fields.ForeignKeyRelation[Voter] = fields.ForeignKeyField(
        "voting.Voter", related_name="ballots", on_delete=fields.RESTRICT
    )
    channel = fields.CharEnumField(Channel, max_length=10)
    cast_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    cast_at = fields.DatetimeField()
    choices: fields.Field[dict] = fields.JSONField()
    nonce = fields.CharField(max_length=32)
    ballot_hash = fields.CharField(max_length=64, unique=True)
    receipt_code = fields.CharField(max_length=16, unique=True)
    scan_ref = fields.CharField(max_length=100, null=True)
    batch: fields.ForeignKeyNullableRelation[SealBatch] = fields.ForeignKeyField(
        "voting.SealBatch", related_name="ballots", null=True, on_delete=fields.RESTRICT
    )

    class Meta:
        table = "voting_ballot"
        indexes = (("motion_id", "batch_id"),)  # a motion's ballots, and its unsealed ones


class BallotChoice(Model):
    """The choices of a ballot, one row per item (per candidate for elections), so a tally is one
    GROUP BY in the database."""

    id = fields.BigIntField(primary_key=True)
    ballot: fields.ForeignKeyRelation[Ballot] = fields.ForeignKeyField(
        "voting.Ballot", related_name="choice_rows", on_delete=fields.RESTRICT
    )
    item: fields.ForeignKeyRelation[MotionItem] = fields.ForeignKeyField(
        "voting.MotionItem", related_name=False, on_delete=fields.RESTRICT
    )
    choice = fields.CharField(max_length=10)  # agree / oppose / abstain / elect
    candidate = fields.IntField(null=True)

    class Meta:
        table = "voting_ballot_choice"
        indexes = (("ballot_id",),)


class CurrentBallot(Model):
    """The ballot that counts, one per voter and motion: the unique constraint is the invariant.

    ``cast_at`` repeats the current ballot's cast_at, so that a change is written only forward
    (voting.ballots.COUNTING_RULE): the writer that holds the row's lock compares with it."""

    id = fields.IntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name=False, on_delete=fields.RESTRICT
    )
    voter: fields.ForeignKeyRelation[Voter] = fields.ForeignKeyField(
        "voting.Voter", related_name=False, on_delete=fields.RESTRICT
    )
    ballot: fields.ForeignKeyRelation[Ballot] = fields.ForeignKeyField(
        "voting.Ballot", related_name=False, on_delete=fields.RESTRICT
    )
    channel = fields.CharEnumField(Channel, max_length=10)
    version = fields.IntField(default=1)
    cast_at = fields.DatetimeField(null=True)  # null only before migration 0003 filled it in

    class Meta:
        table = "voting_current_ballot"
        indexes = (("ballot_id",),)
        unique_together = (("motion", "voter"),)


class ProxyAuthorization(Model):
    """A written authorization for someone else to vote for an owner, approved by the committee."""

    id = fields.IntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name="proxies", on_delete=fields.RESTRICT
    )
    voter: fields.ForeignKeyRelation[Voter] = fields.ForeignKeyField(
        "voting.Voter", related_name="proxies", on_delete=fields.RESTRICT
    )
    proxy_user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    document_ref = fields.CharField(max_length=100)
    status = fields.CharEnumField(ProxyStatus, max_length=10, default=ProxyStatus.PENDING)
    decided_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    decided_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "voting_proxy"
        indexes = (("motion_id", "status"),)


class ProxyInvitation(Model):
    """An owner's invitation to vote for them in one motion: a one-time code (only its hash is kept)
    or an existing user named by phone. Accepting it makes a ProxyAuthorization the committee then
    decides on; the written authorization is the photos attached to ``proxyinv:<id>``."""

    id = fields.IntField(primary_key=True)
    motion: fields.ForeignKeyRelation[Motion] = fields.ForeignKeyField(
        "voting.Motion", related_name="proxy_invitations", on_delete=fields.RESTRICT
    )
    voter: fields.ForeignKeyRelation[Voter] = fields.ForeignKeyField(
        "voting.Voter", related_name="proxy_invitations", on_delete=fields.RESTRICT
    )
    invited_by: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.RESTRICT
    )
    code_hash = fields.CharField(max_length=64, unique=True, null=True)
    invitee: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    authorization: fields.ForeignKeyNullableRelation[ProxyAuthorization] = fields.ForeignKeyField(
        "voting.ProxyAuthorization", related_name=False, null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "voting_proxy_invitation"
        indexes = (("invitee_id",), ("motion_id",))
