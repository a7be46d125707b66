"""The console's pages of the newer domains in the real browser, one journey each (the fixtures and
helpers of test_browser): a property company runs a billing period, adds a fee item and sees the arrears; the fund
office publishes a rate and the committee sees its compound's fund; a provider sees its services
with their hours and a day's schedule, adds a staff member, assigns and completes a booking; the supervisor reads the dashboard and publishes a quarterly
list. Screenshots go with the others; inputs are checked for labels, actions taken by keyboard.
The journeys share one demo world, in this order (the set-up costs more than a journey)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from accounts.models import Ownership, RoleGrant, ServiceContract, User
from accounts.roles import Role, Scope
from bookings import providers
from bookings.models import Booking, Staff
from core import clock
from fund.models import FundRate
from notices.demo import seed_notices
from payments.demo import seed_payments
from payments.models import Bill, FeeItem
from ratings.models import QuarterList
from tests.console.conftest import Demo, bearer, owner_users
from tests.console.test_browser import demo_sign_in, keyboard, pytestmark, shot, unlabelled, visit

__all__ = ["pytestmark"]  # the skip without Chromium, as test_browser's


def _next_month() -> str:
    today = clock.to_local(clock.now()).date()
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{year:04d}-{month:02d}"


async def a_company_runs_a_billing_period_and_sees_the_arrears(
    page: Any, demo: Demo, dialogs: dict[str, Any], cache: Any
) -> None:
    await seed_notices()
    await seed_payments()
    await demo_sign_in(page, "demo-property")
    await page.click(f"a[href='/console/compounds/{demo.compound.id}/fees']")
    await page.wait_for_selector("h1:has-text('物业收费')")
    assert await unlabelled(page) == []
    assert "物业服务费" in await page.inner_text("#items table")
    period = _next_month()
    await page.fill("#run-period", period)
    await keyboard(page, "form[action$='/billing-runs'] button")
    result = page.locator("#run-result")
    await result.wait_for()
    assert dialogs["asked"][-1] == "确定按该账期计费？账单出具后将通知业主缴费。"
    created = await Bill.filter(compound_id=demo.compound.id, period=period).count()
    assert created > 0 and f"本次新建账单 {created} 张" in await result.inner_text()
    await shot(page, "fees-billed")
    await page.fill("#item-name", "电梯运行费")  # a new fee item, under the board's posted standard
    await page.select_option("#item-kind", "fixed_monthly")
    await page.fill("#item-monthly", "1500")
    await keyboard(page, "#item-form button")
    await page.wait_for_selector("#items td:has-text('电梯运行费')")
    assert dialogs["asked"][-1] == "新增后该项目自下一次计费起出账，确定新增？"
    assert await FeeItem.filter(compound_id=demo.compound.id, name="电梯运行费", monthly_fen=1500).exists()
    assert await unlabelled(page) == []
    await visit(page, f"/console/compounds/{demo.compound.id}/fees?list=arrears", "fees-arrears")
    assert "没有欠费" not in await page.inner_text("section:has(h2:has-text('欠费'))")


async def the_fund_office_publishes_a_rate_and_the_committee_sees_its_fund(
    page: Any, demo: Demo, dialogs: dict[str, Any], cache: Any
) -> None:
    office = await User.create(openid="demo-fund-office", nickname="县维修资金管理中心")
    await RoleGrant.create(user=office, role=Role.FUND_OFFICE.value, scope_type=Scope.COUNTY.value)
    await visit(page, "/console/login", "login-fund-office")
    await page.fill("#openid-any", "demo-fund-office")
    await keyboard(page, "form:has(#openid-any) button")
    await page.wait_for_url("**/console/")
    await page.click("a[href='/console/fund']")
    await page.wait_for_selector("h1:has-text('维修资金')")
    await page.select_option("#rate-type", "lift")
    await page.fill("#rate-fen", "5000")
    await page.fill("#rate-from", "2026-01-01")
    await keyboard(page, "form[action$='/fund/rates'] button")
    await page.wait_for_selector("td:has-text('电梯住宅')")
    assert "交存标准公布后即用于核定首期应交，确定公布？" in dialogs["asked"]
    assert await FundRate.filter(building_type="lift", fen_per_m2=5000).exists()
    assert await unlabelled(page) == []
    await shot(page, "fund-office")

    await page.context.clear_cookies()
    await demo_sign_in(page, "demo-committee")
    await visit(page, f"/console/compounds/{demo.compound.id}/fund", "compound-fund")
    assert "完整" in await page.inner_text("#ledger-check")


async def a_provider_sees_its_services_and_a_days_schedule(
    page: Any, demo: Demo, dialogs: dict[str, Any], cache: Any
) -> None:
    contract = await ServiceContract.filter(compound_id=demo.compound.id).order_by("-starts_on").first()
    assert contract is not None
    provider = await providers.provider_of_company(contract.company_id)  # type: ignore[attr-defined]
    staff = await User.get(openid="demo-property")
    async with httpx.AsyncClient(base_url=demo.url) as api:
        auth = await bearer(cache, staff.id)
        made = await api.post(
            f"/api/v1/admin/providers/{provider.id}/services", headers=auth,
            json={"compound_id": demo.compound.id, "name": "家电清洗", "category": "housekeeping",
                  "delivery": "at_home", "duration_minutes": 60, "price_fen": 8800, "price_unit": "per_visit",
                  "slot_minutes": 60, "capacity": 2, "pay_on_site": True, "open_on_holidays": True},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        hours = await api.put(
            f"/api/v1/admin/providers/{provider.id}/services/{made.json()['id']}/hours", headers=auth,
            json={"hours": [{"weekday": 0, "start_minute": 540, "end_minute": 1080}]},
        )  # fmt: skip
        assert hours.status_code == 200, hours.text
    await demo_sign_in(page, "demo-property")
    await page.click("a[href='/console/providers']")
    await page.click(f"a[href='/console/providers/{provider.id}']")
    services = await page.inner_text("section:has(h2:has-text('服务项目'))")
    assert "家电清洗" in services and "88.00/次" in services and "周一 09:00–18:00" in services
    await page.fill("#schedule-day", "2026-03-02")
    await keyboard(page, "form[method=get] button")
    await page.wait_for_selector("h2:has-text('2026-03-02 的预约')")
    assert "当天没有预约" in await page.inner_text("section:has(h2:has-text('预约'))")
    assert await unlabelled(page) == []
    await shot(page, "provider")

    # a staff member added on the staff page; an owner's booking (paid on site) assigned and completed
    await visit(page, f"/console/providers/{provider.id}/staff", "provider-staff")
    await page.fill("#staff-name", "王师傅")
    await keyboard(page, "#staff-form button")
    await page.wait_for_selector("td:has-text('王师傅')")
    owners = await owner_users(demo.compound, cache)
    owner_id, owner_auth = next(iter(owners.items()))
    held = await Ownership.filter(owner_id=owner_id).first()
    assert held is not None
    today = clock.to_local(clock.now()).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    starts = datetime(monday.year, monday.month, monday.day, 10, tzinfo=clock.SHANGHAI)
    async with httpx.AsyncClient(base_url=demo.url) as api:
        booked = await api.post(
            "/api/v1/bookings", headers=owner_auth,
            json={"service_id": made.json()["id"], "unit_id": held.unit_id, "starts_at": starts.isoformat()},
        )  # fmt: skip
    assert booked.status_code == 201 and booked.json()["state"] == "confirmed", booked.text
    booking_id = booked.json()["id"]
    await visit(page, f"/console/providers/{provider.id}?day={monday.isoformat()}", "provider-day")
    await keyboard(page, f"form[action$='/bookings/{booking_id}/assign'] button")
    await page.wait_for_selector("text=未派单", state="detached")
    assert (await Booking.get(id=booking_id)).staff_id == (await Staff.get(name="王师傅")).id
    await page.click(f"form[action$='/bookings/{booking_id}/arrive'] button")
    await page.wait_for_selector("td:has-text('服务中')")
    await page.click(f"form[action$='/bookings/{booking_id}/complete'] button")
    await page.wait_for_selector("td:has-text('已完成')")
    assert dialogs["asked"][-2:] == ["确认服务人员已到达？", "确认服务已完成？"]
    assert (await Booking.get(id=booking_id)).state.value == "completed"
    await shot(page, "provider-completed")


async def the_supervisor_reads_the_dashboard_and_publishes_a_quarterly_list(
    page: Any, demo: Demo, dialogs: dict[str, Any], cache: Any
) -> None:
    await demo_sign_in(page, "demo-supervisor")
    await page.click("a[href='/console/supervision']")
    figures = await page.inner_text("#dashboard-figures")
    assert "业主委员会" in figures and "网格巡查覆盖" in figures
    assert demo.compound.name in await page.inner_text("section:has(h2:has-text('小区一览'))")
    assert await unlabelled(page) == []
    await shot(page, "supervision")
    await page.fill("#quarter", "2026Q1")
    await keyboard(page, "form[action$='/supervision/lists'] button")
    await page.wait_for_selector("h1:has-text('2026Q1 红黑榜（草稿）')")
    dialogs["dismiss"] = 1  # publishing asks first: answered No, nothing happens
    await page.click("form[action$='/publish'] button")
    assert (await QuarterList.get(quarter="2026Q1")).status == "draft"
    await page.click("form[action$='/publish'] button")
    await page.wait_for_selector("h1:has-text('2026Q1 红黑榜（已发布）')")
    assert dialogs["asked"].count("发布后将在全县公告栏公告并存档，不能撤回。确定发布？") == 2
    await shot(page, "rating-list")
    await visit(page, f"/console/communities/{demo.community.id}/dashboard", "community-dashboard")


JOURNEYS = (
    a_company_runs_a_billing_period_and_sees_the_arrears,
    the_fund_office_publishes_a_rate_and_the_committee_sees_its_fund,
    a_provider_sees_its_services_and_a_days_schedule,
    the_supervisor_reads_the_dashboard_and_publishes_a_quarterly_list,
)


async def test_the_pages_of_payments_fund_bookings_and_supervision(
    page: Any, demo: Demo, dialogs: dict[str, Any], cache: Any
) -> None:
    """The four journeys one after another in one demo world (its set-up is most of a journey's time);
    each signs in afresh."""
    for journey in JOURNEYS:
        await page.context.clear_cookies()
        await journey(page, demo, dialogs, cache)
