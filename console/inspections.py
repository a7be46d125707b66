"""A compound's inspections of its property company (物业项目日常管理考核 / 年度综合评定): the list,
opening one, scoring its items, submitting, the company's one objection and the inspector's
decision. Access objects, request models, visibility and services are those of
miniprogram_api.ratings_inspections (and ratings.inspections behind it)."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts.roles import Role
from console.committee import compound
from console.web import PREFIX, cursor_in, cursor_out, form_model, form_text, page, render, see_other
from core import clock
from miniprogram_api import ratings_inspections as api
from miniprogram_api.auth import Principal
from ratings import inspections
from ratings.rules import ASPECT_NAMES, Aspect

bp = Blueprint("console_inspections")
PAGE = 50
MAX_ITEMS = 400  # as the API's ScoresIn
STATUS = {
    "draft": "草稿",
    "submitted": "已提交（异议期）",
    "objected": "企业有异议",
    "finished": "已完成",
}
KINDS = {"daily": "日常考核", "annual": "年度综合评定"}
ASPECTS = {a.value: ASPECT_NAMES[a] for a in Aspect}


def _inspector(who: Principal) -> bool:
    return bool(who.roles & {Role.COMMUNITY_ADMIN, Role.SUPERVISOR})


def _url(compound_id: int, inspection_id: int) -> str:
    return f"{PREFIX}/compounds/{compound_id}/inspections/{inspection_id}"


def _scores(request: Request, prefix: str) -> list[dict[str, object]]:
    """The items given points in the form (``<prefix>-<code>``, with ``<prefix>_note-<code>``), as
    the API's ScoreIn dicts; an item left empty keeps its score."""
    keys: list[str] = list(request.form.keys()) if request.form else []
    items: list[dict[str, object]] = []
    for key in keys[: MAX_ITEMS * 3]:
        if not key.startswith(prefix + "-"):
            continue
        points = form_text(request, key)
        if points == "":
            continue
        code = key[len(prefix) + 1 :]
        items.append({"code": code, "points": points, "note": form_text(request, f"{prefix}_note-{code}")})
    return items


@page(bp, "GET", "/compounds/<compound_id:int>/inspections", access=api.READERS)
async def compound_inspections(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    inspector = _inspector(who)
    scope = f"inspections:{compound_id}:{who.user.id}"
    found = await inspections.of_compound(
        compound_id,
        drafts_of=who.user.id if inspector else None,
        companies=None if inspector else await api._staff_companies(who),
        cursor=cursor_in(request, scope),
        limit=PAGE,
    )
    return render(
        request,
        "inspections.html",
        compound=await compound(compound_id),
        inspections=[api.inspection_out(r) for r in found.items],
        next_cursor=cursor_out(request, found.next_cursor, scope),
        inspector=inspector,
        today=clock.to_local(clock.now()).date(),
        INSPECTION_STATUS=STATUS,
        KINDS=KINDS,
    )


@page(bp, "POST", "/compounds/<compound_id:int>/inspections", access=api.INSPECTORS)
async def open_inspection(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    day = form_text(request, "inspected_on")
    body = form_model(request, api.OpenIn, {"kind": form_text(request, "kind"), "inspected_on": day or None})
    role = Role.COMMUNITY_ADMIN if Role.COMMUNITY_ADMIN in who.roles else Role.SUPERVISOR
    row = await inspections.open_inspection(
        who.actor, user_id=who.user.id, role=role, compound_id=compound_id, kind=body.kind,
        inspected_on=body.inspected_on,
    )  # fmt: skip
    return see_other(_url(compound_id, row.id))


@page(bp, "GET", "/compounds/<compound_id:int>/inspections/<inspection_id:int>", access=api.READERS)
async def inspection(request: Request, who: Principal, compound_id: int, inspection_id: int) -> HTTPResponse:
    row = await api._visible(who, compound_id, inspection_id)
    detail = await api._detail(row)
    inspector = _inspector(who) and row.inspector_id == who.user.id  # type: ignore[attr-defined]
    return render(
        request,
        "inspection.html",
        compound=await compound(compound_id),
        d=detail,
        i=detail.inspection,
        inspector=inspector,
        company_staff=Role.PROPERTY_STAFF in who.roles and not _inspector(who),
        now=clock.now(),
        INSPECTION_STATUS=STATUS,
        KINDS=KINDS,
        ASPECTS=ASPECTS,
    )


@page(
    bp, "POST", "/compounds/<compound_id:int>/inspections/<inspection_id:int>/scores", access=api.INSPECTORS
)
async def scores(request: Request, who: Principal, compound_id: int, inspection_id: int) -> HTTPResponse:
    body = form_model(request, api.ScoresIn, {"items": _scores(request, "points")})
    await inspections.set_scores(
        who.actor, user_id=who.user.id, compound_id=compound_id, inspection_id=inspection_id,
        items=api._items(body.items),
    )  # fmt: skip
    return see_other(_url(compound_id, inspection_id))


@page(
    bp, "POST", "/compounds/<compound_id:int>/inspections/<inspection_id:int>/submit", access=api.INSPECTORS
)
async def submit(request: Request, who: Principal, compound_id: int, inspection_id: int) -> HTTPResponse:
    await inspections.submit(
        who.actor, user_id=who.user.id, compound_id=compound_id, inspection_id=inspection_id,
        objection_days=request.app.ctx.settings.rating_objection_days,
    )  # fmt: skip
    return see_other(_url(compound_id, inspection_id))


@page(
    bp,
    "POST",
    "/compounds/<compound_id:int>/inspections/<inspection_id:int>/objection",
    access=api.COMPANY_STAFF,
)
async def objection(request: Request, who: Principal, compound_id: int, inspection_id: int) -> HTTPResponse:
    codes = request.form.getlist("item_code", []) if request.form else []
    body = form_model(
        request,
        api.ObjectionIn,
        {"reasons": form_text(request, "reasons"), "item_codes": codes[: MAX_ITEMS + 1]},
    )
    row = await api._visible(who, compound_id, inspection_id)
    await inspections.object_to(
        who.actor, user_id=who.user.id, company_ids=await api._staff_companies(who), compound_id=compound_id,
        inspection_id=row.id, reasons=body.reasons, item_codes=body.item_codes,
    )  # fmt: skip
    return see_other(_url(compound_id, inspection_id))


@page(
    bp, "POST", "/compounds/<compound_id:int>/inspections/<inspection_id:int>/decision", access=api.INSPECTORS
)
async def decision(request: Request, who: Principal, compound_id: int, inspection_id: int) -> HTTPResponse:
    upheld = {"yes": True, "no": False}.get(form_text(request, "upheld"), form_text(request, "upheld"))
    body = form_model(
        request,
        api.DecisionIn,
        {"upheld": upheld, "note": form_text(request, "note"), "revised": _scores(request, "revised")},
    )
    await inspections.decide(
        who.actor, user_id=who.user.id, compound_id=compound_id, inspection_id=inspection_id,
        upheld=body.upheld, note=body.note, revised=api._items(body.revised),
    )  # fmt: skip
    return see_other(_url(compound_id, inspection_id))
