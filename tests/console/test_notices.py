"""The console's notice board and disclosures over HTTP: CSRF first, a notice drafted, published and
withdrawn (asking first), a held notice showing WeChat's reason, line items saved with the totals the
server computed, a bad line item answered in Chinese with everything typed kept; and one browser
journey where the chair posts a notice and corrects a disclosure's line items."""

from __future__ import annotations

import re
from typing import Any

import httpx

from audit.models import AuditEvent
from notices.models import Disclosure, Notice, NoticeAck, NoticeRevision
from tests.console.conftest import Demo, sign_in
from tests.console.test_browser import demo_sign_in, keyboard, pytestmark, shot, unlabelled, visit

__all__ = ["pytestmark"]  # the browser journey skips without Chromium, as test_browser's


def _base(demo: Demo) -> str:
    return f"/console/compounds/{demo.compound.id}"


def _notice_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def _draft(http: httpx.AsyncClient, demo: Demo, csrf: str, **fields: str) -> int:
    form = {"csrf": csrf, "category": "announcement", "title": "停水通知", "body_markdown": "周六上午停水。"}
    return _notice_id(await http.post(f"{_base(demo)}/notices", data=form | fields))


LINES = {
    "common_income.item": ["广告", "停车", ""],
    "common_income.amount": ["12,000.00", "20400", ""],
    "common_income.voucher": ["凭-001", "", ""],
    "common_income_use.item": ["补充维修资金"],
    "common_income_use.amount": ["20000.5"],
    "common_income_use.voucher": [""],
    "fund_use.item": ["电梯主板"],
    "fund_use.amount": ["38500"],
    "fund_use.voucher": ["凭-002"],
}


def _disclosure_form(csrf: str, **changes: Any) -> dict[str, Any]:
    return {
        "csrf": csrf,
        "kind": "committee_annual",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "note": "如有疑问请联系业主委员会。",
        **LINES,
        **changes,
    }


async def test_a_post_without_the_csrf_token_is_refused_and_nothing_is_drafted(demo: Demo, http) -> None:
    await sign_in(http, "demo-committee")
    before = await Notice.all().count()
    for path, form in (
        (f"{_base(demo)}/notices", {"category": "announcement", "title": "通知", "body_markdown": "内容"}),
        (f"{_base(demo)}/disclosures", _disclosure_form("")),
    ):
        refused = await http.post(path, data=form | {"csrf": "0" * 64})
        assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
    assert await Notice.all().count() == before


async def test_the_chair_drafts_publishes_and_withdraws_a_notice(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    listed = await http.get(f"{_base(demo)}/notices")
    assert listed.status_code == 200 and 'for="n-title"' in listed.text
    assert "业主委员会年度公示" in listed.text  # the chair may draft the committee's disclosure
    notice_id = await _draft(http, demo, csrf, requires_ack="yes")
    shown = await http.get(f"{_base(demo)}/notices/{notice_id}")
    assert '<span class="badge" id="notice-state">草稿</span>' in shown.text
    assert "<p>周六上午停水。</p>" in shown.text and 'data-confirm="撤回后' in shown.text

    edited = await http.post(
        f"{_base(demo)}/notices/{notice_id}/edit",
        data={"csrf": csrf, "title": "停水通知（更正）", "body_markdown": "周日上午停水。", "note": "改日期",
              "audience": "everyone", "requires_ack": "yes"},
    )  # fmt: skip
    assert edited.status_code == 303
    published = await http.post(f"{_base(demo)}/notices/{notice_id}/publish", data={"csrf": csrf})
    assert published.status_code == 303, published.text
    notice = await Notice.get(id=notice_id)
    assert (notice.status.value, notice.revision, notice.title, notice.requires_ack) == (
        "published", 2, "停水通知（更正）", True,
    )  # fmt: skip
    live = await http.get(f"{_base(demo)}/notices/{notice_id}")
    addressed = await NoticeAck.filter(notice_id=notice_id).count()
    assert (
        addressed > 0 and f"应确认 <strong>{addressed}</strong> 人，已确认 <strong>0</strong> 人" in live.text
    )
    assert "已发布" in live.text and 'id="history"' in live.text and "改日期" in live.text
    listed = await http.get(f"{_base(demo)}/notices")
    row = re.search(rf'notices/{notice_id}">停水通知（更正）</a>.*?</tr>', listed.text, re.S)
    assert row and "需确认阅知" in row.group(0) and "已发布" in row.group(0)

    # withdrawing needs a reason; with one it is off the board and the reason shown
    empty = await http.post(f"{_base(demo)}/notices/{notice_id}/withdraw", data={"csrf": csrf, "reason": ""})
    assert empty.status_code == 400 and (await Notice.get(id=notice_id)).status.value == "published"
    done = await http.post(
        f"{_base(demo)}/notices/{notice_id}/withdraw", data={"csrf": csrf, "reason": "日期有误"}
    )
    assert done.status_code == 303
    assert (await Notice.get(id=notice_id)).withdraw_reason == "日期有误"
    assert await AuditEvent.filter(action="notice.withdrawn", subject=f"notice:{notice_id}").exists()
    gone = await http.get(f"{_base(demo)}/notices/{notice_id}")
    assert "撤回原因：日期有误" in gone.text and "/withdraw" not in gone.text


async def test_the_list_pages_by_signed_cursors_and_the_community_withdraws(demo: Demo, http) -> None:
    """21 drafts: 20 on the first page, the rest behind the sealed cursor (a forged one refused); the
    community admin revokes the committee's notice (task 8), the committee's side never the reverse."""
    csrf = await sign_in(http, "demo-committee")
    made = [await _draft(http, demo, csrf, title=f"通知 {n}") for n in range(21)]
    first = await http.get(f"{_base(demo)}/notices?status=draft")
    link = re.search(r'href="\?status=draft&cursor=([A-Za-z0-9_-]+)"', first.text)
    assert first.status_code == 200 and link, first.text
    second = await http.get(f"{_base(demo)}/notices?status=draft&cursor={link.group(1)}")
    assert second.status_code == 200 and "下一页" not in second.text
    seen = [
        int(i) for i in re.findall(r'href="/console/compounds/\d+/notices/(\d+)"', first.text + second.text)
    ]
    assert seen == sorted(made, reverse=True)
    forged = await http.get(f"{_base(demo)}/notices?status=draft&cursor={link.group(1)[:-2]}AA")
    assert forged.status_code == 400 and "分页参数无效" in forged.text

    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as community:
        token = await sign_in(community, "demo-community")
        shown = await community.get(f"{_base(demo)}/notices/{made[0]}")
        assert "/withdraw" in shown.text
        # the committee's own notice: the service refuses the community's publishing it
        refused = await community.post(f"{_base(demo)}/notices/{made[0]}/publish", data={"csrf": token})
        assert refused.status_code == 403 and "只能管理本单位发布的公告" in refused.text
        assert (await Notice.get(id=made[0])).status.value == "draft"
        done = await community.post(
            f"{_base(demo)}/notices/{made[0]}/withdraw", data={"csrf": token, "reason": "违反议事规则"}
        )
        assert done.status_code == 303
    assert (await Notice.get(id=made[0])).withdraw_reason == "违反议事规则"


async def test_a_scheduled_publication_and_a_held_notice_show_their_state(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    later = await _draft(http, demo, csrf)
    window = {"csrf": csrf, "publish_at": "2099-05-01T08:00", "expires_at": "2099-05-02T08:00"}
    assert (await http.post(f"{_base(demo)}/notices/{later}/publish", data=window)).status_code == 303
    notice = await Notice.get(id=later)
    assert notice.publish_at is not None and notice.publish_at.isoformat().startswith("2099-05-01T00:00")
    assert "定时发布" in (await http.get(f"{_base(demo)}/notices/{later}")).text

    backwards = await _draft(http, demo, csrf)
    wrong = window | {"expires_at": "2099-04-30T08:00"}
    refused = await http.post(f"{_base(demo)}/notices/{backwards}/publish", data=wrong)
    assert refused.status_code == 400 and "下架时间须晚于发布时间" in refused.text

    risky = await _draft(http, demo, csrf, body_markdown="出售违禁物品")
    await http.post(f"{_base(demo)}/notices/{risky}/publish", data={"csrf": csrf})
    held = await http.get(f"{_base(demo)}/notices/{risky}")
    assert "未通过检测" in held.text and 'id="hold-reason"' in held.text


async def test_a_bad_notice_form_shows_the_reason_and_keeps_what_was_typed(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    before = await Notice.all().count()
    refused = await http.post(
        f"{_base(demo)}/notices",
        data={
            "csrf": csrf,
            "category": "fee_standard",
            "title": "收费标准",
            "body_markdown": "每平方米 2 元",
        },
    )
    assert (
        refused.status_code == 403 and "您不能在此发布该类别的公告" in refused.text
    )  # the company's category
    empty = await http.post(
        f"{_base(demo)}/notices",
        data={"csrf": csrf, "category": "announcement", "title": "", "body_markdown": "草稿正文保留"},
    )
    assert (
        empty.status_code == 400
        and "填写的内容有误" in empty.text
        and "草稿正文保留</textarea>" in empty.text
    )
    assert await Notice.all().count() == before


async def test_disclosure_line_items_are_saved_and_the_server_totals_shown(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    new = await http.get(f"{_base(demo)}/disclosures/new?kind=committee_annual")
    assert new.status_code == 200 and 'name="common_income.item"' in new.text
    notice_id = _notice_id(await http.post(f"{_base(demo)}/disclosures", data=_disclosure_form(csrf)))
    disclosure = await Disclosure.get(notice_id=notice_id)
    income = disclosure.document["sections"]["common_income"]
    assert [(x["item"], x["amount_fen"], x["voucher"]) for x in income["lines"]] == [
        ("广告", 1_200_000, "凭-001"), ("停车", 2_040_000, ""),
    ]  # fmt: skip
    assert disclosure.document["balances"]["common_income_balance"]["amount_fen"] == 1_239_950
    shown = await http.get(f"{_base(demo)}/disclosures/{notice_id}")
    totals = re.search(r'id="server-totals".*?</section>', shown.text, re.S)
    assert totals is not None
    assert "32,400.00" in totals.group(0) and "20,000.50" in totals.group(0)
    assert "12,399.50" in totals.group(0) and "38,500.00" in totals.group(0)
    assert 'value="12000.00"' in shown.text and "如有疑问请联系业主委员会。</textarea>" in shown.text

    # a correction: one line removed, one added; a new revision and the new totals
    lines = {
        "common_income.item": ["广告", "场地租赁"],
        "common_income.amount": ["12000", "3600.05"],
        "common_income.voucher": ["凭-001", ""],
    }
    revised = await http.post(
        f"{_base(demo)}/disclosures/{notice_id}", data=_disclosure_form(csrf, change_note="删去停车", **lines)
    )
    assert revised.status_code == 303, revised.text
    assert (await Notice.get(id=notice_id)).revision == 2
    again = await http.get(f"{_base(demo)}/disclosures/{notice_id}")
    totals = re.search(r'id="server-totals".*?</section>', again.text, re.S)
    assert totals is not None and "15,600.05" in totals.group(0) and "32,400.00" not in totals.group(0)
    assert (await NoticeRevision.get(notice_id=notice_id, number=2)).note == "删去停车"


async def test_a_bad_line_item_shows_the_chinese_error_and_keeps_every_row(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    before = await Notice.all().count()
    bad_amount = _disclosure_form(csrf, **{"common_income.amount": ["12,000.00", "两万", ""]})
    refused = await http.post(f"{_base(demo)}/disclosures", data=bad_amount)
    assert refused.status_code == 400
    assert (
        "金额填写有误" in refused.text
        and "共有部分经营收益（按来源） 第 2 行 金额：须为金额（元）" in refused.text
    )
    assert (
        'value="两万"' in refused.text
        and 'value="凭-001"' in refused.text
        and 'value="电梯主板"' in refused.text
    )

    no_item = _disclosure_form(csrf, **{"fund_use.item": [""], "fund_use.amount": ["38500"]})
    refused = await http.post(f"{_base(demo)}/disclosures", data=no_item)
    assert refused.status_code == 400 and "维修资金使用 第 1 行 项目" in refused.text
    assert 'value="38500"' in refused.text

    stated = _disclosure_form(csrf, **{"common_income.stated": "30000"})
    refused = await http.post(f"{_base(demo)}/disclosures", data=stated)
    assert refused.status_code == 400 and "公示的合计金额与明细之和不一致" in refused.text
    assert "共有部分经营收益（按来源）：填报 30,000.00 元，明细合计 32,400.00 元" in refused.text
    assert 'value="30000"' in refused.text
    assert await Notice.all().count() == before

    # the same period twice: the domain's conflict, in its words, the form kept
    assert (await http.post(f"{_base(demo)}/disclosures", data=_disclosure_form(csrf))).status_code == 303
    twice = await http.post(f"{_base(demo)}/disclosures", data=_disclosure_form(csrf))
    assert twice.status_code == 409 and "该期间已有同类公示" in twice.text and 'value="停车"' in twice.text


async def test_the_property_company_drafts_its_own_disclosure_not_the_committees(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-property")
    listed = await http.get(f"{_base(demo)}/notices")
    assert "物业服务收支公示" in listed.text and "业主委员会年度公示" not in listed.text
    refused = await http.post(f"{_base(demo)}/disclosures", data=_disclosure_form(csrf))
    assert refused.status_code == 403 and "您不能在此发布该类别的公告" in refused.text
    form = {
        "csrf": csrf, "kind": "property_periodic", "period_start": "2025-01-01", "period_end": "2025-06-30",
        "fee_income.item": ["物业费"], "fee_income.amount": ["500000"],
        "fee_spending.item": ["保洁"], "fee_spending.amount": ["320000.10"],
    }  # fmt: skip
    notice_id = _notice_id(await http.post(f"{_base(demo)}/disclosures", data=form))
    shown = await http.get(f"{_base(demo)}/disclosures/{notice_id}")
    assert "物业费收支结余" in shown.text and "179,999.90" in shown.text


async def test_the_chair_posts_a_notice_and_corrects_a_disclosure_in_the_browser(
    page: Any, demo: Demo, dialogs: dict[str, Any]
) -> None:
    c = demo.compound.id
    await demo_sign_in(page, "demo-committee")
    await visit(page, f"/console/compounds/{c}", "compound-notices-nav")
    await page.click(f"a[href='/console/compounds/{c}/notices']")
    await page.wait_for_selector("h1:has-text('公告与公示')")
    assert await unlabelled(page) == []
    await page.fill("#n-title", "电梯年检通知")
    await page.fill("#n-body", "本周三 1 号楼电梯年检，请走楼梯。")
    await keyboard(page, "form[action$='/notices'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*/notices/\d+$"))
    assert await unlabelled(page) == []
    dialogs["dismiss"] = 1  # publishing asks first: answered No, still a draft
    await page.click("form[action$='/publish'] button")
    notice_id = int(page.url.rsplit("/", 1)[1])
    assert (await Notice.get(id=notice_id)).status.value == "draft"
    await page.click("form[action$='/publish'] button")
    await page.wait_for_selector("#notice-state:has-text('已发布')")
    assert dialogs["asked"] == ["发布前将经过内容安全检测，确定发布？"] * 2
    await shot(page, "notice-published")

    await visit(page, f"/console/compounds/{c}/disclosures/new?kind=committee_annual", "disclosure-new")
    await page.fill("#d-start", "2025-01-01")
    await page.fill("#d-end", "2025-12-31")
    incomes = page.locator("#lines-common_income tbody tr")
    await incomes.nth(0).locator("input[name='common_income.item']").fill("广告")
    await incomes.nth(0).locator("input[name='common_income.amount']").fill("1200")
    await incomes.nth(1).locator("input[name='common_income.item']").fill("停车")
    await incomes.nth(1).locator("input[name='common_income.amount']").fill("800.50")
    await page.click("button[data-add-line='lines-common_income']")  # a third row, added in the page
    assert await incomes.count() == 3
    await incomes.nth(2).locator("input[name='common_income.item']").fill("场地租赁")
    await incomes.nth(2).locator("input[name='common_income.amount']").fill("99.5")
    assert await unlabelled(page) == []
    assert await incomes.nth(2).locator("input[name='common_income.item']").get_attribute("aria-label") == (
        "共有部分经营收益（按来源） 第3行 项目"
    )
    await page.click("#disclosure-form button[type=submit]")
    await page.wait_for_url(re.compile(r".*/disclosures/\d+$"))
    totals = page.locator("#server-totals")
    assert "2,100.00" in await totals.inner_text()
    # removed in the page, saved, and the server's new total shown
    await page.locator("#lines-common_income tbody tr").nth(1).locator("button[data-remove-line]").click()
    await page.fill("#d-change", "停车收入另行公示")
    await page.click("#disclosure-form button[type=submit]")
    await page.wait_for_selector("#server-totals:has-text('1,299.50')")
    assert "2,100.00" not in await totals.inner_text()
    assert await unlabelled(page) == []
    await shot(page, "disclosure-corrected")
