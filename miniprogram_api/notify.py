"""Notifications in the mini-program: the subscribe-message templates and what the user authorised,
recording a wx.requestSubscribeMessage answer, the inbox; and, for supervisors, the periodic jobs
with their failures and the outbox's backlog."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.roles import Role
from miniprogram_api.auth import AUTHENTICATED, Allow, Principal
from miniprogram_api.bounds import RequestModel
from miniprogram_api.endpoint import Call, endpoint
from notify import catalogue, jobstate, sender, service

bp = Blueprint("notify", url_prefix="/notify")
admin_bp = Blueprint("notify_admin", url_prefix="/admin/jobs")
SUPERVISOR = Allow(Role.SUPERVISOR, over="county")
ALERT_FAILURES = 3  # server.jobs.ALERT_FAILURES: the HTTP layer does not import the composition root


class TemplateOut(BaseModel):
    template_id: str = Field(description="传给 wx.requestSubscribeMessage 的 tmplIds")
    events: list[str]
    status: str | None = Field(description="accept / reject / ban；从未授权为空")
    remaining: int = Field(description="剩余可发送次数（每次同意可发送一次）")
    always: bool = Field(description="长期授权：每次发送不消耗次数")


class TemplatesOut(BaseModel):
    items: list[TemplateOut] = Field(
        max_length=len(catalogue.BY_EVENT), description="全部订阅消息模板（由模板目录固定，不分页）"
    )


class ConsentResult(RequestModel):
    template_id: str = Field(min_length=1, max_length=64)
    result: Literal["accept", "reject", "ban", "filter"]
    always: bool = Field(default=False, description="用户勾选了“总是保持以上选择”且为长期订阅模板")


class ConsentIn(RequestModel):
    results: list[ConsentResult] = Field(
        min_length=1, max_length=3, description="wx.requestSubscribeMessage 的返回（一次最多 3 个模板）"
    )


class InboxQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=20, pattern=r"^\d{1,19}$")
    limit: int = Field(default=20, ge=1, le=service.MAX_PAGE)


class InboxItemOut(BaseModel):
    id: int
    event: str
    title: str
    summary: str
    page: str = Field(description="点击后打开的小程序页面")
    state: str = Field(description="pending / sent / no_consent / failed ...")
    delivered: bool = Field(description="已作为微信订阅消息送达")
    reason: str = Field(description="未作为订阅消息送达的原因")
    created_at: datetime
    read_at: datetime | None


class InboxOut(BaseModel):
    items: list[InboxItemOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")
    unread: int


class ReadOut(BaseModel):
    id: int
    read: bool


class JobOut(BaseModel):
    name: str
    runs: int
    failures: int = Field(description="连续失败次数")
    total_failures: int
    failing: bool = Field(description=f"连续失败 {ALERT_FAILURES} 次及以上")
    last_error: str
    last_started_at: datetime | None
    last_finished_at: datetime | None


class JobsOut(BaseModel):
    jobs: list[JobOut]
    outbox: dict[str, int] = Field(description="待发送、发送中与已放弃的通知数")


def _user(call: Call[Any, Any]) -> int:
    principal: Principal = call.principal  # type: ignore[assignment]
    return int(principal.user.id)


async def _templates(user_id: int) -> TemplatesOut:
    views = await service.consents(user_id)
    return TemplatesOut(
        items=[
            TemplateOut(
                template_id=v.template_id,
                events=v.events,
                status=v.status,
                remaining=v.remaining,
                always=v.always,
            )
            for v in views
        ]
    )


@endpoint(
    bp, "GET", "/templates", summary="订阅消息模板及我的授权", access=AUTHENTICATED, response=TemplatesOut
)
async def templates(request: Request, call: Call[None, None]) -> TemplatesOut:
    return await _templates(_user(call))


@endpoint(
    bp, "POST", "/consents", summary="记录订阅消息授权结果", access=AUTHENTICATED, body=ConsentIn,
    response=TemplatesOut,
    description="小程序调用 wx.requestSubscribeMessage 后，把每个模板的结果原样上报；每次同意可发送一次。",
)  # fmt: skip
async def record_consent(request: Request, call: Call[ConsentIn, None]) -> TemplatesOut:
    body = call.body
    user_id = _user(call)
    await service.record_consent(
        user_id,
        {r.template_id: r.result for r in body.results},
        [r.template_id for r in body.results if r.always],
    )
    return await _templates(user_id)


@endpoint(bp, "GET", "/inbox", summary="消息中心", access=AUTHENTICATED, query=InboxQuery, response=InboxOut)
async def inbox(request: Request, call: Call[None, InboxQuery]) -> InboxOut:
    query = call.query
    user_id = _user(call)
    items, more = await service.inbox(
        user_id, cursor=int(query.cursor) if query.cursor else None, limit=query.limit
    )
    return InboxOut(
        items=[
            InboxItemOut(
                id=item.id,
                event=item.event,
                title=item.title,
                summary=item.summary,
                page=item.page,
                state=item.state,
                delivered=item.delivered,
                reason=item.reason,
                created_at=item.created_at,
                read_at=item.read_at,
            )
            for item in items
        ],
        next_cursor=str(more) if more is not None else None,
        unread=await service.unread(user_id),
    )


@endpoint(
    bp, "POST", "/inbox/<notification_id:int>/read", summary="标记消息已读", access=AUTHENTICATED,
    response=ReadOut,
)  # fmt: skip
async def mark_read(request: Request, call: Call[None, None], notification_id: int) -> ReadOut:
    await service.mark_read(_user(call), notification_id)
    return ReadOut(id=notification_id, read=True)


@endpoint(
    admin_bp, "GET", "", summary="定时任务与通知发送状态", access=SUPERVISOR, response=JobsOut,
    description=f"每个定时任务的运行次数、连续失败次数与最近的错误；连续失败 {ALERT_FAILURES} 次及以上标为 failing。",
)  # fmt: skip
async def jobs(request: Request, call: Call[None, None]) -> JobsOut:
    views = await jobstate.states()
    return JobsOut(
        jobs=[
            JobOut(
                name=v.name,
                runs=v.runs,
                failures=v.failures,
                total_failures=v.total_failures,
                failing=v.failures >= ALERT_FAILURES,
                last_error=v.last_error,
                last_started_at=v.last_started_at,
                last_finished_at=v.last_finished_at,
            )
            for v in views
        ],
        outbox=await sender.backlog(),
    )


class FailedQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=20, pattern=r"^\d{1,19}$")
    limit: int = Field(default=20, ge=1, le=sender.MAX_FAILED_PAGE)


class FailedOut(BaseModel):
    id: int
    event: str
    template_id: str
    user_id: int = Field(description="收件用户的编号（不显示手机号等个人信息）")
    attempts: int
    last_error: str = Field(description="放弃发送的原因（微信的错误码与说明）")
    interrupted: bool = Field(description="发送中断：微信可能已送达，为避免重复不再重发")
    created_at: datetime


class FailedPage(BaseModel):
    items: list[FailedOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


@endpoint(
    admin_bp, "GET", "/notifications/failed", summary="发送失败的通知", access=SUPERVISOR, query=FailedQuery,
    response=FailedPage,
    description="已放弃发送的订阅消息（永久错误、重试次数用尽或发送中断），按时间倒序；用户仍可在消息中心看到。",
)  # fmt: skip
async def failed_notifications(request: Request, call: Call[None, FailedQuery]) -> FailedPage:
    query = call.query
    views, more = await sender.failed(cursor=int(query.cursor) if query.cursor else None, limit=query.limit)
    return FailedPage(
        items=[
            FailedOut(
                id=v.id,
                event=v.event,
                template_id=v.template_id,
                user_id=v.user_id,
                attempts=v.attempts,
                last_error=v.last_error,
                interrupted=v.interrupted,
                created_at=v.created_at,
            )
            for v in views
        ],
        next_cursor=str(more) if more is not None else None,
    )
