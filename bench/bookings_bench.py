"""Bench for bookings: the free-slot search of a service over 30 days, and booking a contended slot,
each beside its yardstick (a bare one-row read, a bare one-row insert) in the same run.

    .venv/bin/python -m bench.bookings_bench [--n 400] [--concurrency 8] [--rounds 3] [--database-url postgres://...]

On one database (SQLite in a temporary file by default), at the service level (the HTTP layer is the
same for every route and measured by bench.http_bench). Each measurement is split in ``rounds``
slices run alternately with its yardstick (A B A B ...), so a busy machine weighs on both alike.
Figures are operations per second, ``concurrency`` at a time:

- bare read: one Tortoise ``get`` of a Service row by id;
- (1) free slots, 30 days: bookings.availability.free_slots (hours, closures, calendar, staff, slot
  rows and lapsed holds; 12 slots a day, a few already partly booked);
- bare insert: one Tortoise ``create`` of a BookingEvent row;
- (2) book a contended slot: bookings.booking.book, ten bookers for each slot of 5 places (half of
  them refused with slot_full, which is an answer too: both count as operations). A booking reads
  once (bookings.gate) and is written in a transaction it shares with the bookings of its slot
  arriving meanwhile (bookings.batch), so ``concurrency`` matters: at 1 every booking is alone.
On PostgreSQL give it an empty database (it creates its own compound each run), e.g.
``psql -c "DROP DATABASE IF EXISTS wuye_bench_bk" -c "CREATE DATABASE wuye_bench_bk"`` first.
Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal

from bench.payments_bench import _alternate
from core import clock
from server import db


async def main(n: int, concurrency: int, url: str, rounds: int) -> None:
    from accounts.models import (
        Building,
        Community,
        Compound,
        PropertyCompany,
        Resident,
        ResidentRelation,
        ServiceContract,
        Unit,
        User,
    )
    from audit.service import SYSTEM
    from bookings import availability, booking, catalogue, providers
    from bookings.errors import SlotFull
    from bookings.models import BookingEvent, Service, ServiceHours
    from bookings.rules import Category, Delivery, PriceUnit

    await db.migrate(url)
    await db.init_db(url, pool_max=max(10, concurrency * 2))
    try:
        community = await Community.create(name="东街社区")
        compound = await Compound.create(community=community, name="阳光花园")
        building = await Building.create(compound=compound, name="1号楼")
        unit = await Unit.create(compound=compound, building=building, number="101", area=Decimal("88.00"))
        user = await User.create(openid="bench-resident")
        await Resident.create(unit=unit, user=user, relation=ResidentRelation.FAMILY)
        company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
        await ServiceContract.create(
            company=company,
            compound=compound,
            starts_on=date(2020, 1, 1),
            ends_on=date(2099, 1, 1),
            price_fen_per_m2=150,
        )
        provider = await providers.provider_of_company(company.id)
        terms = catalogue.Terms(
            name="上门保洁", category=Category.HOUSEKEEPING, description="", delivery=Delivery.AT_HOME,
            duration_minutes=60, price_fen=5000, price_unit=PriceUnit.PER_VISIT, slot_minutes=60, capacity=5,
            lead_minutes=60, horizon_days=60, pay_on_site=True,
        )  # fmt: skip
        service = await catalogue.publish(
            SYSTEM, provider, compound_id=compound.id, terms=terms, user_id=None
        )
        for weekday in range(7):
            await ServiceHours.create(
                service_id=service.id, weekday=weekday, start_minute=8 * 60, end_minute=20 * 60
            )
        service = await Service.get(id=service.id)
        today = clock.to_local(clock.now()).date()
        first = today + timedelta(days=1)
        starts = [
            datetime(d.year, d.month, d.day, h, tzinfo=clock.SHANGHAI)
            for d in (first + timedelta(days=k) for k in range(45))
            for h in range(8, 20)
        ]
        contended = [starts[i // 10] for i in range(n)]  # ten bookers per slot of five places
        first_booking = await booking.book(
            booking.NewBooking(service.id, unit.id, starts[-1]), user_id=user.id
        )
        refused = 0

        async def bare_read(i: int) -> None:
            await Service.get(id=service.id)

        async def search(i: int) -> None:
            await availability.free_slots(service, first, first + timedelta(days=29), clock.now())

        async def bare_insert(i: int) -> None:
            await BookingEvent.create(booking_id=first_booking.id, action="bench", at=clock.now())

        async def book(i: int) -> None:
            nonlocal refused
            try:
                await booking.book(booking.NewBooking(service.id, unit.id, contended[i]), user_id=user.id)
            except SlotFull:
                refused += 1

        read, found = await _alternate(n, concurrency, rounds, [bare_read, search])
        slots = len(await availability.free_slots(service, first, first + timedelta(days=29), clock.now()))
        insert, booked = await _alternate(n, concurrency, rounds, [bare_insert, book])
        print(
            f"free slots over 30 days ({slots} slots): {found:8.1f}/s  bare read {read:8.1f}/s  ratio {found / read:.2f}"
        )
        print(
            f"book a contended slot ({n} bookers, {refused} refused): {booked:8.1f}/s  "
            f"bare insert {insert:8.1f}/s  ratio {booked / insert:.2f}"
        )
    finally:
        await db.close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite://{tempfile.mkdtemp()}/bench.sqlite3"
    asyncio.run(main(args.n, args.concurrency, url, args.rounds))
