"""The demo life services: published at posted prices on the demo compound's board with hours that
make free slots; loading twice adds nothing."""

from __future__ import annotations

from datetime import timedelta

from accounts.demo import seed_demo
from bookings import availability
from bookings.catalogue import LIFE_SERVICES
from bookings.demo import seed_bookings
from bookings.models import Service
from core import clock
from notices import service as notices


async def test_demo_services_are_posted_and_bookable(clean_db: None) -> None:
    await seed_demo(hmac_key=b"k" * 32)
    first = await seed_bookings()
    assert first.startswith("demo life services: 3 published for ")
    assert (await seed_bookings()).startswith("demo life services: 0 published for ")
    services = await Service.all().order_by("id")
    assert [(s.name, s.price_fen, s.active) for s in services] == [
        ("日常保洁", 8000, True), ("家电维修", 3000, True), ("助老陪护", 4000, True),
    ]  # fmt: skip
    for service in services:
        assert await notices.is_posted(
            compound_id=service.compound_id, notice_id=service.notice_id or 0, category=LIFE_SERVICES
        )
    today = clock.to_local(clock.now()).date()
    week = await availability.free_slots(services[0], today, today + timedelta(days=6), clock.now())
    assert len(week) >= 5 * 2  # at least five open days of a week, a slot each half day
    assert all(s.free == s.capacity == 3 for s in week)
