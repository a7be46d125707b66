"""Declaring an endpoint once: route, who may call it, request and response schemas (into the
OpenAPI document), body/query parsing into pydantic models, and JSON shaping of the result.

    @endpoint(bp, "POST", "/login", body=LoginIn, response=SessionOut, access=PUBLIC,
              summary="微信登录")
    async def login(request, call: Call[LoginIn, None]) -> SessionOut: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi
from sanic_ext.extensions.openapi.definitions import RequestBody, Response

from core import errors
from core.jsonutil import dumpb, loads
from miniprogram_api.context import request_id_of

B = TypeVar("B", bound=BaseModel | None)
Q = TypeVar("Q", bound=BaseModel | None)


class ErrorOut(BaseModel):
    """The one error envelope every failure comes back in."""

    code: str
    message: str
    request_id: str
    details: Any = None


class Access(Protocol):
    """Who may call an endpoint. ``public`` skips authentication entirely."""

    @property
    def public(self) -> bool: ...

    @property
    def description(self) -> str: ...

    async def authorize(self, request: Request, params: dict[str, Any]) -> Any:
        """Return the principal, or raise Unauthenticated / Forbidden."""
        ...


@dataclass(frozen=True)
class _Public:
    public: bool = True
    description: str = "公开"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Any:
        return None


PUBLIC: Access = _Public()


@dataclass(slots=True)
class Call(Generic[B, Q]):
    body: B
    query: Q
    principal: Any
    request_id: str


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "type": err["type"], "reason": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def parse_json_body(request: Request, model: type[BaseModel], max_size: int) -> BaseModel:
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise errors.UnsupportedMedia("请求内容须为 JSON（Content-Type: application/json）")
    raw = request.body or b""
    if len(raw) > max_size:
        raise errors.PayloadTooLarge(details={"max_bytes": max_size})
    try:
        data = loads(raw) if raw else None
    except ValueError as exc:
        raise errors.Invalid("请求内容不是合法的 JSON", code="malformed_json") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.Invalid("请求内容有误，请检查后重试", details=_field_errors(exc)) from exc


def check_raw_body(request: Request, content_types: tuple[str, ...], max_size: int) -> None:
    """For endpoints that take a file (CSV, JSON list, image) as the body: its type and size."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type not in content_types:
        raise errors.UnsupportedMedia(f"请求内容须为 {' 或 '.join(content_types)}")
    if len(request.body or b"") > max_size:
        raise errors.PayloadTooLarge(details={"max_bytes": max_size})
    if not request.body:
        raise errors.Invalid("请求内容为空", code="empty_body")


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    data = {key: values[-1] for key, values in request.args.items()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.Invalid("查询参数有误", details=_field_errors(exc)) from exc


def to_response(result: Any, status: int) -> HTTPResponse:
    if isinstance(result, HTTPResponse):
        return result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    elif isinstance(result, list):
        result = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]
    return HTTPResponse(dumpb(result), status=status, content_type="application/json; charset=utf-8")


ERROR_RESPONSES = {
    400: "请求内容有误",
    401: "未登录或登录已过期",
    403: "没有权限",
    404: "资源不存在",
    409: "状态冲突",
    429: "操作过于频繁",
}


def endpoint(
    bp: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    access: Access,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    description: str = "",
    raw_body: dict[str, Any] | None = None,
    max_raw_bytes: int = 8 * 1024 * 1024,
    response_type: str = "application/json",
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[HTTPResponse]]]:
    def decorate(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[HTTPResponse]]:
        @wraps(handler)
        async def run(request: Request, **params: Any) -> HTTPResponse:
            principal = await access.authorize(request, params)
            settings = request.app.ctx.settings
            if raw_body is not None:
                check_raw_body(request, tuple(raw_body), max_raw_bytes)
            call = Call(
                body=parse_json_body(request, body, settings.json_max_size) if body else None,
                query=parse_query(request, query) if query else None,
                principal=principal,
                request_id=request_id_of(request),
            )
            return to_response(await handler(request, call, **params), status)

        responses = [Response({response_type: response} if response else None, status=status)]
        responses += [
            Response({"application/json": ErrorOut}, status=code, description=text)
            for code, text in ERROR_RESPONSES.items()
            if code not in (401, 403) or not access.public
        ]
        documented = openapi.definition(
            summary=summary,
            description=(description + f"\n\n调用者：{access.description}").strip(),
            body=RequestBody({"application/json": body}, required=True)
            if body
            else (RequestBody(raw_body, required=True) if raw_body else None),
            response=responses,
            secured={"session": []} if not access.public else None,
        )(run)
        if query is not None:
            for name, field in query.model_fields.items():
                documented = openapi.parameter(
                    name,
                    field.annotation,  # type: ignore[arg-type]
                    location="query",
                    required=field.is_required(),
                )(documented)
        bp.add_route(documented, path, methods=[method], name=handler.__name__)
        return documented

    return decorate
