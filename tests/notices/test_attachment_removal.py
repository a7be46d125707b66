"""Taking an attachment off a draft: the row goes with an audit entry, a PDF's file goes from storage
unless another notice holds the same bytes, an image stops being served to WeChat's checker; a
published notice keeps its attachments, and nobody else's compound can touch them."""

from __future__ import annotations

from typing import Any

import httpx

from audit.models import AuditEvent
from config.settings import Settings
from notices.models import NoticeAttachment
from photos.storage import LocalStorage
from tests.notices.conftest import draft, manage, publish
from tests.notices.test_content_security import attach, png
from wechat.fake import FakeWeChat

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _url(
    world: dict[str, Any], notice: int, attachment: int, scope: str = "compound", target: int | None = None
) -> str:
    return f"{manage(world, scope, target)}/notices/{notice}/attachments/{attachment}"


async def test_a_pdf_comes_off_a_draft_with_its_file_and_an_audit_entry(
    api: httpx.AsyncClient, world: dict[str, Any], settings: Settings
) -> None:
    chair = world["auth"]["committee"]
    notice, other = await draft(api, world, title="合同公示"), await draft(api, world, title="另一则")
    added = (await attach(api, world, notice, PDF + b"%only-here\n", "application/pdf")).json()["id"]
    shared = (await attach(api, world, notice, PDF, "application/pdf")).json()["id"]
    kept = (await attach(api, world, other, PDF, "application/pdf")).json()["id"]
    storage = LocalStorage(settings.media_dir)
    own_key = (await NoticeAttachment.get(id=added)).key
    shared_key = (await NoticeAttachment.get(id=shared)).key
    assert await storage.exists(own_key) and await storage.exists(shared_key)

    removed = await api.delete(_url(world, notice, added), headers=chair)
    assert (removed.status_code, removed.content) == (204, b"")
    assert not await NoticeAttachment.exists(id=added)
    assert not await storage.exists(own_key)  # nobody else held these bytes
    assert (await api.get(_url(world, notice, added), headers=chair)).status_code == 404
    again = await api.delete(_url(world, notice, added), headers=chair)
    assert (again.status_code, again.json()["code"]) == (404, "attachment_not_found")

    # the same bytes attached to another notice stay readable there
    assert (await api.delete(_url(world, notice, shared), headers=chair)).status_code == 204
    assert await storage.exists(shared_key)
    assert (await api.get(_url(world, other, kept), headers=chair)).content == PDF

    events = await AuditEvent.filter(action="notice.attachment_removed").order_by("seq")
    assert [(e.subject, e.payload["attachment"], e.payload["kind"]) for e in events] == [
        (f"notice:{notice}", added, "pdf"), (f"notice:{notice}", shared, "pdf"),
    ]  # fmt: skip
    detail = (await api.get(f"{manage(world)}/notices/{notice}", headers=chair)).json()
    assert detail["attachments"] == []


async def test_a_removed_image_is_no_longer_served_to_the_checker(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat
) -> None:
    notice = await draft(api, world, title="维修现场")
    added = (await attach(api, world, notice, png((10, 200, 10)), "image/png")).json()["id"]
    [request] = fake_wechat.media_requests
    media = request.media_url.split("/api/v1", 1)[1]
    assert (await api.get(media)).status_code == 200
    assert (
        await api.delete(_url(world, notice, added), headers=world["auth"]["committee"])
    ).status_code == 204
    assert (await api.get(media)).status_code == 404


async def test_a_published_notice_keeps_its_attachments_and_other_compounds_are_refused(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    chair = world["auth"]["committee"]
    notice = await draft(api, world, title="合同公示")
    added = (await attach(api, world, notice, PDF, "application/pdf")).json()["id"]
    elsewhere = await api.delete(_url(world, notice, added, "compound", world["neighbour"]), headers=chair)
    assert elsewhere.status_code == 403
    staff = await api.delete(_url(world, notice, added), headers=world["auth"]["property_staff"])
    assert staff.status_code == 403  # only the committee posts to the compound's board
    await publish(api, world, notice)
    refused = await api.delete(_url(world, notice, added), headers=chair)
    assert (refused.status_code, refused.json()["code"]) == (409, "notice_state_conflict")
    assert await NoticeAttachment.exists(id=added)
