"""Public registry reads."""

from __future__ import annotations

from pydantic import BaseModel
from sanic import Blueprint, Request

from accounts import registry
from miniprogram_api.endpoint import PUBLIC, Call, endpoint

bp = Blueprint("registry", url_prefix="/communities")


class CommunityOut(BaseModel):
    id: int
    name: str
    compounds: int
    standalone: int


class CommunityListOut(BaseModel):
    items: list[CommunityOut]


@endpoint(bp, "GET", "", summary="社区列表（含小区数与独栋楼院数）", access=PUBLIC, response=CommunityListOut)
async def list_communities(request: Request, call: Call[None, None]) -> CommunityListOut:
    rows = await registry.list_communities()
    return CommunityListOut(items=[CommunityOut.model_validate(r, from_attributes=True) for r in rows])
