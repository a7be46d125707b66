"""Signing in to the web console without a phone at the desk: the console shows a one-time code, a
user signed in to the mini-program confirms it here, and the console's browser then starts a session
as that user (console/login.py polls ``claim``).

A code lives CODE_TTL seconds in the cache, stored only as its hash, bound to a nonce kept in the
waiting browser's cookie (so a code seen over someone's shoulder starts no session in another browser).
The first confirmation wins (``add``), and the claim is single-use (the pending entry is deleted once,
and only the deleter opens the session)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from core.cache import Cache, hit
from core.errors import NotFound, RateLimited
from core.jsonutil import dumpb, loads
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.bounds import RequestModel
from miniprogram_api.endpoint import Call, endpoint

bp = Blueprint("console_login", url_prefix="/console-login")

CODE_TTL = 300  # seconds a code shown on the console stays valid
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off a screen and typed on a phone
CODE_LENGTH = 8
CONFIRMS_PER_MINUTE = 10  # per user: codes cannot be guessed by trying


class ConsoleCodeInvalid(NotFound):
    code = "console_code_invalid"
    message = "登录码无效或已过期，请在电脑上刷新后重试"


class ConfirmIn(RequestModel):
    code: str = Field(
        min_length=CODE_LENGTH, max_length=20, description="管理后台登录页显示的 8 位登录码（可含空格）"
    )


class ConfirmOut(BaseModel):
    ok: bool = True
    expires_in: int = Field(description="管理后台须在此秒数内完成登录")


@dataclass(frozen=True, slots=True)
class Issued:
    code: str  # shown to the person, e.g. "K7QM 3XPA"
    nonce: str  # kept in the waiting browser's cookie


def normalise(code: str) -> str:
    return "".join(code.split()).upper()


def _key(code: str) -> str:
    return "console-login:" + hashlib.sha256(normalise(code).encode()).hexdigest()


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


async def issue(cache: Cache) -> Issued:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    nonce = secrets.token_urlsafe(24)
    await cache.set(_key(raw), dumpb({"nonce": _nonce_hash(nonce)}), ttl=CODE_TTL)
    return Issued(f"{raw[:4]} {raw[4:]}", nonce)


async def confirm(cache: Cache, code: str, user_id: int) -> int:
    """The mini-program user ``user_id`` vouches for the console showing ``code``; returns the seconds left."""
    key = _key(code)
    left = await cache.ttl(key)
    if await cache.get(key) is None or left is None or left <= 0:
        raise ConsoleCodeInvalid()
    if not await cache.add(key + ":user", str(user_id).encode(), ttl=left):
        raise ConsoleCodeInvalid()  # somebody confirmed it first
    return int(left)


async def claim(cache: Cache, code: str, nonce: str) -> int | None:
    """The waiting browser asks: the confirmed user's id (once), None while nobody has confirmed.
    Raises ConsoleCodeInvalid when the code expired, was claimed, or belongs to another browser."""
    key = _key(code)
    raw = await cache.get(key)
    if raw is None or not secrets.compare_digest(loads(raw)["nonce"], _nonce_hash(nonce)):
        raise ConsoleCodeInvalid()
    user = await cache.get(key + ":user")
    if user is None:
        return None
    if await cache.delete(key) != 1:
        raise ConsoleCodeInvalid()  # another request of the same browser claimed it
    await cache.delete(key + ":user")
    return int(user)


@endpoint(
    bp,
    "POST",
    "/confirm",
    summary="确认管理后台登录（在小程序中输入电脑上显示的登录码）",
    description="已登录小程序的用户确认后，显示该登录码的浏览器即以该用户身份登录管理后台；登录码 5 分钟内有效、只能使用一次。",
    access=AUTHENTICATED,
    body=ConfirmIn,
    response=ConfirmOut,
)
async def confirm_code(request: Request, call: Call[ConfirmIn, None]) -> ConfirmOut:
    assert call.body is not None
    principal: Principal = call.principal
    cache = request.app.ctx.cache
    decision = await hit(cache, f"console-confirm:{principal.user.id}", limit=CONFIRMS_PER_MINUTE, window=60)
    if not decision.allowed:
        raise RateLimited(details={"retry_after": decision.retry_after})
    return ConfirmOut(expires_in=await confirm(cache, call.body.code, principal.user.id))
