"""Reads for people and the committee: my motions, public roll, receipts, ballot lists, turnout, proxies,
and the offline-verifiable export of a motion."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Ownership
from audit.service import Actor, append
from audit.service import events as audit_events
from audit.service import head as audit_head
from core import clock
from voting import errors, sealing
from voting.ballots import items_of
from voting.counting import tally
from voting.lifecycle import motion_stream
from voting.models import Ballot, CurrentBallot, Motion, MotionStatus, ProxyAuthorization, ProxyStatus, Voter
from voting.roll import hundredths_to_area

VISIBLE = [s for s in MotionStatus if s is not MotionStatus.DRAFT]


async def motions_for_user(user_id: int) -> list[Motion]:
    compounds = await Ownership.filter(owner__user_id=user_id).values_list("unit__compound_id", flat=True)
    return await Motion.filter(compound_id__in=set(compounds), status__in=VISIBLE).order_by("-opens_at")


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
    if motion.roll_hash is None:
        raise errors.MotionWrongState("投票尚未开始")
    result = await tally(motion)
    return {"total": result["total"], "participating": result["participating"], "items": result["items"]}


async def receipt(motion: Motion, code: str) -> sealing.Inclusion:
    ballot = await Ballot.get_or_none(motion_id=motion.id, receipt_code=code.strip().upper())
    if ballot is None:
        raise errors.ReceiptNotFound()
    if ballot.batch_id is None:  # type: ignore[attr-defined]
        await sealing.seal(motion.id)  # a receipt asked for before the next batch: seal it now
        await ballot.refresh_from_db()
    counted = await CurrentBallot.exists(motion_id=motion.id, ballot_id=ballot.id)
    return await sealing.inclusion(ballot, counted)


async def ballot_list(motion: Motion) -> list[dict[str, Any]]:
    """The anonymised list of counted ballots: room, area and choice; none for a secret motion."""
    if motion.status not in (MotionStatus.COUNTED, MotionStatus.OBJECTION, MotionStatus.FINAL):
        raise errors.MotionWrongState("计票完成后公布")
    if motion.secret:
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


async def request_proxy(
    motion: Motion, user_id: int, proxy_user_id: int, document_ref: str, actor: Actor
) -> ProxyAuthorization:
    voter = await Voter.filter(motion_id=motion.id, owner__user_id=user_id).first()
    if voter is None:
        raise errors.NotAVoter()
    if motion.status not in (MotionStatus.OPEN, MotionStatus.ANNOUNCED) and motion.roll_hash is None:
        raise errors.VotingNotOpen()
    async with in_transaction():
        proxy = await ProxyAuthorization.create(
            motion_id=motion.id, voter_id=voter.id, proxy_user_id=proxy_user_id, document_ref=document_ref
        )
        await append(
            motion_stream(motion.id),
            "proxy.requested",
            actor=actor,
            subject=f"voter:{voter.id}",
            payload={"proxy_id": proxy.id, "proxy_user_id": proxy_user_id},
        )
    return proxy


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
    """Everything needed to check the motion offline: its chain (audit export format) and every
    ballot's hash with its batch; ballot contents too unless the motion is secret."""
    await sealing.seal_all(motion.id)
    stream = motion_stream(motion.id)
    ballots = await Ballot.filter(motion_id=motion.id).prefetch_related("batch").order_by("id")
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
        if not motion.secret:
            row.update({"motion": motion.id, "voter": b.voter_id, "channel": b.channel.value, "choices": b.choices,  # type: ignore[attr-defined]
                        "cast_at": clock.iso_utc(b.cast_at), "nonce": b.nonce})  # fmt: skip
        out_ballots.append(row)
    head = await audit_head(stream)
    return {
        "format": "wuye-audit-export/1",
        "exported_at": clock.iso_utc(clock.now()),
        "heads": {stream: {"seq": head["seq"], "hash": head["hash"]}} if head else {},
        "streams": {stream: await audit_events(stream)},
        "motion": {
            "id": motion.id,
            "title": motion.title,
            "status": motion.status.value,
            "roll_hash": motion.roll_hash,
            "items": items,
            "secret": motion.secret,
        },
        "ballots": out_ballots,
    }
