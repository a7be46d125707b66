"""The price charged is the price on the board when the booking was made: publishing posts it, a
change revises the board entry and applies only to bookings made after it; no live posting, no
booking."""

from __future__ import annotations

from typing import Any

from bookings import catalogue
from bookings.models import Booking, ServicePrice
from bookings.rules import PriceUnit
from notices.models import Notice, NoticeRevision
from tests.bookings.conftest import ACTOR, World, publish, terms, tomorrow_at


async def _book(http: Any, world: World, who: str, service_id: int, hour: int) -> Any:
    return await http.post(
        "/bookings",
        json={
            "service_id": service_id,
            "unit_id": world.units[0].id,
            "starts_at": tomorrow_at(hour).isoformat(),
        },
        headers=world.headers(who),
    )


async def test_the_charge_stays_the_price_posted_at_booking_time(world: World, http: Any) -> None:
    service = await publish(world, price_fen=5000)
    notice = await Notice.get(id=service.notice_id)
    assert (notice.category, notice.data["price_fen"], notice.status.value) == (
        "life_services",
        5000,
        "published",
    )
    before = await _book(http, world, "owner", service.id, 10)
    assert (before.status_code, before.json()["amount_fen"]) == (201, 5000)
    await catalogue.update(
        ACTOR,
        world.company_provider,
        service.id,
        terms=terms(price_fen=6500),
        active=True,
        user_id=world.uid("property_staff"),
    )
    after = await _book(http, world, "resident", service.id, 11)
    assert (after.status_code, after.json()["amount_fen"]) == (201, 6500)
    # the earlier booking keeps its price, and each price points at the board revision it was posted in
    first, second = await Booking.get(id=before.json()["id"]), await Booking.get(id=after.json()["id"])
    assert (first.amount_fen, second.amount_fen) == (5000, 6500)
    p1, p2 = await ServicePrice.get(id=first.price_id), await ServicePrice.get(id=second.price_id)
    assert (p1.price_fen, p1.notice_revision, p2.price_fen, p2.notice_revision) == (5000, 1, 6500, 2)
    revisions = await NoticeRevision.filter(notice_id=service.notice_id).order_by("number")
    assert ["50.00 元/次" in revisions[0].body_markdown, "65.00 元/次" in revisions[1].body_markdown] == [
        True,
        True,
    ]
    assert (await Notice.get(id=service.notice_id)).data["price_fen"] == 6500
    # the board shows the new price to residents, the catalogue too
    board = await http.get(f"/compounds/{world.compound.id}/notices", params={"category": "life_services"},
                           headers=world.headers("resident"))  # fmt: skip
    [entry] = board.json()["items"]
    assert (entry["id"], entry["revision"]) == (service.notice_id, 2)
    listed = await http.get(
        f"/bookings/compounds/{world.compound.id}/services", headers=world.headers("resident")
    )
    assert [(s["id"], s["price_fen"]) for s in listed.json()["items"]] == [(service.id, 6500)]
    # rescheduling keeps the price agreed
    moved = await http.post(f"/bookings/{first.id}/reschedule", json={"starts_at": tomorrow_at(12).isoformat()},
                            headers=world.headers("owner"))  # fmt: skip
    assert (moved.status_code, moved.json()["amount_fen"]) == (200, 5000)


async def test_a_change_that_does_not_touch_the_board_keeps_the_price_record(world: World) -> None:
    service = await publish(world)
    await catalogue.update(
        ACTOR,
        world.company_provider,
        service.id,
        terms=terms(capacity=9, lead_minutes=30),
        active=True,
        user_id=None,
    )
    assert await ServicePrice.filter(service_id=service.id).count() == 1
    assert (await Notice.get(id=service.notice_id)).revision == 1


async def test_per_hour_prices_charge_the_duration(world: World, http: Any) -> None:
    service = await publish(
        world, price_fen=4000, price_unit=PriceUnit.PER_HOUR, duration_minutes=90, slot_minutes=120
    )
    r = await _book(http, world, "owner", service.id, 10)
    assert (r.status_code, r.json()["amount_fen"]) == (201, 6000)


async def test_no_booking_while_the_price_is_not_on_the_board(world: World, http: Any) -> None:
    service = await publish(world)
    await Notice.filter(id=service.notice_id).update(status="withdrawn")
    r = await _book(http, world, "owner", service.id, 10)
    assert (r.status_code, r.json()["code"]) == (409, "price_not_posted")
    assert await Booking.all().count() == 0
