"""Declaring an endpoint once: route, who may call it, request and response schemas (into the
OpenAPI document), body/query parsing into pydantic models, and JSON shaping of the result.

    @endpoint(bp, "POST", "/login", body=LoginIn, response=SessionOut, access=PUBLIC,
              summary="微信登录")
    async def login(request, call: Call[LoginIn, None]) -> SessionOut: ...
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, wraps
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic_ext import openapi
from sanic_ext.extensions.openapi.definitions import RequestBody, Response

from core import errors, pages
from core.jsonutil import dumpb, loads
from miniprogram_api.bounds import MAX_ID, MAX_PATH_TEXT, check_untrusted
from miniprogram_api.context import request_id_of
from miniprogram_api.openapi_schema import RawSchema, field_schema, schema_of
from miniprogram_api.reasons import field_path, reason

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


@dataclass(frozen=True)
class EndpointSpec:
    """What a route declared, kept on its handler so tests can hold conventions over the route table."""

    method: str
    path: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    access: Access
    raw_body: bool
    response: Any = None
    status: int = 200
    response_type: str | tuple[str, ...] = "application/json"


@dataclass(slots=True)
class Call(Generic[B, Q]):
    body: B
    query: Q
    principal: Any
    request_id: str


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each problem with its field path (``items[0].note``), pydantic's error type (stable, for
    programs) and a Chinese reason (for people); pydantic's English message never reaches a client."""
    return [
        {
            "field": field_path(tuple(err["loc"])),
            "type": err["type"],
            "reason": reason(err["type"], err.get("ctx"), err["msg"]),
        }
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
    check_untrusted(data)
    try:
        # Every body, and every object nested in it, takes only the fields its model declares: a
        # misspelt or unknown field (``comment`` for ``note``) is refused, never silently dropped.
        return model.model_validate(data, extra="forbid")
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


def query_names(model: type[BaseModel] | None) -> frozenset[str]:
    """The query parameters a route declares (its query model's fields, by alias)."""
    if model is None:
        return frozenset()
    return frozenset(field.alias or name for name, field in model.model_fields.items())


def check_query_names(request: Request, allowed: frozenset[str]) -> None:
    """A parameter the route does not declare is refused, never silently ignored: a misspelt filter
    (``stauts=open``) would otherwise answer the unfiltered list as if it were the filtered one."""
    unknown = sorted(set(request.args) - allowed) if request.query_string else []
    if unknown:
        raise errors.Invalid(
            f"不支持的查询参数：{'、'.join(unknown)[:200]}",
            code="unknown_query_parameter",
            details=[
                {"field": name[:100], "type": "unknown_query_parameter", "reason": "不认识的查询参数"}
                for name in unknown[:20]
            ]
            + (
                [{"field": "", "type": "allowed", "reason": "可用的参数：" + "、".join(sorted(allowed))}]
                if allowed
                else []
            ),
        )


def parse_query(
    request: Request, model: type[BaseModel], *, cursor_key: bytes | None = None, scope: str = ""
) -> BaseModel:
    """The query string into ``model``. A ``cursor`` is unsealed first (core.pages.unseal): the model
    and the service see the raw cursor a service's page wrote, the client only ever the sealed one."""
    # run() has already held every query string to check_untrusted, declared parameters or not.
    data = {key: values[-1] for key, values in request.args.items()}
    if cursor_key is not None and isinstance(data.get("cursor"), str) and "cursor" in model.model_fields:
        data["cursor"] = pages.unseal(data["cursor"], key=cursor_key, scope=scope)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if any(err["loc"][:1] == ("cursor",) for err in exc.errors()):
            # Only a cursor we sealed gets here, and it fails the model: one the route never wrote.
            raise pages.CursorInvalid() from exc
        raise errors.Invalid("查询参数有误", details=_field_errors(exc)) from exc


@lru_cache(maxsize=8)
def _cursor_key(secret: str) -> bytes:
    return pages.cursor_key(secret)


def seal_next_cursor(result: Any, key: bytes, scope: str) -> Any:
    """A page's ``next_cursor`` as the client gets it: sealed for this route (core.pages.seal)."""
    if (
        isinstance(result, HTTPResponse)
        and (result.content_type or "").startswith("application/json")
        and b'"next_cursor"' in (result.body or b"")
    ):
        # A page a handler answers as ready JSON (the notice board, from its cache)
        data = loads(result.body or b"")
        if isinstance(data, dict) and isinstance(data.get("next_cursor"), str):
            data["next_cursor"] = pages.seal(data["next_cursor"], key=key, scope=scope)
            return HTTPResponse(
                dumpb(data), status=result.status, headers=result.headers, content_type=result.content_type
            )
        return result
    if isinstance(result, BaseModel) and isinstance(getattr(result, "next_cursor", None), str):
        result = result.model_dump(mode="python")
    if isinstance(result, dict) and isinstance(result.get("next_cursor"), str):
        return {**result, "next_cursor": pages.seal(result["next_cursor"], key=key, scope=scope)}
    return result


SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing_times(value: Any) -> Any:
    """Every moment in a response in one format: RFC 3339 in Beijing time with its offset
    (``2026-12-20T10:00:00+08:00``), whatever zone the database or a service handed it in. A naive
    datetime is a moment stored in UTC (our columns are UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(SHANGHAI)
    if isinstance(value, dict):
        return {key: beijing_times(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [beijing_times(item) for item in value]
    return value


def to_response(result: Any, status: int) -> HTTPResponse:
    if isinstance(result, HTTPResponse):
        return result
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="python")
    elif isinstance(result, list):
        result = [r.model_dump(mode="python") if isinstance(r, BaseModel) else r for r in result]
    # orjson writes an aware datetime as RFC 3339 with its offset, Decimal as text (core.jsonutil).
    body = dumpb(beijing_times(result))
    return HTTPResponse(body, status=status, content_type="application/json; charset=utf-8")


ERROR_RESPONSES = {
    400: "请求内容有误",
    401: "未登录或登录已过期",
    403: "没有权限",
    404: "资源不存在",
    409: "状态冲突",
    429: "操作过于频繁",
    503: "服务暂时不可用（数据库或缓存），请按 Retry-After 稍后重试",
}
RAW_BODY_ERRORS = {413: "提交的内容过大", 415: "不支持的内容类型"}

# The status each base of the error tree answers with (server/errors.py maps them the same way, by MRO;
# test_conventions holds the two tables equal).
ERROR_STATUS: dict[type[errors.DomainError], int] = {
    errors.UnsupportedMedia: 415,
    errors.PayloadTooLarge: 413,
    errors.Invalid: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.MethodNotAllowed: 405,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RateLimited: 429,
    errors.UpstreamError: 502,
    errors.Unavailable: 503,
}


def error_status(klass: type[errors.DomainError]) -> int:
    for base in klass.__mro__:
        if base in ERROR_STATUS:
            return ERROR_STATUS[base]  # type: ignore[index]
    return 500


_PATH_PARAM = re.compile(r"<(\w+)(?::(\w+))?>")


def path_parameters(path: str) -> dict[str, str]:
    """``/motions/<motion_id:int>/x/<key>`` → {"motion_id": "int", "key": "str"}."""
    return {name: kind or "str" for name, kind in _PATH_PARAM.findall(path)}


def check_path_params(params: dict[str, Any]) -> None:
    """Ids beyond what the database holds, or text no route could name, find nothing: 404, not 500."""
    for value in params.values():
        # 0 names the county itself where a scope is addressed (/manage/county/0); rows start at 1.
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise errors.NotFound()
        if isinstance(value, str) and (len(value) > MAX_PATH_TEXT or "\x00" in value):
            raise errors.NotFound()


@dataclass
class _ErrorDoc:
    documented: Any
    handler: Callable[..., Any]
    access: Access
    failures: dict[int, str]
    holders: dict[int, dict[str, Any]]
    raises: tuple[type[errors.DomainError], ...]
    body: Any
    query: type[BaseModel] | None


_error_docs: list[_ErrorDoc] = []
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def document_errors() -> None:
    """Fill each route's error answers with the codes it may return (miniprogram_api.error_docs),
    per status as an enum on ``code``; statuses found beyond the common ones join the route's
    answers. Runs once every route is declared (their modules fully loaded)."""
    from sanic_ext.extensions.openapi.builders import OperationStore

    from miniprogram_api.error_docs import derive

    store = OperationStore()
    while _error_docs:
        doc = _error_docs.pop()
        paged = doc.query is not None and "cursor" in doc.query.model_fields
        codes = derive(
            doc.handler, doc.access, public=doc.access.public, body=doc.body is not None, paged=paged,
            status_of=error_status,
        )  # fmt: skip
        for klass in doc.raises:
            codes.setdefault(error_status(klass), set()).add(klass.code)
        if isinstance(doc.body, dict):  # a file body: check_raw_body refuses an empty one
            codes.setdefault(400, set()).add("empty_body")
        for status_code in sorted(codes):
            if status_code not in doc.failures and status_code not in (405,):
                holder: dict[str, Any] = {}
                doc.holders[status_code] = holder
                text = ERROR_TEXT.get(status_code, "错误")
                store[doc.documented].response(
                    status_code, {"application/json": {"schema": holder}}, description=text
                )
        for status_code, holder in doc.holders.items():
            found = codes.get(status_code, set())
            holder.clear()
            if found:
                holder["allOf"] = [_ERROR_REF]
                holder["properties"] = {"code": {"type": "string", "enum": sorted(found)}}
            else:
                holder.update(_ERROR_REF)


# What a client sends back as ``cursor`` is always a sealed one (core.pages), whatever raw form the
# route's service writes and its query model checks after unsealing.
SEALED_CURSOR = {
    "type": "string",
    "minLength": 1,
    "maxLength": pages.CURSOR_MAX_LENGTH,
    "pattern": "^[A-Za-z0-9_-]+$",
    "description": "上一页返回的 next_cursor（原样传回，不可修改）；缺省为第一页",
}

ERROR_TEXT = {**ERROR_RESPONSES, **RAW_BODY_ERRORS, 502: "外部服务（微信）返回错误"}


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
    response_type: str | tuple[str, ...] = "application/json",  # a tuple: each, e.g. an export's formats
    raises: tuple[type[errors.DomainError], ...] = (),
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[HTTPResponse]]]:
    def decorate(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[HTTPResponse]]:
        allowed = query_names(query)
        scope = f"{bp.name}:{method}:{path}"  # a cursor sealed for one route is refused by another

        @wraps(handler)
        async def run(request: Request, **params: Any) -> HTTPResponse:
            check_path_params(params)
            if request.query_string:
                check_untrusted(dict(request.args))
            principal = await access.authorize(request, params)
            settings = request.app.ctx.settings
            key = _cursor_key(settings.secret_key)
            check_query_names(request, allowed)
            if raw_body is not None:
                check_raw_body(request, tuple(raw_body), max_raw_bytes)
            call = Call(
                body=parse_json_body(request, body, settings.json_max_size) if body else None,
                query=parse_query(request, query, cursor_key=key, scope=scope) if query else None,
                principal=principal,
                request_id=request_id_of(request),
            )
            result = await handler(request, call, **params)
            return to_response(seal_next_cursor(result, key, scope), status)

        types = (response_type,) if isinstance(response_type, str) else response_type
        success = {t: {"schema": schema_of(response, "serialization")} for t in types} if response else None
        schema_of(ErrorOut, "serialization")  # into the components; each status refers to it below
        responses = [Response(success, status=status, description="成功" if success else "成功（无内容）")]
        failures = {
            code: text
            for code, text in ERROR_RESPONSES.items()
            if code not in (401, 403) or not access.public
        }
        if body is not None or raw_body is not None:
            failures.update(RAW_BODY_ERRORS)
        for klass in raises:
            status_code = error_status(klass)
            failures.setdefault(status_code, klass.message)
            failures[status_code] += f"（{klass.code}）"
        holders: dict[int, dict[str, Any]] = {code: {} for code in failures}
        responses += [
            Response({"application/json": {"schema": holders[code]}}, status=code, description=text)
            for code, text in sorted(failures.items())
        ]
        documented = openapi.definition(
            summary=summary,
            description=(description + f"\n\n调用者：{access.description}").strip(),
            body=RequestBody({"application/json": {"schema": schema_of(body, "validation")}}, required=True)
            if body
            else (RequestBody(raw_body, required=True) if raw_body else None),
            response=responses,
            secured={"session": []} if not access.public else None,
        )(run)
        for name, kind in path_parameters((bp.url_prefix or "") + path).items():
            bounded = (
                {"type": "integer", "minimum": 0, "maximum": MAX_ID}
                if kind == "int"
                else {"type": "string", "minLength": 1, "maxLength": MAX_PATH_TEXT}
            )
            documented = openapi.parameter(name, RawSchema(bounded), location="path", required=True)(
                documented
            )
        if query is not None:
            for name, field in query.model_fields.items():
                documented = openapi.parameter(
                    field.alias or name,
                    RawSchema(SEALED_CURSOR if name == "cursor" else field_schema(query, name)),
                    location="query",
                    required=field.is_required(),
                    description=field.description,
                )(documented)
        documented.__endpoint__ = EndpointSpec(  # type: ignore[attr-defined]
            method=method,
            path=path,
            body=body,
            query=query,
            access=access,
            raw_body=raw_body is not None,
            response=response,
            status=status,
            response_type=response_type,
        )
        _error_docs.append(
            _ErrorDoc(documented, handler, access, failures, holders, raises, body or raw_body, query)
        )
        bp.add_route(documented, path, methods=[method], name=handler.__name__)
        return documented

    return decorate
