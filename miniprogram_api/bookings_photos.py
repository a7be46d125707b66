"""Photos of a provider's service: its manager adds photos uploaded through POST /photos (at most
nine per service) and removes them. Each added photo goes to WeChat's media check at a link on the
configured public address; residents see it in the catalogue once it passed.

POST   /admin/providers/<provider_id>/services/<service_id>/photos               add uploaded photos
DELETE /admin/providers/<provider_id>/services/<service_id>/photos/<photo_id>    remove one"""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request

from bookings import gallery
from complaints.media import PhotoCheck
from miniprogram_api.bookings import ServiceOut
from miniprogram_api.bookings_provider import MANAGER, _provider, service_out
from miniprogram_api.bounds import Id, RequestModel
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.photos import checker_url

bp = Blueprint("bookings_photos", url_prefix="/admin/providers")


class ServicePhotosIn(RequestModel):
    photo_ids: list[Id] = Field(
        min_length=1,
        max_length=gallery.MAX_PHOTOS,
        description="POST /photos 上传后得到的图片编号，按展示顺序",
    )


@endpoint(bp, "POST", "/<provider_id:int>/services/<service_id:int>/photos", summary="添加服务照片",
          access=MANAGER, body=ServicePhotosIn, response=ServiceOut, status=201,
          description=f"每个服务项目最多 {gallery.MAX_PHOTOS} 张（超出时返回 409 service_photos_full）；"
          "照片须为本人上传且尚未使用。经内容安全检测通过后住户可见。")  # fmt: skip
async def add_photos(
    request: Request, call: Call[ServicePhotosIn, None], provider_id: int, service_id: int
) -> ServiceOut:
    p = call.principal
    check = PhotoCheck(request.app.ctx.wechat, p.user.openid, lambda photo: checker_url(request, photo.id))
    await gallery.add(
        p.actor, _provider(request), service_id, list(call.body.photo_ids), user_id=p.user.id, check=check
    )
    return await service_out(request, service_id, p.user.id)


@endpoint(bp, "DELETE", "/<provider_id:int>/services/<service_id:int>/photos/<photo_id:int>",
          summary="删除服务照片", access=MANAGER, response=ServiceOut)  # fmt: skip
async def remove_photo(
    request: Request, call: Call[None, None], provider_id: int, service_id: int, photo_id: int
) -> ServiceOut:
    p = call.principal
    await gallery.remove(p.actor, _provider(request), service_id, photo_id)
    return await service_out(request, service_id, p.user.id)
