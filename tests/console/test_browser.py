"""The console in a real browser (Playwright driving Debian's Chromium at /usr/bin/chromium; nothing is
downloaded): a committee imports a roster with one bad row, fixes it and runs a whole vote to its
published result; a property company handles a complaint through to resolved; a community admin
files a committee. Every page is screenshot into var/screenshots/console/ (a test artifact), every
page's inputs are checked for labels, and actions are taken by keyboard (Tab to it, Enter)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from accounts.models import Committee, Unit, User
from complaints.models import Complaint
from core import clock
from tests.console.conftest import CHROMIUM, Demo, bearer, owner_users
from voting.models import Motion

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "console"

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is absent"
)


async def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def unlabelled(page: Any) -> list[str]:
    """Inputs a screen reader could not name: no <label for>, no wrapping label, no aria-label."""
    return list(
        await page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden')
                .filter(e => !(e.id && document.querySelector(`label[for="${e.id}"]`))
                             && !e.closest('label') && !e.getAttribute('aria-label'))
                .map(e => e.name || e.outerHTML)"""
        )
    )


async def visit(page: Any, path: str, name: str) -> None:
    response = await page.goto(path)
    assert response.status == 200, await page.content()
    assert await unlabelled(page) == []
    await shot(page, name)


async def keyboard(page: Any, selector: str) -> None:
    """Reach ``selector`` with Tab alone, then press Enter on it."""
    await page.locator("body").focus()
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            await page.keyboard.press("Enter")
            return
    raise AssertionError(f"{selector} is not reachable by Tab")


async def demo_sign_in(page: Any, openid: str) -> None:
    await visit(page, "/console/login", "login")
    await page.select_option("#openid", openid)
    await keyboard(page, "form[action$='/login/demo'] button")
    await page.wait_for_url("**/console/")


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((320, 240), 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


def beijing(delta: timedelta) -> str:
    return clock.to_local(clock.now() + delta).strftime("%Y-%m-%dT%H:%M:%S")


async def test_a_committee_imports_a_roster_and_runs_a_vote_to_its_published_result(
    page: Any, demo: Demo, cache: Any
) -> None:
    c = demo.compound.id
    await demo_sign_in(page, "demo-committee")
    await shot(page, "home-committee")
    await visit(page, f"/console/compounds/{c}", "compound")

    # a roster with one bad row: refused as a whole, the row and field named
    await visit(page, f"/console/compounds/{c}/roster", "roster")
    units_before = await Unit.filter(compound_id=c).count()
    bad = "楼栋,房号,类型,面积\n1号楼,901,住宅,88.50\n1号楼,902,住宅,八十\n".encode()
    await page.set_input_files("#roster-file", {"name": "roster.csv", "mimeType": "text/csv", "buffer": bad})
    await keyboard(page, "form[data-progress] button")
    problems = page.locator("#roster-problems")
    await problems.wait_for()
    assert "第 2 行" in await problems.inner_text() and "面积" in await problems.inner_text()
    await shot(page, "roster-problems")
    assert await Unit.filter(compound_id=c).count() == units_before  # nothing imported
    # fixed and imported again
    good = bad.replace("八十".encode(), b"80.00")
    await page.set_input_files("#roster-file", {"name": "roster.csv", "mimeType": "text/csv", "buffer": good})
    await page.click("form[data-progress] button")
    report = page.locator("#roster-report")
    await report.wait_for()
    assert "新增房屋 2" in await report.inner_text()
    await shot(page, "roster-imported")
    assert await Unit.filter(compound_id=c).count() == units_before + 2

    # a motion, drafted, announced and opened
    owners = await owner_users(demo.compound, cache)  # their mini-program accounts, before the roll freezes
    await visit(page, f"/console/compounds/{c}/motions", "motions")
    await page.fill("#m-title", "关于使用维修资金维修电梯的表决")
    await page.fill("#m-text", "1号楼电梯需大修，拟使用维修资金。")
    await page.fill("#item1-title", "同意使用维修资金维修 1 号楼电梯")
    await page.select_option("#item1-matter", "use_maintenance_fund")
    await page.fill("#m-opens", beijing(timedelta(seconds=2)))
    await page.fill("#m-closes", beijing(timedelta(hours=2)))
    await page.fill("#m-announce", "0")
    await page.click("form[action$='/motions'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*/motions/\d+$"))
    motion_id = int(page.url.rsplit("/", 1)[1])
    assert await unlabelled(page) == []
    await shot(page, "motion-draft")
    await page.click("form[action$='/announce'] button")
    await page.wait_for_selector("#motion-status:has-text('已公告')")
    motion = await Motion.get(id=motion_id)
    while clock.now() < motion.opens_at:  # the announced opening time (seconds from now) has to come
        await page.wait_for_timeout(200)
    await keyboard(page, "form[action$='/open'] button")
    await page.wait_for_selector("#motion-status:has-text('投票中')")

    # owners vote in the mini-program (all who may, but one); the live turnout follows without a reload
    voted: list[int] = []
    async with httpx.AsyncClient(base_url=demo.url) as api:
        eligible = []
        for header in owners.values():
            seen = (await api.get(f"/api/v1/motions/{motion_id}", headers=header)).json()
            if "cast" in seen["allowed_actions"]:
                eligible.append((header, seen["my_voter_id"]))
        item_id = seen["items"][0]["id"]
        for header, voter_id in eligible[:-1]:
            cast = await api.post(
                f"/api/v1/motions/{motion_id}/ballots",
                headers=header,
                json={"choices": {str(item_id): "agree"}},
            )
            assert cast.status_code == 201, cast.text
            voted.append(voter_id)
    await page.wait_for_function(
        "n => Number(document.querySelector('[data-field=\"participating.headcount\"]').textContent) === n",
        arg=len(voted),
        timeout=15000,
    )
    await shot(page, "motion-open-turnout")

    # a paper ballot, entered by the committee for the owner who did not vote online
    paper_voter = str(eligible[-1][1])
    assert paper_voter in [
        await o.get_attribute("value") for o in await page.locator("#paper-voter option").all()
    ]
    await page.select_option("#paper-voter", paper_voter)
    await page.select_option(f"#paper-choice-{item_id}", "agree")
    await page.fill("#paper-scan", "扫描件-0001")
    await page.click("form[action$='/paper-ballots'] button")
    await page.wait_for_selector("text=纸质选票已录入")
    assert "已计入" in await page.inner_text("main")
    await shot(page, "paper-ballot-receipt")

    # close (its deadline moved to now, as the voting tests do), count, publish
    await Motion.filter(id=motion_id).update(closes_at=clock.now())
    await page.goto(f"/console/compounds/{c}/motions/{motion_id}")
    for action, status in (("close", "已截止"), ("count", "已计票"), ("publish", "询异期")):
        await page.click(f"form[action$='/{action}'] button")
        await page.wait_for_selector(f"#motion-status:has-text('{status}')")
    results = page.locator("#results")
    assert await results.locator("td.ok").inner_text() == "通过"
    assert await results.locator("td.bad").count() == 0
    await shot(page, "motion-published")
    assert (await Motion.get(id=motion_id)).status.value == "objection"
    archive = await page.request.get(f"/console/compounds/{c}/motions/{motion_id}/archive.csv")
    assert archive.status == 200 and archive.headers["content-type"].startswith("text/csv")
    async with page.expect_download() as waiting:  # the export shows its progress, then saves
        await page.click("a[href$='/archive.xlsx']")
    assert (await waiting.value).suggested_filename == f"motion-{motion_id}.xlsx"
    await page.wait_for_selector(f"#archive-status:has-text('已下载 motion-{motion_id}.xlsx')")


async def test_a_company_handles_a_complaint_through_to_resolved(page: Any, demo: Demo, cache: Any) -> None:
    owners = await owner_users(demo.compound, cache)
    async with httpx.AsyncClient(base_url=demo.url) as api:
        ids = []
        for text in ("3号楼电梯异响，请尽快检修", "东门车棚灯不亮"):
            filed = await api.post(
                "/api/v1/complaints", headers=next(iter(owners.values())),
                json={"compound_id": demo.compound.id, "category": "repair", "text": text,
                      "place_kind": "common", "place_note": "公共区域"},
            )  # fmt: skip
            assert filed.status_code == 201, filed.text
            ids.append(int(filed.json()["id"]))
    await Complaint.filter(id=ids[1]).update(overdue=True)  # one that missed its stage deadline

    # sign in with a code confirmed in the mini-program
    await visit(page, "/console/login", "login-code")
    code = (await page.inner_text("#login-code")).strip()
    staff = await User.get(openid="demo-property")
    async with httpx.AsyncClient(base_url=demo.url) as api:
        confirmed = await api.post(
            "/api/v1/console-login/confirm", json={"code": code}, headers=await bearer(cache, staff.id)
        )
        assert confirmed.status_code == 200, confirmed.text
    await page.wait_for_url("**/console/", timeout=15000)

    await visit(page, "/console/complaints", "complaints")
    rows = page.locator("tbody tr")
    assert await rows.count() == 2
    assert "已超时" in await page.locator(f"tr:has(a[href$='/complaints/{ids[1]}'])").inner_text()
    assert "已超时" not in await page.locator(f"tr:has(a[href$='/complaints/{ids[0]}'])").inner_text()
    await page.goto("/console/complaints?overdue=yes")
    assert await page.locator("tbody tr").count() == 1

    await visit(page, f"/console/complaints/{ids[0]}", "complaint")
    await page.fill("#note-accept", "已受理，今天安排维修")
    await keyboard(page, "form[action$='/accept'] button")
    await page.wait_for_selector("#complaint-status:has-text('已受理')")
    await page.fill("#note-start", "维保人员已到场")
    await page.click("form[action$='/start'] button")
    await page.wait_for_selector("#complaint-status:has-text('处理中')")
    assert await unlabelled(page) == []
    await page.fill("#note-resolve", "已更换导轨，电梯运行正常")
    await page.set_input_files(
        "#photos-resolve", [{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    await page.click("form[action$='/resolve'] button")
    await page.wait_for_selector("#complaint-status:has-text('已处理待确认')")
    await shot(page, "complaint-resolved")
    history = await page.locator("table").last.inner_text()
    assert "已更换导轨" in history and "附照片 1 张" in history
    resolved = await Complaint.get(id=ids[0])
    assert resolved.status.value == "resolved"


async def test_a_community_admin_files_a_committee(page: Any, demo: Demo, dialogs: dict[str, Any]) -> None:
    await demo_sign_in(page, "demo-community")
    await shot(page, "home-community")
    await visit(page, f"/console/communities/{demo.community.id}/compounds", "community-compounds")
    await page.fill("#new-name", "东街新苑")
    await page.fill("#new-address", "东街 88 号")
    await keyboard(page, "form[action$='/compounds'] button")
    await page.wait_for_url(re.compile(r".*/compounds/\d+/committees$"))
    compound_id = int(page.url.split("/compounds/")[1].split("/")[0])
    assert await unlabelled(page) == []
    assert "尚未登记业主委员会" in await page.inner_text("tbody")
    starts = clock.to_local(clock.now()).date()
    await page.fill("#term-start", starts.isoformat())
    await page.fill("#term-end", (starts + timedelta(days=5 * 365)).isoformat())
    await keyboard(page, "form[action$='/committees'] button")
    row = page.locator("tbody tr").first
    await row.locator("text=待备案").wait_for()
    await shot(page, "committee-pending")

    # filing asks first: answered No, nothing happens
    dialogs["dismiss"] = 1
    await page.click("form[action$='/filing'] button:has-text('予以备案')")
    await page.wait_for_function("() => true")
    assert dialogs["asked"][-1] == "备案后不能撤销。确定予以备案？"
    assert await Committee.get(compound_id=compound_id).values_list("filing_status", flat=True) == "pending"
    await page.click("form[action$='/filing'] button:has-text('予以备案')")
    await row.locator("text=已备案").wait_for()
    assert dialogs["asked"].count("备案后不能撤销。确定予以备案？") == 2
    await shot(page, "committee-filed")
    assert (await Committee.get(compound_id=compound_id)).filing_status.value == "filed"
