"""Withdrawing a provider's admission: its services leave the catalogue and the compound's board,
its open bookings that have not started are cancelled as by the provider (the resident told), and a
booking in service is left to finish."""

from __future__ import annotations

from typing import Any

from bookings import booking
from bookings.models import Booking, Service, ServicePrice, Slot
from bookings.rules import State
from notices import service as notices
from notices.models import Notice
from notify.models import Notification
from tests.bookings.conftest import World, publish, tomorrow_at


async def _book(world: World, service_id: int, hour: int, who: str = "resident") -> Booking:
    return await booking.book(
        booking.NewBooking(service_id, world.units[0].id, tomorrow_at(hour, days=2)), user_id=world.uid(who)
    )


async def test_revoking_withdraws_the_board_entries_and_cancels_open_bookings(
    world: World, http: Any
) -> None:
    on_site = await publish(world, provider=world.org, name="助浴", pay_on_site=True)
    online = await publish(world, provider=world.org, name="陪诊")
    own = await publish(world, name="上门保洁", pay_on_site=True)  # the property company's: unaffected
    confirmed = await _book(world, on_site.id, 10)
    held = await _book(world, online.id, 11, who="owner")
    serving = await _book(world, on_site.id, 12)
    await Booking.filter(id=serving.id).update(state=State.IN_SERVICE)
    untouched = await _book(world, own.id, 10)

    answer = await http.post(
        f"/admin/communities/{world.east.id}/providers/{world.org.id}/revoke",
        json={"reason": "多次投诉未整改"},
        headers=world.headers("community_admin"),
    )
    assert answer.status_code == 204, answer.text

    services = {s.id: s for s in await Service.filter(id__in=[on_site.id, online.id, own.id])}
    assert [services[i].active for i in (on_site.id, online.id, own.id)] == [False, False, True]
    for service in (on_site, online):
        notice = await Notice.get(id=service.notice_id)
        assert (notice.status.value, notice.withdraw_reason) == (
            "withdrawn",
            "服务机构已被取消准入：多次投诉未整改",
        )
        assert not await notices.is_posted(
            compound_id=world.compound.id, notice_id=notice.id, category="life_services"
        )
    assert await notices.is_posted(
        compound_id=world.compound.id, notice_id=own.notice_id or 0, category="life_services"
    )

    states = {b.id: (b.state.value, b.cancelled_by) for b in await Booking.all()}
    assert states == {
        confirmed.id: ("cancelled", "provider"),
        held.id: ("cancelled", "provider"),
        serving.id: ("in_service", ""),
        untouched.id: ("confirmed", ""),
    }
    assert {s.id: s.taken for s in await Slot.filter(service_id=on_site.id)} == {
        confirmed.slot_id: 0,
        serving.slot_id: 1,
    }
    told = await Notification.filter(event="booking.cancelled").values_list("user_id", "key")
    assert sorted(told) == sorted(
        [
            (world.uid("resident"), f"booking.cancelled:booking:{confirmed.id}:{world.uid('resident')}"),
            (world.uid("owner"), f"booking.cancelled:booking:{held.id}:{world.uid('owner')}"),
        ]
    )
    again = await http.post(
        f"/admin/communities/{world.east.id}/providers/{world.org.id}/revoke",
        json={"reason": "多次投诉未整改"},
        headers=world.headers("community_admin"),
    )
    assert again.status_code == 404  # no admission left to withdraw; nothing changed
    assert await Notice.filter(status="withdrawn").count() == 2


def _service_body(service: Service, **changes: Any) -> dict[str, Any]:
    body = {
        "name": service.name, "category": service.category.value, "description": service.description,
        "delivery": service.delivery.value, "duration_minutes": service.duration_minutes,
        "price_fen": service.price_fen, "price_unit": service.price_unit.value,
        "slot_minutes": service.slot_minutes, "capacity": service.capacity, "lead_minutes": service.lead_minutes,
        "pay_on_site": service.pay_on_site,
    }  # fmt: skip
    return {**body, **changes}


async def test_a_readmitted_provider_reactivates_its_service_and_it_can_be_booked_again(
    world: World, http: Any
) -> None:
    service = await publish(world, provider=world.org, name="助浴", pay_on_site=True, price_fen=8000)
    first_notice = service.notice_id
    community = f"/admin/communities/{world.east.id}/providers"
    provider = f"/admin/providers/{world.org.id}/services/{service.id}"
    revoked = await http.post(
        f"{community}/{world.org.id}/revoke",
        json={"reason": "资质过期"},
        headers=world.headers("community_admin"),
    )
    assert revoked.status_code == 204, revoked.text
    while_revoked = await http.put(
        provider, json=_service_body(service, active=True), headers=world.headers("org_manager")
    )
    assert (while_revoked.status_code, while_revoked.json()["code"]) == (403, "provider_not_admitted")
    # a price change while it is off the catalogue is kept for when it comes back
    off = await http.put(
        provider,
        json=_service_body(service, active=False, price_fen=9000),
        headers=world.headers("org_manager"),
    )
    assert (off.status_code, off.json()["active"], off.json()["price_fen"]) == (200, False, 9000), off.text

    readmitted = await http.post(
        community,
        json={
            "name": "康乐养老服务中心",
            "credit_code": "52510000MJ0000001X",
            "manager_user_id": world.uid("org_manager"),
        },
        headers=world.headers("community_admin"),
    )
    assert readmitted.status_code == 201, readmitted.text
    back = await http.put(
        provider,
        json=_service_body(service, active=True, price_fen=9000),
        headers=world.headers("org_manager"),
    )
    assert (back.status_code, back.json()["active"]) == (200, True), back.text
    notice_id = back.json()["notice_id"]
    assert notice_id != first_notice  # the withdrawn entry stays withdrawn; a new one is posted
    assert await notices.is_posted(
        compound_id=world.compound.id, notice_id=notice_id, category="life_services"
    )
    notice = await Notice.get(id=notice_id)
    assert (notice.data or {})["price_fen"] == 9000

    listed = await http.get(
        f"/bookings/compounds/{world.compound.id}/services", headers=world.headers("resident")
    )
    assert [s["id"] for s in listed.json()["items"]] == [service.id]
    booked = await http.post(
        "/bookings",
        json={
            "service_id": service.id,
            "unit_id": world.units[0].id,
            "starts_at": tomorrow_at(10, days=2).isoformat(),
        },
        headers=world.headers("resident"),
    )
    assert (booked.status_code, booked.json()["amount_fen"]) == (201, 9000), booked.text
    made = await Booking.get(id=booked.json()["id"])
    price = await ServicePrice.get(id=made.price_id)
    assert (price.notice_id, price.notice_revision, price.price_fen) == (notice_id, 1, 9000)
