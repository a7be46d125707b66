"""Casting ballots. One current ballot per voter and motion is held by a unique constraint; every
cast is kept as its own row; each returns a receipt (the ballot's hash and a short code).

Casting never touches the motion's chain head: ballots are sealed into the chain in batches by the
Merkle root of their hashes (voting.sealing), so throughput is not serialised on one row."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from core import clock
from core.jsonutil import canonical
from voting import errors
from voting.actions import ballot_window_open, may_cast_again
from voting.models import (
    Ballot,
    BallotChoice,
    Channel,
    CurrentBallot,
    Motion,
    MotionItem,
    ProxyAuthorization,
    ProxyStatus,
    Voter,
)
from voting.rules import Choice, validate_selection

BALLOT_SCHEME = "wuye-ballot/1"
# Which of a voter's ballots counts (以最后一次为准), as the export states it. Every cast of a voter
# is stamped (cast_at) while the voter's current ballot is locked and later than it, and a change
# is written only forward, on every path and worker: so the order of cast_at is the order in which
# the database took the casts, and the current ballot is always the latest.
COUNTING_RULE: dict[str, Any] = {
    "latest_by": "cast_at",
    "paper_outranked_by": [Channel.ELECTRONIC.value, Channel.PROXY.value],
    "description": (
        "以最后一次投票为准：每位投票人计入投票时间（cast_at）最晚的一张选票；"
        "如有电子（含委托）选票，则计入其中最晚的一张，纸质选票不再计入。"
        "投票时间由服务器在写入时确定，同一投票人的选票按写入顺序严格递增。"
    ),
}
# Items never change once created (there is no edit of items); kept with the motion's creation time,
# so a reused id (a database restored or reset) can never serve another motion's items.
_items_cache: dict[int, tuple[datetime, list[MotionItem]]] = {}


@dataclass(frozen=True, slots=True)
class Receipt:
    ballot_id: int
    receipt_code: str
    ballot_hash: str
    nonce: str
    cast_at: datetime
    channel: str
    counted: bool  # False for a paper entry that an electronic ballot outranks


def _ballot_body(
    motion_id: int, voter_id: int, channel: str, choices: dict[str, Any], cast_at: str, nonce: str
) -> bytes:
    """What a ballot's hash is taken over: its canonical JSON (sorted keys, so "voter" comes last)."""
    body = {
        "scheme": BALLOT_SCHEME,
        "motion": motion_id,
        "voter": voter_id,
        "channel": channel,
        "choices": choices,
        "cast_at": cast_at,
        "nonce": nonce,
    }
    return canonical(body)


def ballot_hash(
    motion_id: int, voter_id: int, channel: str, choices: dict[str, Any], cast_at: str, nonce: str
) -> str:
    return hashlib.sha256(_ballot_body(motion_id, voter_id, channel, choices, cast_at, nonce)).hexdigest()


def ballot_hash_prefix(
    motion_id: int, channel: str, choices: dict[str, Any], cast_at: str, nonce: str
) -> bytes:
    """ballot_hash()'s input up to the voter id, for a database that knows the voter to finish:
    sha256(prefix + str(voter_id) + "}") == ballot_hash(...)."""
    encoded = _ballot_body(motion_id, 0, channel, choices, cast_at, nonce)
    assert encoded.endswith(b'"voter":0}')
    return encoded[: -len(b"0}")]


def receipt_code(hash_hex: str) -> str:
    return base64.b32encode(bytes.fromhex(hash_hex)[:10]).decode()[:12]


async def items_of(motion: Motion) -> list[MotionItem]:
    return await _items(motion.id, motion.created_at)


async def items_by_motion_id(motion_id: int) -> tuple[datetime, list[MotionItem]] | None:
    """The items and the motion's creation time, from the process's cache when it has them (the
    caller must check the creation time against the database); None when there is no such motion."""
    hit = _items_cache.get(motion_id)
    if hit is not None:
        return hit
    motion = await Motion.get_or_none(id=motion_id).only("id", "created_at")
    if motion is None:
        return None
    return motion.created_at, await items_of(motion)


async def _items(motion_id: int, created_at: datetime) -> list[MotionItem]:
    hit = _items_cache.get(motion_id)
    if hit is not None and hit[0] == created_at:
        return hit[1]
    items = await MotionItem.filter(motion_id=motion_id).order_by("position")
    if len(_items_cache) > 1000:
        _items_cache.clear()
    _items_cache[motion_id] = (created_at, items)
    return items


def normalise_choices(
    items: list[MotionItem], given: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[int, str, int | None]]]:
    """Every item answered; resolutions agree/oppose/abstain; elections up to `seats` known candidates."""
    by_id = {str(i.id): i for i in items}
    if set(given) != set(by_id):
        raise errors.BallotInvalid("须对每一个表决项作出选择", details={"expected_items": sorted(by_id)})
    normal: dict[str, Any] = {}
    rows: list[tuple[int, str, int | None]] = []
    for key, item in by_id.items():
        value = given[key]
        if item.seats is None:
            try:
                choice = Choice(value)
            except ValueError:
                raise errors.BallotInvalid("请选择同意、反对或弃权", details={"item": item.id}) from None
            normal[key] = choice.value
            rows.append((item.id, choice.value, None))
        else:
            if not isinstance(value, list) or not all(isinstance(c, int) for c in value):
                raise errors.BallotInvalid("选举项须为候选人编号列表", details={"item": item.id})
            chosen = validate_selection(value, [c["id"] for c in item.candidates], item.seats)
            normal[key] = sorted(chosen)
            rows += [(item.id, "elect", c) for c in sorted(chosen)] or [(item.id, "none", None)]
    return normal, rows


# The casting window and the change rule are voting.actions' predicates: the motion detail lists
# "cast" by the same ones (allowed_actions).
_window_open = ballot_window_open


async def voter_for(motion: Motion, user_id: int, channel: Channel, for_voter: int | None) -> Voter:
    if channel is Channel.ELECTRONIC:
        voter = await Voter.filter(motion_id=motion.id, owner__user_id=user_id).first()
    elif channel is Channel.PROXY:
        allowed = await ProxyAuthorization.exists(
            motion_id=motion.id, voter_id=for_voter, proxy_user_id=user_id, status=ProxyStatus.APPROVED
        )
        voter = await Voter.get_or_none(id=for_voter, motion_id=motion.id) if allowed else None
    else:
        voter = await Voter.get_or_none(id=for_voter, motion_id=motion.id)
    if voter is None:
        raise errors.NotAVoter()
    return voter


async def cast_by_id(
    motion_id: int, user_id: int, given: dict[str, Any], *, channel: Channel = Channel.ELECTRONIC,
    for_voter: int | None = None,
) -> Receipt:  # fmt: skip
    """An owner's own electronic ballot, or a proxy's. On PostgreSQL an owner's own ballot goes through
    voting.batch_cast (several casts per statement under load); elsewhere the motion and the caller's
    roll entry come in one query, then _cast. The general path runs when the fast one writes nothing
    (to say why) and for proxies."""
    if channel is Channel.ELECTRONIC:
        from voting import batch_cast  # imports this module

        if batch_cast.available():
            receipt = await batch_cast.cast(motion_id, user_id, given)
            if receipt is not None:
                return receipt
        else:
            voter = (
                await Voter.filter(motion_id=motion_id, owner__user_id=user_id)
                .select_related("motion")
                .first()
            )
            if voter is not None:
                return await _cast(voter.motion, voter, user_id, given, channel, None)
    motion = await Motion.get_or_none(id=motion_id)
    if motion is None:
        raise errors.MotionNotFound()
    return await cast(motion, user_id, given, channel=channel, for_voter=for_voter)


async def cast(
    motion: Motion, user_id: int, given: dict[str, Any], *, channel: Channel = Channel.ELECTRONIC,
    for_voter: int | None = None, scan_ref: str | None = None,
) -> Receipt:  # fmt: skip
    if not _window_open(motion, channel, clock.now()):
        raise errors.VotingNotOpen(details={"status": motion.status.value})
    voter = await voter_for(motion, user_id, channel, for_voter)
    return await _cast(motion, voter, user_id, given, channel, scan_ref)


_ATTEMPTS = 5
_TICK = timedelta(microseconds=1)


class _Raced(Exception):
    """Another writer created this voter's current ballot first: try again, now behind it."""


async def _cast(
    motion: Motion, voter: Voter, user_id: int, given: dict[str, Any], channel: Channel, scan_ref: str | None
) -> Receipt:
    if not _window_open(motion, channel, clock.now()):
        raise errors.VotingNotOpen(details={"status": motion.status.value})
    choices, rows = normalise_choices(await items_of(motion), given)
    for _ in range(_ATTEMPTS):
        try:
            async with in_transaction():
                return await _write(motion, voter, user_id, choices, rows, channel, scan_ref)
        except _Raced:
            continue
    raise errors.BallotAlreadyCast("选票正在被同时修改，请重试")


_FIRST_CAST = (
    "INSERT INTO voting_current_ballot (motion_id, voter_id, ballot_id, channel, version{extra}) "
    "VALUES ({marks}, 1{extra_mark}) ON CONFLICT (motion_id, voter_id) DO NOTHING RETURNING id"
)


async def _write(
    motion: Motion, voter: Voter, user_id: int, choices: dict[str, Any], rows: list[tuple[int, str, int | None]],
    channel: Channel, scan_ref: str | None,
) -> Receipt:  # fmt: skip
    """One cast in the caller's transaction. The voter's current ballot is locked first (PostgreSQL;
    SQLite runs one writer at a time), and the cast is stamped under that lock, later than the
    current ballot: so a voter's ballots are stamped in the order they are written, and the one
    that counts is always the latest by cast_at (COUNTING_RULE), whichever worker wrote it."""
    current = await CurrentBallot.filter(motion_id=motion.id, voter_id=voter.id).select_for_update().first()
    if channel is Channel.PROXY:
        # Checked again under the authorization's lock: a revocation (voting.proxies.revoke takes the
        # same lock, then looks for the proxy's ballot) lands wholly before or wholly after this cast.
        still = await (
            ProxyAuthorization.filter(
                motion_id=motion.id, voter_id=voter.id, proxy_user_id=user_id, status=ProxyStatus.APPROVED
            )
            .select_for_update()
            .first()
        )
        if still is None:
            raise errors.NotAVoter()
    if not may_cast_again(current.channel if current is not None else None, channel, motion):
        raise errors.BallotAlreadyCast()
    now = clock.now()
    if current is not None and current.cast_at is not None and now <= current.cast_at:
        now = current.cast_at + _TICK
    nonce = secrets.token_hex(16)
    digest = ballot_hash(motion.id, voter.id, channel.value, choices, clock.iso_utc(now), nonce)
    ballot = await Ballot.create(
        motion_id=motion.id, voter_id=voter.id, channel=channel, cast_by_id=user_id, cast_at=now, choices=choices,
        nonce=nonce, ballot_hash=digest, receipt_code=receipt_code(digest), scan_ref=scan_ref,
    )  # fmt: skip
    await BallotChoice.bulk_create(
        [BallotChoice(ballot_id=ballot.id, item_id=i, choice=c, candidate=cand) for i, c, cand in rows]
    )
    if current is None:
        await _first_cast(motion, voter, ballot, channel, now)
        counted = True
    elif channel is Channel.PAPER and current.channel is not Channel.PAPER:
        counted = False  # where an owner voted both ways, the electronic ballot counts
    else:
        updated = await CurrentBallot.filter(id=current.id, version=current.version).update(
            ballot_id=ballot.id, channel=channel, version=current.version + 1, cast_at=now
        )
        if not updated:
            raise _Raced()
        counted = True
    return Receipt(ballot.id, ballot.receipt_code, digest, nonce, now, channel.value, counted)


async def _first_cast(motion: Motion, voter: Voter, ballot: Ballot, channel: Channel, now: datetime) -> None:
    # One statement for the common first cast: the unique constraint decides, no savepoint needed.
    # (Inside the caller's transaction, connections.get returns the transaction's connection.)
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    sql = _FIRST_CAST.format(
        extra=", cast_at" if postgres else "",
        extra_mark=", $5" if postgres else "",
        marks="$1, $2, $3, $4" if postgres else "?, ?, ?, ?",
    )
    values: list[Any] = [motion.id, voter.id, ballot.id, channel.value] + ([now] if postgres else [])
    inserted = await conn.execute_query_dict(sql, values)
    if not inserted:
        raise _Raced()  # the next attempt locks the row the other writer created and goes after it
    if not postgres:  # the ORM writes SQLite's datetimes in its own format
        await CurrentBallot.filter(id=inserted[0]["id"]).update(cast_at=now)


async def my_ballot(motion: Motion, user_id: int) -> tuple[Voter | None, Ballot | None]:
    voter = await Voter.filter(motion_id=motion.id, owner__user_id=user_id).first()
    if voter is None:
        return None, None
    current = (
        await CurrentBallot.filter(motion_id=motion.id, voter_id=voter.id).prefetch_related("ballot").first()
    )
    return voter, current.ballot if current else None
