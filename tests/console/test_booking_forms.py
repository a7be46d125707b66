"""The bookings forms of the console over plain HTTP through the real app: the property company (as
its own provider) edits a service (a price change revises its board entry), its weekly hours,
closures and staff; on the day schedule it assigns, completes and cancels bookings with a reason;
the community admits a provider, sees its ratings and revokes it. Errors show the API's Chinese
message; a form without the CSRF token is refused and changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from accounts.models import Ownership, ServiceContract, User
from bookings import catalogue, providers
from bookings.models import (
    Admission,
    Booking,
    Service,
    ServiceClosure,
    ServicePrice,
    ServiceStaff,
    Staff,
    StaffHours,
    StaffLeave,
)
from core import clock
from notices.models import Notice, NoticeRevision
from tests.console.conftest import Demo, bearer, owner_users, sign_in

ALL_WEEK = [{"weekday": d, "start_minute": 8 * 60, "end_minute": 20 * 60} for d in range(7)]


def _at(days: int, hour: int) -> datetime:
    day = clock.to_local(clock.now()).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=clock.SHANGHAI)


async def _provider(demo: Demo) -> int:
    contract = await ServiceContract.filter(compound_id=demo.compound.id).order_by("-starts_on").first()
    assert contract is not None
    return (await providers.provider_of_company(contract.company_id)).id  # type: ignore[attr-defined]


async def _service(demo: Demo, cache: Any, provider_id: int) -> int:
    """A service of the company's provider, open every day, paid on site (bookings confirm at once)."""
    staff = await User.get(openid="demo-property")
    async with httpx.AsyncClient(base_url=demo.url) as api:
        auth = await bearer(cache, staff.id)
        made = await api.post(
            f"/api/v1/admin/providers/{provider_id}/services", headers=auth,
            json={"compound_id": demo.compound.id, "name": "家电清洗", "category": "housekeeping",
                  "delivery": "at_home", "duration_minutes": 60, "price_fen": 8800, "price_unit": "per_visit",
                  "slot_minutes": 60, "capacity": 3, "pay_on_site": True, "open_on_holidays": True},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        service_id = int(made.json()["id"])
        hours = await api.put(
            f"/api/v1/admin/providers/{provider_id}/services/{service_id}/hours", headers=auth,
            json={"hours": ALL_WEEK},
        )  # fmt: skip
        assert hours.status_code == 200, hours.text
    return service_id


async def _book(demo: Demo, cache: Any, service_id: int, hour: int) -> int:
    owners = await owner_users(demo.compound, cache)
    owner_id, auth = next(iter(owners.items()))
    unit = await Ownership.filter(owner_id=owner_id).first()
    assert unit is not None
    async with httpx.AsyncClient(base_url=demo.url) as api:
        made = await api.post(
            "/api/v1/bookings", headers=auth,
            json={"service_id": service_id, "unit_id": unit.unit_id, "starts_at": _at(2, hour).isoformat()},
        )  # fmt: skip
    assert made.status_code == 201 and made.json()["state"] == "confirmed", made.text
    return int(made.json()["id"])


async def test_a_provider_edits_a_service_its_hours_closures_and_staff(demo: Demo, http, cache) -> None:
    provider_id = await _provider(demo)
    service_id = await _service(demo, cache, provider_id)
    csrf = await sign_in(http, "demo-property")
    base = f"/console/providers/{provider_id}/services/{service_id}"
    form = await http.get(base)
    assert form.status_code == 200 and 'value="88.00"' in form.text and "周一" in form.text

    # a price change is the catalogue's: a new price row and a revision of the board entry
    service = await Service.get(id=service_id)
    notice = await Notice.get(id=service.notice_id)
    edit = {
        "csrf": csrf, "name": "家电深度清洗", "category": "housekeeping", "description": "空调、油烟机",
        "delivery": "at_home", "price_yuan": "99.50", "price_unit": "per_visit", "duration_minutes": "60",
        "slot_minutes": "60", "capacity": "3", "lead_minutes": "120", "horizon_days": "14",
        "free_cancel_hours": "2", "hold_minutes": "10", "remind_hours": "2", "pay_on_site": "yes",
        "open_on_holidays": "yes", "remind_day_before": "yes", "active": "yes",
    }  # fmt: skip
    saved = await http.post(base, data=edit)
    assert (saved.status_code, saved.headers["location"]) == (303, base)
    changed = await Service.get(id=service_id)
    assert (changed.name, changed.price_fen, changed.pay_on_site) == ("家电深度清洗", 9950, True)
    assert await ServicePrice.filter(service_id=service_id, price_fen=9950).exists()
    revised = await Notice.get(id=notice.id)
    assert revised.revision == notice.revision + 1
    latest = await NoticeRevision.filter(notice_id=notice.id).order_by("-id").first()
    assert latest is not None and "99.50" in latest.body_markdown

    # a bad price is refused with the API's reason, nothing changes
    refused = await http.post(base, data={**edit, "price_yuan": "九十九"})
    assert refused.status_code == 400 and "填写的内容有误" in refused.text and "price_fen" in refused.text
    assert (await Service.get(id=service_id)).price_fen == 9950

    # weekly hours: two windows on Monday, nothing else
    hours = {"csrf": csrf, "start-0-0": "08:00", "end-0-0": "12:00", "start-0-1": "13:30", "end-0-1": "17:00"}
    assert (await http.post(base + "/hours", data=hours)).status_code == 303
    kept = [(h.weekday, h.start_minute, h.end_minute) for h in await catalogue.hours_of(service_id)]
    assert kept == [(0, 480, 720), (0, 810, 1020)]
    half = await http.post(base + "/hours", data={"csrf": csrf, "start-2-0": "09:00"})
    assert half.status_code == 400 and "周三的时段须同时填写开始和结束时间" in half.text
    backwards = await http.post(
        base + "/hours", data={"csrf": csrf, "start-1-0": "18:00", "end-1-0": "09:00"}
    )
    assert backwards.status_code == 400 and "营业时段须在一天之内且开始早于结束" in backwards.text
    assert len(await catalogue.hours_of(service_id)) == 2

    # a closure (holiday, leave of the shop) and the staff named for the service
    day = _at(3, 0).date()
    closed = await http.post(
        base + "/closures", data={"csrf": csrf, "day": day.isoformat(), "reason": "设备检修"}
    )
    assert closed.status_code == 303
    assert await ServiceClosure.filter(service_id=service_id, day=day, reason="设备检修").exists()
    staff_url = f"/console/providers/{provider_id}/staff"
    assert (await http.post(staff_url, data={"csrf": csrf, "name": "王师傅"})).status_code == 303
    worker = await Staff.get(provider_id=provider_id, name="王师傅")
    no_account = await http.post(staff_url, data={"csrf": csrf, "name": "李师傅", "user_id": "999999"})
    assert no_account.status_code == 400 and "该账号不存在" in no_account.text
    named = await http.post(base + "/staff", data={"csrf": csrf, "staff_id": str(worker.id)})
    assert named.status_code == 303
    assert await ServiceStaff.filter(service_id=service_id, staff_id=worker.id).exists()
    page = await http.get(base)
    assert (
        "设备检修" in page.text
        and f'value="{worker.id}" checked' in page.text
        and 'value="13:30"' in page.text
    )

    # the staff member's hours and leave
    worker_url = f"{staff_url}/{worker.id}"
    assert (await http.post(worker_url + "/hours", data={"csrf": csrf, "start-4-0": "09:00", "end-4-0": "18:00"})).status_code == 303  # fmt: skip
    assert [(h.weekday, h.start_minute) for h in await StaffHours.filter(staff_id=worker.id)] == [(4, 540)]
    leave = {"csrf": csrf, "starts_on": day.isoformat(), "ends_on": (day + timedelta(days=1)).isoformat(), "reason": "年假"}  # fmt: skip
    assert (await http.post(worker_url + "/leave", data=leave)).status_code == 303
    wrong = await http.post(
        worker_url + "/leave", data={**leave, "ends_on": (day - timedelta(days=1)).isoformat()}
    )
    assert wrong.status_code == 400 and "请假结束日期不能早于开始日期" in wrong.text
    assert await StaffLeave.filter(staff_id=worker.id).count() == 1
    listing = await http.get(staff_url)
    assert listing.status_code == 200 and "王师傅" in listing.text and "年假" in listing.text


async def test_the_day_schedule_assigns_completes_and_cancels_with_a_reason(demo: Demo, http, cache) -> None:
    provider_id = await _provider(demo)
    service_id = await _service(demo, cache, provider_id)
    first, second = await _book(demo, cache, service_id, 10), await _book(demo, cache, service_id, 14)
    csrf = await sign_in(http, "demo-property")
    assert (await http.post(f"/console/providers/{provider_id}/staff", data={"csrf": csrf, "name": "王师傅"})).status_code == 303  # fmt: skip
    worker = await Staff.get(provider_id=provider_id, name="王师傅")
    day = _at(2, 0).date().isoformat()
    schedule = await http.get(f"/console/providers/{provider_id}?day={day}")
    assert schedule.status_code == 200 and "未派单" in schedule.text
    assert "取消后已付款项将全额退还，并通知预约人。确定取消这个预约？" in schedule.text  # asks first

    bookings = f"/console/providers/{provider_id}/bookings"
    assigned = await http.post(f"{bookings}/{first}/assign", data={"csrf": csrf, "staff_id": str(worker.id)})
    assert (assigned.status_code, assigned.headers["location"]) == (
        303,
        f"/console/providers/{provider_id}?day={day}",
    )
    assert (await Booking.get(id=first)).staff_id == worker.id
    for step in ("arrive", "complete"):
        assert (await http.post(f"{bookings}/{first}/{step}", data={"csrf": csrf})).status_code == 303
    assert (await Booking.get(id=first)).state.value == "completed"
    again = await http.post(f"{bookings}/{first}/assign", data={"csrf": csrf, "staff_id": str(worker.id)})
    assert again.status_code == 409 and "无法完成操作" in again.text

    # a cancellation needs a reason (the API's ReasonIn); without the CSRF token nothing happens
    bare = await http.post(f"{bookings}/{second}/cancel", data={"csrf": csrf, "reason": ""})
    assert bare.status_code == 400 and "reason" in bare.text
    forged = await http.post(f"{bookings}/{second}/cancel", data={"reason": "师傅临时生病"})
    assert forged.status_code == 403 and "页面已过期或请求来源不明" in forged.text
    assert (await Booking.get(id=second)).state.value == "confirmed"
    cancelled = await http.post(f"{bookings}/{second}/cancel", data={"csrf": csrf, "reason": "师傅临时生病"})
    assert cancelled.status_code == 303
    row = await Booking.get(id=second)
    assert (row.state.value, row.cancelled_by, row.cancel_reason) == ("cancelled", "provider", "师傅临时生病")
    shown = await http.get(f"/console/providers/{provider_id}?day={day}")
    assert "王师傅" in shown.text and "已完成" in shown.text


async def test_the_community_admits_a_provider_sees_its_ratings_and_revokes_it(
    demo: Demo, http, cache
) -> None:
    manager = await User.create(openid="forms-org-manager", nickname="家政公司负责人")
    csrf = await sign_in(http, "demo-community")
    base = f"/console/communities/{demo.community.id}/providers"
    admit = {
        "csrf": csrf, "name": "县巧手家政服务有限公司", "credit_code": "91510000MA0000003X",
        "contact_phone": "0816-2345678", "manager_user_id": str(manager.id), "sub_mchid": "",
    }  # fmt: skip
    bad = await http.post(base, data={**admit, "credit_code": "123"})
    assert bad.status_code == 400 and "credit_code" in bad.text
    nobody = await http.post(base, data={**admit, "manager_user_id": "999999"})
    assert nobody.status_code == 400 and "负责人账号不存在" in nobody.text
    assert (await http.post(base, data=admit)).status_code == 303
    admission = await Admission.get(
        community_id=demo.community.id, provider__credit_code="91510000MA0000003X"
    )
    listed = await http.get(base)
    assert "县巧手家政服务有限公司" in listed.text and "准入后该机构可在本社区各小区发布服务" in listed.text
    twice = await http.post(base, data=admit)
    assert twice.status_code == 409

    ratings = await http.get(f"{base}/{admission.provider_id}/ratings")  # type: ignore[attr-defined]
    assert ratings.status_code == 200 and "共 0 条评价" in ratings.text and "还没有评价" in ratings.text

    revoke = f"{base}/{admission.provider_id}/revoke"  # type: ignore[attr-defined]
    short = await http.post(revoke, data={"csrf": csrf, "reason": "差"})
    assert short.status_code == 400
    assert (await http.post(revoke, data={"csrf": csrf, "reason": "多次投诉未整改"})).status_code == 303
    assert (await Admission.get(id=admission.id)).revoked_at is not None
    assert "县巧手家政服务有限公司" not in (await http.get(base)).text
