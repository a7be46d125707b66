"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) under /api/v1/open311/v2: the
complaint categories as services, complaints as service requests, in JSON and XML (the format is the
resource's extension, as the spec has it). GeoReport clients are given the endpoint's base URL, so
this prefix is where they look.

Reading is public, as the spec's servers are; writing (POST requests) needs an API key from
OPEN311_API_KEYS. Errors come back in the spec's shape (a list of {code, description}; <errors> in
XML), for every failure on these routes, including refused parameters."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs
from xml.etree import ElementTree

from pydantic import BaseModel, Field, RootModel, ValidationError
from sanic import Blueprint, Request
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse

from accounts.service import actor_for
from core import errors
from core.jsonutil import dumpb
from miniprogram_api import endpoint as declared
from miniprogram_api.bounds import MAX_ID, Moment, RequestModel, check_untrusted
from miniprogram_api.context import request_id_of
from miniprogram_api.endpoint import PUBLIC, Call, beijing_times, endpoint, to_response
from miniprogram_api.openapi_schema import schema_of
from miniprogram_api.photos import checker_url
from supervision import open311
from supervision.errors import Open311Invalid, Open311KeyMissing, Open311NotFound

bp = Blueprint("open311", url_prefix="/open311/v2")
Format = Literal["json", "xml"]
_SPEC_HOLDERS: list[dict[int, dict[str, Any]]] = []
FORM = "application/x-www-form-urlencoded"


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="是否有附加属性（本系统均无，恒为 false）")
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class ServicesOut(RootModel[Annotated[list[ServiceOut], Field(max_length=200)]]):
    pass


class AttributeOut(BaseModel):
    code: str


class DefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut] = Field(max_length=0)


class RequestOut(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str
    service_name: str
    service_code: str
    agency_responsible: str = Field(description="责任单位：承办的物业服务企业或职能部门")
    service_notice: str
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None = Field(description="当前阶段的处理时限")
    address: str = Field(description="社区与小区名称（不含楼栋和房号）")
    address_id: str = Field(description="小区编号")


class RequestsOut(RootModel[Annotated[list[RequestOut], Field(max_length=open311.MAX_REQUESTS)]]):
    pass


class CreatedOut(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None


class CreatedListOut(RootModel[Annotated[list[CreatedOut], Field(max_length=1)]]):
    pass


class RequestsQuery(BaseModel):
    service_request_id: str | None = Field(
        default=None,
        max_length=1100,
        description="一个或多个服务请求编号（逗号分隔，最多 100 个），指定时忽略其他条件",
    )
    service_code: str | None = Field(default=None, max_length=400, description="服务代码，可逗号分隔多个")
    start_date: Moment | None = Field(default=None, description="最早提交时间（须带时区）")
    end_date: Moment | None = Field(default=None, description="最晚提交时间；与 start_date 相距不超过 90 天")
    status: str | None = Field(default=None, max_length=20, description="open 或 closed，可逗号分隔")
    jurisdiction_id: str | None = Field(
        default=None, max_length=100, description="本系统只有一个辖区，可省略"
    )


class NewRequestIn(RequestModel):
    """The spec's POST fields we use; location is the compound (address_id). Contact fields of the
    spec (email, first_name, last_name, phone, device_id, account_id) are refused: a hotline's
    callers are not ours to keep."""

    api_key: str = Field(min_length=1, max_length=200)
    service_code: str = Field(min_length=1, max_length=30)
    address_id: int = Field(ge=1, le=MAX_ID, description="小区编号")
    description: str = Field(min_length=5, max_length=1000)
    address_string: str = Field(default="", max_length=100, description="小区内的具体位置")
    jurisdiction_id: str | None = Field(default=None, max_length=100)
    lat: float | None = Field(default=None, ge=-90, le=90, description="可省略；不保存")
    long: float | None = Field(default=None, ge=-180, le=180, description="可省略；不保存")


# --- rendering ---------------------------------------------------------------------------------------


def _xml_text(value: Any) -> str:
    value = beijing_times(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def xml_bytes(root: str, item: str | None, rows: list[dict[str, Any]] | dict[str, Any]) -> bytes:
    top = ElementTree.Element(root)
    for row in rows if isinstance(rows, list) else [rows]:
        parent = ElementTree.SubElement(top, item) if item else top
        for key, value in row.items():
            if isinstance(value, list):
                ElementTree.SubElement(parent, key)  # the definitions' empty attribute list
                continue
            ElementTree.SubElement(parent, key).text = _xml_text(value)
    return ElementTree.tostring(top, encoding="utf-8", xml_declaration=True)


def _answer(fmt: Format, model: BaseModel, root: str, item: str | None, status: int = 200) -> HTTPResponse:
    if fmt == "json":
        return to_response(model, status)
    data = model.model_dump(mode="python")
    return HTTPResponse(xml_bytes(root, item, data), status=status, content_type="text/xml; charset=utf-8")


def _status_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, errors.DomainError):
        return declared.error_status(type(exc)), exc.user_message
    if isinstance(exc, SanicException) and 400 <= exc.status_code < 500:
        return exc.status_code, "请求格式不正确"
    return 500, "服务器内部错误，请稍后再试"


def spec_error(request: Request, exc: BaseException) -> HTTPResponse:
    """The spec's error answer: [{"code": 400, "description": "..."}], or <errors><error> in XML.
    (An exception outside the error tree, such as a lost database connection, still reaches the
    server's one mapping and answers in the product's envelope.)"""
    status, text = _status_of(exc)
    rows = [{"code": status, "description": text}]
    headers = {"Retry-After": str(max(1, int(getattr(exc, "retry_after", 0) or 5)))} if status == 503 else {}
    if request.path.endswith(".xml"):
        return HTTPResponse(
            xml_bytes("errors", "error", rows), status=status, headers=headers,
            content_type="text/xml; charset=utf-8",
        )  # fmt: skip
    return HTTPResponse(
        dumpb(rows), status=status, headers=headers, content_type="application/json; charset=utf-8"
    )


bp.exception(errors.DomainError, SanicException)(spec_error)

SPEC_ERROR_SCHEMA = {
    "type": "array",
    "description": "GeoReport v2 错误格式",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def document_spec_errors() -> None:
    """After miniprogram_api.endpoint.document_errors: these routes' error answers are the spec's."""
    for holders in _SPEC_HOLDERS:
        for holder in holders.values():
            holder.clear()
            holder.update(SPEC_ERROR_SCHEMA)


def _spec(route: Callable[..., Any]) -> Callable[..., Any]:
    _SPEC_HOLDERS.append(declared._error_docs[-1].holders)
    return route


def _split(path_part: str, kinds: tuple[str, ...] = ("json", "xml")) -> tuple[str, Format]:
    stem, dot, ext = path_part.rpartition(".")
    if not dot or ext not in kinds or not stem:
        raise Open311NotFound("格式须为 .json 或 .xml", details={"path": path_part})
    return stem, ext  # type: ignore[return-value]


# --- services ----------------------------------------------------------------------------------------


async def _services(fmt: Format) -> HTTPResponse:
    return _answer(fmt, ServicesOut(await open311.services()), "services", "service")  # type: ignore[arg-type]


@_spec
@endpoint(
    bp,
    "GET",
    "/services.json",
    summary="GeoReport：服务列表（投诉类别）",
    access=PUBLIC,
    response=ServicesOut,
)
async def services_json(request: Request, call: Call[None, None]) -> HTTPResponse:
    return await _services("json")


@_spec
@endpoint(
    bp, "GET", "/services.xml", summary="GeoReport：服务列表（XML）", access=PUBLIC,
    response={"type": "string"}, response_type="text/xml",
)  # fmt: skip
async def services_xml(request: Request, call: Call[None, None]) -> HTTPResponse:
    return await _services("xml")


@_spec
@endpoint(
    bp,
    "GET",
    "/services/<service_file:str>",
    summary="GeoReport：服务定义（service_code.json 或 .xml；本系统服务均无附加属性）",
    access=PUBLIC,
    response=DefinitionOut,
)
async def service_definition(request: Request, call: Call[None, None], service_file: str) -> HTTPResponse:
    code, fmt = _split(service_file)
    found = await open311.service(code)
    return _answer(
        fmt, DefinitionOut(service_code=found["service_code"], attributes=[]), "service_definition", None
    )


# --- requests ----------------------------------------------------------------------------------------


_CODE_MAX = 30  # complaints.models.Category.code


def _query(q: RequestsQuery) -> open311.RequestQuery:
    ids: list[int] = []
    if q.service_request_id:
        parts = [p.strip() for p in q.service_request_id.split(",") if p.strip()]
        if len(parts) > 100 or not all(p.isdigit() and 1 <= int(p) <= MAX_ID for p in parts):
            raise Open311Invalid("service_request_id 须为逗号分隔的编号，最多 100 个")
        ids = [int(p) for p in parts]
    statuses = tuple(p.strip() for p in (q.status or "").split(",") if p.strip())
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Invalid("status 只能是 open 或 closed", details={"status": q.status})
    codes = tuple(p.strip() for p in (q.service_code or "").split(",") if p.strip())
    if any(len(c) > _CODE_MAX for c in codes):  # no category has one: refused before the database
        raise Open311Invalid(f"service_code 每项最多 {_CODE_MAX} 个字符", details={"max_length": _CODE_MAX})
    return open311.RequestQuery(tuple(ids), codes, q.start_date, q.end_date, statuses)


async def _requests(fmt: Format, q: RequestsQuery) -> HTTPResponse:
    rows = await open311.requests(_query(q))
    return _answer(fmt, RequestsOut(rows), "service_requests", "request")  # type: ignore[arg-type]


@_spec
@endpoint(
    bp, "GET", "/requests.json", summary="GeoReport：服务请求（投诉）列表", access=PUBLIC,
    query=RequestsQuery, response=RequestsOut,
    description="缺省为最近 90 天，最多 1000 条，最新在前。只含公开字段：不含投诉内容、照片、楼栋房号和任何个人信息。",
)  # fmt: skip
async def requests_json(request: Request, call: Call[None, RequestsQuery]) -> HTTPResponse:
    return await _requests("json", call.query)


@_spec
@endpoint(
    bp, "GET", "/requests.xml", summary="GeoReport：服务请求列表（XML）", access=PUBLIC,
    query=RequestsQuery, response={"type": "string"}, response_type="text/xml",
)  # fmt: skip
async def requests_xml(request: Request, call: Call[None, RequestsQuery]) -> HTTPResponse:
    return await _requests("xml", call.query)


@_spec
@endpoint(
    bp,
    "GET",
    "/requests/<request_file:str>",
    summary="GeoReport：单个服务请求（service_request_id.json 或 .xml）",
    access=PUBLIC,
    response=RequestsOut,
)
async def request_one(request: Request, call: Call[None, None], request_file: str) -> HTTPResponse:
    stem, fmt = _split(request_file)
    if not stem.isdigit() or not 1 <= int(stem) <= MAX_ID:
        raise Open311NotFound("服务请求不存在")
    return _answer(fmt, RequestsOut([await open311.request(int(stem))]), "service_requests", "request")  # type: ignore[list-item]


def _keys(request: Request) -> dict[str, str]:
    return dict(request.app.ctx.settings.open311_api_keys)


def _form(request: Request) -> NewRequestIn:
    """The POST body, form-encoded as the spec has it (its type and size checked by @endpoint)."""
    raw = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=50)
    data: dict[str, Any] = {k: v[-1] for k, v in raw.items()}
    check_untrusted(data)
    try:
        return NewRequestIn.model_validate(data)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
        raise Open311Invalid(f"参数有误：{', '.join(fields)}", details={"fields": fields}) from None


async def _create(request: Request, fmt: Format) -> HTTPResponse:
    body = _form(request)
    label = next(
        (
            name
            for name, key in _keys(request).items()
            if hmac.compare_digest(key.encode(), body.api_key.encode())
        ),
        None,
    )
    if label is None:
        raise Open311KeyMissing()
    user = await open311.hotline_account(label)
    created = await open311.create(
        open311.NewRequest(body.service_code, body.address_id, body.description, body.address_string),
        user=user, actor=actor_for(user, request_id_of(request)), wechat=request.app.ctx.wechat,
        cache=request.app.ctx.cache, media_url=lambda photo: checker_url(request, photo.id),
    )  # fmt: skip
    return _answer(fmt, CreatedListOut([created]), "service_requests", "request", status=201)  # type: ignore[list-item]


_POST_BODY = {FORM: {"schema": schema_of(NewRequestIn, "validation")}}


@_spec
@endpoint(
    bp, "POST", "/requests.json", summary="GeoReport：提交服务请求（需 API 密钥）", access=PUBLIC,
    raw_body=_POST_BODY, max_raw_bytes=16 * 1024, response=CreatedListOut, status=201,
    raises=(Open311KeyMissing, Open311Invalid),
    description="表单字段 api_key、service_code、address_id（小区编号）、description、address_string。"
    "密钥对应的账号须由社区授予网格员角色后才能提交到该社区的小区；提交的投诉与网格员代报相同（内容审核、每日限额、审计）。",
)  # fmt: skip
async def create_json(request: Request, call: Call[None, None]) -> HTTPResponse:
    return await _create(request, "json")


@_spec
@endpoint(
    bp, "POST", "/requests.xml", summary="GeoReport：提交服务请求（XML 答复，需 API 密钥）", access=PUBLIC,
    raw_body=_POST_BODY, max_raw_bytes=16 * 1024, response={"type": "string"}, response_type="text/xml",
    status=201, raises=(Open311KeyMissing, Open311Invalid),
)  # fmt: skip
async def create_xml(request: Request, call: Call[None, None]) -> HTTPResponse:
    return await _create(request, "xml")
