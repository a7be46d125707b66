"""Organisation owners (the developer holding unsold units, or any organisation): claimed by an
authorised representative, verified by the committee.

    claim(cache, user, ...) -> OrganisationClaim       the representative asks (status pending)
    decide(actor, decider_id, compound_id, claim_id, approve, reason) -> OrganisationClaim
    claims_of_compound(compound_id, status, cursor, limit) -> Page[ClaimView]
    claims_of_user(user_id, cursor, limit) -> Page[ClaimView]

The representative names the unit (like a person's claim), the organisation's name and its unified
social credit code (GB 32100-2015, check character verified), their own name and ID number, and
uploads the authorisation letter (授权委托书) as photos. The organisation's name and credit code must
match the unit's roster entry; every mismatch gets one answer and counts toward the same daily limit
as a person's claim. Nothing is bound until the committee has seen the letter and approved: then the
organisation's owner record (one per compound, so one voter holding all its units' area, Civil Code
art. 278) is bound to the representative's account. Credit and ID numbers exist only as keyed hashes:
never stored in clear, never shown, never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from accounts import discovery, errors, identity
from accounts.discovery import Page
from accounts.models import ClaimStatus, OrganisationClaim, Owner, OwnerKind, Ownership, Unit, User
from accounts.profile import display_name
from accounts.roles import Role, compound_roles
from accounts.service import _claim_keys, _seconds_to_local_midnight, actor_for
from audit.service import Actor, append, compound_stream
from core import clock
from core.cache import Cache
from photos import records
from photos.access import Sight, register_viewer, subject
from photos.models import Photo

SUBJECT_KIND = "orgclaim"
MAX_DOCUMENTS = 5


async def _can_view(user_id: int, claim_id: int) -> Sight:
    """The compound's committee and community admin review the letter (also while held by content
    security); the representative uploaded it, so sees it anyway."""
    claim = await OrganisationClaim.get_or_none(id=claim_id).only("id", "compound_id")
    if claim is None:
        return Sight.NONE
    held = await compound_roles(user_id, claim.compound_id)  # type: ignore[attr-defined]
    return Sight.MODERATE if held & {Role.COMMITTEE, Role.COMMUNITY_ADMIN} else Sight.NONE


register_viewer(SUBJECT_KIND, _can_view)


@dataclass(frozen=True, slots=True)
class ClaimView:
    id: int
    compound_id: int
    unit_id: int
    room: str
    organisation: str
    is_developer: bool
    representative_name: str
    user_id: int
    user_name: str
    user_phone: str | None  # masked
    status: str
    reason: str
    created_at: datetime
    decided_at: datetime | None
    documents: list[Photo] = field(default_factory=list)


async def claim(
    cache: Cache,
    user: User,
    *,
    unit_id: int | None = None,
    place: discovery.UnitPlace | None = None,
    organisation_name: str,
    credit_code: str,
    representative_name: str,
    representative_id_number: str,
    document_photo_ids: Sequence[int],
    hmac_key: bytes,
    request_id: str | None,
) -> OrganisationClaim:
    discovery.check_unit_named_once(unit_id, place)  # format checks compare nothing: no attempt spent
    code_hash = identity.credit_code_hash(hmac_key, credit_code)
    if code_hash is None:
        raise errors.ClaimMalformedCreditCode()
    rep_hash = identity.id_hash(hmac_key, representative_id_number)
    if rep_hash is None:
        raise errors.ClaimMalformedId()
    if not 1 <= len(set(document_photo_ids)) <= MAX_DOCUMENTS:
        raise errors.AuthorisationLetterMissing(details={"max": MAX_DOCUMENTS})
    tried_key, matched_key = _claim_keys(user)
    retry_after = _seconds_to_local_midnight()
    tried = await cache.incr(tried_key, ttl=retry_after + 3600)
    matched = int(await cache.get(matched_key) or 0)
    from accounts.service import CLAIM_FAILURES_PER_DAY

    if tried - matched > CLAIM_FAILURES_PER_DAY:
        raise errors.ClaimTooManyFailures(
            details={"limit": CLAIM_FAILURES_PER_DAY, "retry_after": retry_after}
        )
    if unit_id is None:
        assert place is not None
        unit_id = await discovery.unit_at(place)
    unit = await Unit.get_or_none(id=unit_id)
    if unit is None:
        raise errors.UnitNotFound()
    ownership = await Ownership.get_or_none(
        unit_id=unit_id,
        owner__id_hash=code_hash,
        owner__kind=OwnerKind.ORGANISATION,
        owner__compound_id=unit.compound_id,  # type: ignore[attr-defined]
    ).prefetch_related("owner")
    if ownership is None or ownership.owner.name.strip() != organisation_name.strip():
        raise errors.ClaimMismatch()  # the attempt stays counted
    await cache.incr(matched_key, ttl=retry_after + 3600)
    owner = ownership.owner
    if owner.user_id is not None and owner.user_id != user.id:  # type: ignore[attr-defined]
        raise errors.ClaimTakenByOther()
    if await _holds_other_record(user.id, unit.compound_id, owner.id):  # type: ignore[attr-defined]
        raise errors.RepresentativeHoldsOwnerRecord()  # asked now, not only when the committee decides
    async with in_transaction() as conn:
        # one open claim per organisation record: queue concurrent claims on the owner's row
        await Owner.filter(id=owner.id).using_db(conn).select_for_update().first()
        if (
            await OrganisationClaim.filter(owner_id=owner.id, status=ClaimStatus.PENDING)
            .using_db(conn)
            .exists()
        ):
            raise errors.OrganisationClaimPending()
        created = await OrganisationClaim.create(
            compound_id=unit.compound_id,  # type: ignore[attr-defined]
            unit_id=unit.id,
            owner_id=owner.id,
            user_id=user.id,
            representative_name=representative_name.strip(),
            representative_id_hash=rep_hash,
            using_db=conn,
        )
        await records.attach(
            document_photo_ids, uploader_id=user.id, subject=subject(SUBJECT_KIND, created.id), using_db=conn
        )
        await append(
            compound_stream(unit.compound_id),  # type: ignore[attr-defined]
            "organisation_claim.submitted",
            actor=actor_for(user, request_id),
            subject=f"unit:{unit.id}",
            payload={"claim_id": created.id, "owner_id": owner.id, "documents": len(set(document_photo_ids))},
        )
    return created


async def _holds_other_record(user_id: int, compound_id: int, owner_id: int, conn: Any = None) -> bool:
    """Whether the account is already bound to another owner record of the compound (a person's own,
    or another organisation's): an account votes as one owner per compound."""
    others = Owner.filter(compound_id=compound_id, user_id=user_id).exclude(id=owner_id)
    return await (others.using_db(conn) if conn is not None else others).exists()


async def decide(
    actor: Actor, decider_id: int, compound_id: int, claim_id: int, approve: bool, reason: str
) -> OrganisationClaim:
    """Approve (bind the organisation's owner record to the representative) or reject a pending claim,
    in one transaction with its audit event. A claim is decided once."""
    target = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    async with in_transaction() as conn:
        found = (
            await OrganisationClaim.filter(id=claim_id, compound_id=compound_id, status=ClaimStatus.PENDING)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if found is None:
            raise errors.OrganisationClaimNotFound()
        user_id: int = found.user_id  # type: ignore[attr-defined]
        owner_id: int = found.owner_id  # type: ignore[attr-defined]
        if approve:
            # the same queue a person's claim takes (accounts.service.claim_unit): one owner per account
            await User.filter(id=user_id).using_db(conn).select_for_update().first()
            if await _holds_other_record(user_id, compound_id, owner_id, conn):
                raise errors.RepresentativeHoldsOwnerRecord()
            bound = await Owner.filter(id=owner_id, user_id=None).using_db(conn).update(user_id=user_id)
            if not bound and not await Owner.filter(id=owner_id, user_id=user_id).using_db(conn).exists():
                raise errors.ClaimTakenByOther()
        await (
            OrganisationClaim.filter(id=claim_id)
            .using_db(conn)
            .update(status=target, decided_by_id=decider_id, decided_at=clock.now(), reason=reason.strip())
        )
        payload = {"claim_id": claim_id, "owner_id": owner_id, "user_id": user_id}
        await append(
            compound_stream(compound_id),
            "owner.verified" if approve else "organisation_claim.rejected",
            actor=actor,
            subject=f"unit:{found.unit_id}",  # type: ignore[attr-defined]
            payload={**payload, "via": "organisation_claim"} if approve else {**payload, "reason": reason},
        )
    return await OrganisationClaim.get(id=claim_id)


async def _views(rows: list[OrganisationClaim]) -> list[ClaimView]:
    out = []
    for c in rows:
        user = c.user
        out.append(
            ClaimView(
                id=c.id,
                compound_id=c.compound_id,  # type: ignore[attr-defined]
                unit_id=c.unit.id,
                room=f"{c.unit.building.name}-{c.unit.number}",
                organisation=c.owner.name,
                is_developer=c.owner.is_developer,
                representative_name=c.representative_name,
                user_id=user.id,
                user_name=display_name(user, "申请人"),
                user_phone=identity.mask_phone(user.phone),
                status=c.status.value,
                reason=c.reason,
                created_at=c.created_at,
                decided_at=c.decided_at,
                documents=await records.photos_of(subject(SUBJECT_KIND, c.id)),
            )
        )
    return out


async def claims_of_compound(
    compound_id: int, *, status: ClaimStatus | None = None, cursor: str | None = None, limit: int = 20
) -> Page[ClaimView]:
    query = OrganisationClaim.filter(compound_id=compound_id, id__gt=discovery._after(cursor))
    if status is not None:
        query = query.filter(status=status)
    rows = await query.order_by("id").limit(limit + 1).prefetch_related("unit__building", "owner", "user")
    page = discovery._page(rows, limit, lambda c: c.id)
    return Page(await _views(page.items), page.next_cursor)


async def claims_of_user(user_id: int, *, cursor: str | None = None, limit: int = 20) -> Page[ClaimView]:
    query = OrganisationClaim.filter(user_id=user_id, id__gt=discovery._after(cursor))
    rows = await query.order_by("id").limit(limit + 1).prefetch_related("unit__building", "owner", "user")
    page = discovery._page(rows, limit, lambda c: c.id)
    return Page(await _views(page.items), page.next_cursor)


async def claim_view(claim_id: int) -> ClaimView:
    rows = await OrganisationClaim.filter(id=claim_id).prefetch_related("unit__building", "owner", "user")
    if not rows:
        raise errors.OrganisationClaimNotFound()
    return (await _views(rows))[0]
