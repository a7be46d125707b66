"""A notice's pin, its review and its attachments for the console, on the compound's notice route:
pinning and unpinning (the API's pin route), a person's decision on a notice WeChat could not decide
on (the API's review route, open to notices.rules.REVIEWERS), and images or PDFs added to a draft
through a multipart form and taken off again (the API's add_attachment and remove_attachment: the same
services, bounds and Access objects).
The detail page (console.notices) lists the attachments with their verdicts."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from console.notices import BASE, MANAGERS, POSTING, InCompound, _back, _detail_page, caller, where
from console.web import form_model, form_text, page, status_of
from core import errors
from miniprogram_api import notices_admin as api
from miniprogram_api import notices_attachments as files
from miniprogram_api.auth import Principal
from miniprogram_api.origin import public_base
from notices import attachments, lifecycle

bp = Blueprint("console_notice_review")
REVIEWING = InCompound(api.REVIEWING)


@page(bp, "POST", BASE + "/<notice_id:int>/pin", access=POSTING)
async def pin(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    body = form_model(request, api.PinIn, {"pinned": form_text(request, "pinned") == "yes"})
    await lifecycle.set_pinned(request.app.ctx.cache, caller(who), where(compound_id), notice_id, body.pinned)
    return _back(compound_id, notice_id)


@page(bp, "POST", BASE + "/<notice_id:int>/review", access=REVIEWING)
async def review(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    decision = form_text(request, "decision")
    if decision not in ("approve", "hold"):
        raise errors.Invalid("请选择通过或不通过", code="review_decision_missing")
    typed = {"review_reason": form_text(request, "reason")}
    try:
        body = form_model(
            request, api.ReviewIn, {"approve": decision == "approve", "reason": typed["review_reason"]}
        )
        await lifecycle.review(
            request.app.ctx.cache, caller(who), where(compound_id), notice_id,
            approve=body.approve, reason=body.reason,
        )  # fmt: skip
    except (errors.Invalid, errors.Conflict) as exc:
        return await _detail_page(
            request, who, compound_id, notice_id, http_status=status_of(exc), failure=exc, typed=typed
        )
    return _back(compound_id, notice_id)


@page(bp, "POST", BASE + "/<notice_id:int>/attachments", access=POSTING)
async def add_attachment(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    upload = request.files.get("file") if request.files else None
    try:
        if upload is None or not upload.body:
            raise errors.Invalid("请选择要上传的图片或 PDF 文件", code="empty_body")
        content_type = (upload.type or "").split(";")[0].strip().lower()
        if content_type not in files.ATTACHMENT_TYPES:
            raise errors.UnsupportedMedia("附件须为 JPEG、PNG、WebP、HEIC 图片或 PDF 文件")
        if len(upload.body) > files.ATTACHMENT_MAX_BYTES:
            raise errors.PayloadTooLarge(
                "附件不能超过 10 MB", details={"max_bytes": files.ATTACHMENT_MAX_BYTES}
            )
        query = form_model(
            request, files.AttachmentQuery, {"name": form_text(request, "name") or (upload.name or "")[:100]}
        )
        w, media, data = where(compound_id), request.app.ctx.photo_storage, bytes(upload.body)
        if content_type == "application/pdf":
            await attachments.add_pdf(media, caller(who), w, notice_id, data, name=query.name)
        else:
            base = public_base(request) + "/api/v1/notice-media/"
            await attachments.add_image(
                request.app.ctx.wechat, media, caller(who), w, notice_id, data,
                name=query.name, media_url_for=lambda key: base + key,
            )  # fmt: skip
    except (errors.Invalid, errors.Conflict) as exc:  # UnsupportedMedia, PayloadTooLarge: Invalid
        return await _detail_page(
            request, who, compound_id, notice_id, http_status=status_of(exc), failure=exc
        )
    return _back(compound_id, notice_id)


@page(bp, "POST", BASE + "/<notice_id:int>/attachments/<attachment_id:int>/remove", access=POSTING)
async def remove_attachment(
    request: Request, who: Principal, compound_id: int, notice_id: int, attachment_id: int
) -> HTTPResponse:
    try:
        await attachments.remove(
            request.app.ctx.photo_storage, caller(who), where(compound_id), notice_id, attachment_id
        )
    except errors.Conflict as exc:  # the notice was published meanwhile
        return await _detail_page(
            request, who, compound_id, notice_id, http_status=status_of(exc), failure=exc
        )
    return _back(compound_id, notice_id)


@page(bp, "GET", BASE + "/<notice_id:int>/attachments/<attachment_id:int>", access=MANAGERS)
async def attachment_file(
    request: Request, who: Principal, compound_id: int, notice_id: int, attachment_id: int
) -> HTTPResponse:
    attachment = await lifecycle.attachment_of(where(compound_id), notice_id, attachment_id)
    data, content_type = await attachments.file_of(request.app.ctx.photo_storage, attachment)
    return HTTPResponse(data, content_type=content_type, headers={"cache-control": "private, no-store"})
