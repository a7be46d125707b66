"""Committee endpoints for motions: create, announce, open, extend, close, count, publish, finalise,
cancel; roll, live turnout, paper and proxy entry, exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from miniprogram_api.auth import Allow, Principal
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.voting import CreatedOut, MotionListOut, MotionOut, ReceiptOut, motion_out
from voting import archive, ballots, counting, lifecycle, service
from voting.lifecycle import ItemDraft, MotionDraft
from voting.models import Channel, Motion, ProxyAuthorization
from voting.rules import Matter

bp = Blueprint("voting_admin", url_prefix="/admin/compounds/<compound_id:int>/motions")
MANAGERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, over="compound")
WATCHERS = Allow(Role.COMMITTEE, Role.COMMUNITY_ADMIN, Role.SUPERVISOR, over="compound")


class ItemIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    matter: Matter = Field(description="民法典第278条的九类事项之一，决定通过门槛")
    seats: int | None = Field(default=None, ge=1, le=15, description="选举业主委员会时的席位数")
    candidates: list[str] = Field(default_factory=list, max_length=50)


class MotionIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=20000)
    items: list[ItemIn] = Field(min_length=1, max_length=20)
    opens_at: datetime
    closes_at: datetime
    scope_buildings: list[int] = Field(default_factory=list)
    allow_change: bool = True
    secret: bool = False
    announce_days: int = Field(default=7, ge=0, le=60)
    objection_days: int = Field(default=7, ge=0, le=60)
    max_extension_days: int = Field(default=7, ge=0, le=30)
    attachments: list[str] = Field(default_factory=list, max_length=20)


class ExtendIn(BaseModel):
    closes_at: datetime
    reason: str = Field(min_length=2, max_length=500)


class CancelIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class PaperIn(BaseModel):
    voter_id: int
    choices: dict[str, Any]
    scan_ref: str = Field(min_length=1, max_length=100, description="纸质选票扫描件（照片编号）")


class DecisionIn(BaseModel):
    approve: bool


class ProxyOut(BaseModel):
    id: int
    voter_id: int
    proxy_user_id: int
    document_ref: str
    status: str


def _proxy_out(p: ProxyAuthorization) -> ProxyOut:
    return ProxyOut(
        id=p.id,
        voter_id=p.voter_id,  # type: ignore[attr-defined]
        proxy_user_id=p.proxy_user_id,  # type: ignore[attr-defined]
        document_ref=p.document_ref,
        status=p.status.value,
    )


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
    draft = MotionDraft(
        title=body.title, text=body.text, opens_at=body.opens_at, closes_at=body.closes_at,
        items=[ItemDraft(i.title, i.matter, i.seats, i.candidates) for i in body.items],
        scope_buildings=body.scope_buildings, allow_change=body.allow_change, secret=body.secret,
        announce_days=body.announce_days, objection_days=body.objection_days,
        max_extension_days=body.max_extension_days, attachments=body.attachments,
    )  # fmt: skip
    motion = await lifecycle.create(_p(call).actor, compound_id, _p(call).user.id, draft)
    return CreatedOut(id=motion.id)


@endpoint(bp, "GET", "", summary="本小区的表决事项", access=WATCHERS, response=MotionListOut)
async def list_motions(request: Request, call: Call[None, None], compound_id: int) -> MotionListOut:
    motions = await Motion.filter(compound_id=compound_id).order_by("-id")
    return MotionListOut(items=[await motion_out(m) for m in motions])


@endpoint(bp, "GET", "/<motion_id:int>", summary="表决事项详情", access=WATCHERS, response=MotionOut)
async def detail(request: Request, call: Call[None, None], compound_id: int, motion_id: int) -> MotionOut:
    return await motion_out(await _motion(compound_id, motion_id))


async def _transition(call: Call, compound_id: int, motion_id: int, action: str) -> MotionOut:  # type: ignore[type-arg]
    motion = await _motion(compound_id, motion_id)
    actor = _p(call).actor
    steps = {
        "announce": lifecycle.announce,
        "open": lifecycle.open_voting,
        "close": lifecycle.close,
        "count": counting.count,
        "publish": lifecycle.publish,
        "finalize": lifecycle.finalize,
    }
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
            return await _transition(call, compound_id, motion_id, action)

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
    bp,
    "GET",
    "/<motion_id:int>/roll",
    summary="表决名单（房号与面积）",
    access=WATCHERS,
    response={"type": "array", "items": {"type": "object"}},
)
async def roll(
    request: Request, call: Call[None, None], compound_id: int, motion_id: int
) -> list[dict[str, Any]]:
    return await service.public_roll(await _motion(compound_id, motion_id))


@endpoint(
    bp,
    "GET",
    "/<motion_id:int>/turnout",
    summary="实时参与情况（按面积与人数）",
    access=WATCHERS,
    response={"type": "object"},
)
async def turnout(
    request: Request, call: Call[None, None], compound_id: int, motion_id: int
) -> dict[str, Any]:
    return await service.turnout(await _motion(compound_id, motion_id))


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
    bp,
    "GET",
    "/<motion_id:int>/proxies",
    summary="书面委托列表",
    access=MANAGERS,
    response={"type": "array", "items": {"type": "object"}},
)
async def proxies(
    request: Request, call: Call[None, None], compound_id: int, motion_id: int
) -> list[ProxyOut]:
    motion = await _motion(compound_id, motion_id)
    rows = await ProxyAuthorization.filter(motion_id=motion.id).order_by("id")
    return [_proxy_out(p) for p in rows]  # type: ignore[attr-defined]


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
    return _proxy_out(p)


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
