"""The compound registry and the people in it.

Areas are Decimal with two places (square metres from the property register); ID and certificate
numbers exist only as keyed hashes (accounts.identity), never in clear text.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class UnitKind(StrEnum):
    FLAT = "flat"
    SHOP = "shop"
    PARKING = "parking"


class AreaSource(StrEnum):
    """Where the area comes from, in the order the law prefers them."""

    REGISTER = "register"
    SURVEY = "survey"
    CONTRACT = "contract"


class OwnerKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class ResidentRelation(StrEnum):
    TENANT = "tenant"
    FAMILY = "family"


class FilingStatus(StrEnum):
    PENDING = "pending"
    FILED = "filed"
    REJECTED = "rejected"


class Community(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)

    class Meta:
        table = "community"


class Compound(Model):
    id = fields.IntField(primary_key=True)
    community: fields.ForeignKeyRelation[Community] = fields.ForeignKeyField(
        "models.Community", related_name="compounds", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=100)
    address = fields.CharField(max_length=200, default="")
    # 独栋楼院: a stand-alone building or courtyard counted beside the compounds in the plan
    standalone = fields.BooleanField(default=False)
    # 从多: disputed since the Civil Code; off by default and never counted as participation
    non_voters_follow_majority = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "compound"
        unique_together = (("community", "name"),)


class Building(Model):
    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="buildings", on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=50)

    class Meta:
        table = "building"
        unique_together = (("compound", "name"),)


class Unit(Model):
    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="units", on_delete=fields.RESTRICT
    )
    building: fields.ForeignKeyRelation[Building] = fields.ForeignKeyField(
        "models.Building", related_name="units", on_delete=fields.RESTRICT
    )
    number = fields.CharField(max_length=30)
    kind = fields.CharEnumField(UnitKind, max_length=10, default=UnitKind.FLAT)
    area = fields.DecimalField(max_digits=12, decimal_places=2)
    area_source = fields.CharEnumField(AreaSource, max_length=10, default=AreaSource.REGISTER)
    delivered = fields.BooleanField(default=True)

    class Meta:
        table = "unit"
        indexes = (("compound_id",),)
        unique_together = (("building", "number"),)


class User(Model):
    """A WeChat account that has logged in. openid is per mini-program, unionid across apps."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    unionid = fields.CharField(max_length=64, null=True)
    phone = fields.CharField(max_length=20, null=True)
    nickname = fields.CharField(max_length=50, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_login_at = fields.DatetimeField(null=True)

    class Meta:
        table = "app_user"


class Owner(Model):
    """A legal owner: a person or an organisation (the developer holding unsold units is one)."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(OwnerKind, max_length=12, default=OwnerKind.PERSON)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=20, null=True)
    # HMAC-SHA256 of the normalised ID number (or the organisation's credit code); never the number
    id_hash = fields.CharField(max_length=64, null=True, unique=True)
    is_developer = fields.BooleanField(default=False)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owner_records", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "owner"
        indexes = (("user_id",),)


class Ownership(Model):
    """Owner ↔ unit. A co-owned unit has several rows, exactly one of them is designated to vote."""

    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="ownerships", on_delete=fields.RESTRICT
    )
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="ownerships", on_delete=fields.RESTRICT
    )
    share = fields.DecimalField(max_digits=5, decimal_places=4, default=1)
    votes_for_unit = fields.BooleanField(default=True)
    cert_hash = fields.CharField(max_length=64, null=True)
    since = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ownership"
        indexes = (("owner_id",),)
        unique_together = (("unit", "owner"),)


class Resident(Model):
    """Someone living in a unit without owning it: files complaints and books services, never votes."""

    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="residents", on_delete=fields.RESTRICT
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="residences", on_delete=fields.CASCADE
    )
    relation = fields.CharEnumField(ResidentRelation, max_length=10)
    added_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "resident"
        indexes = (("user_id",),)
        unique_together = (("unit", "user"),)


class PropertyCompany(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    credit_code = fields.CharField(max_length=18, unique=True)
    contact_phone = fields.CharField(max_length=20, default="")

    class Meta:
        table = "property_company"


class ServiceContract(Model):
    id = fields.IntField(primary_key=True)
    company: fields.ForeignKeyRelation[PropertyCompany] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name="contracts", on_delete=fields.RESTRICT
    )
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="contracts", on_delete=fields.RESTRICT
    )
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    # fen per square metre per month
    price_fen_per_m2 = fields.IntField()

    class Meta:
        table = "service_contract"
        indexes = (("compound_id",),)


class Committee(Model):
    """The owners' committee of a compound for one term, and its filing (备案) with the community."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="committees", on_delete=fields.RESTRICT
    )
    term_starts_on = fields.DateField()
    term_ends_on = fields.DateField()
    filing_status = fields.CharEnumField(FilingStatus, max_length=10, default=FilingStatus.PENDING)
    filed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "committee"
        unique_together = (("compound", "term_starts_on"),)


class CommitteeMember(Model):
    id = fields.IntField(primary_key=True)
    committee: fields.ForeignKeyRelation[Committee] = fields.ForeignKeyField(
        "models.Committee", related_name="members", on_delete=fields.CASCADE
    )
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="committee_seats", on_delete=fields.RESTRICT
    )
    position = fields.CharField(max_length=20, default="委员")

    class Meta:
        table = "committee_member"
        unique_together = (("committee", "owner"),)


class RoleGrant(Model):
    """A role held by a user within a scope: compound, community, property company, department, or the
    county. Roles held by being an owner or resident are derived from Ownership/Resident instead."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="grants", on_delete=fields.CASCADE
    )
    role = fields.CharField(max_length=30)
    scope_type = fields.CharField(max_length=20)
    scope_id = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "role_grant"
        unique_together = (("user", "role", "scope_type", "scope_id"),)


class Department(Model):
    """A county department that receives complaints outside the property company's remit."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=50, unique=True)

    class Meta:
        table = "department"


class Invitation(Model):
    """A one-time code an owner (or the committee) gives a tenant or family member to join a unit."""

    id = fields.IntField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="invitations", on_delete=fields.CASCADE
    )
    relation = fields.CharEnumField(ResidentRelation, max_length=10)
    created_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    expires_at = fields.DatetimeField()
    used_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"
