"""Reads for people and the committee: my motions, public roll, receipts, ballot lists, turnout, proxies,
and the offline-verifiable export of a motion."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accounts.models import Ownership
from audit.service import Actor, append, snapshot
from audit.service import events as audit_events
from audit.service import head as audit_head
from core import clock, pages
from voting import disclosure, errors, sealing
from voting.ballots import COUNTING_RULE, items_of
from voting.counting import participation
from voting.lifecycle import motion_stream
from voting.models import Ballot, CurrentBallot, Motion, MotionStatus, ProxyAuthorization, ProxyStatus, Voter
from voting.proxies import motions_as_proxy
from voting.roll import Weight, hundredths_to_area

VISIBLE = [s for s in MotionStatus if s is not MotionStatus.DRAFT]


# What /motions/mine lists unless asked for a status: a cancelled motion is over and decided nothing.
CURRENT = [s for s in VISIBLE if s is not MotionStatus.CANCELLED]


async def motions_for_user(
    user_id: int,
    *,
    statuses: list[MotionStatus] | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> pages.Page[Motion]:
    """The motions of the compounds where the user owns a unit, and those where they are (or asked to
    be) an owner's proxy (voting.proxies), newest first (by id), a keyset page. ``statuses`` narrows
    them (never to drafts); by default every status but cancelled."""
    before = pages.before(cursor)
    wanted = [s for s in (statuses or CURRENT) if s in VISIBLE]
    compounds = await Ownership.filter(owner__user_id=user_id).values_list("unit__compound_id", flat=True)
    as_proxy = await motions_as_proxy(user_id)
    mine = Q(compound_id__in=set(compounds)) | Q(id__in=as_proxy)
    query = Motion.filter(mine, status__in=wanted)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda motion: motion.id)


async def motions_of_compound(
    compound_id: int, *, status: MotionStatus | None = None, cursor: str | None = None, limit: int = 20
) -> pages.Page[Motion]:
    """Every motion of a compound (drafts and cancelled ones too: the committee's own list), newest
    first, a keyset page; ``status`` narrows it to one status."""
    before = pages.before(cursor)
    query = Motion.filter(compound_id=compound_id)
    if before is not None:
        query = query.filter(id__lt=before)
    if status is not None:
        query = query.filter(status=status)
    rows = await query.order_by("-id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda motion: motion.id)


async def public_roll(motion: Motion) -> list[dict[str, Any]]:
    """Rooms and areas, never names (published once the roll is frozen)."""
    if motion.roll_hash is None:
        raise errors.MotionWrongState("表决名单尚未冻结")
    voters = await Voter.filter(motion_id=motion.id).order_by("id")
    return [
        {
            "voter_id": v.id,
            "area": str(hundredths_to_area(v.area_h)),
            "developer": v.is_developer,
            "rooms": v.rooms,
        }
        for v in voters
    ]


async def turnout(motion: Motion) -> dict[str, Any]:
    """Participation as totals (heads and area), never choices: not even the committee sees how the
    vote stands before the count (voting.disclosure)."""
    if motion.roll_hash is None:
        raise errors.MotionWrongState("投票尚未开始")
    total = Weight(int(motion.total_area_h or 0), int(motion.total_headcount or 0))
    return {"total": total.to_dict(), "participating": (await participation(motion)).to_dict()}


RECEIPT_CODE_LENGTH = Ballot._meta.fields_map["receipt_code"].max_length  # type: ignore[attr-defined]


async def receipt(motion: Motion, code: str) -> sealing.Inclusion:
    code = code.strip().upper()
    if len(code) > RECEIPT_CODE_LENGTH:  # longer than any receipt: names none (and no query is made)
        raise errors.ReceiptNotFound()
    ballot = await Ballot.get_or_none(motion_id=motion.id, receipt_code=code)
    if ballot is None:
        raise errors.ReceiptNotFound()
    if ballot.batch_id is None:  # type: ignore[attr-defined]
        await sealing.seal_through(motion.id, ballot.id)  # asked for before the next batch: seal now
        await ballot.refresh_from_db()
    counted = await CurrentBallot.exists(motion_id=motion.id, ballot_id=ballot.id)
    return await sealing.inclusion(ballot, counted)


async def ballot_list(motion: Motion) -> list[dict[str, Any]]:
    """The anonymised list of counted ballots: room, area and choice; none for a secret motion."""
    if not disclosure.results_published(motion):
        raise errors.MotionWrongState("计票完成后公布", code="results_not_ready")
    if not disclosure.ballots_by_room_published(motion):
        raise errors.MotionWrongState("本事项为无记名表决，不公布逐票明细", code="motion_secret")
    rows = (
        await CurrentBallot.filter(motion_id=motion.id)
        .prefetch_related("voter", "ballot")
        .order_by("voter_id")
    )
    return [
        {
            "rooms": [r["room"] for r in c.voter.rooms],
            "area": str(hundredths_to_area(c.voter.area_h)),
            "choices": c.ballot.choices,
            "channel": c.channel.value,
        }
        for c in rows
    ]


async def decide_proxy(
    motion: Motion, proxy_id: int, approve: bool, actor: Actor, decider_id: int
) -> ProxyAuthorization:
    target = ProxyStatus.APPROVED if approve else ProxyStatus.REJECTED
    async with in_transaction():
        moved = await ProxyAuthorization.filter(
            id=proxy_id, motion_id=motion.id, status=ProxyStatus.PENDING
        ).update(status=target, decided_by_id=decider_id, decided_at=clock.now())
        if not moved:
            raise errors.ProxyNotFound("未找到待审核的委托")
        await append(
            motion_stream(motion.id),
            f"proxy.{target.value}",
            actor=actor,
            subject=f"proxy:{proxy_id}",
            payload={},
        )
    return await ProxyAuthorization.get(id=proxy_id)


async def export(motion: Motion) -> dict[str, Any]:
    """Everything needed to check the motion offline: its chain (audit export format), the frozen
    roll, and every ballot by its hash with its sealed batch. After the count the totals too, which
    ballots counted, and for an open motion each ballot's content, so its hash and the totals can be
    recomputed; before the count, and for a secret motion ever, no ballot names its voter or choice."""
    await sealing.seal_all(motion.id)
    stream = motion_stream(motion.id)
    async with snapshot():  # the ballots, which counted, the head and the events as of one moment
        ballots = await Ballot.filter(motion_id=motion.id).prefetch_related("batch").order_by("id")
        counted = set(await CurrentBallot.filter(motion_id=motion.id).values_list("ballot_id", flat=True))
        head = await audit_head(stream)
        events = await audit_events(stream)
    published, by_room = disclosure.results_published(motion), disclosure.ballots_by_room_published(motion)
    items = [
        {"id": i.id, "title": i.title, "matter": i.matter, "seats": i.seats, "candidates": i.candidates}
        for i in await items_of(motion)
    ]
    out_ballots = []
    for b in ballots:
        row: dict[str, Any] = {
            "id": b.id,
            "ballot_hash": b.ballot_hash,
            "batch": b.batch.seq if b.batch else None,
        }
        if published:
            row["counted"] = b.id in counted
        if by_room:
            row.update({"motion": motion.id, "voter": b.voter_id, "channel": b.channel.value, "choices": b.choices,  # type: ignore[attr-defined]
                        "cast_at": clock.iso_utc(b.cast_at), "nonce": b.nonce})  # fmt: skip
        out_ballots.append(row)
    return {
        "format": "wuye-audit-export/1",
        "exported_at": clock.iso_utc(clock.now()),
        "heads": {stream: {"seq": head["seq"], "hash": head["hash"]}} if head else {},
        "streams": {stream: events},
        "motion": {
            "id": motion.id,
            "title": motion.title,
            "status": motion.status.value,
            "roll_hash": motion.roll_hash,
            "items": items,
            "secret": motion.secret,
            "counting_rule": COUNTING_RULE,
            "follow_majority": motion.follow_majority,
            "result": motion.result if published else None,
        },
        "roll": await public_roll(motion) if motion.roll_hash is not None else [],
        "ballots": out_ballots,
    }
