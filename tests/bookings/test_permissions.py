"""The permission matrix over every bookings route: who gets through, and everyone else is refused
(401 without a session, 403/404 otherwise) with nothing changed. Every bookings route is in it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bookings import booking, gallery, providers
from bookings.models import (
    Admission,
    Booking,
    Provider,
    Service,
    ServiceClosure,
    ServiceHours,
    ServicePhoto,
    ServiceStaff,
    Staff,
    StaffHours,
    StaffLeave,
)
from bookings.rules import State
from complaints.media import PhotoCheck
from photos import records
from tests.bookings.conftest import ACTOR, PEOPLE, World, publish, terms, tomorrow_at
from tests.bookings.test_photos import jpeg
from tests.matrix import covered, declared

EVERYONE = ("anonymous", *PEOPLE)
NEIGHBOURS = {"owner", "resident", "neighbour", "committee", "property_staff", "community_admin"}
BOOKER = {"resident"}
STAFF = {"property_staff"}
ORG = {"org_manager"}
ORG_PEOPLE = {"org_manager", "org_staff"}
COMMUNITY = {"community_admin"}


async def counts() -> tuple[Any, ...]:
    rows = (
        await Booking.all()
        .order_by("id")
        .values_list("id", "state", "slot_id", "stars", "staff_id", "complaint_id")
    )
    tables = (
        Provider,
        Admission,
        Service,
        ServiceHours,
        ServicePhoto,
        ServiceClosure,
        ServiceStaff,
        Staff,
        StaffHours,
        StaffLeave,
    )
    return (tuple(rows), *[await t.all().count() for t in tables])


@pytest.fixture
async def matrix(world: World, http: Any) -> Any:
    online = await publish(world, capacity=20)
    on_site = await publish(world, name="家电维修", capacity=20, pay_on_site=True)
    uid = world.uid("resident")

    async def make(service: Service, hour: int, days: int = 1) -> Booking:
        new = booking.NewBooking(service.id, world.units[0].id, tomorrow_at(hour, days=days))
        return await booking.book(new, user_id=uid)

    held = {k: await make(online, 9 + i) for i, k in enumerate(("show", "pay", "cancel", "reschedule"))}
    done = {k: await make(on_site, 9 + i) for i, k in enumerate(("rate", "complaint", "assign", "arrive", "complete", "no_show", "pcancel"))}  # fmt: skip
    await Booking.filter(id=done["rate"].id).update(state=State.COMPLETED)
    await Booking.filter(id=done["arrive"].id).update(staff_id=None)
    staff = await providers.add_staff(ACTOR, world.company_provider, name="李师傅", user_id=None)
    await providers.add_staff(ACTOR, world.org, name="张阿姨", user_id=None)
    storage, staff_id = http.app.ctx.photo_storage, world.uid("property_staff")
    new_photo, shown = [await records.upload(storage, jpeg(i), uploader_id=staff_id) for i in range(2)]
    check = PhotoCheck(
        http.app.ctx.wechat, "openid-property_staff", lambda p: f"https://wuye.example.cn/{p.id}"
    )
    await gallery.add(ACTOR, world.company_provider, online.id, [shown.id], user_id=staff_id, check=check)
    return {
        "online": online, "on_site": on_site, "held": held, "done": done, "staff": staff,
        "new_photo": new_photo, "shown": shown,
    }  # fmt: skip


def _routes(world: World, m: dict[str, Any]) -> list[tuple[str, str, Any, set[str], int]]:
    c, p, o, e = world.compound.id, world.company_provider.id, world.org.id, world.east.id
    s, st = m["online"].id, m["staff"].id
    new_photo, shown = m["new_photo"].id, m["shown"].id
    h, d = m["held"], m["done"]
    day = tomorrow_at(0).date()
    adm = f"/admin/providers/{p}"
    svc = {
        "name": "上门保洁", "category": "housekeeping", "description": "", "delivery": "at_home",
        "duration_minutes": 60, "price_fen": 5000, "price_unit": "per_visit", "slot_minutes": 60, "capacity": 5,
    }  # fmt: skip
    hours = {"hours": [{"weekday": 0, "start_minute": 480, "end_minute": 720}]}
    return [
        ("GET", f"/bookings/compounds/{c}/services", None, NEIGHBOURS, 200),
        ("GET", f"/bookings/services/{s}", None, NEIGHBOURS, 200),
        (
            "GET",
            f"/bookings/services/{s}/slots?first_day={day}&last_day={day + timedelta(days=1)}",
            None,
            NEIGHBOURS,
            200,
        ),
        (
            "POST",
            "/bookings",
            {"service_id": s, "unit_id": world.units[0].id, "starts_at": tomorrow_at(19).isoformat()},
            {"owner", "resident"},
            201,
        ),
        ("GET", "/bookings/mine", None, set(PEOPLE), 200),
        ("GET", f"/bookings/{h['show'].id}", None, BOOKER, 200),
        # the booker gets past every check to the provider's missing WeChat Pay sub-merchant
        ("POST", f"/bookings/{h['pay'].id}/pay", None, BOOKER, 409),
        ("POST", f"/bookings/{h['cancel'].id}/cancel", {"reason": "不需要了"}, BOOKER, 200),
        (
            "POST",
            f"/bookings/{h['reschedule'].id}/reschedule",
            {"starts_at": tomorrow_at(18).isoformat()},
            BOOKER,
            200,
        ),
        ("POST", f"/bookings/{d['rate'].id}/rating", {"stars": 5, "comment": "很好"}, BOOKER, 200),
        ("POST", f"/bookings/{d['complaint'].id}/complaint", {"text": "服务人员迟到一小时"}, BOOKER, 201),
        ("GET", "/admin/providers", None, set(PEOPLE), 200),
        ("POST", "/admin/providers/property-company", {"company_id": world.company.id}, STAFF, 200),
        ("GET", f"{adm}/services", None, STAFF, 200),
        ("POST", f"{adm}/services", {**svc, "compound_id": c}, STAFF, 201),
        ("PUT", f"{adm}/services/{s}", {**svc, "price_fen": 5500}, STAFF, 200),
        ("POST", f"{adm}/services/{s}/photos", {"photo_ids": [new_photo]}, STAFF, 201),
        ("DELETE", f"{adm}/services/{s}/photos/{shown}", None, STAFF, 200),
        ("GET", f"{adm}/services/{s}/hours", None, STAFF, 200),
        ("PUT", f"{adm}/services/{s}/hours", hours, STAFF, 200),
        ("GET", f"{adm}/services/{s}/closures", None, STAFF, 200),
        (
            "POST",
            f"{adm}/services/{s}/closures",
            {"day": str(day + timedelta(days=5)), "reason": "盘点"},
            STAFF,
            201,
        ),
        ("PUT", f"{adm}/services/{s}/staff", {"staff_ids": [st]}, STAFF, 200),
        ("GET", f"{adm}/staff", None, STAFF, 200),
        ("POST", f"{adm}/staff", {"name": "赵师傅"}, STAFF, 201),
        ("PUT", f"{adm}/staff/{st}/hours", hours, STAFF, 200),
        (
            "POST",
            f"{adm}/staff/{st}/leave",
            {"starts_on": str(day), "ends_on": str(day), "reason": "事假"},
            STAFF,
            201,
        ),
        ("GET", f"{adm}/schedule?day={day}", None, STAFF, 200),
        ("GET", f"/admin/providers/{o}/schedule?day={day}", None, ORG_PEOPLE, 200),
        ("POST", f"/admin/providers/{o}/staff", {"name": "刘阿姨"}, ORG, 201),
        ("POST", f"{adm}/bookings/{d['assign'].id}/assign", {"staff_id": st}, STAFF, 200),
        ("POST", f"{adm}/bookings/{d['arrive'].id}/arrive", None, STAFF, 200),
        ("POST", f"{adm}/bookings/{d['complete'].id}/complete", None, STAFF, 200),
        ("POST", f"{adm}/bookings/{d['no_show'].id}/no-show", None, STAFF, 200),
        ("POST", f"{adm}/bookings/{d['pcancel'].id}/cancel", {"reason": "人员临时生病"}, STAFF, 200),
        ("GET", f"/admin/communities/{e}/providers", None, COMMUNITY, 200),
        (
            "POST",
            f"/admin/communities/{e}/providers",
            {
                "name": "便民家政服务部",
                "credit_code": "92510000MA0000009X",
                "manager_user_id": world.uid("outsider"),
            },
            COMMUNITY,
            201,
        ),
        ("GET", f"/admin/communities/{e}/providers/{o}/ratings", None, COMMUNITY, 200),
        ("POST", f"/admin/communities/{e}/providers/{o}/revoke", {"reason": "多次投诉"}, COMMUNITY, 204),
    ]


async def test_every_route_for_every_person(world: World, http: Any, matrix: Any) -> None:
    problems = []
    for method, path, body, allowed, ok in _routes(world, matrix):
        # the one allowed to change things goes last, so every refusal is checked against the same state
        for who in sorted(EVERYONE, key=lambda w: w in allowed):
            before = await counts()
            r = await http.request(method, path, json=body, headers=world.headers(who))
            if who in allowed:
                if r.status_code != ok:
                    problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:160]}")
                continue
            expected = (401,) if who == "anonymous" else (403, 404)
            if r.status_code not in expected:
                problems.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
            if await counts() != before:
                problems.append(f"{method} {path} as {who}: refused but changed something")
    assert problems == []


async def test_staff_of_an_organisation_act_only_on_their_own_visits(world: World, http: Any) -> None:
    service = await publish(world, provider=world.org, name="助浴", pay_on_site=True)
    made = await booking.book(
        booking.NewBooking(service.id, world.units[0].id, tomorrow_at(10)), user_id=world.uid("owner")
    )
    path = f"/admin/providers/{world.org.id}/bookings/{made.id}"
    refused = await http.post(f"{path}/arrive", headers=world.headers("org_staff"))
    assert refused.status_code == 404  # not assigned to them
    [wang] = await Staff.filter(provider_id=world.org.id, user_id=world.uid("org_staff"))
    assigned = await http.post(
        f"{path}/assign", json={"staff_id": wang.id}, headers=world.headers("org_staff")
    )
    assert (assigned.status_code, assigned.json()["code"]) == (403, "not_provider_manager")
    assigned = await http.post(
        f"{path}/assign", json={"staff_id": wang.id}, headers=world.headers("org_manager")
    )
    assert assigned.status_code == 200
    arrived = await http.post(f"{path}/arrive", headers=world.headers("org_staff"))
    assert (arrived.status_code, arrived.json()["state"]) == (200, "in_service")


async def test_a_provider_cannot_publish_where_it_may_not_serve(world: World, http: Any) -> None:
    body = {
        "compound_id": world.far_compound.id, "name": "上门保洁", "category": "housekeeping", "delivery": "at_home",
        "duration_minutes": 60, "price_fen": 5000, "price_unit": "per_visit", "slot_minutes": 60, "capacity": 5,
    }  # fmt: skip
    for who, provider in (("property_staff", world.company_provider), ("org_manager", world.org)):
        r = await http.post(f"/admin/providers/{provider.id}/services", json=body, headers=world.headers(who))
        assert (r.status_code, r.json()["code"]) == (403, "provider_not_admitted")
    assert await Service.all().count() == 0
    assert terms().capacity == 5


def test_every_bookings_route_is_in_the_matrix(world: World, http: Any) -> None:
    routes = declared(
        http.app, "/api/v1/bookings", "/api/v1/admin/providers", "/api/v1/admin/communities/<>/providers"
    )
    fake = {"online": _Id(), "on_site": _Id(), "held": _Ids(), "done": _Ids(), "staff": _Id(), "new_photo": _Id(),
            "shown": _Id()}  # fmt: skip
    assert routes == covered((m, "/api/v1" + p, *rest) for m, p, *rest in _routes(world, fake))


class _Id:
    id = 1


class _Ids(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> _Id:
        return _Id()
