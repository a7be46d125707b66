"""Public registry reads."""

from __future__ import annotations

from pydantic import BaseModel
from sanic import Blueprint, Request

from accounts import registry
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from miniprogram_api.pagination import Page, PageQuery

bp = Blueprint("registry", url_prefix="/communities")


class CommunityOut(BaseModel):
    id: int
    name: str
    compounds: int
    standalone: int


@endpoint(
    bp, "GET", "", summary="社区列表（含小区数与独栋楼院数；分页）", access=PUBLIC, query=PageQuery,
    response=Page[CommunityOut],
)  # fmt: skip
async def list_communities(request: Request, call: Call[None, PageQuery]) -> Page[CommunityOut]:
    found = await registry.list_communities(cursor=call.query.cursor, limit=call.query.limit)
    return Page[CommunityOut].of(found, lambda r: CommunityOut.model_validate(r, from_attributes=True))
