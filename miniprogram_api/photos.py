"""Photo upload and serving. Renditions are fetched by the mini-program's <image> component, which
cannot send an Authorization header: responses carry signed links (``?u=&e=&s=``) issued to a viewer
who may see the photo, and access is checked again on every fetch. The original is never served."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from core.cache import hit
from core.errors import Forbidden, Invalid, RateLimited
from miniprogram_api.auth import AUTHENTICATED, authenticate
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.origin import configured_base, public_base
from photos import records
from photos.access import signature, signature_valid
from photos.models import Photo
from photos.process import MAX_BYTES

bp = Blueprint("photos", url_prefix="/photos")

IMAGE_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/octet-stream",
)
MULTIPART = "multipart/form-data"  # what wx.uploadFile sends (file field "file")
UPLOADS_PER_DAY = 200
LINK_TTL = 3600
# Viewer id 0 in a signed link: WeChat's content-security crawler, which must fetch pending photos.
CONTENT_CHECKER = 0


class PhotoLinkInvalid(Forbidden):
    code = "photo_link_invalid"
    message = "图片链接无效或已过期，请刷新页面"


class PhotoOut(BaseModel):
    id: int
    width: int
    height: int
    display_url: str = Field(description="展示尺寸的绝对签名链接（一小时内有效）")
    thumbnail_url: str = Field(description="缩略图的绝对签名链接（一小时内有效）")
    moderation: str


def signed_path(request: Request, photo_id: int, kind: str, viewer_id: int, ttl: int = LINK_TTL) -> str:
    # Expiry rounded up to the hour: the same link for an hour, so the client's image cache works.
    expires = (math.ceil(time.time() / 3600) * 3600) + ttl
    sig = signature(request.app.ctx.hmac_key, photo_id, kind, viewer_id, expires)
    return f"/api/v1/photos/{photo_id}/{kind}?u={viewer_id}&e={expires}&s={sig}"


def checker_url(request: Request, photo_id: int) -> str:
    """An absolute link WeChat's media check can fetch for a day, on our public address."""
    return public_base(request) + signed_path(request, photo_id, "display", CONTENT_CHECKER, 86400)


def photo_link(request: Request, photo_id: int, kind: str, viewer_id: int) -> str:
    """An absolute signed link (on the configured public base, miniprogram_api.origin.configured_base)."""
    return configured_base(request) + signed_path(request, photo_id, kind, viewer_id)


def photo_out(request: Request, photo: Photo, viewer_id: int) -> PhotoOut:
    return PhotoOut(
        id=photo.id,
        width=photo.width,
        height=photo.height,
        display_url=photo_link(request, photo.id, "display", viewer_id),
        thumbnail_url=photo_link(request, photo.id, "thumbnail", viewer_id),
        moderation=str(photo.moderation),
    )


@dataclass(frozen=True)
class _PhotoViewer:
    """A signed link, or a session; returns the viewer's user id (0: the content checker)."""

    public: bool = False
    description: str = "上传者，或可查看图片所属内容（如投诉）的人；也可用接口返回的签名链接"

    async def authorize(self, request: Request, params: dict[str, Any]) -> int:
        given = request.args.get("s")
        if given is None:
            return (await authenticate(request)).user.id
        try:
            viewer_id, expires = int(request.args.get("u", "")), int(request.args.get("e", ""))
        except ValueError:
            raise PhotoLinkInvalid() from None
        kind = request.path.rsplit("/", 1)[-1]
        key = request.app.ctx.hmac_key
        if not signature_valid(key, params["photo_id"], kind, viewer_id, expires, given, int(time.time())):
            raise PhotoLinkInvalid()
        return viewer_id


PHOTO_VIEWER = _PhotoViewer()


class PhotoLinkQuery(BaseModel):
    """A signed link's parameters (checked by PHOTO_VIEWER); none of them with a session."""

    u: int | None = Field(default=None, ge=0, le=2**31 - 1, description="签名链接：查看者")
    e: int | None = Field(default=None, ge=0, le=2**40, description="签名链接：过期时间（Unix 秒）")
    s: str | None = Field(default=None, min_length=1, max_length=128, description="签名链接：签名")


@endpoint(
    bp,
    "POST",
    "",
    summary="上传图片（JPEG、PNG、WebP、HEIC，10 MB 以内）",
    description="请求体为图片本身（以文件内容判断格式，不看文件名和声明的类型），或 wx.uploadFile 的 "
    "multipart/form-data（字段名 file）。返回的链接一小时内有效。",
    access=AUTHENTICATED,
    raw_body={t: {"schema": {"type": "string", "format": "binary"}} for t in (*IMAGE_TYPES, MULTIPART)},
    max_raw_bytes=MAX_BYTES + 64 * 1024,
    response=PhotoOut,
    status=201,
)
async def upload_photo(request: Request, call: Call[None, None]) -> PhotoOut:
    user_id = call.principal.user.id
    data = _upload_bytes(request)
    decision = await hit(request.app.ctx.cache, f"photos:{user_id}", limit=UPLOADS_PER_DAY, window=86400)
    if not decision.allowed:
        raise RateLimited("今天上传的图片太多了，请明天再试", details={"retry_after": decision.retry_after})
    photo = await records.upload(request.app.ctx.photo_storage, data, uploader_id=user_id)
    return photo_out(request, photo, user_id)


def _upload_bytes(request: Request) -> bytes:
    if (request.content_type or "").lower().startswith(MULTIPART):
        file = request.files.get("file") if request.files else None
        if file is None:
            raise Invalid("请在字段 file 中上传图片", code="photo_field_missing")
        return bytes(file.body)
    return bytes(request.body)


async def _serve(request: Request, photo_id: int, kind: str, viewer_id: int) -> HTTPResponse:
    storage = request.app.ctx.photo_storage
    if viewer_id == CONTENT_CHECKER and kind == "display":
        photo = await records.get(photo_id)
    else:
        photo = await records.viewable(photo_id, viewer_id)
    data, content_type = await records.rendition(storage, photo, kind)
    headers = {
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    return HTTPResponse(data, content_type=content_type, headers=headers)


@endpoint(
    bp,
    "GET",
    "/<photo_id:int>/display",
    summary="查看图片（展示尺寸，长边不超过 2048）",
    access=PHOTO_VIEWER,
    query=PhotoLinkQuery,
    response_type="image/jpeg",
)
async def photo_display(request: Request, call: Call[None, PhotoLinkQuery], photo_id: int) -> HTTPResponse:
    return await _serve(request, photo_id, "display", call.principal)


@endpoint(
    bp,
    "GET",
    "/<photo_id:int>/thumbnail",
    summary="查看图片缩略图（长边不超过 320）",
    access=PHOTO_VIEWER,
    query=PhotoLinkQuery,
    response_type="image/jpeg",
)
async def photo_thumbnail(request: Request, call: Call[None, PhotoLinkQuery], photo_id: int) -> HTTPResponse:
    return await _serve(request, photo_id, "thumbnail", call.principal)
