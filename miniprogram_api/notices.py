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
from core.errors import DomainError, NotFound
from miniprogram_api.auth import ROLE_NAMES, Allow, Principal, bearer_token
from miniprogram_api.context import request_id_of
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from miniprogram_api.origin import configured_base
from miniprogram_api.pagination import PageQuery
from notices import acknowledgement, attachments, board, disclosures, lifecycle
from notices import cache as board_cache
from notices.models import DisclosureKind
from notices.rules import READERS
from notices.scoping import where_of
from wechat import push

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
    url: str = Field(description="附件的绝对地址（以配置的 PUBLIC_BASE_URL 为准；需带登录凭证下载）")


class NoticeOut(BoardItem):
    unread: bool = False
    body_html: str = Field(description="已净化的 HTML，可直接用于 rich-text")
    data: Any = Field(description="结构化内容（公示、表决结果），否则为空")
    attachments: list[AttachmentOut]
    published_revisions: int
    first_read: bool
    requires_ack: bool = Field(description="是否需要阅知确认（POST …/acknowledge）")
    acknowledged_at: datetime | None = Field(description="我确认阅知的时间；未确认或无需确认为空")


class AckOut(BaseModel):
    notice_id: int
    acknowledged_at: datetime
    first: bool = Field(description="false 表示此前已确认过（不重复记录）")


# Acknowledging writes: the roles are read afresh, not from the board's cache
ACKNOWLEDGERS = Allow(Role.OWNER, Role.RESIDENT, over="compound")


class RevisionOut(BaseModel):
    number: int
    title: str
    body_html: str
    note: str
    editor: str
    published_at: datetime | None


class RevisionsOut(BaseModel):
    items: list[RevisionOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class FileQuery(BaseModel):
    size: str = Field(default="display", max_length=9, pattern="^(display|thumbnail)$")


class CompareQuery(BaseModel):
    kind: DisclosureKind
    years: str = Field(
        default="", max_length=99, pattern=r"^(\d{4}(,\d{4})*)?$", description="如 2024,2025；为空则全部"
    )


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
    shown = await board.detail(
        request.app.ctx.cache, compound_id=compound_id, notice_id=notice_id,
        user_id=call.principal.user_id, roles=call.principal.roles,
    )  # fmt: skip
    base = f"{configured_base(request)}/api/v1/compounds/{compound_id}/notices/{notice_id}/attachments/"
    return {**shown, "attachments": [{**a, "url": f"{base}{a['id']}"} for a in shown["attachments"]]}


@endpoint(bp, "POST", "/<compound_id:int>/notices/<notice_id:int>/acknowledge", summary="确认已阅知公告（可重复调用）",
          access=ACKNOWLEDGERS, response=AckOut)  # fmt: skip
async def acknowledge_notice(
    request: Request, call: Call[None, None], compound_id: int, notice_id: int
) -> AckOut:
    p: Principal = call.principal
    done = await acknowledgement.acknowledge(
        compound_id=compound_id, notice_id=notice_id, user_id=p.user.id, roles=p.roles, actor=p.actor
    )
    return AckOut(notice_id=done.notice_id, acknowledged_at=done.acknowledged_at, first=done.first)


@endpoint(bp, "GET", "/<compound_id:int>/notices/<notice_id:int>/revisions", summary="公告的历次发布版本",
          access=READ, query=PageQuery, response=RevisionsOut)  # fmt: skip
async def notice_history(
    request: Request, call: Call[None, PageQuery], compound_id: int, notice_id: int
) -> RevisionsOut:
    q = call.query
    page = await board.history_page(
        compound_id=compound_id,
        notice_id=notice_id,
        roles=call.principal.roles,
        cursor=q.cursor,
        limit=q.limit,
    )
    return RevisionsOut(
        items=[RevisionOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


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
        request.app.ctx.photo_storage, attachment, thumbnail=call.query.size == "thumbnail"
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


# --- WeChat message push (JSON, plain or safe mode) --------------------------------------------------


def push_token(settings: Settings) -> str:
    """The token entered in the mini-program console's message-push settings: WECHAT_PUSH_TOKEN, or
    else derived from SECRET_KEY so that no second secret has to be configured."""
    if settings.wechat_push_token:
        return settings.wechat_push_token
    return hmac.new(settings.secret_key.encode(), b"wechat-message-push", hashlib.sha256).hexdigest()[:32]


def push_config(settings: Settings) -> push.PushConfig:
    return push.PushConfig(push_token(settings), settings.wechat_app_id, settings.wechat_push_aes_key)


def push_signature(token: str, timestamp: str, nonce: str) -> str:
    return push.signature(token, timestamp, nonce)


class PushQuery(BaseModel):
    """What WeChat puts on the push URL: its signature over our token, timestamp and nonce; in safe
    mode the message signature too (wechat.push checks them)."""

    signature: str | None = Field(default=None, max_length=128)
    timestamp: str | None = Field(default=None, max_length=32)
    nonce: str | None = Field(default=None, max_length=128)
    echostr: str | None = Field(default=None, max_length=512)
    openid: str | None = Field(default=None, max_length=128)
    encrypt_type: str | None = Field(default=None, max_length=16)
    msg_signature: str | None = Field(default=None, max_length=128)


def _query(request: Request) -> dict[str, str]:
    return {k: v[-1] for k, v in request.args.items()}


@endpoint(push_bp, "GET", "/wechat/push", summary="微信消息推送：服务器地址验证", access=PUBLIC,
          query=PushQuery, response={"type": "string"}, response_type="text/plain",
          raises=(push.PushSignatureInvalid, push.PushStale))  # fmt: skip
async def push_verify(request: Request, call: Call[None, None]) -> HTTPResponse:
    push.check_url_signature(push_config(request.app.ctx.settings), _query(request), time.time())
    return HTTPResponse(request.args.get("echostr", ""), content_type="text/plain")


@endpoint(push_bp, "POST", "/wechat/push", summary="微信消息推送（JSON，明文或安全模式）：图片内容安全检测结果",
          description="每条推送只接受一次（时间戳与随机数）；只接受我方发起且尚无结果的检测的结果。"
          "配置了 EncodingAESKey 时只接受安全模式（加密）推送。",
          access=PUBLIC, query=PushQuery, raw_body={"application/json": {"type": "object"}}, max_raw_bytes=64 * 1024,
          response={"type": "string"}, response_type="text/plain",
          raises=(push.PushSignatureInvalid, push.PushStale, push.PushReplayed, push.PushEncryptionRequired,
                  push.PushBodyInvalid, push.MediaCheckUnknown, push.MediaCheckDecided))  # fmt: skip
async def push_event(request: Request, call: Call[None, None]) -> HTTPResponse:
    query, config = _query(request), push_config(request.app.ctx.settings)
    plain = push.open_push(config, query, request.body, time.time())
    cache = request.app.ctx.cache
    key = await push.remember(cache, query)
    try:
        verdict = push.media_check_of(plain)
        if verdict is not None:
            await _apply_verdict(request, verdict)
    except push.MediaCheckUnknown:
        # A verdict can overtake our record of its trace id. In safe mode the body is authenticated,
        # so WeChat's retry of exactly this push may land later; in plain mode the remembered nonce
        # stays spent, or its signature could be reused with a body naming another check.
        if config.aes_key:
            await cache.delete(key)
        raise
    except DomainError:
        raise
    except BaseException:
        # Our failure, not the push's: WeChat retries, and the retry must not be taken for a replay
        await cache.delete(key)
        raise
    # WeChat retries anything but "success"; an unknown event is acknowledged, not retried forever.
    return HTTPResponse("success", content_type="text/plain")


async def _apply_verdict(request: Request, verdict: push.MediaCheck) -> None:
    applied = await lifecycle.media_verdict(
        request.app.ctx.cache, trace_id=verdict.trace_id, suggest=verdict.suggest, label=verdict.label
    )
    if applied is None:  # not a notice image: perhaps a complaint photo
        applied = await record_media_verdict(verdict.trace_id, verdict.suggest)
    if applied is None:
        raise push.MediaCheckUnknown(details={"trace_id": verdict.trace_id})
    if not applied:
        raise push.MediaCheckDecided(details={"trace_id": verdict.trace_id})


@endpoint(push_bp, "GET", "/notice-media/<key:path>", summary="公告图片的公开版本（供微信内容安全检测抓取）",
          access=PUBLIC, response={"type": "string"}, response_type="image/jpeg")  # fmt: skip
async def public_media(request: Request, call: Call[None, None], key: str) -> HTTPResponse:
    data = await attachments.public_rendition(request.app.ctx.photo_storage, key)
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
