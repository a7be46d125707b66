"""Bench for payments: creating an order and taking a notification, each beside its yardstick in
the same run, and a billing run for a 5,000-unit compound.

    .venv/bin/python -m bench.payments_bench [--orders 300] [--concurrency 8] [--rounds 3] [--database-url postgres://...]

On one database (SQLite in a temporary file by default) with our real WeChat Pay client talking HTTP
to the fake WeChat Pay on loopback (request signatures checked, answers and notifications signed).
Each measurement is split in ``rounds`` slices run alternately with its yardstick (A B A B ...), so a
machine busy with other work weighs on both alike. Figures are operations per second, ``concurrency``
at a time:

- bare insert: one Tortoise ``create`` of a BillingRun row (the issue's yardstick);
- bare insert + prepay: that insert and one JSAPI prepay of our real client against the fake, with the
  wx.requestPayment signature: the least any order creation must do (an honest yardstick for (1));
- (1) create order: payments.orders.create_order (checks, the prepay, the order and its bills held in
  one transaction, the signature); also with WeChat Pay answering from memory ("domain only");
- bare insert + verify: that insert and our client's verification and decryption of one notification
  (signature check, replay guard, AES-GCM): the least any notification handling must do;
- (2) take notification: payments.notify.take (verify, decrypt, check against our order, mark paid,
  bills, ledger entry chained, receipt), and how many notifications a transaction settled on average
  (payments.settle_batch: those of one payee that arrive together share one);
- then PROFILED more notifications taken one at a time: the SQL statements of each (Tortoise's query
  log; BEGIN, SAVEPOINT and COMMIT are not in it) and the time of the signature check and of the
  decryption alone;
- a billing run for 5,000 units, wall time and peak traced memory.
Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from audit.service import SYSTEM
from core import clock
from core.cache import MemoryCache
from server import db

PROFILED = 5  # notifications taken one at a time after the timed runs, their statements counted


class _Statements(logging.Handler):
    """Counts the statements Tortoise logs (tortoise.db_client at DEBUG; BEGIN, SAVEPOINT and
    COMMIT are not logged by it and are listed apart)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # logged as ("%s: %s", query, values) or the query alone
        first = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        self.queries.append(str(first)[:60])


async def _profile(client: Any, deliveries: Sequence[Any]) -> str:
    """Statements per notification and the time of its crypto (verify, decrypt) alone."""
    from payments import notify
    from wechat.pay import notify as pay_notify

    counter = _Statements()
    logger = logging.getLogger("tortoise.db_client")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        counts, spent = [], 0.0
        for delivery in deliveries:
            before = len(counter.queries)
            started = time.perf_counter()
            answer = await notify.take(client, delivery.headers, delivery.body, now=clock.now())
            spent += time.perf_counter() - started
            assert answer.status == 204, answer
            counts.append(len(counter.queries) - before)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
    last = counter.queries[-counts[-1] :]
    one = deliveries[0]
    key, public, public_id = client._apiv3_key, client._public_key, client._public_key_id
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        _, text = pay_notify.authenticate(
            one.headers, one.body, public_key=public, public_key_id=public_id, now=clock.now()
        )
    verify_ms = (time.perf_counter() - started) * 1000 / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        pay_notify.decode(text, key)
    decode_ms = (time.perf_counter() - started) * 1000 / rounds
    return (
        f"one at a time: {counts} statements per notification, {spent * 1000 / len(counts):.1f} ms each; "
        f"signature check {verify_ms:.2f} ms, decrypt and parse {decode_ms:.2f} ms\n"
        + "".join(f"    {q}\n" for q in last)
    )


class _MemoryPay:
    """Just enough of WeChatPayApi for create_order, answering from memory."""

    def __init__(self, sp_mchid: str, sp_appid: str) -> None:
        self.sp_mchid, self.sp_appid = sp_mchid, sp_appid

    async def jsapi_prepay(self, **_: object) -> str:
        return "wx" + "0" * 30

    def payment_params(self, prepay_id: str) -> object:
        from wechat.pay.protocol import PaymentParams

        return PaymentParams(self.sp_appid, "0", "n", f"prepay_id={prepay_id}", "RSA", "s")


async def _alternate(n: int, concurrency: int, rounds: int, makers: list[object]) -> list[float]:
    """Each maker over ``n`` operations, in ``rounds`` slices taken in turn (A B C A B C ...);
    operations per second of each over its slices. On PostgreSQL the tables' statistics are taken
    first (as autovacuum keeps them on a live database): on a fresh one the planner guesses from
    empty tables, and an auto-analyze that lands mid-run changes the plans between slices. The heap
    is frozen first, as a served worker's is (server.heap): else one full collection of the
    imported app (0.4-0.5 s here) lands in whichever slice it falls on."""
    from tortoise import connections

    from server import heap

    heap.freeze()
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script("ANALYZE")
    spent = [0.0] * len(makers)
    bounds = [n * r // rounds for r in range(rounds + 1)]
    for r in range(rounds):
        lo, hi = bounds[r], bounds[r + 1]
        for k, make in enumerate(makers):
            semaphore = asyncio.Semaphore(concurrency)

            async def one(i: int, make: object = make, semaphore: asyncio.Semaphore = semaphore) -> None:
                async with semaphore:
                    await make(i)  # type: ignore[operator]

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(lo, hi)))
            spent[k] += time.perf_counter() - started
    return [n / t for t in spent]


async def main(n: int, concurrency: int, url: str, rounds: int = 3) -> None:
    from accounts.models import Building, Community, Compound, Owner, Ownership, PropertyCompany, Unit, User
    from notices import service as notices
    from payments import billing, notify, orders, settle_batch, setup
    from payments.models import Bill, BillingRun, LedgerEntry
    from payments.rules import ItemKind
    from wechat.pay.client import WeChatPayClient
    from wechat.pay.fake import FakeWeChatPay

    await db.migrate(url)
    await db.init_db(url, pool_max=20)
    fake = FakeWeChatPay("1230000109", "wx0000000000000001")
    await fake.start()
    client = WeChatPayClient(
        **fake.client_options(), notify_url="http://127.0.0.1:9/notify", cache=MemoryCache()
    )
    try:
        community = await Community.create(name="东街社区")
        compound = await Compound.create(community=community, name="阳光花园")
        building = await Building.create(compound=compound, name="1号楼")
        company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
        await setup.set_price_band(SYSTEM, grade=2, base_fen=Decimal(150), float_percent=Decimal(20),
                                   effective_from=date(2020, 1, 1), user_id=None)  # fmt: skip
        contract = await setup.set_fee_contract(
            SYSTEM,
            setup.ContractTerms(
                compound.id, company.id, 2, Decimal(150), date(2020, 1, 1), date(2099, 1, 1), "1900000109"
            ),
        )
        notice = await notices.post_system_notice(
            compound_id=compound.id, category="fee_standard", title="收费标准", body_markdown="1.50 元/㎡·月",
            actor=SYSTEM, subject="fee_standard",
        )  # fmt: skip
        await setup.add_fee_item(SYSTEM, contract, setup.ItemTerms("物业服务费", ItemKind.BY_AREA, notice))
        await Unit.bulk_create(
            [
                Unit(compound=compound, building=building, number=f"{i:05d}", area=Decimal("89.37"))
                for i in range(5000)
            ],
            batch_size=1000,
        )

        tracemalloc.start()
        started = time.perf_counter()
        run = await billing.run_billing(
            SYSTEM, compound_id=compound.id, period_text="2026-03", metered_fen={}, user_id=None
        )
        run_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        started = time.perf_counter()
        again = await billing.run_billing(
            SYSTEM, compound_id=compound.id, period_text="2026-03", metered_fen={}, user_id=None
        )
        again_seconds = time.perf_counter() - started
        assert (run.created, again.created) == (5000, 0)

        # payers: one user owning each of the first n units
        units = list(
            await Unit.filter(compound_id=compound.id).order_by("id").limit(n).values_list("id", flat=True)
        )
        users = await User.bulk_create([User(openid=f"oBench{i:022d}") for i in range(n)], batch_size=500)
        users = await User.filter(openid__startswith="oBench").order_by("id")
        owners = [Owner(name=f"业主{i}", user_id=u.id, compound_id=compound.id) for i, u in enumerate(users)]
        await Owner.bulk_create(owners, batch_size=500)
        owner_ids = list(
            await Owner.filter(compound_id=compound.id).order_by("id").values_list("id", flat=True)
        )
        await Ownership.bulk_create(
            [Ownership(unit_id=u, owner_id=o) for u, o in zip(units, owner_ids, strict=True)]
        )
        bills = dict(await Bill.filter(unit_id__in=units).values_list("unit_id", "id"))

        # the next n units, owned by the same users, for the orders with WeChat Pay in memory
        stub_units = list(
            await Unit.filter(compound_id=compound.id)
            .order_by("id")
            .offset(n)
            .limit(n)
            .values_list("id", flat=True)
        )
        await Ownership.bulk_create(
            [Ownership(unit_id=u, owner_id=o) for u, o in zip(stub_units, owner_ids, strict=True)]
        )
        stub_bills = dict(await Bill.filter(unit_id__in=stub_units).values_list("unit_id", "id"))
        # PROFILED more units after those, for the orders whose notifications are profiled
        extra_units = list(
            await Unit.filter(compound_id=compound.id)
            .order_by("id")
            .offset(2 * n)
            .limit(PROFILED)
            .values_list("id", flat=True)
        )
        await Ownership.bulk_create(
            [Ownership(unit_id=u, owner_id=o) for u, o in zip(extra_units, owner_ids, strict=False)]
        )
        extra_bills = dict(await Bill.filter(unit_id__in=extra_units).values_list("unit_id", "id"))
        memory = _MemoryPay(client.sp_mchid, client.sp_appid)
        created: list[str] = [""] * n
        # the yardstick's own WeChat Pay orders (at the fake, not in our database)
        yard_nos = [f"YD{i:010d}{secrets.token_hex(4)}" for i in range(n)]

        async def bare(i: int) -> None:
            await BillingRun.create(compound_id=compound.id, period="bench", created_bills=0, total_fen=0)

        async def bare_prepay(i: int) -> None:
            await bare(i)
            prepay = await client.jsapi_prepay(
                sub_mchid="1900000109",
                description="物业费",
                out_trade_no=yard_nos[i],
                amount_fen=100,
                payer_openid=users[i].openid,
                time_expire=clock.now() + timedelta(minutes=30),
            )
            client.payment_params(prepay)

        async def order(i: int) -> None:
            result = await orders.create_order(
                client, user_id=users[i].id, openid=users[i].openid, bill_ids=[bills[units[i]]]
            )
            created[i] = result.order.out_trade_no

        async def stub_order(i: int) -> None:
            await orders.create_order(
                memory, user_id=users[i].id, openid=users[i].openid, bill_ids=[stub_bills[stub_units[i]]]
            )

        ins, ins_prepay, ordering, stub_ordering = await _alternate(
            n, concurrency, rounds, [bare, bare_prepay, order, stub_order]
        )
        # notifications: one per paid order for (2), and the same again (new nonces) for the yardstick
        profiled = [
            (
                await orders.create_order(
                    client, user_id=users[i].id, openid=users[i].openid, bill_ids=[extra_bills[u]]
                )
            ).order.out_trade_no
            for i, u in enumerate(extra_units)
        ]
        fake.hold = True
        for no in created + profiled:
            await fake.pay(no)
        for no in created:
            await fake.notify_transaction(no)
        held = list(fake.held)
        fake.hold, fake.held = False, []
        real, later, yard = held[:n], held[n : n + PROFILED], held[n + PROFILED :]

        async def bare_verify(i: int) -> None:
            await bare(i)
            await client.parse_notification(yard[i].headers, yard[i].body, now=clock.now())

        async def take(i: int) -> None:
            answer = await notify.take(client, real[i].headers, real[i].body, now=clock.now())
            assert answer.status == 204, answer

        before = settle_batch.transactions()
        ins2, ins_verify, taking = await _alternate(n, concurrency, rounds, [bare, bare_verify, take])
        batches = settle_batch.transactions() - before
        assert await LedgerEntry.all().count() == n
        profile = await _profile(client, later)
        assert await LedgerEntry.all().count() == n + PROFILED
        print(
            f"database: {url.split('://')[0]}, {n} each, {concurrency} at a time, {rounds} alternating rounds"
        )
        print(f"bare one-row insert        {ins:8.0f}/s   (again beside the notifications: {ins2:.0f}/s)")
        print(f"bare insert + prepay       {ins_prepay:8.0f}/s   ({ins_prepay / ins:.2f} of a bare insert)")
        print(
            f"create order               {ordering:8.0f}/s   ({ordering / ins:.2f} of a bare insert, "
            f"{ordering / ins_prepay:.2f} of bare insert + prepay)"
        )
        print(
            f"  domain only (memory)     {stub_ordering:8.0f}/s   ({stub_ordering / ins:.2f} of a bare insert)"
        )
        print(f"bare insert + verify       {ins_verify:8.0f}/s   ({ins_verify / ins2:.2f} of a bare insert)")
        print(
            f"take notification          {taking:8.0f}/s   ({taking / ins2:.2f} of a bare insert, "
            f"{taking / ins_verify:.2f} of bare insert + verify; {n / batches:.1f} a transaction)"
        )
        print(f"take notification, {profile}", end="")
        print(
            f"billing run, 5,000 units   {run_seconds:8.2f} s, peak traced memory {peak / 2**20:.1f} MiB; "
            f"repeated: {again_seconds:.2f} s"
        )
    finally:
        await client.aclose()
        await fake.stop()
        await db.close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite://{tmp}/bench.sqlite3"
        asyncio.run(main(args.orders, args.concurrency, url, args.rounds))
