"""Star-rating templates, inspections, company credit and the quarterly lists, for the supervisor
(住建局), the community admins and the property companies.

/admin/ratings/templates                          versions of the star-rating templates; the supervisor adds one
/admin/compounds/<compound_id>/inspections/...    a community admin or the supervisor inspects; the company objects
/admin/companies/<company_id>/credit...           the credit that explains itself; the supervisor records
/admin/companies/<company_id>/ratings/lists       a company's entries on published lists, and why
/admin/ratings/lists/...                          the supervisor computes, reviews and publishes each quarter

A company is reached by its own staff (a property-staff grant for it), the supervisor, and the
community admins of communities where it holds a current service contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sanic import Blueprint, Request

from accounts.errors import RoleMissing
from accounts.models import Compound, ServiceContract
from accounts.roles import Role, Scope, grants_of, today
from miniprogram_api.auth import AUTHENTICATED, Allow, Principal, authenticate
from miniprogram_api.endpoint import Call, endpoint
from miniprogram_api.pagination import Page, PageQuery
from miniprogram_api.ratings import EntryOut, ListDetailOut, ListOut, entry_out, list_detail, list_out
from miniprogram_api.ratings_inspections import inspections_bp
from ratings import credit, lists, templates
from ratings.errors import (
    CompanyNotFound,
    CreditRecordInvalid,
    ListNotFound,
    ListStateConflict,
    TemplateInvalid,
    TemplateNotFound,
    TemplateVersionConflict,
)
from ratings.models import CreditRecord, ListEntry, Template
from ratings.rules import (
    ASPECT_NAMES,
    Aspect,
    AspectSpec,
    CreditPart,
    CreditSource,
    InspectionKind,
    Item,
    Threshold,
)

templates_bp = Blueprint("ratings_templates", url_prefix="/admin/ratings/templates")
lists_bp = Blueprint("ratings_lists", url_prefix="/admin/ratings/lists")
companies_bp = Blueprint("ratings_companies", url_prefix="/admin/companies/<company_id:int>")

SUPERVISOR = Allow(Role.SUPERVISOR, over="county")

__all__ = ["companies_bp", "inspections_bp", "lists_bp", "templates_bp"]


class CompanyAccess:
    """Logged in and one of: staff of the company in the path, the supervisor, or a community admin
    of a community where the company holds a current service contract."""

    public = False
    description = "本企业物业服务企业人员、主管部门、企业在管小区所在社区的社区管理员"

    async def authorize(self, request: Request, params: dict[str, Any]) -> Principal:
        principal = await authenticate(request)
        company_id = int(params["company_id"])
        held: set[Role] = set()
        communities: set[int] = set()
        for role, scope, scope_id in await grants_of(principal.user.id):
            if (role is Role.SUPERVISOR and scope is Scope.COUNTY) or (
                role is Role.PROPERTY_STAFF and scope is Scope.COMPANY and scope_id == company_id
            ):
                held.add(role)
            elif role is Role.COMMUNITY_ADMIN and scope is Scope.COMMUNITY:
                communities.add(scope_id)
        if communities:
            on = today()
            compounds = await ServiceContract.filter(
                company_id=company_id, starts_on__lte=on, ends_on__gte=on
            ).values_list("compound_id", flat=True)
            if await Compound.filter(id__in=list(compounds), community_id__in=list(communities)).exists():
                held.add(Role.COMMUNITY_ADMIN)
        if not held:
            raise RoleMissing(details={"required": ["property_staff", "supervisor", "community_admin"]})
        return Principal(principal.user, principal.token, frozenset(held), principal.request_id)


COMPANY = CompanyAccess()

# --- templates ------------------------------------------------------------------------------

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,20}$", max_length=20, description="评分项编号")]


class ItemIn(BaseModel):
    model_config = {"extra": "forbid"}
    code: Code
    text: str = Field(min_length=1, max_length=200)
    max_points: int = Field(ge=1, le=100)


class AspectIn(BaseModel):
    model_config = {"extra": "forbid"}
    aspect: Aspect
    weight: int = Field(ge=1, le=100, description="权重（%），八个方面合计 100")
    items: list[ItemIn] = Field(min_length=1, max_length=50)


class ThresholdIn(BaseModel):
    model_config = {"extra": "forbid"}
    stars: int = Field(ge=1, le=5)
    min_score: Decimal = Field(ge=0, le=100, max_digits=5, decimal_places=2)


class TemplateIn(BaseModel):
    model_config = {"extra": "forbid"}
    kind: InspectionKind
    name: str = Field(min_length=1, max_length=100)
    aspects: list[AspectIn] = Field(min_length=8, max_length=8)
    thresholds: list[ThresholdIn] = Field(min_length=1, max_length=5)


class ItemOut(BaseModel):
    code: str
    text: str
    max_points: int


class AspectOut(BaseModel):
    aspect: str
    name: str
    weight: int
    items: list[ItemOut] = Field(max_length=50)


class ThresholdOut(BaseModel):
    stars: int
    min_score: Decimal


class TemplateOut(BaseModel):
    id: int
    kind: str
    version: int
    name: str
    aspects: list[AspectOut]
    thresholds: list[ThresholdOut]


def template_out(row: Template) -> TemplateOut:
    aspects, thresholds = templates.specs_of(row)
    return TemplateOut(
        id=row.id,
        kind=str(row.kind),
        version=row.version,
        name=row.name,
        aspects=[
            AspectOut(
                aspect=a.aspect.value,
                name=ASPECT_NAMES[a.aspect],
                weight=a.weight,
                items=[ItemOut(code=i.code, text=i.text, max_points=i.max_points) for i in a.items],
            )
            for a in aspects
        ],
        thresholds=[ThresholdOut(stars=t.stars, min_score=t.min_score) for t in thresholds],
    )


class TemplatesQuery(PageQuery):
    kind: InspectionKind | None = None


@endpoint(
    templates_bp,
    "GET",
    "",
    summary="星级评定模板各版本（最新在前）",
    access=AUTHENTICATED,
    query=TemplatesQuery,
    response=Page[TemplateOut],
)
async def list_templates(request: Request, call: Call[None, TemplatesQuery]) -> Page[TemplateOut]:
    q = call.query
    page = await templates.listing(kind=q.kind, cursor=q.cursor, limit=q.limit)
    return Page[TemplateOut].of(page, template_out)


@endpoint(
    templates_bp,
    "GET",
    "/<template_id:int>",
    summary="一个版本的星级评定模板",
    access=AUTHENTICATED,
    response=TemplateOut,
    raises=(TemplateNotFound,),
)
async def get_template(request: Request, call: Call[None, None], template_id: int) -> TemplateOut:
    return template_out(await templates.get(template_id))


@endpoint(
    templates_bp,
    "POST",
    "",
    summary="发布星级评定模板的新版本（八个方面、评分项、权重、星级门槛）",
    access=SUPERVISOR,
    body=TemplateIn,
    response=TemplateOut,
    status=201,
    raises=(TemplateInvalid, TemplateVersionConflict),
)
async def create_template(request: Request, call: Call[TemplateIn, None]) -> TemplateOut:
    b = call.body
    row = await templates.create(
        call.principal.actor,
        user_id=call.principal.user.id,
        kind=b.kind,
        name=b.name,
        aspects=[
            AspectSpec(a.aspect, a.weight, tuple(Item(i.code, i.text, i.max_points) for i in a.items))
            for a in b.aspects
        ],
        thresholds=[Threshold(t.stars, t.min_score) for t in b.thresholds],
    )
    return template_out(row)


# --- credit ---------------------------------------------------------------------------------


class RecordOut(BaseModel):
    id: int
    source: str
    part: str = Field(description="base 基础分 | good 加分 | bad 扣分")
    points: Decimal
    reason: str
    valid_from: date
    valid_until: date
    inspection_id: int | None


class CreditOut(BaseModel):
    company_id: int
    company_name: str
    on: date
    score: Decimal | None
    grade: str | None
    base: Decimal
    additions: Decimal
    deductions: Decimal
    base_capped: bool
    additions_capped: bool
    records: list[RecordOut] = Field(description="当日有效、构成信用分的全部记录")


def _record_out(row: CreditRecord) -> RecordOut:
    return RecordOut(**credit.record_view(row))


class CreditQuery(BaseModel):
    model_config = {"extra": "forbid"}
    on: date | None = Field(
        default=None, description="某日（北京时间）；缺省为今天。可复现任一过去日期的信用分"
    )


def _credit_out(e: credit.Explanation) -> CreditOut:
    c = e.credit
    zero = Decimal("0.00")
    return CreditOut(
        company_id=e.company_id,
        company_name=e.company_name,
        on=e.on,
        score=c.score if c else None,
        grade=c.grade if c else None,
        base=c.base if c else zero,
        additions=c.additions if c else zero,
        deductions=c.deductions if c else zero,
        base_capped=c.base_capped if c else False,
        additions_capped=c.additions_capped if c else False,
        records=[RecordOut(**r) for r in e.records],
    )


@endpoint(
    companies_bp,
    "GET",
    "/credit",
    summary="企业信用分与等级，及构成它的每条记录（可查任一日期）",
    access=COMPANY,
    query=CreditQuery,
    response=CreditOut,
    raises=(CompanyNotFound,),
)
async def company_credit(request: Request, call: Call[None, CreditQuery], company_id: int) -> CreditOut:
    return _credit_out(await credit.explain(company_id, call.query.on))


@endpoint(
    companies_bp,
    "GET",
    "/credit/records",
    summary="企业的全部信用记录（含已过期，最新在前）",
    access=COMPANY,
    query=PageQuery,
    response=Page[RecordOut],
    raises=(CompanyNotFound,),
)
async def company_records(request: Request, call: Call[None, PageQuery], company_id: int) -> Page[RecordOut]:
    page = await credit.records_of(company_id, cursor=call.query.cursor, limit=call.query.limit)
    return Page[RecordOut].of(page, _record_out)


class RecordIn(BaseModel):
    model_config = {"extra": "forbid"}
    source: CreditSource = Field(description="contract 合同履约 | sanction 行政处罚 | commendation 表彰")
    part: CreditPart
    points: Decimal = Field(gt=0, le=40, max_digits=5, decimal_places=2)
    reason: str = Field(min_length=1, max_length=500)
    valid_from: date = Field(description="记录日期（北京时间），自此有效一年")


class RecordAddedOut(BaseModel):
    record: RecordOut
    score: Decimal | None
    grade: str | None


@endpoint(
    companies_bp,
    "POST",
    "/credit/records",
    summary="记录企业的合同履约、行政处罚或表彰（信用分随即重算）",
    access=SUPERVISOR,
    body=RecordIn,
    response=RecordAddedOut,
    status=201,
    raises=(CompanyNotFound, CreditRecordInvalid),
)
async def add_record(request: Request, call: Call[RecordIn, None], company_id: int) -> RecordAddedOut:
    b = call.body
    row, now = await credit.add_record(
        call.principal.actor,
        user_id=call.principal.user.id,
        company_id=company_id,
        source=b.source,
        part=b.part,
        points=b.points,
        reason=b.reason,
        valid_from=b.valid_from,
    )
    return RecordAddedOut(
        record=_record_out(row), score=now.score if now else None, grade=now.grade if now else None
    )


@endpoint(
    companies_bp,
    "GET",
    "/ratings/lists",
    summary="企业在已发布红黑榜上的记录及上榜理由",
    access=COMPANY,
    query=PageQuery,
    response=Page[EntryOut],
)
async def company_lists(request: Request, call: Call[None, PageQuery], company_id: int) -> Page[EntryOut]:
    page = await lists.of_company(company_id, cursor=call.query.cursor, limit=call.query.limit)
    from accounts.models import PropertyCompany

    company = await PropertyCompany.get_or_none(id=company_id)
    name = company.name if company else ""

    def shape(e: ListEntry) -> EntryOut:
        return entry_out(e, e.list.quarter, name)

    return Page[EntryOut].of(page, shape)


# --- quarterly lists ------------------------------------------------------------------------

Quarter = Annotated[str, Field(pattern=r"^20[0-9]{2}Q[1-4]$", max_length=6, description="季度，如 2026Q3")]


class DraftIn(BaseModel):
    model_config = {"extra": "forbid"}
    quarter: Quarter


class ListsQuery(PageQuery):
    status: str | None = Field(default=None, pattern="^(draft|published)$", max_length=10)


class PublishIn(BaseModel):
    model_config = {"extra": "forbid"}
    note: str = Field(default="", max_length=500, description="审核意见")


@endpoint(
    lists_bp,
    "POST",
    "",
    summary="计算（或重新计算）某季度红黑榜草稿",
    access=SUPERVISOR,
    body=DraftIn,
    response=ListDetailOut,
    status=201,
    raises=(ListStateConflict,),
)
async def compute_list(request: Request, call: Call[DraftIn, None]) -> ListDetailOut:
    row = await lists.compute_draft(call.principal.actor, call.body.quarter)
    return await list_detail(row)


@endpoint(
    lists_bp,
    "GET",
    "",
    summary="各季度红黑榜（草稿与已发布）",
    access=SUPERVISOR,
    query=ListsQuery,
    response=Page[ListOut],
)
async def all_lists(request: Request, call: Call[None, ListsQuery]) -> Page[ListOut]:
    q = call.query
    page = await lists.listing(status=q.status, cursor=q.cursor, limit=q.limit)
    return Page[ListOut].of(page, list_out)


@endpoint(
    lists_bp,
    "GET",
    "/<list_id:int>",
    summary="一期红黑榜（草稿或已发布）",
    access=SUPERVISOR,
    response=ListDetailOut,
    raises=(ListNotFound,),
)
async def one_list(request: Request, call: Call[None, None], list_id: int) -> ListDetailOut:
    return await list_detail(await lists.get(list_id))


@endpoint(
    lists_bp,
    "POST",
    "/<list_id:int>/publish",
    summary="审核通过并发布红黑榜（在全县公告栏发布公告，存档）",
    access=SUPERVISOR,
    body=PublishIn,
    response=ListOut,
    raises=(ListNotFound, ListStateConflict),
)
async def publish_list(request: Request, call: Call[PublishIn, None], list_id: int) -> ListOut:
    row = await lists.publish(
        call.principal.actor,
        user_id=call.principal.user.id,
        list_id=list_id,
        note=call.body.note,
        cache=request.app.ctx.cache,
    )
    return list_out(row)
