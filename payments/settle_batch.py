"""Payments of one payee that arrive together, settled together ("group commit").

Settling a payment is mostly per transaction, not per row: every payment of a payee locks the
payee's ledger chain head (its audit stream's head) and receipt counter until its commit, so on
PostgreSQL the payee's notifications queue there one commit after another, and on SQLite the one
connection is held for the whole transaction. So payments that arrive while an earlier batch of
their payee is being written wait and go together in the next one; at low load a batch holds one
payment and nothing waits (bookings.batch and voting.batch_cast batch the same way).

Batches are keyed by the result's sub_mchid (one payee's: sub_mchid is unique per payee, and the
order's must be the result's). On PostgreSQL the orders of the payee's results are read first, in
one query while its batch before is written; a result whose order would not move is answered at
once, and a batch of bill orders is one statement (payments.settle_pg). Other batches, and those
the statement could not take, are one transaction (payments.settle_tx). If that fails, the caller
settles each payment of the batch alone (settle.apply_result), so one bad payment never takes the
others down with it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from tortoise import connections

from core.batching import Batcher, start_keyed
from core.loops import PerLoop
from payments import settle_pg
from payments.models import BILLS
from payments.settle_tx import Paying, settle_together

__all__ = ["BatchFailed", "Paying", "settle", "settle_together", "transactions"]

MAX_BATCH = 32  # payments per transaction
log = logging.getLogger("wuye.payments")


@dataclass(slots=True)
class _Job:
    paying: Paying
    done: asyncio.Future[bool] = field(repr=False)
    read: settle_pg.Read | None = None  # PostgreSQL: its order as read before its batch (_Writer._read)


class BatchFailed(Exception):
    """The transaction of a payment's batch failed and rolled back; ``alone``: the batch held only
    this payment (so settling it alone again would do the same)."""

    def __init__(self, error: BaseException, *, alone: bool) -> None:
        super().__init__(str(error))
        self.error, self.alone = error, alone


class _Writer:
    """The payments of one event loop waiting to be settled, by sub_mchid, and the writers at work
    (one transaction at a time per payee: they would queue on its chain head anyway)."""

    def __init__(self) -> None:
        self.waiting: dict[str, list[_Job]] = defaultdict(list)
        self.writing: dict[str, asyncio.Task[None]] = {}  # referenced while they run
        self.transactions = 0
        # PostgreSQL: each payee's chain head as this loop's last statement left it, by sub_mchid
        # (payee id, (seq, hash)); another process's (or a refund's) move makes it stale, and the
        # statement that starts from it is undone and tried again from the head as it is then
        self.heads: dict[str, tuple[int, tuple[int, str]]] = {}

    def submit(self, job: _Job) -> None:
        key = job.paying.txn.sub_mchid
        self.waiting[key].append(job)
        start_keyed(self.writing, key, lambda: self._write(key), functools.partial(self._abandon, key))

    def _abandon(self, key: str) -> None:
        for job in self.waiting.pop(key, []):
            if not job.done.done():
                job.done.cancel()

    async def _write(self, key: str) -> None:
        batch: list[_Job] = []
        try:
            while self.waiting.get(key):
                jobs = self.waiting[key]
                batch, self.waiting[key] = jobs[:MAX_BATCH], jobs[MAX_BATCH:]
                self.transactions += 1
                try:
                    moved = await self._settle(key, batch)
                except Exception as exc:  # rolled back as a whole: each alone, by the caller
                    for job in batch:
                        if not job.done.done():
                            job.done.set_exception(BatchFailed(exc, alone=len(batch) == 1))
                else:
                    for job, one in zip(batch, moved, strict=True):
                        if not job.done.done():
                            job.done.set_result(one)
                batch = []
        finally:
            # Cancelled (shutdown): whoever still waits is cancelled too, not left hanging.
            for job in batch + self.waiting.pop(key, []):
                if not job.done.done():
                    job.done.cancel()

    async def _settle(self, key: str, batch: list[_Job]) -> list[bool]:
        """Bill orders (each read, and moved by its result: PostgreSQL) in one statement; the
        others, or those the statement could not take, the general way."""
        payings = [job.paying for job in batch]
        reads = {job.paying.txn.out_trade_no: job.read for job in batch if job.read is not None}
        if len(reads) == len({p.txn.out_trade_no for p in payings}) and all(
            r.order.purpose == BILLS for r in reads.values()
        ):
            moved = await self._one_statement(key, payings, reads)
            if moved is not None:
                return moved
        return await settle_together(payings)

    async def _one_statement(
        self, key: str, payings: list[Paying], reads: dict[str, settle_pg.Read]
    ) -> list[bool] | None:
        """Bill orders that their results would move (PostgreSQL): one statement (settle_pg.write)
        from the payee's head as this loop last left it, then as it is now; None when neither held
        (the caller goes the general way, which says what each payment comes to)."""
        firsts: dict[str, Paying] = {}
        for paying in payings:
            firsts.setdefault(paying.txn.out_trade_no, paying)
        batch = [(reads[no], paying) for no, paying in firsts.items()]
        payee_id = batch[0][0].order.payee_id
        if any(r.order.payee_id != payee_id for r, _ in batch):
            return None  # sub_mchid names one payee: cannot happen, and then the general way
        cached = self.heads.pop(key, None)
        starts: list[tuple[int, str] | None] = [cached[1]] if cached and cached[0] == payee_id else []
        for start in [*starts, None]:  # None: the head as it is by then
            start = start or await settle_pg.head(payee_id)
            if start is None:
                return None  # the payee's first entry: its head is made the general way
            try:
                self.heads[key] = (payee_id, await settle_pg.write(payee_id, batch, start))
            except Exception as exc:  # undone: an order moved meanwhile, the head was elsewhere, or it failed
                log.debug("payments of %s in one statement from head %s undone: %s", key, start[0], exc)
                continue
            return [paying is firsts[paying.txn.out_trade_no] for paying in payings]
        return None


_writer = PerLoop(_Writer).get


async def _read_orders(out_trade_nos: list[str]) -> list[settle_pg.Read | None]:
    found = await settle_pg.read(out_trade_nos)
    return [found.get(no) for no in out_trade_nos]


# PostgreSQL: the orders of one payee's results, read together (core.batching), outside any lock, while
# the payee's batch before is still being written
def _readers_of_loop() -> Batcher[str, str, settle_pg.Read | None]:
    return Batcher(lambda _, nos: _read_orders(nos), limit=MAX_BATCH)


_readers = PerLoop(_readers_of_loop).get


async def settle(paying: Paying) -> bool:
    """Settle a paid result in the next transaction of its payee: True when it moved its order
    ``created → paid`` (and everything that brings is committed), False when that order did not
    move (not ours, a mismatch, paid already, closed: the caller reads why). Raises BatchFailed.

    On PostgreSQL its order is read first, with those of the payee's other results arriving
    meanwhile: a result whose order would not move is answered at once, and bill orders go in one
    statement (settle_pg)."""
    read = None
    if connections.get("default").capabilities.dialect == "postgres":
        try:
            read = await _readers().ask(paying.txn.sub_mchid, paying.txn.out_trade_no)
        except Exception as exc:  # alone, by the caller
            raise BatchFailed(exc, alone=False) from exc
        if read is None or not read.moves(paying):
            return False
    done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    _writer().submit(_Job(paying, done, read))
    return await done


def transactions() -> int:
    """How many transactions this event loop's writer has opened (tests check payments share them)."""
    return _writer().transactions
