"""The notice board for its publishers: a compound's notices with their state and read counts (paged
as the API's manage list), drafting, editing (a new revision), publishing now or in a window, and
withdrawing with a reason. The same services and the same Access objects as
miniprogram_api.notices_admin, on the compound's route; console.disclosures edits the structured ones."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from console.committee import compound
from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_moment,
    form_text,
    page,
    render,
    see_other,
    status_of,
)
from core import errors
from miniprogram_api import notices_admin as api
from miniprogram_api.auth import Principal
from notices import acknowledgement, attachments, board, ledger, lifecycle, service
from notices.errors import AudienceRestricted, NoticeNotFound
from notices.rules import (
    CATEGORIES,
    EDITABLE,
    PUBLISHABLE,
    REVIEWERS,
    Audience,
    Category,
    Scope,
    Status,
    may_post,
)
from notices.scoping import Caller, Where

bp = Blueprint("console_notices")
BASE = "/compounds/<compound_id:int>/notices"
ACKS_SHOWN = 50

STATE_NAMES = {
    "draft": "草稿",
    "checking": "内容检测中",
    "review": "待人工审核",
    "held": "未通过检测",
    "withdrawn": "已撤回",
    "scheduled": "定时发布",
    "live": "已发布",
    "expired": "已下架",
}
STATUS_NAMES = {
    "draft": "草稿",
    "checking": "内容检测中",
    "review": "待人工审核",
    "held": "未通过检测",
    "published": "已发布（含定时、已下架）",
    "withdrawn": "已撤回",
}
AUDIENCE_NAMES = {Audience.EVERYONE.value: "全体住户", Audience.OWNERS.value: "仅已认证业主"}
CATEGORY_NAMES = {c.value: rule.label for c, rule in CATEGORIES.items()}
ATTACHMENT_KINDS = {"image": "图片", "pdf": "PDF"}
VERDICT_NAMES = {
    "pending": "检测中",
    "pass": "通过",
    "review": "待人工审核",
    "risky": "未通过",
    "none": "无需检测",
}


class InCompound:
    """The API's OverScope gate on the console's compound route (scope ``compound``, its id)."""

    public = False

    def __init__(self, inner: api.OverScope) -> None:
        self.inner = inner
        self.description = inner.description

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        return await self.inner.authorize(
            request, {"scope": Scope.COMPOUND.value, "target": params["compound_id"]}
        )


MANAGERS = InCompound(api.MANAGERS)
POSTING = InCompound(api.POSTING)


def caller(who: Principal) -> Caller:
    return Caller(user_id=who.user.id, openid=who.user.openid, actor=who.actor, roles=who.roles)


def where(compound_id: int) -> Where:
    return Where(Scope.COMPOUND, compound_id)


def categories_for(who: Principal) -> list[tuple[str, str]]:
    """The free-text categories these roles may post in a compound (notices.rules decides)."""
    return [
        (c.value, rule.label)
        for c, rule in CATEGORIES.items()
        if not rule.structured and may_post(c, Scope.COMPOUND, who.roles)
    ]


def kinds_for(who: Principal) -> list[tuple[str, str]]:
    """The structured disclosures these roles may draft in a compound (notices.rules decides)."""
    return [
        (kind.value, ledger.TITLES[kind])
        for kind, category in ledger.CATEGORY_OF.items()
        if may_post(category, Scope.COMPOUND, who.roles)
    ]


def _names() -> dict[str, Any]:
    return {
        "STATE_NAMES": STATE_NAMES, "AUDIENCE_NAMES": AUDIENCE_NAMES, "CATEGORY_NAMES": CATEGORY_NAMES,
        "ATTACHMENT_KINDS": ATTACHMENT_KINDS, "VERDICT_NAMES": VERDICT_NAMES,
    }  # fmt: skip


async def _list_page(
    request: Request,
    who: Principal,
    compound_id: int,
    *,
    http_status: int = 200,
    typed: dict[str, Any] | None = None,
    failure: errors.DomainError | None = None,
) -> HTTPResponse:
    status = request.args.get("status") or None
    scope = f"notices:{compound_id}:{status or ''}"
    query = form_model(request, api.ListQuery, {"status": status, "cursor": cursor_in(request, scope)})
    listed = await lifecycle.manage_page(
        where(compound_id), status=query.status, cursor=query.cursor, limit=query.limit
    )
    return render(
        request,
        "notices.html",
        http_status=http_status,
        compound=await compound(compound_id),
        notices=listed.items,
        next_cursor=cursor_out(request, listed.next_cursor, scope),
        status=status or "",
        STATUS_NAMES=STATUS_NAMES,
        categories=categories_for(who),
        kinds=kinds_for(who),
        typed=typed or {},
        failure=failure,
        problems=problems_of(failure),
        **_names(),
    )


def problems_of(exc: errors.DomainError | None) -> list[str]:
    """An Invalid's field problems as lines (as console.web's error page lists them)."""
    if exc is None or not isinstance(exc.details, list):
        return []
    return [f"{d.get('field', '')}：{d.get('reason', '')}" for d in exc.details if isinstance(d, dict)]


@page(bp, "GET", BASE, access=MANAGERS)
async def notices(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    return await _list_page(request, who, compound_id)


@page(bp, "POST", BASE, access=POSTING)
async def create(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    typed = {
        "category": form_text(request, "category"),
        "title": form_text(request, "title"),
        "body_markdown": form_text(request, "body_markdown"),
        "audience": form_text(request, "audience", Audience.EVERYONE.value),
        "requires_ack": form_text(request, "requires_ack") == "yes",
    }
    try:
        body = form_model(request, api.NoticeIn, typed)
        notice = await service.create(
            caller(who), where(compound_id), category=body.category, title=body.title,
            body_markdown=body.body_markdown, audience=body.audience, requires_ack=body.requires_ack,
        )  # fmt: skip
    except (errors.Invalid, errors.Conflict) as exc:
        return await _list_page(
            request, who, compound_id, http_status=status_of(exc), typed=typed, failure=exc
        )
    return see_other(f"{PREFIX}/compounds/{compound_id}/notices/{notice.id}")


async def _history(compound_id: int, notice_id: int, who: Principal) -> list[dict[str, Any]] | None:
    """The revisions ever published, as the board shows them (only while the notice is on it)."""
    try:
        found = await board.history_page(
            compound_id=compound_id, notice_id=notice_id, roles=who.roles, limit=50
        )
    except (NoticeNotFound, AudienceRestricted):
        return None
    return found.items


async def _detail_page(
    request: Request,
    who: Principal,
    compound_id: int,
    notice_id: int,
    *,
    http_status: int = 200,
    failure: errors.DomainError | None = None,
    typed: dict[str, Any] | None = None,
) -> HTTPResponse:
    w = where(compound_id)
    shown = await lifecycle.manage_detail(w, notice_id)
    status = Status(shown["status"])
    category = Category(shown["category"])
    return render(
        request,
        "notice.html",
        http_status=http_status,
        compound=await compound(compound_id),
        notice=shown,
        reads=await lifecycle.read_report(w, notice_id),
        # the counts and the first page of those yet to acknowledge (the API's acknowledgements route)
        acks=await acknowledgement.report(w, notice_id, acknowledged=False, cursor=None, limit=ACKS_SHOWN)
        if shown["requires_ack"]
        else None,
        history=await _history(compound_id, notice_id, who) if shown["state"] in ("live",) else None,
        may_post=may_post(category, Scope.COMPOUND, who.roles) and not shown["system"],
        structured=CATEGORIES[category].structured,
        editable=status in EDITABLE,
        publishable=status in PUBLISHABLE,
        # console.notice_review's forms, offered as the API's rules (the services still decide)
        reviewable=status is Status.REVIEW and not REVIEWERS.isdisjoint(who.roles),
        attachable=status in attachments.ATTACHABLE,
        # Offered to whoever lifecycle.withdraw lets through: the poster's side, and the community,
        # which revokes a compound's notices (task 8); the service still decides.
        withdrawable=status is not Status.WITHDRAWN
        and (may_post(category, Scope.COMPOUND, who.roles) or Role.COMMUNITY_ADMIN in who.roles),
        failure=failure,
        problems=problems_of(failure),
        typed=typed or {},
        **_names(),
    )


@page(bp, "GET", BASE + "/<notice_id:int>", access=MANAGERS)
async def detail(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    return await _detail_page(request, who, compound_id, notice_id)


def _back(compound_id: int, notice_id: int) -> HTTPResponse:
    return see_other(f"{PREFIX}/compounds/{compound_id}/notices/{notice_id}")


@page(bp, "POST", BASE + "/<notice_id:int>/edit", access=POSTING)
async def edit(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    typed = {
        "title": form_text(request, "title"),
        "body_markdown": form_text(request, "body_markdown"),
        "note": form_text(request, "note"),
        "audience": form_text(request, "audience") or None,
        "requires_ack": form_text(request, "requires_ack") == "yes",
    }
    try:
        body = form_model(request, api.EditIn, typed)
        await service.edit(
            request.app.ctx.cache, request.app.ctx.wechat, caller(who), where(compound_id), notice_id,
            title=body.title, body_markdown=body.body_markdown, note=body.note, audience=body.audience,
            requires_ack=body.requires_ack,
        )  # fmt: skip
    except (errors.Invalid, errors.Conflict) as exc:
        return await _detail_page(
            request, who, compound_id, notice_id, http_status=status_of(exc), failure=exc, typed=typed
        )
    return _back(compound_id, notice_id)


@page(bp, "POST", BASE + "/<notice_id:int>/publish", access=POSTING)
async def publish(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    body = form_model(
        request,
        api.PublishIn,
        {
            "publish_at": form_moment(request, "publish_at") or None,
            "expires_at": form_moment(request, "expires_at") or None,
        },
    )
    await service.publish(
        request.app.ctx.cache, request.app.ctx.wechat, caller(who), where(compound_id), notice_id,
        publish_at=body.publish_at, expires_at=body.expires_at,
    )  # fmt: skip
    return _back(compound_id, notice_id)


@page(bp, "POST", BASE + "/<notice_id:int>/withdraw", access=POSTING)
async def withdraw(request: Request, who: Principal, compound_id: int, notice_id: int) -> HTTPResponse:
    body = form_model(request, api.WithdrawIn, {"reason": form_text(request, "reason")})
    await lifecycle.withdraw(request.app.ctx.cache, caller(who), where(compound_id), notice_id, body.reason)
    return _back(compound_id, notice_id)
