"""What the caller may do with a motion now: the motion detail's ``allowed_actions``, so the app
knows which buttons to show. Each action is listed by the very predicate its route checks (one
source of truth):

- "cast": ``ballot_window_open`` and ``may_cast_again`` (voting.ballots casts only when both allow
  it; the PostgreSQL batch path states the same conditions in its SQL), for an owner on the roll;
- "cast_as_proxy": the same, for an approved proxy, for at least one owner they represent;
- "invite_proxy": ``proxy_window_open`` (voting.proxies.invite), for an owner on the roll;
- "view_results": ``results_published`` (GET /motions/{id}/results).

Pure predicates first; ``allowed_actions`` reads the caller's roll entry and proxies.
"""

from __future__ import annotations

from datetime import datetime

from core import clock
from voting.models import Channel, CurrentBallot, Motion, MotionStatus, ProxyAuthorization, ProxyStatus, Voter

CAST = "cast"
CAST_AS_PROXY = "cast_as_proxy"
INVITE_PROXY = "invite_proxy"
VIEW_RESULTS = "view_results"
ACTIONS: tuple[str, ...] = (CAST, CAST_AS_PROXY, INVITE_PROXY, VIEW_RESULTS)
PUBLISHED = (MotionStatus.COUNTED, MotionStatus.OBJECTION, MotionStatus.FINAL)


def ballot_window_open(motion: Motion, channel: Channel, now: datetime) -> bool:
    if channel is Channel.PAPER:  # paper ballots are entered afterwards, until the count
        return motion.status in (MotionStatus.OPEN, MotionStatus.CLOSED) and now >= motion.opens_at
    return motion.status is MotionStatus.OPEN and motion.opens_at <= now < motion.closes_at


def may_cast_again(current: Channel | None, channel: Channel, motion: Motion) -> bool:
    """False when this cast would replace an electronic (or proxy) ballot on a motion that does not
    allow changes. A paper entry never blocks an electronic ballot (the electronic one counts)."""
    changes_electronic = current is not None and current is not Channel.PAPER
    return not (changes_electronic and channel is not Channel.PAPER and not motion.allow_change)


def proxy_window_open(motion: Motion, now: datetime) -> bool:
    return motion.status is MotionStatus.OPEN and now < motion.closes_at


def results_published(motion: Motion) -> bool:
    return motion.status in PUBLISHED and motion.result is not None


async def allowed_actions(motion: Motion, user_id: int, now: datetime | None = None) -> list[str]:
    moment = now or clock.now()
    allowed: list[str] = []
    own = await Voter.filter(motion_id=motion.id, owner__user_id=user_id).first()
    represented = await ProxyAuthorization.filter(
        motion_id=motion.id, proxy_user_id=user_id, status=ProxyStatus.APPROVED
    ).values_list("voter_id", flat=True)
    voters = [own.id] if own else []
    voters += [int(v) for v in represented]  # type: ignore[call-overload]
    current = dict(
        await CurrentBallot.filter(motion_id=motion.id, voter_id__in=voters).values_list(
            "voter_id", "channel"
        )
    )

    def may_cast(voter_id: int, channel: Channel) -> bool:
        held = current.get(voter_id)
        return ballot_window_open(motion, channel, moment) and may_cast_again(
            Channel(held) if held is not None else None, channel, motion
        )

    if own is not None and may_cast(own.id, Channel.ELECTRONIC):
        allowed.append(CAST)
    if any(may_cast(int(v), Channel.PROXY) for v in represented):  # type: ignore[call-overload]
        allowed.append(CAST_AS_PROXY)
    if own is not None and proxy_window_open(motion, moment):
        allowed.append(INVITE_PROXY)
    if results_published(motion):
        allowed.append(VIEW_RESULTS)
    return allowed
