"""A notice's images and PDFs on the management routes (/manage/<scope>/<target>/notices/<id>/
attachments): adding one to a draft or held notice, reading it back, and taking it off again. The
bounds are defined here once; the console's upload form uses them too."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sanic import Request
from sanic.response import HTTPResponse

from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.notices_admin import MANAGERS, POSTING, AttachmentOut, bp, caller_of, where
from miniprogram_api.origin import public_base
from notices import attachments, lifecycle

ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


class AttachmentQuery(BaseModel):
    name: str = Field(default="", max_length=100)


@endpoint(bp, "POST", "/notices/<notice_id:int>/attachments", summary="添加图片或 PDF 附件", access=POSTING,
          query=AttachmentQuery, response=AttachmentOut, status=201, max_raw_bytes=ATTACHMENT_MAX_BYTES,
          raw_body={t: {"type": "string", "format": "binary"} for t in ATTACHMENT_TYPES})  # fmt: skip
async def add_attachment(
    request: Request, call: Call[None, AttachmentQuery], scope: str, target: int, notice_id: int
) -> AttachmentOut:
    assert call.query is not None
    w, media = where(scope, target), request.app.ctx.photo_storage
    base = public_base(request) + "/api/v1/notice-media/"
    if (request.content_type or "").startswith("application/pdf"):
        created = await attachments.add_pdf(
            media, caller_of(call), w, notice_id, request.body, name=call.query.name
        )
    else:
        created = await attachments.add_image(
            request.app.ctx.wechat, media, caller_of(call), w, notice_id, request.body,
            name=call.query.name, media_url_for=lambda key: base + key,
        )  # fmt: skip
    return AttachmentOut(id=created.id, kind=created.kind.value, verdict=created.verdict.value)


@endpoint(bp, "GET", "/notices/<notice_id:int>/attachments/<attachment_id:int>", summary="管理：查看附件",
          access=MANAGERS, response={"type": "string"}, response_type="application/octet-stream")  # fmt: skip
async def managed_file(
    request: Request, call: Call[None, None], scope: str, target: int, notice_id: int, attachment_id: int
) -> HTTPResponse:
    attachment = await lifecycle.attachment_of(where(scope, target), notice_id, attachment_id)
    data, content_type = await attachments.file_of(request.app.ctx.photo_storage, attachment)
    return HTTPResponse(data, content_type=content_type, headers={"cache-control": "private, no-store"})


@endpoint(bp, "DELETE", "/notices/<notice_id:int>/attachments/<attachment_id:int>",
          summary="删除草稿或被暂缓公告的附件", access=POSTING, status=204)  # fmt: skip
async def remove_attachment(
    request: Request, call: Call[None, None], scope: str, target: int, notice_id: int, attachment_id: int
) -> None:
    await attachments.remove(
        request.app.ctx.photo_storage, caller_of(call), where(scope, target), notice_id, attachment_id
    )
