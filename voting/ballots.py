"""Casting ballots. One current ballot per voter and motion is held by a unique constraint; every
cast is kept as its own row; each returns a receipt (the ballot's hash and a short code).

Casting never touches the motion's chain head: ballots are sealed into the chain in batches by the
Merkle root of their hashes (voting.sealing), so throughput is not serialised on one row."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from core import clock
from core.jsonutil import canonical, dumps
from voting import errors
from voting.models import (
    Ballot,
    BallotChoice,
    Channel,
    CurrentBallot,
    Motion,
    MotionItem,
    MotionStatus,
    ProxyAuthorization,
    ProxyStatus,
    Voter,
)
from voting.rules import Choice, validate_selection

BALLOT_SCHEME = "wuye-ballot/1"
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


def ballot_hash(
    motion_id: int, voter_id: int, channel: str, choices: dict[str, Any], cast_at: str, nonce: str
) -> str:
    body = {
        "scheme": BALLOT_SCHEME,
        "motion": motion_id,
        "voter": voter_id,
        "channel": channel,
        "choices": choices,
        "cast_at": cast_at,
        "nonce": nonce,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


def receipt_code(hash_hex: str) -> str:
    return base64.b32encode(bytes.fromhex(hash_hex)[:10]).decode()[:12]


async def items_of(motion: Motion) -> list[MotionItem]:
    return await _items(motion.id, motion.created_at)


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


def _window_open(motion: Motion, channel: Channel, now: datetime) -> bool:
    if channel is Channel.PAPER:  # paper ballots are entered afterwards, until the count
        return motion.status in (MotionStatus.OPEN, MotionStatus.CLOSED) and now >= motion.opens_at
    return motion.status is MotionStatus.OPEN and motion.opens_at <= now < motion.closes_at


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
    """The hot path of an owner's own electronic ballot: on PostgreSQL one lookup and one statement
    (_cast_postgres), elsewhere the motion and the caller's roll entry in one query then _cast. The
    general path runs when the hot path writes nothing (to say why) and for proxies."""
    if channel is Channel.ELECTRONIC and _dialect() == "postgres":
        receipt = await _cast_postgres(motion_id, user_id, given)
        if receipt is not None:
            return receipt
    elif channel is Channel.ELECTRONIC:
        voter = (
            await Voter.filter(motion_id=motion_id, owner__user_id=user_id).select_related("motion").first()
        )
        if voter is not None:
            return await _cast(voter.motion, voter, user_id, given, channel, None)
    motion = await Motion.get_or_none(id=motion_id)
    if motion is None:
        raise errors.MotionNotFound()
    return await cast(motion, user_id, given, channel=channel, for_voter=for_voter)


def _dialect() -> str:
    return str(connections.get("default").capabilities.dialect)


# One statement casts an owner's own electronic ballot: it finds the caller's roll entry (inside the
# voting window only; the created_at check guards the process's item cache against a reused id),
# hashes the ballot (the canonical JSON of the ballot ends with `"voter":<id>}`, so the hash is the
# SHA-256 of a prefix computed here and the voter id; receipt_code() in SQL), and lets the
# current-ballot upsert decide: a first ballot, or a change where the motion allows it or the
# current ballot is a paper one. The ballot and its choice rows are written only when it did. The
# ballot id is drawn first so the upsert can point at it; the foreign key is checked at the end of
# the statement, when the ballot row exists.
_PG_CAST = """
WITH voter AS (
  SELECT v.id, encode(sha256($5::bytea || convert_to(v.id::text || '}', 'UTF8')), 'hex') AS hash
  FROM voting_voter v JOIN owner o ON o.id = v.owner_id JOIN voting_motion m ON m.id = v.motion_id
  WHERE v.motion_id = $1 AND o.user_id = $2 AND m.created_at = $4
    AND m.status = 'open' AND m.opens_at <= $3 AND m.closes_at > $3
  ORDER BY v.id LIMIT 1
), cur AS (
  INSERT INTO voting_current_ballot AS c (motion_id, voter_id, ballot_id, channel, version)
  SELECT $1, voter.id, nextval('voting_ballot_id_seq'), 'electronic', 1 FROM voter
  ON CONFLICT (motion_id, voter_id) DO UPDATE
    SET ballot_id = EXCLUDED.ballot_id, channel = EXCLUDED.channel, version = c.version + 1
    WHERE c.channel = 'paper' OR (SELECT allow_change FROM voting_motion WHERE id = $1)
  RETURNING c.ballot_id
), b AS (
  INSERT INTO voting_ballot
    (id, motion_id, voter_id, channel, cast_by_id, cast_at, choices, nonce, ballot_hash, receipt_code)
  SELECT cur.ballot_id, $1, voter.id, 'electronic', $2, $3, $6::jsonb, $7, voter.hash,
    (SELECT string_agg(substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567',
       substring(('x' || substr(voter.hash, 1, 15))::bit(60) FROM 5 * i + 1 FOR 5)::int + 1, 1), '' ORDER BY i)
     FROM generate_series(0, 11) AS i)
  FROM cur, voter
  RETURNING id, ballot_hash, receipt_code
), rows AS (
  INSERT INTO voting_ballot_choice (ballot_id, item_id, choice, candidate)
  SELECT b.id, x.item, x.choice, x.candidate FROM b,
    unnest($8::int[], $9::text[], $10::int[]) AS x(item, choice, candidate)
)
SELECT id, ballot_hash, receipt_code FROM b"""


def _hash_prefix(motion_id: int, choices: dict[str, Any], cast_at: str, nonce: str) -> bytes:
    """ballot_hash()'s input up to the voter id (which sorts last), for the database to finish."""
    body = {
        "scheme": BALLOT_SCHEME, "motion": motion_id, "voter": 0, "channel": Channel.ELECTRONIC.value,
        "choices": choices, "cast_at": cast_at, "nonce": nonce,
    }  # fmt: skip
    encoded = canonical(body)
    assert encoded.endswith(b'"voter":0}')
    return encoded[: -len(b"0}")]


async def _cast_postgres(motion_id: int, user_id: int, given: dict[str, Any]) -> Receipt | None:
    """One round trip, no explicit transaction. None when the statement wrote nothing (no roll
    entry, the window is shut, or a change the motion does not allow) or the choices do not fit the
    cached items: the general path then says why."""
    hit = _items_cache.get(motion_id)
    if hit is not None:
        created_at, items = hit
    else:
        motion = await Motion.get_or_none(id=motion_id).only("id", "created_at")
        if motion is None:
            return None
        created_at, items = motion.created_at, await items_of(motion)
    try:
        choices, rows = normalise_choices(items, given)
    except errors.BallotInvalid:
        return None
    now = clock.now()
    nonce = secrets.token_hex(16)
    prefix = _hash_prefix(motion_id, choices, clock.iso_utc(now), nonce)
    params = [motion_id, user_id, now, created_at, prefix, dumps(choices), nonce]
    params += [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]]
    _, written = await connections.get("default").execute_query(_PG_CAST, params)
    if not written:
        return None
    ballot_id, digest, code = written[0]
    return Receipt(ballot_id, code, digest, nonce, now, Channel.ELECTRONIC.value, True)


async def cast(
    motion: Motion, user_id: int, given: dict[str, Any], *, channel: Channel = Channel.ELECTRONIC,
    for_voter: int | None = None, scan_ref: str | None = None,
) -> Receipt:  # fmt: skip
    if not _window_open(motion, channel, clock.now()):
        raise errors.VotingNotOpen(details={"status": motion.status.value})
    voter = await voter_for(motion, user_id, channel, for_voter)
    return await _cast(motion, voter, user_id, given, channel, scan_ref)


async def _cast(
    motion: Motion, voter: Voter, user_id: int, given: dict[str, Any], channel: Channel, scan_ref: str | None
) -> Receipt:
    now = clock.now()
    if not _window_open(motion, channel, now):
        raise errors.VotingNotOpen(details={"status": motion.status.value})
    choices, rows = normalise_choices(await items_of(motion), given)
    nonce = secrets.token_hex(16)
    digest = ballot_hash(motion.id, voter.id, channel.value, choices, clock.iso_utc(now), nonce)
    async with in_transaction():
        ballot = await Ballot.create(
            motion_id=motion.id, voter_id=voter.id, channel=channel, cast_by_id=user_id, cast_at=now, choices=choices,
            nonce=nonce, ballot_hash=digest, receipt_code=receipt_code(digest), scan_ref=scan_ref,
        )  # fmt: skip
        await BallotChoice.bulk_create(
            [BallotChoice(ballot_id=ballot.id, item_id=i, choice=c, candidate=cand) for i, c, cand in rows]
        )
        counted = await _make_current(motion, voter, ballot, channel)
    return Receipt(ballot.id, ballot.receipt_code, digest, nonce, now, channel.value, counted)


_FIRST_CAST = (
    "INSERT INTO voting_current_ballot (motion_id, voter_id, ballot_id, channel, version) "
    "VALUES ({marks}, 1) ON CONFLICT (motion_id, voter_id) DO NOTHING RETURNING id"
)


async def _make_current(motion: Motion, voter: Voter, ballot: Ballot, channel: Channel) -> bool:
    # One statement for the common first cast: the unique constraint decides, no savepoint needed.
    # (Inside the caller's transaction, connections.get returns the transaction's connection.)
    conn = connections.get("default")
    marks = "$1, $2, $3, $4" if conn.capabilities.dialect == "postgres" else "?, ?, ?, ?"
    if await conn.execute_query_dict(
        _FIRST_CAST.format(marks=marks), [motion.id, voter.id, ballot.id, channel.value]
    ):
        return True
    # The voter already has a current ballot: lock it (PostgreSQL; SQLite serialises writers itself).
    current = await CurrentBallot.filter(motion_id=motion.id, voter_id=voter.id).select_for_update().first()
    assert current is not None
    if channel is Channel.PAPER and current.channel is not Channel.PAPER:
        return False  # where an owner voted both ways, the electronic ballot counts
    if not motion.allow_change and current.channel is not Channel.PAPER and channel is not Channel.PAPER:
        raise errors.BallotAlreadyCast()
    updated = await CurrentBallot.filter(id=current.id, version=current.version).update(
        ballot_id=ballot.id, channel=channel, version=current.version + 1
    )
    if not updated:
        raise errors.BallotAlreadyCast("选票正在被同时修改，请重试")
    return True


async def my_ballot(motion: Motion, user_id: int) -> tuple[Voter | None, Ballot | None]:
    voter = await Voter.filter(motion_id=motion.id, owner__user_id=user_id).first()
    if voter is None:
        return None, None
    current = (
        await CurrentBallot.filter(motion_id=motion.id, voter_id=voter.id).prefetch_related("ballot").first()
    )
    return voter, current.ballot if current else None
