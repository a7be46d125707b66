"""Complaints as Open311 GeoReport v2 sees them (https://wiki.open311.org/GeoReport_v2): the
complaint categories are the services, a complaint is a service request.

Only the spec's public fields, and of them only what tells nobody who complained or about whose flat:
the compound as the address (never the building or the unit), no description (residents write names
and room numbers into it), no media (complaint photos are private evidence), no account or contact
fields. A hotline writes through an API key bound to an account that the community has made a grid
worker (supervision.open311.hotline_account), so what it files is a grid worker's filing, moderated,
limited and audited like any other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from accounts.models import Compound, Department, PropertyCompany, User
from audit.service import Actor
from complaints import service as complaints
from complaints.models import Category, Complaint, Moderation, Party, PlaceKind, Status
from core import clock
from core.cache import Cache
from photos.models import Photo
from supervision.errors import Open311Invalid, Open311NotFound
from wechat.protocol import WeChatApi

MAX_REQUESTS = 1000  # the spec lets a server bound a list; ours answers at most this many, newest first
DEFAULT_DAYS = 90  # the spec's default window, and the widest start..end it allows
CLOSED = frozenset({Status.RESOLVED, Status.CONFIRMED, Status.CLOSED})
HOTLINE_OPENID = "open311:{label}"


def _group(party: str) -> str:
    return "物业服务" if party == Party.PROPERTY else "职能部门"


async def services() -> list[dict[str, Any]]:
    out = []
    for c in await complaints.categories():
        responsible = c["department"] or "物业服务企业"
        out.append(
            {
                "service_code": c["code"],
                "service_name": c["name"],
                "description": f"{c['name']}（责任单位：{responsible}；处理时限 {c['resolve_hours']} 个工作小时）",
                "metadata": False,
                "type": "realtime",
                "keywords": c["name"],
                "group": _group(c["party"]),
            }
        )
    return out


async def service(code: str) -> dict[str, Any]:
    for item in await services():
        if item["service_code"] == code:
            return item
    raise Open311NotFound("服务不存在", details={"service_code": code})


@dataclass(frozen=True, slots=True)
class RequestQuery:
    service_request_ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] = ()


def _window(query: RequestQuery, now: datetime) -> tuple[datetime, datetime]:
    """The spec's rule: no dates, the last 90 days; one date, 90 days from or up to it; both, at most
    90 days apart."""
    span = timedelta(days=DEFAULT_DAYS)
    start, end = query.start, query.end
    if start is None and end is None:
        return now - span, now
    if start is None:
        assert end is not None
        return end - span, end
    if end is None:
        return start, start + span
    if end < start:
        raise Open311Invalid("end_date 早于 start_date", details={"end_date": "before start_date"})
    if end - start > span:
        raise Open311Invalid(f"查询范围不得超过 {DEFAULT_DAYS} 天", details={"end_date": "over 90 days"})
    return start, end


async def requests(query: RequestQuery, *, now: datetime | None = None) -> list[dict[str, Any]]:
    found = Complaint.filter(moderation=Moderation.PASSED)
    if query.service_request_ids:  # the spec: ids override every other parameter
        found = found.filter(id__in=list(query.service_request_ids))
    else:
        start, end = _window(query, now or clock.now())
        found = found.filter(created_at__gte=start.astimezone(UTC), created_at__lte=end.astimezone(UTC))
        if query.service_codes:
            found = found.filter(category_id__in=list(query.service_codes))
        wanted = set(query.statuses)
        if wanted == {"open"}:
            found = found.exclude(status__in=list(CLOSED))
        elif wanted == {"closed"}:
            found = found.filter(status__in=list(CLOSED))
    rows = await found.order_by("-created_at", "-id").limit(MAX_REQUESTS)
    return await _shape(rows)


async def request(request_id: int) -> dict[str, Any]:
    rows = await Complaint.filter(id=request_id, moderation=Moderation.PASSED)
    if not rows:
        raise Open311NotFound("服务请求不存在", details={"service_request_id": request_id})
    return (await _shape(rows))[0]


def _status_notes(status: Status) -> str:
    return {
        Status.SUBMITTED: "已提交，待受理",
        Status.ACCEPTED: "已受理",
        Status.DISPATCHED: "已派单至责任单位",
        Status.IN_PROGRESS: "处理中",
        Status.REOPENED: "投诉人对结果不满意，已重新打开",
        Status.RESOLVED: "已处理完毕，待投诉人确认",
        Status.CONFIRMED: "投诉人已确认",
        Status.CLOSED: "已办结",
    }[status]


async def _shape(rows: list[Complaint]) -> list[dict[str, Any]]:
    categories = {c.code: c for c in await Category.all()}
    department_ids: set[int] = {c.department_id for c in rows if c.department_id}  # type: ignore[attr-defined]
    department_ids |= {c.department_id for c in categories.values() if c.department_id}  # type: ignore[attr-defined]
    departments = dict(await Department.filter(id__in=list(department_ids)).values_list("id", "name"))
    company_ids: set[int] = {c.company_id for c in rows if c.company_id}  # type: ignore[attr-defined]
    companies: dict[int, str] = dict(
        await PropertyCompany.filter(id__in=list(company_ids)).values_list("id", "name")  # type: ignore[arg-type]
    )
    compounds = {
        i: (name, community)
        for i, name, community in await Compound.filter(
            id__in=list({c.compound_id for c in rows})  # type: ignore[attr-defined]
        ).values_list("id", "name", "community__name")
    }
    out = []
    for c in rows:
        category = categories[c.category_id]  # type: ignore[attr-defined]
        if c.company_id:  # type: ignore[attr-defined]
            agency = companies.get(c.company_id, "物业服务企业")  # type: ignore[attr-defined]
        elif c.department_id:  # type: ignore[attr-defined]
            agency = departments.get(c.department_id, "")  # type: ignore[attr-defined]
        elif category.party == Party.DEPARTMENT:
            agency = departments.get(category.department_id, "职能部门")  # type: ignore[attr-defined]
        else:
            agency = "物业服务企业"
        name, community = compounds.get(c.compound_id, ("", ""))  # type: ignore[attr-defined]
        updated = c.closed_at or c.resolved_at or c.stage_entered_at
        out.append(
            {
                "service_request_id": str(c.id),
                "status": "closed" if c.status in CLOSED else "open",
                "status_notes": _status_notes(Status(c.status)),
                "service_name": category.name,
                "service_code": category.code,
                "agency_responsible": agency,
                "service_notice": "",
                "requested_datetime": c.created_at,
                "updated_datetime": updated,
                "expected_datetime": c.stage_due_at if c.status not in CLOSED else None,
                "address": f"{community}{name}",
                "address_id": str(c.compound_id),  # type: ignore[attr-defined]
            }
        )
    return out


async def hotline_account(label: str) -> User:
    """The account an API key writes as (created on first use; it can file nothing until a community
    grants it the grid worker role, as for any grid worker)."""
    user, _ = await User.get_or_create(openid=HOTLINE_OPENID.format(label=label), defaults={"nickname": ""})
    return user


@dataclass(frozen=True, slots=True)
class NewRequest:
    service_code: str
    address_id: int
    description: str
    address_string: str = ""


async def create(
    new: NewRequest,
    *,
    user: User,
    actor: Actor,
    wechat: WeChatApi,
    cache: Cache,
    media_url: Callable[[Photo], str],
) -> dict[str, Any]:
    """A hotline's report filed as a complaint of the compound ``address_id`` (a common area, the
    address string as its place)."""
    if not await Compound.exists(id=new.address_id):
        raise Open311Invalid("address_id 不是本县的小区编号", details={"address_id": new.address_id})
    if not await Category.exists(code=new.service_code):
        raise Open311Invalid("service_code 不存在", details={"service_code": new.service_code})
    complaint = await complaints.file_complaint(
        complaints.NewComplaint(
            compound_id=new.address_id,
            category=new.service_code,
            text=new.description,
            place_kind=PlaceKind.COMMON,
            place_note=(new.address_string or "热线转办")[:100],
        ),
        user=user, actor=actor, wechat=wechat, cache=cache, media_url=media_url,
    )  # fmt: skip
    notice = "已受理，可凭编号查询办理进度" if complaint.moderation == Moderation.PASSED else "内容待人工审核"
    return {"service_request_id": str(complaint.id), "service_notice": notice, "account_id": None}
