"""Voting through a proxy (委托投票) with a written authorization, as the law allows (DOMAIN.md).

    invite(motion, owner_user_id, photo_ids, invitee_phone, actor) -> (ProxyInvitation, code | None)
    accept(user_id, actor, code=.. | invitation_id=..) -> ProxyAuthorization     status pending
    voting.service.decide_proxy(...)                      the committee approves or rejects
    revoke(motion, owner_user_id, invitation_id, actor)   the owner withdraws it before the proxy voted
    proxy_for(motion_id, user_id) -> [ProxyFor]           whom the caller represents in a motion

The owner (a voter on the frozen roll of an open motion) uploads the signed authorization as photos
and invites the proxy by a one-time code (only its hash is kept) or by the phone of an existing user.
The invitee accepts; the committee sees the document (photos attached to ``proxyinv:<id>``, visible
to it through signed links) and decides. An approved proxy casts for the owner (channel "proxy"):
the owner's ballots and the proxy's are one voter's ballots, one current ballot per voter (the unique
constraint), and the latest by cast_at counts (voting.ballots.COUNTING_RULE) whoever cast it; a
paper ballot never outranks either.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from accounts import identity
from accounts.discovery import Page, _after, _page
from accounts.models import User
from accounts.profile import display_name
from accounts.roles import Role, compound_roles
from audit.service import Actor, append
from core import clock
from photos import records
from photos.access import Sight, register_viewer, subject
from photos.models import Photo
from voting import errors
from voting.actions import proxy_window_open
from voting.lifecycle import motion_stream
from voting.models import (
    Ballot,
    Channel,
    CurrentBallot,
    Motion,
    ProxyAuthorization,
    ProxyInvitation,
    ProxyStatus,
    Voter,
)

SUBJECT_KIND = "proxyinv"
MAX_DOCUMENTS = 5
INVITATION_TTL = timedelta(days=7)
ACTIVE = (ProxyStatus.PENDING, ProxyStatus.APPROVED)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _code_hash(code: str) -> str:
    return hashlib.sha256(f"proxy:{code.strip().upper()}".encode()).hexdigest()


async def _can_view(user_id: int, invitation_id: int) -> Sight:
    """The committee and community admin of the motion's compound review the document (also while
    content security holds it); the proxy who accepted sees it; the owner uploaded it."""
    invitation = await ProxyInvitation.get_or_none(id=invitation_id).prefetch_related("motion")
    if invitation is None:
        return Sight.NONE
    held = await compound_roles(user_id, invitation.motion.compound_id)  # type: ignore[attr-defined]
    if held & {Role.COMMITTEE, Role.COMMUNITY_ADMIN}:
        return Sight.MODERATE
    authorization_id = invitation.authorization_id  # type: ignore[attr-defined]
    if authorization_id is not None and await ProxyAuthorization.exists(
        id=authorization_id, proxy_user_id=user_id
    ):
        return Sight.VIEW
    return Sight.NONE


register_viewer(SUBJECT_KIND, _can_view)


def _voting_window(motion: Motion) -> None:
    if not proxy_window_open(motion, clock.now()):  # what the detail's "invite_proxy" is listed by
        raise errors.VotingNotOpen(details={"status": motion.status.value})


async def invite(
    motion: Motion,
    owner_user_id: int,
    photo_ids: Sequence[int],
    invitee_phone: str | None,
    actor: Actor,
) -> tuple[ProxyInvitation, str | None]:
    _voting_window(motion)
    voter = await Voter.filter(motion_id=motion.id, owner__user_id=owner_user_id).first()
    if voter is None:
        raise errors.NotAVoter()
    if not 1 <= len(set(photo_ids)) <= MAX_DOCUMENTS:
        raise errors.ProxyDocumentMissing(details={"max": MAX_DOCUMENTS})
    invitee: User | None = None
    code: str | None = None
    if invitee_phone is not None:
        found = await User.filter(phone=invitee_phone).limit(2)
        if len(found) != 1:  # nobody, or a phone two accounts share: name the proxy by a code instead
            raise errors.ProxyUserNotFound("未找到绑定该手机号的用户，请改用邀请码")
        invitee = found[0]
        if invitee.id == owner_user_id:
            raise errors.ProxySelf()
    else:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    expires = min(motion.closes_at, clock.now() + INVITATION_TTL)
    async with in_transaction():
        invitation = await ProxyInvitation.create(
            motion_id=motion.id,
            voter_id=voter.id,
            invited_by_id=owner_user_id,
            code_hash=_code_hash(code) if code else None,
            invitee_id=invitee.id if invitee else None,
            expires_at=expires,
        )
        await records.attach(
            photo_ids, uploader_id=owner_user_id, subject=subject(SUBJECT_KIND, invitation.id)
        )
        await append(
            motion_stream(motion.id),
            "proxy.invited",
            actor=actor,
            subject=f"voter:{voter.id}",
            payload={
                "invitation_id": invitation.id,
                "by": "phone" if invitee else "code",
                "invitee_user_id": invitee.id if invitee else None,
                "documents": len(set(photo_ids)),
            },
        )
    return invitation, code


async def accept(
    user_id: int, actor: Actor, *, code: str | None = None, invitation_id: int | None = None
) -> ProxyAuthorization:
    """Redeem an invitation (by its code, or one addressed to the caller's phone): a pending
    authorization for the committee. Single use even when redeemed twice at once."""
    if (code is None) == (invitation_id is None):
        raise errors.ProxyInvitationInvalid("请提供邀请码，或被邀请的委托编号（二选一）")
    if code is not None:
        invitation = await ProxyInvitation.get_or_none(code_hash=_code_hash(code))
    else:
        invitation = await ProxyInvitation.get_or_none(id=invitation_id, invitee_id=user_id)
    now = clock.now()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        raise errors.ProxyInvitationInvalid()
    if invitation.invited_by_id == user_id:  # type: ignore[attr-defined]
        raise errors.ProxySelf()
    motion = await Motion.get(id=invitation.motion_id)  # type: ignore[attr-defined]
    _voting_window(motion)
    voter_id: int = invitation.voter_id  # type: ignore[attr-defined]
    async with in_transaction():
        taken = await ProxyInvitation.filter(id=invitation.id, accepted_at=None).update(accepted_at=now)
        if not taken:
            raise errors.ProxyInvitationInvalid()
        if await ProxyAuthorization.exists(voter_id=voter_id, proxy_user_id=user_id, status__in=ACTIVE):
            raise errors.ProxyAlreadyAuthorised()
        authorization = await ProxyAuthorization.create(
            motion_id=motion.id,
            voter_id=voter_id,
            proxy_user_id=user_id,
            document_ref=subject(SUBJECT_KIND, invitation.id),
        )
        await ProxyInvitation.filter(id=invitation.id).update(authorization_id=authorization.id)
        await append(
            motion_stream(motion.id),
            "proxy.requested",
            actor=actor,
            subject=f"voter:{voter_id}",
            payload={"proxy_id": authorization.id, "invitation_id": invitation.id, "proxy_user_id": user_id},
        )
    return authorization


async def revoke(motion: Motion, owner_user_id: int, invitation_id: int, actor: Actor) -> str:
    """The owner withdraws a proxy: an invitation nobody redeemed yet can no longer be, and an
    authorization (pending or approved) ends, so the proxy can no longer cast for the owner. Refused
    once the proxy has cast a ballot for the owner (proxy_already_voted): that ballot stands as the
    owner's until the owner's own later ballot replaces it (voting.ballots.COUNTING_RULE). Returns
    "invitation" or "authorization", what was revoked; audited on the motion's chain."""
    _voting_window(motion)
    invitation = await ProxyInvitation.get_or_none(
        id=invitation_id, motion_id=motion.id, invited_by_id=owner_user_id
    )
    if invitation is None:
        raise errors.ProxyNotFound()
    now = clock.now()
    async with in_transaction():
        # Taking the invitation as "used" wins against a concurrent accept (its update needs accepted_at null).
        unredeemed = await ProxyInvitation.filter(
            id=invitation.id, accepted_at=None, expires_at__gt=now
        ).update(accepted_at=now, expires_at=now)
        if unredeemed:
            what, payload = "invitation", {"invitation_id": invitation.id}
        else:
            await invitation.refresh_from_db()
            proxy_id = invitation.authorization_id  # type: ignore[attr-defined]
            if proxy_id is None:  # expired, or revoked before anyone accepted it
                raise errors.ProxyNotActive()
            # locked before looking for the proxy's ballot: a proxy cast re-checks the authorization
            # under this lock (voting.ballots._write), so it is either seen here or refused there
            proxy = await ProxyAuthorization.filter(id=proxy_id).select_for_update().get()
            if await Ballot.exists(
                motion_id=motion.id, voter_id=proxy.voter_id, cast_by_id=proxy.proxy_user_id,  # type: ignore[attr-defined]
                channel=Channel.PROXY,
            ):  # fmt: skip
                raise errors.ProxyAlreadyVoted()
            moved = await ProxyAuthorization.filter(id=proxy_id, status__in=ACTIVE).update(
                status=ProxyStatus.REVOKED, decided_at=now
            )
            if not moved:
                raise errors.ProxyNotActive()
            what, payload = "authorization", {"invitation_id": invitation.id, "proxy_id": proxy_id}
        await append(
            motion_stream(motion.id),
            "proxy.revoked",
            actor=actor,
            subject=f"voter:{invitation.voter_id}",  # type: ignore[attr-defined]
            payload={"revoked": what, **payload},
        )
    return what


@dataclass(frozen=True, slots=True)
class InvitationView:
    id: int
    motion_id: int
    motion_title: str
    owner_name: str
    rooms: list[str]
    expires_at: datetime


async def invitations_for(
    user_id: int, *, cursor: str | None = None, limit: int = 20
) -> Page[InvitationView]:
    """Open invitations addressed to the caller's account (by phone)."""
    rows = (
        await ProxyInvitation.filter(
            invitee_id=user_id, accepted_at=None, expires_at__gt=clock.now(), id__gt=_after(cursor)
        )
        .order_by("id")
        .limit(limit + 1)
        .prefetch_related("motion", "voter__owner")
    )
    page = _page(rows, limit, lambda i: i.id)
    items = [
        InvitationView(
            i.id,
            i.motion.id,
            i.motion.title,
            i.voter.owner.name,
            [r["room"] for r in i.voter.rooms],
            i.expires_at,
        )
        for i in page.items
    ]
    return Page(items, page.next_cursor)


@dataclass(frozen=True, slots=True)
class ProxyFor:
    """Whom the caller represents in one motion."""

    proxy_id: int
    voter_id: int
    status: str  # pending: awaiting the committee; approved: may cast with for_voter=voter_id
    owner_name: str
    rooms: list[str]
    voted: bool  # the owner has a counted ballot (by anyone); choices are not shown


async def proxy_for(motion_id: int, user_id: int) -> list[ProxyFor]:
    rows = (
        await ProxyAuthorization.filter(motion_id=motion_id, proxy_user_id=user_id, status__in=ACTIVE)
        .prefetch_related("voter__owner")
        .order_by("id")
    )
    if not rows:
        return []
    voted = set(
        await CurrentBallot.filter(
            motion_id=motion_id,
            voter_id__in=[p.voter_id for p in rows],  # type: ignore[attr-defined]
        ).values_list("voter_id", flat=True)
    )
    return [
        ProxyFor(
            p.id,
            p.voter.id,
            p.status.value,
            p.voter.owner.name,
            [r["room"] for r in p.voter.rooms],
            p.voter.id in voted,
        )
        for p in rows
    ]


async def is_proxy(motion_id: int, user_id: int) -> bool:
    return await ProxyAuthorization.exists(motion_id=motion_id, proxy_user_id=user_id, status__in=ACTIVE)


async def motions_as_proxy(user_id: int) -> list[int]:
    return list(
        await ProxyAuthorization.filter(proxy_user_id=user_id, status__in=ACTIVE).values_list(  # type: ignore[arg-type]
            "motion_id", flat=True
        )
    )


@dataclass(frozen=True, slots=True)
class ProxyView:
    """An authorization as the committee reviews it."""

    id: int
    voter_id: int
    rooms: list[str]
    owner_name: str
    proxy_user_id: int
    proxy_name: str
    proxy_phone: str | None  # masked
    status: str
    created_at: datetime
    decided_at: datetime | None
    documents: list[Photo] = field(default_factory=list)


async def proxies_of_motion(motion: Motion, *, cursor: str | None = None, limit: int = 20) -> Page[ProxyView]:
    rows = (
        await ProxyAuthorization.filter(motion_id=motion.id, id__gt=_after(cursor))
        .order_by("id")
        .limit(limit + 1)
        .prefetch_related("voter__owner", "proxy_user")
    )
    page = _page(rows, limit, lambda p: p.id)
    return Page([await proxy_view(p) for p in page.items], page.next_cursor)


async def proxy_view(p: ProxyAuthorization) -> ProxyView:
    user = p.proxy_user
    return ProxyView(
        id=p.id,
        voter_id=p.voter.id,
        rooms=[r["room"] for r in p.voter.rooms],
        owner_name=p.voter.owner.name,
        proxy_user_id=user.id,
        proxy_name=display_name(user, "受托人"),
        proxy_phone=identity.mask_phone(user.phone),
        status=p.status.value,
        created_at=p.created_at,
        decided_at=p.decided_at,
        documents=await records.photos_of(p.document_ref)
        if p.document_ref.startswith(SUBJECT_KIND + ":")
        else [],
    )


async def proxy_view_by_id(proxy_id: int) -> ProxyView:
    p = await ProxyAuthorization.get(id=proxy_id).prefetch_related("voter__owner", "proxy_user")
    return await proxy_view(p)
