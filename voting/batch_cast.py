"""Owners' own electronic ballots on PostgreSQL, written several to a statement under load.

A cast's database work is mostly per statement (executor start-up for a plan over five tables, the
commit), not per row: one statement for 16 casts costs PostgreSQL about a third of the CPU per cast
of 16 one-cast statements (measured, see the voting note). So casts that arrive while earlier ones
are being written wait and go together in the next statement ("natural batching": at low load a
batch holds one cast and nothing waits). Each cast keeps its own outcome: the statement returns a
row for every cast it wrote, and a cast without a row goes to the general path, which says why.

The statement, per cast: find the caller's roll entry (inside the voting window only; the
created_at check guards the process's item cache against a reused motion id), hash the ballot (its
canonical JSON ends with `"voter":<id>}`, so the hash is the SHA-256 of a prefix computed here and
the voter id; the receipt code is receipt_code() in SQL), and let the current-ballot upsert decide:
a first ballot, or a change where the motion allows it or the current ballot is a paper one, and only
forward: a cast stamped no later than the current ballot (another worker's cast, stamped after ours,
was written first) writes nothing and goes the general path, which stamps it anew under the row's
lock (voting.ballots.COUNTING_RULE). The
ballot and its choice rows are written only where it did. Ballot ids are drawn first so the upsert
can point at them; foreign keys are checked at the end of the statement, when the ballots exist.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from core import clock
from core.jsonutil import dumps
from core.loops import PerLoop
from voting import errors
from voting.ballots import Receipt, ballot_hash_prefix, items_by_motion_id, normalise_choices
from voting.models import Channel

log = logging.getLogger("wuye.voting")
MAX_BATCH = 64  # casts per statement
WRITERS = 3  # statements in flight at once per process

_SQL = """
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::timestamptz[], $5::bytea[], $6::text[], $7::text[])
    AS i(ord, motion_id, user_id, created_at, prefix, choices, nonce)
), voter AS (
  SELECT DISTINCT ON (i.ord) i.ord, i.motion_id, i.user_id, i.choices, i.nonce, v.id AS voter_id,
    encode(sha256(i.prefix || convert_to(v.id::text || '}', 'UTF8')), 'hex') AS hash
  FROM input i JOIN voting_motion m ON m.id = i.motion_id
  JOIN voting_voter v ON v.motion_id = i.motion_id JOIN owner o ON o.id = v.owner_id AND o.user_id = i.user_id
  WHERE m.created_at = i.created_at AND m.status = 'open' AND m.opens_at <= $8 AND m.closes_at > $8
  ORDER BY i.ord, v.id
), cur AS (
  INSERT INTO voting_current_ballot AS c (motion_id, voter_id, ballot_id, channel, version, cast_at)
  SELECT motion_id, voter_id, nextval('voting_ballot_id_seq'), 'electronic', 1, $8 FROM voter
  ON CONFLICT (motion_id, voter_id) DO UPDATE
    SET ballot_id = EXCLUDED.ballot_id, channel = EXCLUDED.channel, version = c.version + 1,
      cast_at = EXCLUDED.cast_at
    WHERE (c.channel = 'paper' OR (SELECT allow_change FROM voting_motion WHERE id = c.motion_id))
      AND (c.cast_at IS NULL OR c.cast_at < EXCLUDED.cast_at)
  RETURNING c.ballot_id, c.motion_id, c.voter_id
), b AS (
  INSERT INTO voting_ballot
    (id, motion_id, voter_id, channel, cast_by_id, cast_at, choices, nonce, ballot_hash, receipt_code)
  SELECT cur.ballot_id, cur.motion_id, cur.voter_id, 'electronic', voter.user_id, $8, voter.choices::jsonb,
    voter.nonce, voter.hash,
    (SELECT string_agg(substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567',
       substring(('x' || substr(voter.hash, 1, 15))::bit(60) FROM 5 * k + 1 FOR 5)::int + 1, 1), '' ORDER BY k)
     FROM generate_series(0, 11) AS k)
  FROM cur JOIN voter ON voter.motion_id = cur.motion_id AND voter.voter_id = cur.voter_id
  RETURNING id, motion_id, voter_id, ballot_hash, receipt_code
), choice_rows AS (
  INSERT INTO voting_ballot_choice (ballot_id, item_id, choice, candidate)
  SELECT b.id, x.item, x.choice, x.candidate
  FROM unnest($9::int[], $10::int[], $11::text[], $12::int[]) AS x(ord, item, choice, candidate)
  JOIN voter ON voter.ord = x.ord JOIN b ON b.motion_id = voter.motion_id AND b.voter_id = voter.voter_id
)
SELECT voter.ord, b.id, b.ballot_hash, b.receipt_code
FROM b JOIN voter ON voter.motion_id = b.motion_id AND voter.voter_id = b.voter_id"""


@dataclass(slots=True)
class _Job:
    motion_id: int
    user_id: int
    created_at: datetime
    choices: dict[str, Any]
    rows: list[tuple[int, str, int | None]]
    done: asyncio.Future[Receipt | None] = field(repr=False)


class _Writer:
    """The casts of one event loop waiting to be written, and the writers writing them."""

    def __init__(self) -> None:
        self.waiting: list[_Job] = []
        self.busy: set[tuple[int, int]] = set()  # voters with a cast in a statement in flight
        self.writers = 0  # counted by the writers themselves, so one that has stopped taking is not counted
        self.tasks: set[asyncio.Task[None]] = set()  # references, so that running writers are not collected
        self.statements = 0  # written so far (for tests and diagnostics)

    def submit(self, job: _Job) -> None:
        self.waiting.append(job)
        if self.writers < WRITERS:
            self.writers += 1
            task = asyncio.get_running_loop().create_task(self._write())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _take(self) -> list[_Job]:
        """Up to MAX_BATCH casts, at most one per voter and none of a voter whose earlier cast is still
        being written (an upsert cannot touch a row twice in one statement, and one person's casts are
        written in the order they came): such a cast waits for a later statement."""
        batch: list[_Job] = []
        later: list[_Job] = []
        for job in self.waiting:
            key = (job.motion_id, job.user_id)
            if len(batch) < MAX_BATCH and key not in self.busy:
                self.busy.add(key)
                batch.append(job)
            else:
                later.append(job)
        self.waiting = later
        # Every statement takes its row locks in the same order (by voter key), so two statements in
        # flight cannot deadlock on the current-ballot rows.
        batch.sort(key=lambda job: (job.motion_id, job.user_id))
        return batch

    async def _write(self) -> None:
        """Write statements until nothing is left that this writer may take. Casts held back because
        their voter is busy are taken by the writer that holds the voter, after its statement."""
        try:
            await self._write_all()
        finally:
            self.writers -= 1

    async def _write_all(self) -> None:
        while batch := self._take():
            self.statements += 1
            try:
                receipts = await _write_batch(batch)
            except asyncio.CancelledError:  # the server is stopping: nobody waits for ever
                for job in batch + self.waiting:
                    job.done.cancel()
                self.waiting = []
                raise
            except Exception:  # nothing of the statement was written: each cast goes the general way
                log.warning(
                    "batched cast statement failed; %d casts retried one by one", len(batch), exc_info=True
                )
                receipts = {}
            finally:
                self.busy.difference_update((job.motion_id, job.user_id) for job in batch)
            for ord_, job in enumerate(batch):
                if not job.done.done():
                    job.done.set_result(receipts.get(ord_))


_writer = PerLoop(_Writer).get


def statements_written() -> int:
    """How many statements this event loop's writer has sent (tests check that casts share them)."""
    return _writer().statements


def available() -> bool:
    """PostgreSQL, outside a transaction (a batch must not join someone's transaction)."""
    conn = connections.get("default")
    return conn.capabilities.dialect == "postgres" and not isinstance(conn, TransactionalDBClient)


async def _write_batch(batch: list[_Job]) -> dict[int, Receipt]:
    now = clock.now()
    cast_at = clock.iso_utc(now)
    electronic = Channel.ELECTRONIC.value
    nonces = [secrets.token_hex(16) for _ in batch]
    choice_rows = [(i, item, choice, cand) for i, job in enumerate(batch) for item, choice, cand in job.rows]
    params: list[Any] = [
        list(range(len(batch))),
        [j.motion_id for j in batch],
        [j.user_id for j in batch],
        [j.created_at for j in batch],
        [
            ballot_hash_prefix(j.motion_id, electronic, j.choices, cast_at, n)
            for j, n in zip(batch, nonces, strict=True)
        ],
        [dumps(j.choices) for j in batch],
        nonces,
        now,
        *([row[k] for row in choice_rows] for k in range(4)),
    ]
    _, written = await connections.get("default").execute_query(_SQL, params)
    return {
        ord_: Receipt(ballot_id, code, digest, nonces[ord_], now, electronic, True)
        for ord_, ballot_id, digest, code in written
    }


async def cast(motion_id: int, user_id: int, given: dict[str, Any]) -> Receipt | None:
    """The receipt, or None when nothing was written (not on the roll, the window shut, a change the
    motion does not allow, choices that do not fit the cached items, or the statement failed): the
    general path then casts or says why."""
    found = await items_by_motion_id(motion_id)
    if found is None:
        return None
    created_at, items = found
    try:
        choices, rows = normalise_choices(items, given)
    except errors.BallotInvalid:
        return None
    done: asyncio.Future[Receipt | None] = asyncio.get_running_loop().create_future()
    _writer().submit(_Job(motion_id, user_id, created_at, choices, rows, done))
    return await done
