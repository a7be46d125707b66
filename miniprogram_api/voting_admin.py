"""Committee endpoints for motions: create, announce, open, extend, close, count, publish, finalise,
cancel; roll, live turnout, paper and proxy entry, exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from miniprogram_api.auth import Allow, Principal
from miniprogram_api.bounds import Id, Key, Moment, RequestModel
from miniprogram_api.discovery import PageQuery
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.photos import PhotoOut, photo_out
from miniprogram_api.voting import (
    CreatedOut,
    MotionListOut,
    MotionOut,
    ReceiptOut,
    min_announce_days,
    motion_out,
)
from miniprogram_api.voting_results import RollPageOut, TurnoutOut
from voting import archive, ballots, counting, lifecycle, listing, proxies, service, settings
from voting.lifecycle import ItemDraft, MotionDraft
from voting.models import Channel, Motion, MotionStatus
from voting.rules import FOLLOW_MAJORITY_RULE, Matter

bp = Blueprint("voting_admin", url_prefix="/admin/compounds/<compound_id:int>/motions")
MANAGERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, over="compound")
WATCHERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="compound")


class ItemIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    matter: Matter = Field(description="民法典第278条的九类事项之一，决定通过门槛")
    seats: int | None = Field(default=None, ge=1, le=15, description="选举业主委员会时的席位数")
    candidates: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=50
    )


class MotionIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=20000)
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    opens_at: Moment
    closes_at: Moment
    scope_buildings: list[Id] = Field(default_factory=list, max_length=1000)
    allow_change: bool = True
    secret: bool = False
    announce_days: int | None = Field(
        default=None, ge=0, le=60,
        description="公告天数：不得少于最短公告天数（法定 15 天，见 GET /api/v1/motions/rules），不填即取最短天数",
    )  # fmt: skip
    objection_days: int = Field(default=7, ge=0, le=60)
    max_extension_days: int = Field(default=7, ge=0, le=30)
    attachments: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)


class ExtendIn(BaseModel):
    closes_at: Moment
    reason: str = Field(min_length=2, max_length=500)


class CancelIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class PaperIn(BaseModel):
    voter_id: Id
    choices: dict[Key, Any] = Field(max_length=100)
    scan_ref: str = Field(min_length=1, max_length=100, description="纸质选票扫描件（照片编号）")


class DecisionIn(BaseModel):
    approve: bool


class ProxyOut(BaseModel):
    id: int
    voter_id: int
    rooms: list[str]
    owner_name: str = Field(description="委托人（业主）")
    proxy_user_id: int
    proxy_name: str = Field(description="代理人昵称")
    proxy_phone: str | None = Field(description="代理人手机号（已打码）")
    status: str = Field(description="pending 待审核 / approved 已批准 / rejected 已驳回")
    created_at: datetime
    decided_at: datetime | None
    documents: list[PhotoOut] = Field(description="书面委托书（签名链接，一小时内有效；审核中的也可查看）")


class ProxyPageOut(BaseModel):
    items: list[ProxyOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


def _proxy_out(request: Request, p: proxies.ProxyView, viewer_id: int) -> ProxyOut:
    data = {k: getattr(p, k) for k in ProxyOut.model_fields if k != "documents"}
    return ProxyOut(**data, documents=[photo_out(request, photo, viewer_id) for photo in p.documents])


async def _motion(compound_id: int, motion_id: int) -> Motion:
    return await lifecycle.get_motion(motion_id, compound_id)


def _p(call: Call) -> Principal:  # type: ignore[type-arg]
    return call.principal  # type: ignore[no-any-return]


@endpoint(
    bp,
    "POST",
    "",
    summary="新建表决事项（草稿）",
    access=MANAGERS,
    body=MotionIn,
    response=CreatedOut,
    status=201,
)
async def create(request: Request, call: Call[MotionIn, None], compound_id: int) -> CreatedOut:
    assert call.body is not None
    body = call.body
    shortest = min_announce_days(request)
    draft = MotionDraft(
        title=body.title, text=body.text, opens_at=body.opens_at, closes_at=body.closes_at,
        items=[ItemDraft(i.title, i.matter, i.seats, i.candidates) for i in body.items],
        scope_buildings=body.scope_buildings, allow_change=body.allow_change, secret=body.secret,
        announce_days=shortest if body.announce_days is None else body.announce_days,
        objection_days=body.objection_days,
        max_extension_days=body.max_extension_days, attachments=body.attachments,
    )  # fmt: skip
    motion = await lifecycle.create(
        _p(call).actor, compound_id, _p(call).user.id, draft, min_announce_days=shortest
    )
    return CreatedOut(id=motion.id)


class CompoundMotionsQuery(PageQuery):
    status: MotionStatus | None = Field(
        default=None, description="只列出该状态的事项；缺省为全部（含草稿与已取消）"
    )


@endpoint(
    bp, "GET", "", summary="本小区的表决事项（新建的在前，分页，可按状态筛选）", access=WATCHERS,
    query=CompoundMotionsQuery, response=MotionListOut,
)  # fmt: skip
async def list_motions(
    request: Request, call: Call[None, CompoundMotionsQuery], compound_id: int
) -> MotionListOut:
    q = call.query
    page = await service.motions_of_compound(compound_id, status=q.status, cursor=q.cursor, limit=q.limit)
    return MotionListOut(items=[await motion_out(m) for m in page.items], next_cursor=page.next_cursor)


@endpoint(bp, "GET", "/<motion_id:int>", summary="表决事项详情", access=WATCHERS, response=MotionOut)
async def detail(request: Request, call: Call[None, None], compound_id: int, motion_id: int) -> MotionOut:
    return await motion_out(await _motion(compound_id, motion_id))


async def _transition(
    request: Request, call: Call, compound_id: int, motion_id: int, action: str
) -> MotionOut:  # type: ignore[type-arg]
    motion = await _motion(compound_id, motion_id)
    actor = _p(call).actor
    steps = {
        "open": lifecycle.open_voting,
        "close": lifecycle.close,
        "count": counting.count,
        "publish": lifecycle.publish,
        "finalize": lifecycle.finalize,
    }
    if action == "announce":
        shortest = min_announce_days(request)
        return await motion_out(await lifecycle.announce(actor, motion, min_announce_days=shortest))
    return await motion_out(await steps[action](actor, motion))


for _action, _summary in (
    ("announce", "公告（开始投票前须满公告天数）"),
    ("open", "开始投票（冻结表决名单）"),
    ("close", "截止投票（截止时间后）"),
    ("count", "计票（封存全部选票并计算结果）"),
    ("publish", "公布结果并进入询异期"),
    ("finalize", "询异期满，结果确定"),
):

    def _make(action: str) -> Any:
        async def handler(
            request: Request, call: Call[None, None], compound_id: int, motion_id: int
        ) -> MotionOut:
            return await _transition(request, call, compound_id, motion_id, action)

        handler.__name__ = f"motion_{action}"
        return handler

    endpoint(
        bp, "POST", f"/<motion_id:int>/{_action}", summary=_summary, access=MANAGERS, response=MotionOut
    )(_make(_action))


@endpoint(
    bp,
    "POST",
    "/<motion_id:int>/extend",
    summary="延长投票期（仅一次，须说明理由）",
    access=MANAGERS,
    body=ExtendIn,
    response=MotionOut,
)
async def extend(request: Request, call: Call[ExtendIn, None], compound_id: int, motion_id: int) -> MotionOut:
    assert call.body is not None
    motion = await lifecycle.extend(
        _p(call).actor, await _motion(compound_id, motion_id), call.body.closes_at, call.body.reason
    )
    return await motion_out(motion)


@endpoint(
    bp,
    "POST",
    "/<motion_id:int>/cancel",
    summary="取消表决（须说明理由）",
    access=MANAGERS,
    body=CancelIn,
    response=MotionOut,
)
async def cancel(request: Request, call: Call[CancelIn, None], compound_id: int, motion_id: int) -> MotionOut:
    assert call.body is not None
    return await motion_out(
        await lifecycle.cancel(_p(call).actor, await _motion(compound_id, motion_id), call.body.reason)
    )


@endpoint(
    bp, "GET", "/<motion_id:int>/roll", summary="表决名单（房号与面积；分页）", access=WATCHERS,
    query=PageQuery, response=RollPageOut,
)  # fmt: skip
async def roll(
    request: Request, call: Call[None, PageQuery], compound_id: int, motion_id: int
) -> RollPageOut:
    motion = await _motion(compound_id, motion_id)
    page = await listing.roll_page(motion, cursor=call.query.cursor, limit=call.query.limit)
    return RollPageOut.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@endpoint(
    bp, "GET", "/<motion_id:int>/turnout", summary="实时参与情况（仅参与人数与面积，不含任何选择）",
    access=WATCHERS, response=TurnoutOut,
    description="参与比例给出精确分数 ratio（分子/分母）与仅供显示的两位小数 percent。",
)  # fmt: skip
async def turnout(request: Request, call: Call[None, None], compound_id: int, motion_id: int) -> TurnoutOut:
    return TurnoutOut.model_validate(await listing.turnout(await _motion(compound_id, motion_id)))


@endpoint(
    bp,
    "POST",
    "/<motion_id:int>/paper-ballots",
    summary="录入纸质选票（已有电子票时以电子票为准）",
    access=MANAGERS,
    body=PaperIn,
    response=ReceiptOut,
    status=201,
)
async def paper(request: Request, call: Call[PaperIn, None], compound_id: int, motion_id: int) -> ReceiptOut:
    assert call.body is not None
    motion = await _motion(compound_id, motion_id)
    receipt = await ballots.cast(
        motion,
        _p(call).user.id,
        call.body.choices,
        channel=Channel.PAPER,
        for_voter=call.body.voter_id,
        scan_ref=call.body.scan_ref,
    )
    return ReceiptOut.model_validate(receipt, from_attributes=True)


@endpoint(
    bp, "GET", "/<motion_id:int>/proxies", summary="书面委托列表（含委托书，分页）", access=MANAGERS,
    query=PageQuery, response=ProxyPageOut,
    description="每份委托给出委托人、房号、代理人（昵称与打码手机号）与委托书照片的签名链接，审核前可查看。",
)  # fmt: skip
async def list_proxies(
    request: Request, call: Call[None, PageQuery], compound_id: int, motion_id: int
) -> ProxyPageOut:
    motion = await _motion(compound_id, motion_id)
    page = await proxies.proxies_of_motion(motion, cursor=call.query.cursor, limit=call.query.limit)
    viewer = _p(call).user.id
    return ProxyPageOut(
        items=[_proxy_out(request, p, viewer) for p in page.items], next_cursor=page.next_cursor
    )


@endpoint(
    bp,
    "POST",
    "/<motion_id:int>/proxies/<proxy_id:int>/decision",
    summary="审核书面委托",
    access=MANAGERS,
    body=DecisionIn,
    response=ProxyOut,
)
async def decide(
    request: Request, call: Call[DecisionIn, None], compound_id: int, motion_id: int, proxy_id: int
) -> ProxyOut:
    assert call.body is not None
    motion = await _motion(compound_id, motion_id)
    p = await service.decide_proxy(motion, proxy_id, call.body.approve, _p(call).actor, _p(call).user.id)
    return _proxy_out(request, await proxies.proxy_view_by_id(p.id), _p(call).user.id)


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/archive.csv",
    summary="归档：选票与名单（CSV）",
    access=WATCHERS,
    response={"type": "string"},
    response_type="text/csv",
)
async def archive_csv(
    request: Request, call: Call[None, None], compound_id: int, motion_id: int
) -> HTTPResponse:
    data = await archive.csv_bytes(await _motion(compound_id, motion_id))
    return HTTPResponse(
        data,
        content_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="motion-{motion_id}.csv"'},
    )


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/archive.xlsx",
    summary="归档：选票与名单（Excel）",
    access=WATCHERS,
    response={"type": "string", "format": "binary"},
    response_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
async def archive_xlsx(
    request: Request, call: Call[None, None], compound_id: int, motion_id: int
) -> HTTPResponse:
    data = await archive.xlsx_bytes(await _motion(compound_id, motion_id))
    return HTTPResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="motion-{motion_id}.xlsx"'},
    )


# --- the compound's voting settings (从多) ------------------------------------------------------------

settings_bp = Blueprint("voting_settings", url_prefix="/admin/compounds/<compound_id:int>/voting-settings")
COMMITTEE_ONLY = Allow(Role.COMMITTEE, over="compound")


class FollowMajorityIn(RequestModel):
    enabled: bool
    basis: str = Field(
        default="", max_length=200,
        description="依据：业主大会议事规则中规定从多的条款（启用时必填），如“《业主大会议事规则》第十二条”",
    )  # fmt: skip


class FollowMajorityOut(BaseModel):
    compound_id: int
    enabled: bool = Field(description="是否适用从多（默认关闭）")
    basis: str
    changed_at: datetime | None
    locked_by: list[int] = Field(description="已公告或正在投票的表决事项；有此类事项时不能修改")
    rule: str = Field(description="从多的计票规则")


@endpoint(
    settings_bp, "GET", "/follow-majority", summary="从多设置（未投票业主视为同意多数意见）", access=WATCHERS,
    response=FollowMajorityOut, description=FOLLOW_MAJORITY_RULE,
)  # fmt: skip
async def get_follow_majority(
    request: Request, call: Call[None, None], compound_id: int
) -> FollowMajorityOut:
    return FollowMajorityOut.model_validate(await settings.follow_majority(compound_id), from_attributes=True)


@endpoint(
    settings_bp, "PUT", "/follow-majority", summary="修改从多设置（仅业主委员会，记入审计日志）",
    access=COMMITTEE_ONLY, body=FollowMajorityIn, response=FollowMajorityOut,
    description="只有本小区业主委员会可以修改，启用须注明议事规则依据；本小区有已公告或正在投票的表决事项时拒绝修改"
    "（409 follow_majority_locked）。每个事项在开始投票时固定采用当时的设置。" + FOLLOW_MAJORITY_RULE,
)  # fmt: skip
async def put_follow_majority(
    request: Request, call: Call[FollowMajorityIn, None], compound_id: int
) -> FollowMajorityOut:
    assert call.body is not None
    changed = await settings.set_follow_majority(
        _p(call).actor, compound_id, call.body.enabled, call.body.basis
    )
    return FollowMajorityOut.model_validate(changed, from_attributes=True)
