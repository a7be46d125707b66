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


class ClaimStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


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
    # 从多: disputed since the Civil Code; off by default and never counted as participation. Set only
    # by the committee through voting.settings (audited), with the rule of procedure it rests on.
    non_voters_follow_majority = fields.BooleanField(default=False)
    follow_majority_basis = fields.CharField(max_length=200, default="", db_default="")
    follow_majority_changed_at = fields.DatetimeField(null=True)
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
    """A legal owner as one compound's roster lists them: a person or an organisation (the developer
    holding unsold units is one).

    An owner record belongs to one compound. The same person owning units in two compounds has one
    record in each, written only by that compound's roster; their WeChat account joins the records,
    one verified claim per compound. So no compound's import can rename, re-phone or hand over an owner
    another compound relies on. ``compound`` is None only for records made outside any roster (tests,
    benches): no roster import ever matches those."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyNullableRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="owners", null=True, on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(OwnerKind, max_length=12, default=OwnerKind.PERSON)
    name = fields.CharField(max_length=100)
    phone = fields.CharField(max_length=20, null=True)
    # HMAC-SHA256 of the normalised ID number (or the organisation's credit code); never the number.
    # Unique within the compound: within one roster, one ID number is one owner (the headcount).
    id_hash = fields.CharField(max_length=64, null=True)
    is_developer = fields.BooleanField(default=False)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="owner_records", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "owner"
        indexes = (("user_id",),)
        unique_together = (("compound", "id_hash"),)


class Ownership(Model):
    """Owner ↔ unit: one entry of the unit's roster. A co-owned unit has several rows, exactly one of
    them is designated to vote. The owner is always of the unit's own compound. ``cert_hash`` is this
    unit's property certificate; a claim needs it (no certificate on record: no online claim)."""

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


class UserSession(Model):
    """A login session. The database is the record, so it survives a cache restart, and the cache
    only fronts it. Only sha256(token) is stored, so neither a table dump nor a cache dump can be replayed."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "app_session"
        indexes = (("user_id",), ("expires_at",))


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


class OrganisationClaim(Model):
    """An organisation owner's claim (the developer holding unsold units, or any organisation), made by
    an authorised representative and verified by the committee before the organisation's owner record
    is bound to the representative's account.

    The credit code matched the roster entry of ``unit`` (it is never stored, not even here: the owner
    record holds its keyed hash). The representative's ID number exists only as a keyed hash. The
    authorisation letter is the photos attached to ``orgclaim:<id>``."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="organisation_claims", on_delete=fields.RESTRICT
    )
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name=False, on_delete=fields.RESTRICT
    )
    owner: fields.ForeignKeyRelation[Owner] = fields.ForeignKeyField(
        "models.Owner", related_name="organisation_claims", on_delete=fields.RESTRICT
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="organisation_claims", on_delete=fields.CASCADE
    )
    representative_name = fields.CharField(max_length=50)
    representative_id_hash = fields.CharField(max_length=64)
    status = fields.CharEnumField(ClaimStatus, max_length=10, default=ClaimStatus.PENDING)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    reason = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organisation_claim"
        indexes = (("compound_id", "status"), ("user_id",))


class ContactKind(StrEnum):
    """The contacts a compound's 公示栏 shows, each posted by the role responsible for it."""

    PROJECT_MANAGER = "project_manager"  # 项目经理: property company staff
    COMPLAINT = "complaint"  # 投诉电话: property company staff
    SERVICE = "service"  # 服务（报修）电话: property company staff
    COMMITTEE = "committee"  # 业主委员会联系人: the committee
    COMMUNITY = "community"  # 社区联系人: the community admin
    GRID_WORKER = "grid_worker"  # 网格员: the community admin, naming a grid worker of the community


class CompoundContact(Model):
    """One contact of a compound's public board: a name (empty for a bare phone line) and a work
    phone posted for that purpose, shown in full to anyone.

    Each row is tied to what it speaks for, so it disappears from the board when that ends: the
    property company's rows to the company (shown while it serves the compound), the committee's to
    the committee (while in office), the grid worker's to their account (while they hold the grid
    worker role in the compound's community)."""

    id = fields.IntField(primary_key=True)
    compound: fields.ForeignKeyRelation[Compound] = fields.ForeignKeyField(
        "models.Compound", related_name="contacts", on_delete=fields.RESTRICT
    )
    kind = fields.CharEnumField(ContactKind, max_length=20)
    name = fields.CharField(max_length=20, default="")
    phone = fields.CharField(max_length=24)
    company: fields.ForeignKeyNullableRelation[PropertyCompany] = fields.ForeignKeyField(
        "models.PropertyCompany", related_name=False, null=True, on_delete=fields.CASCADE
    )
    committee: fields.ForeignKeyNullableRelation[Committee] = fields.ForeignKeyField(
        "models.Committee", related_name=False, null=True, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.CASCADE
    )
    set_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "compound_contact"
        unique_together = (("compound", "kind"),)
