"""Use cases of a person: log in, see oneself, bind a phone, claim a unit, manage one's household."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts import discovery, errors, identity
from accounts.models import (
    Invitation,
    Owner,
    OwnerKind,
    Ownership,
    Resident,
    ResidentRelation,
    Unit,
    User,
)
from accounts.profile import display_name
from accounts.roles import GRANTABLE, compound_roles, grants_of
from accounts.sessions import Session, forget_ended, keep_session_key, open_session
from audit.service import Actor, append, compound_stream
from core import clock
from core.cache import Cache
from wechat.protocol import WeChatApi

CLAIM_FAILURES_PER_DAY = 5
RELATION_LABELS = {ResidentRelation.TENANT: "租户", ResidentRelation.FAMILY: "家庭成员"}
INVITATION_TTL = timedelta(hours=48)


def actor_for(user: User, request_id: str | None = None) -> Actor:
    return Actor(f"user:{user.id}", display_name(user), request_id)


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session: Session
    new_user: bool


async def login(wechat: WeChatApi, cache: Cache, code: str, *, session_ttl: int) -> LoginResult:
    """Exchange wx.login's code for our session. A new openid becomes a new user."""
    result = await wechat.code2session(code)
    user = await User.get_or_none(openid=result.openid)
    new_user = user is None
    if user is None:
        try:
            user = await User.create(openid=result.openid, unionid=result.unionid)
        except IntegrityError:  # the same person logging in twice at once
            user = await User.get(openid=result.openid)
            new_user = False
    user.last_login_at = clock.now()
    await user.save(update_fields=["last_login_at"])
    await forget_ended(user.id)
    await keep_session_key(cache, user.id, result.session_key, session_ttl)
    return LoginResult(user, await open_session(cache, user.id, session_ttl), new_user)


async def bind_phone(wechat: WeChatApi, user: User, code: str) -> str:
    phone = await wechat.phone_number(code)
    user.phone = phone.pure_phone
    await user.save(update_fields=["phone"])
    return phone.pure_phone


@dataclass(frozen=True, slots=True)
class MyUnit:
    unit_id: int
    compound_id: int
    compound: str
    building: str
    number: str
    area: Decimal
    relation: str  # owner | tenant | family
    votes_for_unit: bool


@dataclass(frozen=True, slots=True)
class MyRole:
    role: str
    scope_type: str
    scope_id: int


@dataclass(frozen=True, slots=True)
class Profile:
    id: int
    nickname: str
    phone: str | None
    units: list[MyUnit] = field(default_factory=list)
    roles: list[MyRole] = field(default_factory=list)


async def profile(user: User) -> Profile:
    units: list[MyUnit] = []
    owned = await Ownership.filter(owner__user_id=user.id).prefetch_related(
        "unit__building", "unit__compound"
    )
    for own in owned:
        u = own.unit
        units.append(
            MyUnit(
                u.id,
                u.compound.id,
                u.compound.name,
                u.building.name,
                u.number,
                u.area,
                "owner",
                own.votes_for_unit,
            )
        )
    for res in await Resident.filter(user_id=user.id).prefetch_related("unit__building", "unit__compound"):
        u = res.unit
        units.append(
            MyUnit(
                u.id, u.compound.id, u.compound.name, u.building.name, u.number, u.area, res.relation, False
            )
        )
    roles = [MyRole(r.value, s.value, i) for r, s, i in await grants_of(user.id)]
    compounds = sorted({u.compound_id for u in units})
    for compound_id in compounds:
        derived = await compound_roles(user.id, compound_id) - set(GRANTABLE)
        roles += [MyRole(r.value, "compound", compound_id) for r in sorted(derived)]
    return Profile(user.id, user.nickname, user.phone, sorted(units, key=lambda u: u.unit_id), roles)


def _claim_keys(user: User) -> tuple[str, str]:
    """This local day's counters of claims tried and claims that matched (the day is in the key)."""
    day = clock.to_local(clock.now()).date().isoformat()
    return f"claim-try:{user.id}:{day}", f"claim-ok:{user.id}:{day}"


def _seconds_to_local_midnight() -> int:
    now = clock.to_local(clock.now())
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=now.tzinfo)
    return max(1, int((midnight - now).total_seconds() + 0.999))


async def claim_unit(
    cache: Cache,
    user: User,
    *,
    unit_id: int | None = None,
    place: discovery.UnitPlace | None = None,
    name: str,
    id_number: str,
    certificate: str,
    hmac_key: bytes,
    request_id: str | None,
) -> Owner:
    """Verify a user as the owner of a unit by that unit's own roster entry: name, ID number and the
    unit's certificate must all match it. Binds the compound's owner record (so all of that person's
    units in this compound, as its roster lists them) and nothing in any other compound.

    At most CLAIM_FAILURES_PER_DAY refusals a day: each attempt is counted by an atomic increment
    before anything is compared, and a claim that matched gives its attempt back, so however many
    claims arrive at once, no more than the limit of wrong ones are ever compared. Every kind of
    mismatch gets the same answer, so a refusal never confirms that a name and ID own the unit.

    The unit is named by ``unit_id`` or by ``place`` (compound + building + room), exactly one; a
    place that names no unit is refused like an unknown ``unit_id`` (the attempt counts)."""
    discovery.check_unit_named_once(unit_id, place)  # compares nothing: costs no attempt
    id_hash = identity.id_hash(hmac_key, id_number)
    if id_hash is None:  # a format check compares nothing with the roster: it costs no attempt
        raise errors.ClaimMalformedId()
    tried_key, matched_key = _claim_keys(user)
    retry_after = _seconds_to_local_midnight()
    tried = await cache.incr(tried_key, ttl=retry_after + 3600)
    matched = int(await cache.get(matched_key) or 0)
    if tried - matched > CLAIM_FAILURES_PER_DAY:
        raise errors.ClaimTooManyFailures(
            details={"limit": CLAIM_FAILURES_PER_DAY, "retry_after": retry_after}
        )
    if unit_id is None:
        assert place is not None  # check_unit_named_once saw to it
        unit_id = await discovery.unit_at(place)
    owner, unit = await _match(unit_id, name, id_hash, certificate, hmac_key)  # refusals stay counted
    await cache.incr(matched_key, ttl=retry_after + 3600)
    async with in_transaction():
        # One owner per account and compound: binding queues on the account's row (PostgreSQL), so
        # an organisation's approval for the same account cannot slip in beside it.
        await User.filter(id=user.id).select_for_update().first()
        compound_id: int = unit.compound_id  # type: ignore[attr-defined]
        if await Owner.filter(compound_id=compound_id, user_id=user.id, kind=OwnerKind.ORGANISATION).exists():
            raise errors.ClaimantRepresentsOrganisation()
        updated = await Owner.filter(id=owner.id, user_id=None).update(user_id=user.id)
        if not updated:
            current = await Owner.get(id=owner.id)
            if current.user_id != user.id:  # type: ignore[attr-defined]
                raise errors.ClaimTakenByOther()
            return owner  # already verified by this user: nothing happened, so nothing to log
        await append(
            compound_stream(unit.compound_id),  # type: ignore[attr-defined]
            "owner.verified",
            actor=actor_for(user, request_id),
            subject=f"unit:{unit_id}",
            payload={"owner_id": owner.id, "user_id": user.id},
        )
    return owner


async def _match(unit_id: int, name: str, id_hash: str, certificate: str, key: bytes) -> tuple[Owner, Unit]:
    """The owner record this unit's roster entry names, when name, ID and certificate all match it.
    Only an owner record of the unit's own compound can match: a record is never shared."""
    unit = await Unit.get_or_none(id=unit_id)
    if unit is None:
        raise errors.UnitNotFound()
    ownership = await Ownership.get_or_none(
        unit_id=unit_id,
        owner__id_hash=id_hash,
        owner__compound_id=unit.compound_id,  # type: ignore[attr-defined]
    ).prefetch_related("owner")
    cert_hash = identity.certificate_hash(key, certificate)
    if (
        ownership is None
        or ownership.owner.name.strip() != name.strip()
        # no certificate on record: name and ID alone are too widely known to verify an owner
        or ownership.cert_hash is None
        or cert_hash is None
        or not hmac.compare_digest(ownership.cert_hash, cert_hash)
    ):
        raise errors.ClaimMismatch()
    return ownership.owner, unit


async def is_verified_owner(user_id: int, unit_id: int) -> bool:
    return await Ownership.filter(unit_id=unit_id, owner__user_id=user_id).exists()


async def acts_for_unit(user_id: int, unit_id: int) -> bool:
    """A verified owner or a resident of the unit: who may see and pay its bills."""
    return await is_verified_owner(user_id, unit_id) or await Resident.exists(
        unit_id=unit_id, user_id=user_id
    )


def acts_for_unit_sql(user: str, unit: str) -> str:
    """``acts_for_unit`` as a SQL condition on two expressions (placeholders or columns), for a
    hot path that folds the check into its own statement (bookings.gate); kept here, beside the
    function, so the rule has one home."""
    owner = f"SELECT 1 FROM ownership os JOIN owner ow ON ow.id = os.owner_id WHERE os.unit_id = {unit} AND ow.user_id = {user}"  # noqa: S608 - the caller's expressions
    resident = f"SELECT 1 FROM resident rs WHERE rs.unit_id = {unit} AND rs.user_id = {user}"  # noqa: S608 - the caller's expressions
    return f"(EXISTS ({owner}) OR EXISTS ({resident}))"


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


async def invite(
    user: User,
    unit_id: int,
    relation: ResidentRelation,
    *,
    by_committee: bool = False,
    request_id: str | None = None,
) -> tuple[str, datetime]:
    """A one-time code for a tenant or family member; only the code's hash is stored."""
    unit = await Unit.get_or_none(id=unit_id)
    if unit is None:
        raise errors.UnitNotFound()
    if not by_committee and not await is_verified_owner(user.id, unit_id):
        raise errors.NotUnitOwner()
    code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
    expires = clock.now() + INVITATION_TTL
    async with in_transaction():
        await Invitation.create(
            code_hash=_code_hash(code),
            unit_id=unit_id,
            relation=relation,
            created_by=user,
            expires_at=expires,
        )
        await append(
            compound_stream(unit.compound_id),  # type: ignore[attr-defined]
            "resident.invited",
            actor=actor_for(user, request_id),
            subject=f"unit:{unit_id}",
            payload={"relation": relation.value, "by_committee": by_committee},
        )
    return code, expires


async def accept_invitation(user: User, code: str, request_id: str | None = None) -> Resident:
    async with in_transaction():
        # The conditional update makes the code single-use even when two people redeem it at once.
        invitation = await Invitation.get_or_none(code_hash=_code_hash(code))
        now = clock.now()
        if invitation is None or invitation.expires_at <= now:
            raise errors.InvitationInvalid()
        taken = await Invitation.filter(id=invitation.id, used_at=None).update(
            used_at=now, used_by_id=user.id
        )
        if not taken:
            raise errors.InvitationInvalid()
        if await Resident.exists(unit_id=invitation.unit_id, user_id=user.id):  # type: ignore[attr-defined]
            raise errors.AlreadyResident()
        resident = await Resident.create(
            unit_id=invitation.unit_id,  # type: ignore[attr-defined]
            user=user,
            relation=invitation.relation,
            added_by_id=invitation.created_by_id,  # type: ignore[attr-defined]
        )
        unit = await Unit.get(id=invitation.unit_id)  # type: ignore[attr-defined]
        await append(
            compound_stream(unit.compound_id),  # type: ignore[attr-defined]
            "resident.joined",
            actor=actor_for(user, request_id),
            subject=f"unit:{unit.id}",
            payload={"relation": invitation.relation.value, "resident_id": resident.id},
        )
    return resident


@dataclass(frozen=True, slots=True)
class HouseholdMember:
    kind: str  # owner | tenant | family
    id: int
    name: str
    phone: str | None
    votes_for_unit: bool
    is_me: bool


async def household(user: User, unit_id: int) -> list[HouseholdMember]:
    """Owners and residents of a unit, for its verified owners and residents. Phones are masked
    except the caller's own."""
    if not await Unit.exists(id=unit_id):
        raise errors.UnitNotFound()
    is_member = await is_verified_owner(user.id, unit_id) or await Resident.exists(
        unit_id=unit_id, user_id=user.id
    )
    if not is_member:
        raise errors.NotUnitOwner()
    members: list[HouseholdMember] = []
    for own in await Ownership.filter(unit_id=unit_id).prefetch_related("owner").order_by("id"):
        mine = own.owner.user_id == user.id  # type: ignore[attr-defined]
        phone = own.owner.phone if mine else identity.mask_phone(own.owner.phone)
        members.append(
            HouseholdMember("owner", own.owner.id, own.owner.name, phone, own.votes_for_unit, mine)
        )
    for res in await Resident.filter(unit_id=unit_id).prefetch_related("user").order_by("id"):
        mine = res.user.id == user.id
        phone = res.user.phone if mine else identity.mask_phone(res.user.phone)
        name = display_name(res.user, RELATION_LABELS[res.relation])
        members.append(HouseholdMember(res.relation.value, res.id, name, phone, False, mine))
    return members


async def remove_resident(user: User, unit_id: int, resident_id: int, request_id: str | None = None) -> None:
    if not await is_verified_owner(user.id, unit_id):
        raise errors.NotUnitOwner()
    async with in_transaction():
        resident = await Resident.get_or_none(id=resident_id, unit_id=unit_id)
        if resident is None:
            raise errors.UserNotFound("未找到该住户")
        await resident.delete()
        unit = await Unit.get(id=unit_id)
        await append(
            compound_stream(unit.compound_id),  # type: ignore[attr-defined]
            "resident.removed",
            actor=actor_for(user, request_id),
            subject=f"unit:{unit_id}",
            payload={"resident_id": resident_id},
        )
