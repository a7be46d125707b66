"""The notice board in the mini-program: my compound's board, a notice (opening it is the read
receipt), its published history, its attachments, disclosures side by side; and WeChat's message
push for the images' content-security verdicts."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse

from accounts import roles as account_roles
from accounts import sessions
from accounts.errors import RoleMissing
from accounts.roles import Role
from complaints.service import record_media_verdict
from config.settings import Settings
from core.errors import Forbidden, NotFound
from core.jsonutil import loads
from miniprogram_api.auth import ROLE_NAMES, bearer_token
from miniprogram_api.context import request_id_of
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from notices import attachments, board, disclosures, lifecycle
from notices import cache as board_cache
from notices.models import DisclosureKind
from notices.rules import READERS
from notices.scoping import where_of

bp = Blueprint("notices", url_prefix="/compounds")
push_bp = Blueprint("wechat_push", url_prefix="")


@dataclass(frozen=True, slots=True)
class Reader:
    user_id: int
    roles: frozenset[Role]
    request_id: str


class BoardReaders:
    """Anyone living in or serving the compound. The board is the hottest read of the product, so the
    caller's roles over the compound are cached for ``ROLES_TTL`` seconds: a person removed from a
    unit can go on reading for at most that long. Writes never use this access."""

    public = False
    description = "、".join(ROLE_NAMES[r] for r in sorted(READERS)) + "（限本小区范围）"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Reader:
        cache = request.app.ctx.cache
        user_id = await sessions.user_of(cache, bearer_token(request))
        compound_id = int(params["compound_id"])
        key = board_cache.roles_key(user_id, compound_id)
        cached = await board_cache.get_json(cache, key)
        if isinstance(cached, list):
            held = frozenset(Role(r) for r in cached)
        else:
            held = frozenset(await account_roles.compound_roles(user_id, compound_id))
            await board_cache.set_json(cache, key, sorted(held), board_cache.ROLES_TTL)
        if not held & READERS:
            raise RoleMissing(details={"required": sorted(READERS)})
        return Reader(user_id, held, request_id_of(request))


READ = BoardReaders()


class BoardQuery(BaseModel):
    category: str | None = Field(default=None, max_length=30)
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=20, ge=1, le=board.MAX_LIMIT)


class BoardItem(BaseModel):
    id: int
    category: str
    category_label: str
    scope: str = Field(description="compound 本小区 / community 社区 / county 全县")
    title: str
    summary: str
    publisher: str
    audience: str = Field(description="everyone 全体 / owners 仅业主")
    pinned: bool
    revision: int = Field(description="大于 1 表示曾经修改，可查看历史版本")
    publish_at: datetime
    expires_at: datetime | None
    unread: bool


class BoardOut(BaseModel):
    items: list[BoardItem]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class AttachmentOut(BaseModel):
    id: int
    kind: str
    name: str
    content_type: str
    byte_size: int


class NoticeOut(BoardItem):
    unread: bool = False
    body_html: str = Field(description="已净化的 HTML，可直接用于 rich-text")
    data: Any = Field(description="结构化内容（公示、表决结果），否则为空")
    attachments: list[AttachmentOut]
    published_revisions: int
    first_read: bool


class RevisionOut(BaseModel):
    number: int
    title: str
    body_html: str
    note: str
    editor: str
    published_at: datetime | None


class RevisionsOut(BaseModel):
    items: list[RevisionOut]


class FileQuery(BaseModel):
    size: str = Field(default="display", pattern="^(display|thumbnail)$")


class CompareQuery(BaseModel):
    kind: DisclosureKind
    years: str = Field(default="", pattern=r"^(\d{4}(,\d{4})*)?$", description="如 2024,2025；为空则全部")


class CompareOut(BaseModel):
    kind: str
    periods: list[str]
    sections: list[dict[str, Any]]


@endpoint(bp, "GET", "/<compound_id:int>/notices", summary="小区公告栏（置顶优先、最新在前）", access=READ,
          query=BoardQuery, response=BoardOut)  # fmt: skip
async def list_board(request: Request, call: Call[None, BoardQuery], compound_id: int) -> HTTPResponse:
    assert call.query is not None
    q = call.query
    page = await board.board(
        request.app.ctx.cache, compound_id=compound_id, user_id=call.principal.user_id,
        roles=call.principal.roles, category=q.category, cursor=q.cursor, limit=q.limit,
    )  # fmt: skip
    return HTTPResponse(page, content_type="application/json; charset=utf-8")


@endpoint(bp, "GET", "/<compound_id:int>/notices/<notice_id:int>", summary="公告详情（打开即记为已读）",
          access=READ, response=NoticeOut)  # fmt: skip
async def show_notice(
    request: Request, call: Call[None, None], compound_id: int, notice_id: int
) -> dict[str, Any]:
    return await board.detail(
        request.app.ctx.cache, compound_id=compound_id, notice_id=notice_id,
        user_id=call.principal.user_id, roles=call.principal.roles,
    )  # fmt: skip


@endpoint(bp, "GET", "/<compound_id:int>/notices/<notice_id:int>/revisions", summary="公告的历次发布版本",
          access=READ, response=RevisionsOut)  # fmt: skip
async def notice_history(
    request: Request, call: Call[None, None], compound_id: int, notice_id: int
) -> RevisionsOut:
    rows = await board.history(compound_id=compound_id, notice_id=notice_id, roles=call.principal.roles)
    return RevisionsOut(items=[RevisionOut.model_validate(r) for r in rows])


@endpoint(bp, "GET", "/<compound_id:int>/notices/<notice_id:int>/attachments/<attachment_id:int>",
          summary="公告附件（图片或 PDF）", access=READ, query=FileQuery, response={"type": "string"},
          response_type="application/octet-stream")  # fmt: skip
async def notice_file(
    request: Request, call: Call[None, FileQuery], compound_id: int, notice_id: int, attachment_id: int
) -> HTTPResponse:
    assert call.query is not None
    notice = await board.visible_notice(compound_id, notice_id, call.principal.roles)
    attachment = await lifecycle.attachment_of(where_of(notice), notice.id, attachment_id)
    data, content_type = await attachments.file_of(
        request.app.ctx.settings.media_dir, attachment, thumbnail=call.query.size == "thumbnail"
    )
    return HTTPResponse(data, content_type=content_type, headers={"cache-control": "private, max-age=300"})


@endpoint(bp, "GET", "/<compound_id:int>/disclosures/compare", summary="公示逐年对比", access=READ,
          query=CompareQuery, response=CompareOut)  # fmt: skip
async def compare_disclosures(
    request: Request, call: Call[None, CompareQuery], compound_id: int
) -> dict[str, Any]:
    assert call.query is not None
    years = [int(y) for y in call.query.years.split(",") if y]
    return await disclosures.compare(
        compound_id=compound_id, kind=call.query.kind, roles=call.principal.roles, years=years
    )


# --- WeChat message push (plain-text mode, JSON) -----------------------------------------------------

PUSH_MAX_SKEW = 600


def push_token(settings: Settings) -> str:
    """The token entered in the mini-program console's message-push settings: WECHAT_PUSH_TOKEN, or
    else derived from SECRET_KEY so that no second secret has to be configured."""
    if settings.wechat_push_token:
        return settings.wechat_push_token
    return hmac.new(settings.secret_key.encode(), b"wechat-message-push", hashlib.sha256).hexdigest()[:32]


def push_signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def _check_push(request: Request) -> None:
    args = {k: v[-1] for k, v in request.args.items()}
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    expected = push_signature(push_token(request.app.ctx.settings), timestamp, nonce)
    if not hmac.compare_digest(expected, args.get("signature", "")):
        raise Forbidden("消息推送签名无效", code="push_signature_invalid")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > PUSH_MAX_SKEW:
        raise Forbidden("消息推送已过期", code="push_stale")


@endpoint(push_bp, "GET", "/wechat/push", summary="微信消息推送：服务器地址验证", access=PUBLIC,
          response={"type": "string"}, response_type="text/plain")  # fmt: skip
async def push_verify(request: Request, call: Call[None, None]) -> HTTPResponse:
    _check_push(request)
    return HTTPResponse(request.args.get("echostr", ""), content_type="text/plain")


@endpoint(push_bp, "POST", "/wechat/push", summary="微信消息推送（明文 JSON）：图片内容安全检测结果",
          access=PUBLIC, raw_body={"application/json": {"type": "object"}}, max_raw_bytes=64 * 1024,
          response={"type": "string"}, response_type="text/plain")  # fmt: skip
async def push_event(request: Request, call: Call[None, None]) -> HTTPResponse:
    _check_push(request)
    event = loads(request.body)
    if isinstance(event, dict) and event.get("Event") == "wxa_media_check":
        result = event.get("result")
        result = result if isinstance(result, dict) else {}
        trace_id, suggest = str(event.get("trace_id", "")), str(result.get("suggest", ""))
        handled = await lifecycle.media_verdict(
            request.app.ctx.cache, trace_id=trace_id, suggest=suggest, label=int(result.get("label") or 0)
        )
        if not handled:  # not a notice image: perhaps a complaint photo
            await record_media_verdict(trace_id, suggest)
    # WeChat retries anything but "success"; an unknown event is acknowledged, not retried forever.
    return HTTPResponse("success", content_type="text/plain")


@endpoint(push_bp, "GET", "/notice-media/<key:path>", summary="公告图片的公开版本（供微信内容安全检测抓取）",
          access=PUBLIC, response={"type": "string"}, response_type="image/jpeg")  # fmt: skip
async def public_media(request: Request, call: Call[None, None], key: str) -> HTTPResponse:
    data = await attachments.public_rendition(request.app.ctx.settings.media_dir, key)
    if data is None:
        raise NotFound()
    kind = "image/png" if key.endswith(".png") else "image/jpeg"
    return HTTPResponse(data, content_type=kind, headers={"cache-control": "public, max-age=86400"})


@bp.listener("after_server_start")
async def _share_cache(app: Sanic) -> None:
    # post_system_notice is called by other features' services, which have no cache at hand.
    board_cache.use_cache(app.ctx.cache)


@bp.listener("before_server_stop")
async def _unshare_cache(app: Sanic) -> None:
    board_cache.use_cache(None)
