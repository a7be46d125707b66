"""The maintenance-fund forms (console.fund_forms), over HTTP through the real app and the demo fund
(fund.demo: 阳光花园's sub-accounts, all paid but 3号楼's top floor): the committee applies for an
ordinary use (its matter-5 motion drafted) and an emergency one, takes each through the steps the
API offers up to the fund office's payout; the fund office's corrections need a second person. Every
refusal shows the domain's Chinese message and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx

from accounts.models import Building, RoleGrant, User
from accounts.roles import Role, Scope
from core import clock
from fund import ledger
from fund.demo import FUND_OFFICE_OPENID, seed_fund
from fund.models import Correction, FundEntry, SubAccount, UseApplication
from fund.rules import ApplicationStatus
from tests.console.conftest import Demo, sign_in
from voting.models import Motion


async def _world(demo: Demo) -> tuple[str, dict[str, int]]:
    await seed_fund()
    buildings = dict(await Building.filter(compound_id=demo.compound.id).values_list("name", "id"))
    return f"/console/compounds/{demo.compound.id}/fund", {str(k): int(v) for k, v in buildings.items()}


def _local(delta: timedelta) -> str:
    """A datetime-local field's value, Beijing time."""
    return clock.to_local(clock.now() + delta).strftime("%Y-%m-%dT%H:%M")


async def test_the_committee_applies_for_an_ordinary_use_and_its_motion_is_drafted(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fund, buildings = await _world(demo)
    csrf = await sign_in(http, "demo-committee")
    page = await http.get(fund)
    assert (
        page.status_code == 200 and 'id="ordinary-form"' in page.text and 'id="emergency-form"' in page.text
    )
    assert f'name="buildings" value="{buildings["2号楼"]}"' in page.text
    motions = await Motion.all().count()

    applied = await http.post(
        fund + "/applications",
        data={"csrf": csrf, "title": "2号楼屋面防水", "works": "2号楼屋面防水层老化，整体翻新。",
              "budget_fen": "1200000", "buildings": [str(buildings["2号楼"])],
              "opens_at": _local(timedelta(days=20)), "closes_at": _local(timedelta(days=27)),
              "announce_days": ""},
    )  # fmt: skip
    assert applied.status_code == 303, applied.text
    created = await UseApplication.get(compound_id=demo.compound.id, title="2号楼屋面防水")
    assert applied.headers["location"] == f"{fund}/applications/{created.id}"
    assert created.status is ApplicationStatus.VOTING and created.motion_id is not None
    assert await Motion.all().count() == motions + 1
    assert {s["room"].split("-")[0] for s in created.shares} == {"2号楼"}
    assert sum(s["share_fen"] for s in created.shares) == 1_200_000

    detail = await http.get(applied.headers["location"])
    assert detail.status_code == 200 and "业主表决中" in detail.text
    assert f"/motions/{created.motion_id}" in detail.text and "登记表决结果" in detail.text
    early = await http.post(f"{fund}/applications/{created.id}/vote-result", data={"csrf": csrf})
    assert early.status_code == 409 and "业主表决结果尚未确定" in early.text
    assert (await UseApplication.get(id=created.id)).status is ApplicationStatus.VOTING
    listed = await http.get(fund)
    assert f'href="{fund}/applications/{created.id}"' in listed.text


async def test_a_split_falling_on_a_short_balance_is_refused_with_the_rooms(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fund, buildings = await _world(demo)
    csrf = await sign_in(http, "demo-committee")
    before = await UseApplication.all().count()
    refused = await http.post(
        fund + "/applications/emergency",
        data={"csrf": csrf, "category": "roof_wall_leak", "title": "3号楼外墙渗漏", "works": "3号楼外墙渗漏修补",
              "budget_fen": "5000000", "buildings": [str(buildings["3号楼"])]},
    )  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert "以下房屋维修资金余额不足以承担分摊金额，须先续交：3号楼-6" in refused.text
    bad = await http.post(
        fund + "/applications/emergency",
        data={"csrf": csrf, "category": "meteor", "title": "x", "works": "x", "budget_fen": "0"},
    )
    assert bad.status_code == 400 and "填写的内容有误" in bad.text
    assert await UseApplication.all().count() == before


async def test_an_emergency_goes_from_application_to_payout(demo: Demo, http: httpx.AsyncClient) -> None:
    fund, buildings = await _world(demo)
    csrf = await sign_in(http, "demo-committee")
    applied = await http.post(
        fund + "/applications/emergency",
        data={"csrf": csrf, "category": "lift_fault", "title": "1号楼电梯困人故障", "works": "更换1号楼电梯门机",
              "budget_fen": "300000", "buildings": [str(buildings["1号楼"])]},
    )  # fmt: skip
    assert applied.status_code == 303, applied.text
    detail_url = applied.headers["location"]
    created = await UseApplication.get(compound_id=demo.compound.id, title="1号楼电梯困人故障")
    assert created.status is ApplicationStatus.APPROVED
    page = await http.get(detail_url)
    assert (
        "已批准" in page.text and "电梯故障危及人身安全" in page.text and 'id="completion-cost"' in page.text
    )

    over = await http.post(f"{detail_url}/completion", data={"csrf": csrf, "cost_fen": "300001"})
    assert over.status_code == 400 and "决算金额须大于零且不超过预算" in over.text
    assert (await UseApplication.get(id=created.id)).status is ApplicationStatus.APPROVED
    done = await http.post(f"{detail_url}/completion", data={"csrf": csrf, "cost_fen": "280000"})
    assert done.status_code == 303
    assert (await UseApplication.get(id=created.id)).status is ApplicationStatus.COMPLETED
    again = await http.post(f"{detail_url}/completion", data={"csrf": csrf, "cost_fen": "280000"})
    assert again.status_code == 409 and "该申请当前状态不允许此操作" in again.text

    entries = await FundEntry.all().count()
    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as office:
        office_csrf = await sign_in(office, FUND_OFFICE_OPENID)
        shown = await office.get(detail_url)
        assert shown.status_code == 200 and "审核拨付" in shown.text and "completion-cost" not in shown.text
        paid = await office.post(
            f"/console/fund/applications/{created.id}/payout", data={"csrf": office_csrf}
        )
        assert paid.status_code == 303
    final = await UseApplication.get(id=created.id)
    assert final.status is ApplicationStatus.PAID and final.notice_id is not None
    assert await FundEntry.all().count() > entries
    assert "已拨付" in (await http.get(detail_url)).text


async def test_the_community_may_not_apply_for_an_emergency_where_there_is_a_committee(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    fund, buildings = await _world(demo)
    csrf = await sign_in(http, "demo-community")
    assert 'id="ordinary-form"' not in (await http.get(fund)).text  # the committee's alone
    before = await UseApplication.all().count()
    refused = await http.post(
        fund + "/applications/emergency",
        data={"csrf": csrf, "category": "drain", "title": "排水管堵塞", "works": "疏通1号楼排水管",
              "budget_fen": "10000", "buildings": [str(buildings["1号楼"])]},
    )  # fmt: skip
    assert (
        refused.status_code == 403
        and "应急维修由业主委员会申请；未成立业主委员会的，由社区申请" in refused.text
    )
    ordinary = await http.post(fund + "/applications", data={"csrf": csrf, "title": "x"})
    assert ordinary.status_code == 403
    missing = await http.post(fund + "/applications/emergency", data={"title": "x"})  # no CSRF token
    assert missing.status_code == 403 and "页面已过期或请求来源不明" in missing.text
    assert await UseApplication.all().count() == before


async def test_a_correction_is_decided_by_a_second_person(demo: Demo, http: httpx.AsyncClient) -> None:
    await _world(demo)
    account = await SubAccount.filter(compound_id=demo.compound.id).order_by("id").first()
    assert account is not None
    balance = await ledger.balance(account.id)
    second = await User.create(openid="fund-office-2", nickname="维修资金管理中心复核")
    await RoleGrant.create(user=second, role=Role.FUND_OFFICE.value, scope_type=Scope.COUNTY.value)
    csrf = await sign_in(http, FUND_OFFICE_OPENID)
    desk = await http.get("/console/fund")
    assert 'href="/console/fund/corrections"' in desk.text

    empty = await http.post(
        "/console/fund/corrections", data={"csrf": csrf, "unit_id": str(account.unit_id), "amount_fen": "0",
                                           "reason": "录入错误"},
    )  # fmt: skip
    assert empty.status_code == 400 and "更正金额不能为零" in empty.text
    asked = await http.post(
        "/console/fund/corrections",
        data={"csrf": csrf, "unit_id": str(account.unit_id), "amount_fen": "-1500", "reason": "重复记账更正"},
    )
    assert asked.status_code == 303
    correction = await Correction.get(account_id=account.id)
    listed = await http.get("/console/fund/corrections?status=pending")
    assert "重复记账更正" in listed.text and "须由另一名工作人员审核" in listed.text
    own = await http.post(
        f"/console/fund/corrections/{correction.id}/decision", data={"csrf": csrf, "approve": "yes"}
    )
    assert own.status_code == 403 and "更正须由另一名工作人员审核" in own.text
    assert (await Correction.get(id=correction.id)).status.value == "pending"
    assert await ledger.balance(account.id) == balance

    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as other:
        other_csrf = await sign_in(other, "fund-office-2")
        page = await other.get("/console/fund/corrections")
        assert f'action="/console/fund/corrections/{correction.id}/decision"' in page.text
        approved = await other.post(
            f"/console/fund/corrections/{correction.id}/decision", data={"csrf": other_csrf, "approve": "yes"}
        )
        assert approved.status_code == 303
        twice = await other.post(
            f"/console/fund/corrections/{correction.id}/decision", data={"csrf": other_csrf, "approve": "no"}
        )
        assert twice.status_code == 409 and "该更正申请已处理" in twice.text
    assert (await Correction.get(id=correction.id)).status.value == "approved"
    assert await ledger.balance(account.id) == balance - 1500
    assert "已更正" in (await http.get("/console/fund/corrections")).text
