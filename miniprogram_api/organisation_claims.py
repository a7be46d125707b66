"""The committee's review of organisation owners' claims (the developer, or any organisation): the
claim with its authorisation letter (signed photo links), and the decision."""

from __future__ import annotations

from pydantic import Field
from sanic import Blueprint, Request

from accounts import organisations
from accounts.models import ClaimStatus
from accounts.roles import Role
from miniprogram_api.auth import Allow, Principal
from miniprogram_api.bounds import RequestModel
from miniprogram_api.discovery import PageQuery
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.me import OrganisationClaimOut, OrganisationClaimPageOut, organisation_claim_out

bp = Blueprint("organisation_claims", url_prefix="/admin/compounds/<compound_id:int>/organisation-claims")
REVIEWERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, over="compound")


class ClaimsQuery(PageQuery):
    status: ClaimStatus | None = Field(default=None, description="按状态筛选：pending / approved / rejected")


class ClaimDecisionIn(RequestModel):
    approve: bool
    reason: str = Field(default="", max_length=200, description="驳回时说明理由（将告知申请人）")


@endpoint(
    bp, "GET", "", summary="单位业主认证申请（含授权委托书，分页）", access=REVIEWERS,
    query=ClaimsQuery, response=OrganisationClaimPageOut,
    description="授权委托书以签名链接给出（一小时内有效，内容安全审核中的也可查看）；信用代码与身份证号从不返回。",
)  # fmt: skip
async def list_claims(
    request: Request, call: Call[None, ClaimsQuery], compound_id: int
) -> OrganisationClaimPageOut:
    q, viewer = call.query, call.principal.user.id
    page = await organisations.claims_of_compound(
        compound_id, status=q.status, cursor=q.cursor, limit=q.limit
    )
    return OrganisationClaimPageOut(
        items=[organisation_claim_out(request, v, viewer) for v in page.items], next_cursor=page.next_cursor
    )


@endpoint(
    bp, "POST", "/<claim_id:int>/decision", summary="审核单位业主认证（批准即认证为该单位的投票人）",
    access=REVIEWERS, body=ClaimDecisionIn, response=OrganisationClaimOut,
    description="批准后该单位在本小区的业主记录绑定到申请人账号（一个单位为一名业主）；每份申请只能审核一次，记入审计日志。",
)  # fmt: skip
async def decide(
    request: Request, call: Call[ClaimDecisionIn, None], compound_id: int, claim_id: int
) -> OrganisationClaimOut:
    assert call.body is not None
    principal: Principal = call.principal
    await organisations.decide(
        principal.actor, principal.user.id, compound_id, claim_id, call.body.approve, call.body.reason
    )
    view = await organisations.claim_view(claim_id)
    return organisation_claim_out(request, view, principal.user.id)
