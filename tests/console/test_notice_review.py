"""The console's notice pin, review and attachments over HTTP: a multipart upload without the CSRF
token refused, a PNG (made by Pillow) and a PDF attached to a draft and listed with their verdicts, a
wrong file answered in Chinese, pinning and unpinning audited, and a notice WeChat sent to review
decided by the community (asking first) and never by the committee; in the browser, the community
holds a notice only after saying yes to the question."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from audit.models import AuditEvent
from notices.models import Notice, NoticeAttachment
from tests.console.conftest import Demo, sign_in
from tests.console.test_browser import demo_sign_in, shot, unlabelled, visit
from tests.console.test_browser import pytestmark as needs_chromium
from tests.console.test_notices import _base, _draft

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def _upload(
    http: httpx.AsyncClient, demo: Demo, notice_id: int, csrf: str, data: bytes, kind: str, name: str = ""
) -> httpx.Response:
    return await http.post(
        f"{_base(demo)}/notices/{notice_id}/attachments",
        data={"csrf": csrf, "name": name},
        files={"file": ("upload.bin", data, kind)},
    )


async def test_a_multipart_post_without_the_csrf_token_is_refused(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    notice_id = await _draft(http, demo, csrf)
    for token in ("", "0" * 64):
        refused = await _upload(http, demo, notice_id, token, png(), "image/png")
        assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
    refused = await http.post(
        f"{_base(demo)}/notices/{notice_id}/attachments", files={"file": ("a.png", png(), "image/png")}
    )
    assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
    for action, form in (("pin", {"pinned": "yes"}), ("review", {"decision": "approve"})):
        refused = await http.post(f"{_base(demo)}/notices/{notice_id}/{action}", data=form)
        assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
    assert not await NoticeAttachment.filter(notice_id=notice_id).exists()
    assert not (await Notice.get(id=notice_id)).pinned


async def test_the_chair_attaches_an_image_and_a_pdf_to_a_draft(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    notice_id = await _draft(http, demo, csrf)
    shown = await http.get(f"{_base(demo)}/notices/{notice_id}")
    assert 'enctype="multipart/form-data"' in shown.text and 'for="a-file"' in shown.text

    image = await _upload(http, demo, notice_id, csrf, png(), "image/png", name="现场照片")
    assert image.status_code == 303, image.text
    pdf = await _upload(http, demo, notice_id, csrf, PDF, "application/pdf", name="维修方案")
    assert pdf.status_code == 303, pdf.text
    stored = await NoticeAttachment.filter(notice_id=notice_id).order_by("id")
    assert [(a.kind.value, a.name, a.verdict.value) for a in stored] == [
        ("image", "现场照片", "pending"), ("pdf", "维修方案", "none"),
    ]  # fmt: skip
    assert await AuditEvent.filter(action="notice.image_added", subject=f"notice:{notice_id}").exists()
    listed = await http.get(f"{_base(demo)}/notices/{notice_id}")
    assert '现场照片</a></td><td>图片</td><td class="verdict">检测中</td>' in listed.text
    assert '维修方案</a></td><td>PDF</td><td class="verdict">无需检测</td>' in listed.text
    file = await http.get(f"{_base(demo)}/notices/{notice_id}/attachments/{stored[1].id}")
    assert file.status_code == 200 and file.content == PDF
    assert file.headers["content-type"].startswith("application/pdf")

    # a wrong file, a fake PDF and no file at all: the API's Chinese messages, nothing stored
    text = await _upload(http, demo, notice_id, csrf, b"hello", "text/plain")
    assert text.status_code == 415 and "附件须为" in text.text and 'id="attachments"' in text.text
    fake = await _upload(http, demo, notice_id, csrf, b"not a pdf", "application/pdf")
    assert fake.status_code == 400 and "附件不是 PDF 文件" in fake.text
    empty = await http.post(f"{_base(demo)}/notices/{notice_id}/attachments", data={"csrf": csrf})
    assert empty.status_code == 400 and "请选择要上传的图片或 PDF 文件" in empty.text
    assert await NoticeAttachment.filter(notice_id=notice_id).count() == 2

    # once published, no more attachments (the service's rule, in its words)
    assert (
        await http.post(f"{_base(demo)}/notices/{notice_id}/publish", data={"csrf": csrf})
    ).status_code == 303
    late = await _upload(http, demo, notice_id, csrf, png((0, 0, 200)), "image/png")
    assert late.status_code == 409 and "只有草稿或被暂缓的公告可以添加附件" in late.text
    assert 'for="a-file"' not in (await http.get(f"{_base(demo)}/notices/{notice_id}")).text


async def test_the_chair_takes_an_attachment_off_a_draft_but_not_off_a_published_notice(
    demo: Demo, http
) -> None:
    csrf = await sign_in(http, "demo-committee")
    notice_id = await _draft(http, demo, csrf)
    for name in ("传错的文件", "维修方案"):
        assert (
            await _upload(http, demo, notice_id, csrf, PDF, "application/pdf", name=name)
        ).status_code == 303
    wrong, kept = await NoticeAttachment.filter(notice_id=notice_id).order_by("id")
    remove = f"{_base(demo)}/notices/{notice_id}/attachments/{wrong.id}/remove"
    assert f'action="{remove}"' in (await http.get(f"{_base(demo)}/notices/{notice_id}")).text
    refused = await http.post(remove, data={"csrf": "0" * 64})
    assert refused.status_code == 403 and await NoticeAttachment.exists(id=wrong.id)

    assert (await http.post(remove, data={"csrf": csrf})).status_code == 303
    assert [a.id for a in await NoticeAttachment.filter(notice_id=notice_id)] == [kept.id]
    assert await AuditEvent.filter(action="notice.attachment_removed", subject=f"notice:{notice_id}").exists()
    listed = (await http.get(f"{_base(demo)}/notices/{notice_id}")).text
    assert "传错的文件" not in listed and "维修方案" in listed

    assert (
        await http.post(f"{_base(demo)}/notices/{notice_id}/publish", data={"csrf": csrf})
    ).status_code == 303
    late = await http.post(
        f"{_base(demo)}/notices/{notice_id}/attachments/{kept.id}/remove", data={"csrf": csrf}
    )
    assert late.status_code == 409 and "只有草稿或被暂缓的公告可以删除附件" in late.text
    assert await NoticeAttachment.exists(id=kept.id)
    assert "/remove" not in (await http.get(f"{_base(demo)}/notices/{notice_id}")).text


async def test_the_chair_pins_and_unpins_a_notice(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    notice_id = await _draft(http, demo, csrf)
    shown = await http.get(f"{_base(demo)}/notices/{notice_id}")
    assert 'data-confirm="置顶后公告显示在公告栏最前。确定置顶？"' in shown.text
    pinned = await http.post(f"{_base(demo)}/notices/{notice_id}/pin", data={"csrf": csrf, "pinned": "yes"})
    assert pinned.status_code == 303 and (await Notice.get(id=notice_id)).pinned
    listed = await http.get(f"{_base(demo)}/notices")
    assert f'notices/{notice_id}">停水通知</a> <span class="badge">置顶</span>' in listed.text
    assert "取消置顶" in (await http.get(f"{_base(demo)}/notices/{notice_id}")).text
    unpinned = await http.post(f"{_base(demo)}/notices/{notice_id}/pin", data={"csrf": csrf, "pinned": "no"})
    assert unpinned.status_code == 303 and not (await Notice.get(id=notice_id)).pinned
    actions = [
        e.action
        for e in await AuditEvent.filter(subject=f"notice:{notice_id}", action__startswith="notice.")
        .exclude(action="notice.created")
        .order_by("seq")
    ]
    assert actions == ["notice.pinned", "notice.unpinned"]


async def test_a_notice_in_review_is_decided_by_the_community_not_the_committee(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-committee")
    doubtful = [await _draft(http, demo, csrf, body_markdown=f"待审内容 {n}") for n in range(2)]
    for notice_id in doubtful:
        await http.post(f"{_base(demo)}/notices/{notice_id}/publish", data={"csrf": csrf})
        assert (await Notice.get(id=notice_id)).status.value == "review"
    mine = await http.get(f"{_base(demo)}/notices/{doubtful[0]}")
    assert "待人工审核" in mine.text and 'id="review"' not in mine.text
    refused = await http.post(
        f"{_base(demo)}/notices/{doubtful[0]}/review", data={"csrf": csrf, "decision": "approve"}
    )
    assert refused.status_code == 403 and "您没有执行此操作的权限" in refused.text

    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as community:
        token = await sign_in(community, "demo-community")
        shown = await community.get(f"{_base(demo)}/notices/{doubtful[0]}")
        assert 'id="review"' in shown.text
        assert 'data-confirm="不通过的公告退回发布者修改。确定不通过？"' in shown.text
        assert 'data-confirm="审核通过后公告将按计划发布。确定通过？"' in shown.text
        held = await community.post(
            f"{_base(demo)}/notices/{doubtful[0]}/review",
            data={"csrf": token, "decision": "hold", "reason": "内容与小区无关"},
        )
        assert held.status_code == 303, held.text
        notice = await Notice.get(id=doubtful[0])
        assert notice.status.value == "held" and notice.hold_reason == "人工审核未通过：内容与小区无关"
        approved = await community.post(
            f"{_base(demo)}/notices/{doubtful[1]}/review", data={"csrf": token, "decision": "approve"}
        )
        assert approved.status_code == 303 and (await Notice.get(id=doubtful[1])).status.value == "published"
        again = await community.post(
            f"{_base(demo)}/notices/{doubtful[1]}/review", data={"csrf": token, "decision": "approve"}
        )
        assert again.status_code == 409 and "该公告不在待人工审核状态" in again.text
        undecided = await community.post(f"{_base(demo)}/notices/{doubtful[1]}/review", data={"csrf": token})
        assert undecided.status_code == 400 and "请选择通过或不通过" in undecided.text
    reviewed = await AuditEvent.filter(action="notice.reviewed", subject=f"notice:{doubtful[0]}").first()
    assert reviewed is not None and reviewed.payload == {"approved": False, "reason": "内容与小区无关"}


@needs_chromium
async def test_the_community_holds_a_notice_in_review_after_saying_yes(
    page: Any, demo: Demo, http, dialogs: dict[str, Any]
) -> None:
    csrf = await sign_in(http, "demo-committee")
    notice_id = await _draft(http, demo, csrf, body_markdown="待审的内容")
    await http.post(f"{_base(demo)}/notices/{notice_id}/publish", data={"csrf": csrf})
    await demo_sign_in(page, "demo-community")
    await visit(page, f"{_base(demo)}/notices/{notice_id}", "notice-review")
    await page.fill("#r-reason", "与本小区无关")
    dialogs["dismiss"] = 1  # answered No: still waiting for review
    hold = "#review form:has(input[value=hold]) button"
    await page.click(hold)
    assert (await Notice.get(id=notice_id)).status.value == "review"
    await page.click(hold)
    await page.wait_for_selector("#notice-state:has-text('未通过检测')")
    assert dialogs["asked"] == ["不通过的公告退回发布者修改。确定不通过？"] * 2
    assert "人工审核未通过：与本小区无关" in await page.inner_text("#hold-reason")
    assert await unlabelled(page) == []
    await shot(page, "notice-review-held")
