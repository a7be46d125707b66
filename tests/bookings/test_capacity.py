"""Capacity is an invariant of the database: real concurrent HTTP bookings of one slot never hold or
confirm more places than it has (on SQLite and on PostgreSQL), holds that run out give their places
back, and a cancelled place goes to exactly one of many racing bookers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bookings import payment
from bookings.models import Booking, Slot
from bookings.rules import ACTIVE, State
from core import clock
from tests.bookings.conftest import World, publish, residents, tomorrow_at


async def _book(http: Any, token: str, service_id: int, unit_id: int, starts_at: str) -> Any:
    return await http.post(
        "/bookings",
        json={"service_id": service_id, "unit_id": unit_id, "starts_at": starts_at},
        headers={"authorization": f"Bearer {token}"},
    )


async def _active(slot_id: int) -> int:
    return await Booking.filter(slot_id=slot_id, state__in=list(ACTIVE)).count()


async def test_200_concurrent_bookings_of_5_places_hold_exactly_5(world: World, http: Any) -> None:
    service = await publish(world, capacity=5)
    tokens = await residents(world, 200)
    at = tomorrow_at(10).isoformat()
    answers = await asyncio.gather(*(_book(http, t, service.id, world.units[0].id, at) for t in tokens))
    codes = sorted((r.status_code, r.json().get("code", r.json().get("state"))) for r in answers)
    assert codes.count((201, "held")) == 5
    assert codes.count((409, "slot_full")) == 195
    slot = await Slot.get(service_id=service.id)
    assert (slot.capacity, slot.taken, await _active(slot.id)) == (5, 5, 5)
    assert await Booking.filter(service_id=service.id).count() == 5


async def test_holds_that_run_out_give_their_places_back(world: World, http: Any) -> None:
    service = await publish(world, capacity=2)
    tokens = await residents(world, 4)
    at = tomorrow_at(11).isoformat()
    first = [await _book(http, t, service.id, world.units[0].id, at) for t in tokens[:2]]
    assert [r.status_code for r in first] == [201, 201]
    full = await _book(http, tokens[2], service.id, world.units[0].id, at)
    assert (full.status_code, full.json()["code"]) == (409, "slot_full")
    # the first hold runs out: the next booker gets its place at once (released before taking)
    await Booking.filter(id=first[0].json()["id"]).update(hold_expires_at=clock.now() - timedelta(seconds=1))
    slots = (
        await http.get(
            f"/bookings/services/{service.id}/slots", params=_days(), headers=world.headers("owner")
        )
    ).json()
    [eleven] = [s for s in slots["items"] if s["starts_at"] == at]
    assert eleven["free"] == 1  # the search already counts the lapsed hold as free
    again = await _book(http, tokens[2], service.id, world.units[0].id, at)
    assert again.status_code == 201
    assert (await Booking.get(id=first[0].json()["id"])).state is State.EXPIRED
    # the periodic job releases the other one
    await Booking.filter(id=first[1].json()["id"]).update(hold_expires_at=clock.now() - timedelta(seconds=1))
    swept = await payment.sweep(None)
    assert swept["expired"] == 1
    slot = await Slot.get(service_id=service.id)
    assert (slot.taken, await _active(slot.id)) == (1, 1)
    last = await _book(http, tokens[3], service.id, world.units[0].id, at)
    assert last.status_code == 201
    assert (await Slot.get(id=slot.id)).taken == 2


async def test_a_cancelled_place_goes_to_exactly_one_of_50_racing_bookers(world: World, http: Any) -> None:
    service = await publish(world, capacity=5, pay_on_site=True)
    holders = await residents(world, 5)
    racers = await residents(world, 50, unit=world.units[1])
    at = tomorrow_at(15).isoformat()
    made = [await _book(http, t, service.id, world.units[0].id, at) for t in holders]
    assert [(r.status_code, r.json()["state"]) for r in made] == [(201, "confirmed")] * 5
    cancelled = await http.post(
        f"/bookings/{made[2].json()['id']}/cancel",
        json={"reason": "临时有事"},
        headers={"authorization": f"Bearer {holders[2]}"},
    )
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    answers = await asyncio.gather(*(_book(http, t, service.id, world.units[1].id, at) for t in racers))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 49
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"slot_full"}
    slot = await Slot.get(service_id=service.id)
    assert (slot.taken, await _active(slot.id)) == (5, 5)


async def test_concurrent_reschedules_into_the_last_place_move_exactly_one(world: World, http: Any) -> None:
    service = await publish(world, capacity=1, pay_on_site=True)
    movers = await residents(world, 20)
    made = [await _book(http, t, service.id, world.units[0].id, tomorrow_at(8 + i % 10, days=2 + i // 10).isoformat())
            for i, t in enumerate(movers)]  # fmt: skip
    assert {r.status_code for r in made} == {201}
    target = tomorrow_at(19).isoformat()
    answers = await asyncio.gather(*(
        http.post(f"/bookings/{r.json()['id']}/reschedule", json={"starts_at": target},
                  headers={"authorization": f"Bearer {t}"})
        for r, t in zip(made, movers, strict=True)
    ))  # fmt: skip
    assert sorted(r.status_code for r in answers) == [200] + [409] * 19
    slots = {s.starts_at: s.taken for s in await Slot.filter(service_id=service.id)}
    assert sum(slots.values()) == 20 and max(slots.values()) == 1


def _days() -> dict[str, str]:
    first = tomorrow_at(0).date()
    return {"first_day": first.isoformat(), "last_day": (first + timedelta(days=1)).isoformat()}
