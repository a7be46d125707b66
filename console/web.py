"""The console's plumbing: the session cookie, the CSRF token, who may open a page (the API's own
Access objects, so roles and scopes are exactly the API's), forms parsed by the API's request models,
and pages rendered by Jinja2 with errors shown in the API's Chinese message.

Every POST must carry the CSRF token of its session (form field ``csrf`` or header X-CSRF-Token),
checked before anything else happens; the cookie itself is HttpOnly, SameSite=Lax and, in production,
Secure. The session is an ordinary accounts.sessions session, so logging out revokes it everywhere."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import jinja2
from pydantic import BaseModel, ValidationError
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, redirect
from sanic_ext import openapi

from core import clock, errors, pages
from miniprogram_api.auth import ROLE_NAMES, Principal
from miniprogram_api.bounds import MAX_ID, check_untrusted
from miniprogram_api.context import request_id_of
from miniprogram_api.endpoint import Access
from miniprogram_api.reasons import field_path, reason

PREFIX = "/console"
COOKIE = "wuye_console"  # the session token
PENDING = "wuye_console_login"  # the waiting login: nonce of a shown code, and the code itself
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_TEXT = 20_000

Handler = Callable[..., Awaitable[HTTPResponse]]
M = TypeVar("M", bound=BaseModel)

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _local(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.to_local(value).strftime(fmt)


def _yuan(fen: int | None) -> str:
    """Integer fen shown as yuan with two decimals (money is never a float)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


_env.filters["local"] = _local
_env.filters["yuan"] = _yuan
_env.globals["ROLE_NAMES"] = {str(k): v for k, v in ROLE_NAMES.items()}
_env.globals["PREFIX"] = PREFIX

STATUS: tuple[tuple[type[errors.DomainError], int], ...] = (
    (errors.UnsupportedMedia, 415),
    (errors.PayloadTooLarge, 413),
    (errors.Invalid, 400),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.RateLimited, 429),
    (errors.UpstreamError, 502),
    (errors.Unavailable, 503),
)


def status_of(exc: errors.DomainError) -> int:
    return next((status for klass, status in STATUS if isinstance(exc, klass)), 500)


class CsrfRefused(errors.Forbidden):
    code = "csrf_refused"
    message = "页面已过期或请求来源不明，请刷新页面后重试"


def _secret(request: Request) -> bytes:
    return hashlib.sha256(b"console-csrf:" + request.app.ctx.settings.secret_key.encode()).digest()


def csrf_token(request: Request) -> str:
    """One token per session (or, before login, per waiting login), derived, so nothing is stored."""
    basis = (
        getattr(request.ctx, "csrf_basis", None)
        or request.cookies.get(COOKIE)
        or (request.cookies.get(PENDING) or "").split(".")[0]
    )
    if not basis:
        return ""
    return hmac.new(_secret(request), basis.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: Request) -> None:
    expected = csrf_token(request)
    given = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None) or ""
    if not expected or not hmac.compare_digest(
        expected.encode(), str(given).encode("utf-8", "surrogatepass")
    ):
        raise CsrfRefused()


def set_cookie(request: Request, response: HTTPResponse, name: str, value: str, max_age: int) -> None:
    response.add_cookie(
        name,
        value,
        path=PREFIX,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=request.app.ctx.settings.is_production,
    )


def drop_cookie(request: Request, response: HTTPResponse, name: str) -> None:
    set_cookie(request, response, name, "", 0)


def render(request: Request, template: str, *, http_status: int = 200, **context: Any) -> HTTPResponse:
    principal = getattr(request.ctx, "console_principal", None)
    body = _env.get_template(template).render(
        csrf=csrf_token(request), me=principal.user if principal else None, path=request.path, **context
    )
    response = html(body, status=http_status)
    response.headers["cache-control"] = "no-store"
    response.headers["x-frame-options"] = "DENY"
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["content-security-policy"] = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    )
    return response


def error_page(request: Request, exc: errors.DomainError) -> HTTPResponse:
    return render(
        request,
        "error.html",
        http_status=status_of(exc),
        message=exc.user_message,
        code=exc.error_code,
        problems=_problems(exc.details),
        request_id=request_id_of(request),
        back=request.headers.get("referer", "") if _same_origin_referer(request) else "",
    )


def _same_origin_referer(request: Request) -> bool:
    referer = request.headers.get("referer", "")
    return referer.startswith(f"{request.scheme}://{request.host}{PREFIX}")


def _problems(details: Any) -> list[str]:
    """Field problems of an Invalid (as the API lists them) as lines for people."""
    if isinstance(details, list):
        return [f"{d.get('field', '')}：{d.get('reason', '')}" for d in details if isinstance(d, dict)]
    return []


def form_model(request: Request, model: type[M], data: Mapping[str, Any]) -> M:
    """Validate a form with the API's request model (the same bounds, the same Chinese reasons)."""
    check_untrusted(dict(data))
    try:
        return model.model_validate(dict(data), extra="forbid")
    except ValidationError as exc:
        problems = [
            {
                "field": field_path(tuple(err["loc"])),
                "type": err["type"],
                "reason": reason(err["type"], err.get("ctx"), err["msg"]),
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise errors.Invalid("填写的内容有误，请检查后重试", details=problems) from exc


def form_text(request: Request, name: str, default: str = "") -> str:
    value = request.form.get(name) if request.form else None
    if value is None:
        return default
    if len(value) > MAX_FORM_TEXT or "\x00" in value:
        raise errors.Invalid("填写的内容过长或含有非法字符", code="form_value_invalid")
    return str(value).strip()


def form_moment(request: Request, name: str) -> str:
    """A datetime-local field ("2026-03-02T09:30") read as Beijing time, the people's clock, as ISO
    text with its offset; empty stays empty and anything else goes on to the request model, which
    refuses it with the API's reason."""
    value = form_text(request, name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return (moment if moment.tzinfo else moment.replace(tzinfo=clock.SHANGHAI)).isoformat()


def query_text(request: Request, name: str, max_length: int = 100) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_length or "\x00" in value:
        raise errors.Invalid("查询条件过长或含有非法字符", code="query_value_invalid")
    return str(value)


def query_int(request: Request, name: str, default: int = 0, *, high: int = 100_000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) > high:
        raise errors.Invalid("页码或数量不正确", code="query_value_invalid")
    return int(raw)


def _cursor_key(request: Request) -> bytes:
    return pages.cursor_key(request.app.ctx.settings.secret_key)


def cursor_in(request: Request, scope: str, arg: str = "cursor") -> str | None:
    """The page's ``cursor`` query argument (or ``arg``, for a page with a second list) unsealed
    (core.pages, as the API does): a client can neither forge a position nor carry a cursor from
    another list (400 cursor_invalid). ``scope`` names the list (and its owner, e.g. ``fees-arrears:12``)."""
    token = request.args.get(arg)
    if not token:
        return None
    return pages.unseal(token, key=_cursor_key(request), scope=f"console:{scope}")


def cursor_out(request: Request, raw: str | None, scope: str) -> str | None:
    """A service page's ``next_cursor`` sealed for this page, for the "next page" link."""
    if raw is None:
        return None
    return pages.seal(raw, key=_cursor_key(request), scope=f"console:{scope}")


def login_redirect(request: Request) -> HTTPResponse:
    target = request.path if request.method == "GET" else PREFIX + "/"
    return redirect(f"{PREFIX}/login?next={quote(target)}", status=303)


def page(
    bp: Blueprint, method: str, path: str, *, access: Access | None, name: str | None = None
) -> Callable[[Handler], Handler]:
    """Declare a console page. ``access`` is an Access object of the API (None: open to everyone,
    the sign-in pages); the handler gets the principal after the request's path parameters."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def run(request: Request, **params: Any) -> HTTPResponse:
            request_id_of(request)
            try:
                if any(isinstance(v, int) and not 1 <= v <= MAX_ID for v in params.values()):
                    raise errors.NotFound("页面不存在")
                if method == "POST":
                    check_csrf(request)
                if access is None:
                    return await handler(request, None, **params)
                token = request.cookies.get(COOKIE)
                if not token:
                    return login_redirect(request)
                request.ctx.console_token = token
                try:
                    principal: Principal = await access.authorize(request, params)
                except errors.Unauthenticated:
                    response = login_redirect(request)
                    drop_cookie(request, response, COOKIE)
                    return response
                request.ctx.console_principal = principal
                request.ctx.user_id = principal.user.id
                return await handler(request, principal, **params)
            except errors.DomainError as exc:
                return error_page(request, exc)

        run.__console__ = True  # type: ignore[attr-defined]
        openapi.exclude()(run)
        bp.add_route(run, path, methods=[method], name=f"{name or handler.__name__}_{method.lower()}")
        return run

    return decorate


def see_other(url: str) -> HTTPResponse:
    return redirect(url, status=303)
