"""Availability: weekly hours make the slots; lead time, horizon, holidays of the calendar, closures
and staff leave or hours take them away; every time is a Beijing time whatever zone the phone is in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bookings import availability, catalogue, providers
from bookings.errors import SlotUnavailable
from bookings.rules import PriceUnit, charge_fen, starts_in
from complaints.models import CalendarDay
from core import clock
from tests.bookings.conftest import ACTOR, World, publish, residents, tomorrow_at

# A fixed "now": Monday 2026-12-07 09:00 Beijing (01:00 UTC)
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=clock.SHANGHAI)
MONDAY = date(2026, 12, 7)


def bj(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.SHANGHAI)


def test_slots_lie_inside_their_windows() -> None:
    assert [clock.to_local(s).strftime("%H:%M") for s in starts_in(MONDAY, [(8 * 60, 11 * 60 + 30), (14 * 60, 16 * 60)], 60)] == [
        "08:00", "09:00", "10:00", "14:00", "15:00",
    ]  # fmt: skip
    assert starts_in(MONDAY, [(0, 60)], 30) == [bj(MONDAY, 0), bj(MONDAY, 0, 30)]
    assert starts_in(MONDAY, [(0, 60)], 30)[0] == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # Beijing midnight


def test_the_charge_is_the_posted_price_per_visit_or_per_hour() -> None:
    assert charge_fen(5000, PriceUnit.PER_VISIT, 90) == 5000
    assert charge_fen(4000, PriceUnit.PER_HOUR, 90) == 6000
    assert charge_fen(3333, PriceUnit.PER_HOUR, 45) == 2500  # 2499.75 rounded half up


async def test_lead_time_and_horizon(world: World) -> None:
    service = await publish(world, lead_minutes=120, horizon_days=2)
    found = await availability.free_slots(service, MONDAY, MONDAY + timedelta(days=5), NOW)
    starts = [s.starts_at for s in found]
    assert starts[0] == bj(MONDAY, 11)  # 09:00 + 2 h lead: 10:00 is too soon
    assert clock.to_local(max(starts)).date() == MONDAY + timedelta(
        days=2
    )  # horizon: two days ahead, Beijing dates
    assert len(starts) == 9 + 12 + 12
    with pytest.raises(SlotUnavailable):
        await availability.capacity_for(service, bj(MONDAY, 10), NOW)
    with pytest.raises(SlotUnavailable):
        await availability.capacity_for(service, bj(MONDAY + timedelta(days=3), 10), NOW)
    assert await availability.capacity_for(service, bj(MONDAY, 11), NOW) == 5


async def test_holidays_of_the_calendar_close_unless_the_service_opens_on_them(world: World) -> None:
    await CalendarDay.create(day=MONDAY + timedelta(days=1), working=False, name="测试假日")
    closed = await publish(world)
    open_ = await publish(world, name="快递代收", open_on_holidays=True)
    days = {
        clock.to_local(s.starts_at).date()
        for s in await availability.free_slots(closed, MONDAY, MONDAY + timedelta(days=2), NOW)
    }
    assert days == {MONDAY, MONDAY + timedelta(days=2)}
    days = {
        clock.to_local(s.starts_at).date()
        for s in await availability.free_slots(open_, MONDAY, MONDAY + timedelta(days=2), NOW)
    }
    assert days == {MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)}
    with pytest.raises(SlotUnavailable) as refused:
        await availability.capacity_for(closed, bj(MONDAY + timedelta(days=1), 10), NOW)
    assert refused.value.details == {"day": "2026-12-08"}


async def test_a_closure_closes_one_day_of_one_service(world: World) -> None:
    service = await publish(world)
    other = await publish(world, name="家电维修")
    await catalogue.add_closure(
        ACTOR, world.company_provider, service.id, day=MONDAY + timedelta(days=1), reason="盘点"
    )
    tuesday = MONDAY + timedelta(days=1)
    assert await availability.free_slots(service, tuesday, tuesday, NOW) == []
    assert len(await availability.free_slots(other, tuesday, tuesday, NOW)) == 12


async def test_staff_leave_and_staff_hours_limit_the_places(world: World) -> None:
    service = await publish(world, capacity=5)
    org = world.company_provider
    a = await providers.add_staff(ACTOR, org, name="甲", user_id=None)
    b = await providers.add_staff(ACTOR, org, name="乙", user_id=None)
    await catalogue.set_staff(ACTOR, org, service.id, [a.id, b.id])
    await providers.set_staff_hours(ACTOR, org, b.id, [(1, 8 * 60, 12 * 60)])  # 乙: Tuesday mornings only
    await providers.add_leave(
        ACTOR,
        org,
        a.id,
        starts_on=MONDAY + timedelta(days=2),
        ends_on=MONDAY + timedelta(days=2),
        reason="病假",
    )
    service = await catalogue.service_view(service.id)
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    places = {
        s.starts_at: s.capacity for s in await availability.free_slots(service, tuesday, wednesday, NOW)
    }
    assert places[bj(tuesday, 9)] == 2  # both
    assert places[bj(tuesday, 14)] == 1  # 甲 only (乙's hours end at noon)
    assert bj(wednesday, 9) not in places  # 甲 on leave, 乙 not working Wednesdays: no one
    with pytest.raises(SlotUnavailable):
        await availability.capacity_for(service, bj(wednesday, 9), NOW)
    await catalogue.set_staff(ACTOR, org, service.id, [a.id])  # 乙 no longer delivers it
    service = await catalogue.service_view(service.id)
    assert await availability.capacity_for(service, bj(tuesday, 9), NOW) == 1


async def test_a_search_range_is_bounded(world: World) -> None:
    service = await publish(world)
    from bookings.errors import BookingInvalid

    with pytest.raises(BookingInvalid):
        await availability.free_slots(service, MONDAY, MONDAY + timedelta(days=31), NOW)
    with pytest.raises(BookingInvalid):
        await availability.free_slots(service, MONDAY, MONDAY - timedelta(days=1), NOW)


async def test_times_are_beijing_times_whatever_zone_the_phone_is_in(world: World, http: Any) -> None:
    service = await publish(world, capacity=3, pay_on_site=True)
    ten = tomorrow_at(10)
    tokens = await residents(world, 3)
    # the same instant written as Beijing, UTC and New York time is the same 10:00 slot
    for token, written in zip(tokens, (ten.isoformat(), ten.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                                       ten.astimezone(_zone("America/New_York")).isoformat()), strict=True):  # fmt: skip
        r = await http.post(
            "/bookings", json={"service_id": service.id, "unit_id": world.units[0].id, "starts_at": written},
            headers={"authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["starts_at"] == ten.isoformat()  # answered in +08:00
    day = ten.date().isoformat()
    slots = await http.get(f"/bookings/services/{service.id}/slots", params={"first_day": day, "last_day": day},
                           headers=world.headers("owner"))  # fmt: skip
    by_time = {s["time"]: s for s in slots.json()["items"]}
    assert by_time["10:00"]["free"] == 0 and by_time["10:00"]["starts_at"] == ten.isoformat()
    assert by_time["08:00"]["starts_at"].endswith("+08:00") and by_time["19:00"]["free"] == 3
    # a time that is not a slot start in Beijing (10:00 New York wall clock) is refused
    ny = datetime(ten.year, ten.month, ten.day, 10, 0, tzinfo=_zone("America/New_York"))
    r = await http.post(
        "/bookings", json={"service_id": service.id, "unit_id": world.units[0].id, "starts_at": ny.isoformat()},
        headers=world.headers("owner"),
    )  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (400, "slot_unavailable")
    # a time without its zone is refused at parsing
    r = await http.post(
        "/bookings", json={"service_id": service.id, "unit_id": world.units[0].id, "starts_at": "2030-01-01T10:00:00"},
        headers=world.headers("owner"),
    )  # fmt: skip
    assert r.status_code == 400


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


async def test_a_moment_outside_1900_to_2999_is_refused_at_parsing(world: World, http: Any) -> None:
    service = await publish(world, capacity=3, pay_on_site=True)
    # year 1 at +01:00 is year 0 in UTC: the database conversion overflowed (a 500 the fuzzer found)
    for written in ("0001-01-01T00:00:00+01:00", "1899-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00"):
        r = await http.post(
            "/bookings", json={"service_id": service.id, "unit_id": world.units[0].id, "starts_at": written},
            headers=world.headers("owner"),
        )  # fmt: skip
        assert r.status_code == 400, (written, r.text)
