"""The community and life-service providers: admit an organisation to its compounds (准入), revoke
it, and see each provider's ratings from completed bookings.

/admin/communities/<community_id>/providers/...      community admins of that community"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role
from bookings import providers, reviews, revocation
from bookings.models import Admission
from bookings.reviews import Rating
from core import clock
from miniprogram_api.auth import Allow
from miniprogram_api.bounds import Id, RequestModel
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery

bp = Blueprint("bookings_admin", url_prefix="/admin/communities/<community_id:int>/providers")
COMMUNITY = Allow(Role.COMMUNITY_ADMIN, over="community")


class AdmitIn(RequestModel):
    name: str = Field(min_length=2, max_length=100)
    credit_code: str = Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$", max_length=18,
                             description="统一社会信用代码")  # fmt: skip
    contact_phone: str = Field(default="", max_length=20)
    manager_user_id: Id = Field(description="该机构在本系统的负责人账号")
    sub_mchid: str | None = Field(
        default=None, pattern=r"^[0-9]{8,10}$", max_length=10, description="微信支付子商户号"
    )


class RevokeIn(RequestModel):
    reason: str = Field(min_length=2, max_length=200)


class AdmittedOut(BaseModel):
    provider_id: int
    name: str
    contact_phone: str
    admitted_at: datetime
    ratings: int = Field(description="评价数")
    average_stars: Decimal | None = Field(description="平均星级（两位小数）；无评价为空")


class RatingOut(BaseModel):
    booking_id: int
    service: str
    compound_id: int
    stars: int
    comment: str
    rated_at: datetime

    @classmethod
    def of(cls, r: Rating) -> RatingOut:
        return cls(booking_id=r.booking_id, service=r.service, compound_id=r.compound_id, stars=r.stars,
                   comment=r.comment, rated_at=clock.to_local(r.rated_at))  # fmt: skip


class ProviderRatingsOut(Page[RatingOut]):
    provider_id: int
    ratings: int
    average_stars: Decimal | None


async def _admitted_page(community_id: int, cursor: str | None, limit: int) -> Page[AdmittedOut]:
    found = await providers.admitted(community_id, cursor=cursor, limit=limit)
    scores = await reviews.scores([a.provider_id for a in found.items])

    def shape(a: Admission) -> AdmittedOut:
        score = scores[a.provider_id]
        return AdmittedOut(
            provider_id=a.provider_id, name=a.provider.name, contact_phone=a.provider.contact_phone,
            admitted_at=clock.to_local(a.admitted_at), ratings=score.ratings, average_stars=score.average,
        )  # fmt: skip

    return Page[AdmittedOut].of(found, shape)


@endpoint(bp, "GET", "", summary="本社区准入的生活服务机构及其评价", access=COMMUNITY, query=PageQuery,
          response=Page[AdmittedOut])  # fmt: skip
async def list_admitted(
    request: Request, call: Call[None, PageQuery], community_id: int
) -> Page[AdmittedOut]:
    return await _admitted_page(community_id, call.query.cursor, call.query.limit)


@endpoint(bp, "POST", "", summary="准入生活服务机构", access=COMMUNITY, body=AdmitIn, response=AdmittedOut, status=201,
          description="按统一社会信用代码登记（已登记的沿用），并指定其负责人账号。")  # fmt: skip
async def admit(request: Request, call: Call[AdmitIn, None], community_id: int) -> AdmittedOut:
    b = call.body
    p = call.principal
    provider = await providers.admit(
        p.actor,
        community_id=community_id,
        new=providers.NewProvider(b.name, b.credit_code, b.contact_phone, b.manager_user_id, b.sub_mchid),
        by_user_id=p.user.id,
    )
    score = (await reviews.scores([provider.id]))[provider.id]
    return AdmittedOut(
        provider_id=provider.id, name=provider.name, contact_phone=provider.contact_phone,
        admitted_at=clock.to_local(clock.now()), ratings=score.ratings, average_stars=score.average,
    )  # fmt: skip


@endpoint(bp, "POST", "/<provider_id:int>/revoke", summary="取消准入（其服务下架）", access=COMMUNITY, body=RevokeIn,
          status=204)  # fmt: skip
async def revoke(request: Request, call: Call[RevokeIn, None], community_id: int, provider_id: int) -> None:
    await revocation.revoke(
        getattr(request.app.ctx, "wechat_pay", None), call.principal.actor, community_id=community_id,
        provider_id=provider_id, reason=call.body.reason, cache=request.app.ctx.cache,
    )  # fmt: skip


@endpoint(bp, "GET", "/<provider_id:int>/ratings", summary="服务机构的评价", access=COMMUNITY, query=PageQuery,
          response=ProviderRatingsOut, description="只显示星级、评语、服务与时间，不显示评价人。")  # fmt: skip
async def provider_ratings(
    request: Request, call: Call[None, PageQuery], community_id: int, provider_id: int
) -> ProviderRatingsOut:
    provider = await providers.provider_in_community(community_id, provider_id)
    found = await reviews.provider_ratings(provider.id, cursor=call.query.cursor, limit=call.query.limit)
    score = (await reviews.scores([provider.id]))[provider.id]
    return ProviderRatingsOut(
        items=[RatingOut.of(r) for r in found.items], next_cursor=found.next_cursor, provider_id=provider.id,
        ratings=score.ratings, average_stars=score.average,
    )  # fmt: skip
