"""Login with WeChat and logout."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts import service, sessions
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.endpoint import PUBLIC, Call, endpoint
from wechat import errors as wechat_errors

bp = Blueprint("auth", url_prefix="/auth")


class LoginIn(BaseModel):
    code: str = Field(min_length=1, max_length=128, description="wx.login 返回的 code")


class LoginOut(BaseModel):
    token: str = Field(description="会话令牌：之后的请求放在 Authorization: Bearer <token>")
    expires_at: datetime
    user_id: int
    new_user: bool


class OkOut(BaseModel):
    ok: bool = True


@endpoint(
    bp,
    "POST",
    "/login",
    summary="微信登录（wx.login 的 code 换取会话令牌）",
    access=PUBLIC,
    body=LoginIn,
    response=LoginOut,
    # the WeChat client is reached through app.ctx (a protocol), which error_docs cannot follow
    raises=(
        wechat_errors.WeChatCodeInvalid,
        wechat_errors.WeChatUserBlocked,
        wechat_errors.WeChatRateLimited,
        wechat_errors.WeChatBusy,
        wechat_errors.WeChatUnreachable,
        wechat_errors.WeChatError,
    ),
)
async def login(request: Request, call: Call[LoginIn, None]) -> LoginOut:
    assert call.body is not None
    ctx = request.app.ctx
    result = await service.login(ctx.wechat, ctx.cache, call.body.code, session_ttl=ctx.settings.session_ttl)
    return LoginOut(
        token=result.session.token,
        expires_at=result.session.expires_at,
        user_id=result.user.id,
        new_user=result.new_user,
    )


@endpoint(bp, "POST", "/logout", summary="退出登录（令牌立即失效）", access=AUTHENTICATED, response=OkOut)
async def logout(request: Request, call: Call[None, None]) -> OkOut:
    principal: Principal = call.principal
    await sessions.close_session(request.app.ctx.cache, principal.token)
    return OkOut()
