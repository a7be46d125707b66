"""Grid patrols: a community's patrol list (grid workers, the community admin, the county), a grid
worker recording a patrol of a compound with its findings, a patrol's detail, and the recorder
turning a finding into a complaint. Access objects, request models and services are those of
miniprogram_api.supervision (supervision.patrols behind it): recording and escalating are open to
any signed-in user there and the service refuses who is not a grid worker of the compound, or not
the patrol's recorder; a patrol is "not found" to whoever may not read it."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from accounts import discovery
from accounts.roles import Role
from complaints import service as complaints
from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_moment,
    form_text,
    page,
    query_text,
    render,
    see_other,
)
from core import clock
from miniprogram_api import supervision as api
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.complaints import photo_check
from miniprogram_api.photos import checker_url
from supervision import service

bp = Blueprint("console_patrols")
PAGE = 50
FINDING_ROWS = (
    5  # finding rows offered by the form (the service takes up to supervision.patrols.MAX_FINDINGS)
)
COMPOUNDS = 100  # the largest community has 53


@page(bp, "GET", "/communities/<community_id:int>/patrols", access=api.PATROL_READERS)
async def patrols(request: Request, who: Principal, community_id: int) -> HTTPResponse:
    chosen = query_text(request, "compound_id", 10)
    query = form_model(request, api.PatrolsQuery, {"compound_id": chosen})
    scope = f"patrols:{community_id}:{query.compound_id or ''}"
    found = await service.of_community(
        community_id, compound_id=query.compound_id, cursor=cursor_in(request, scope), limit=PAGE
    )
    compounds = await discovery.compounds(community_id=community_id, limit=COMPOUNDS)
    now = clock.to_local(clock.now()).replace(second=0, microsecond=0, tzinfo=None)
    return render(
        request,
        "patrols.html",
        community_id=community_id,
        patrols=[api.PatrolOut(**row) for row in found.items],
        next_cursor=cursor_out(request, found.next_cursor, scope),
        compounds=compounds.items,
        names={c.id: c.name for c in compounds.items},
        chosen=query.compound_id,
        grid_worker=Role.GRID_WORKER in who.roles,
        now=now.isoformat(timespec="minutes"),
        FINDING_ROWS=FINDING_ROWS,
    )


@page(bp, "POST", "/patrols", access=AUTHENTICATED)
async def record(request: Request, who: Principal) -> HTTPResponse:
    findings: list[dict[str, Any]] = []
    for n in range(FINDING_ROWS):
        text = form_text(request, f"finding-{n}")
        if text:
            findings.append({"text": text, "place_note": form_text(request, f"place-{n}")})
    body = form_model(
        request,
        api.PatrolIn,
        {
            "compound_id": form_text(request, "compound_id"),
            "started_at": form_moment(request, "started_at"),
            "ended_at": form_moment(request, "ended_at"),
            "note": form_text(request, "note"),
            "findings": findings,
        },
    )
    new = service.NewPatrol(
        compound_id=body.compound_id, started_at=body.started_at, ended_at=body.ended_at, route=[], note=body.note,
        findings=[service.NewFinding(**f.model_dump()) for f in body.findings],
    )  # fmt: skip
    patrol = await service.record(
        new, worker=who.user, actor=who.actor, photo_check=photo_check(request, who)
    )
    return see_other(f"{PREFIX}/patrols/{patrol.id}")


@page(bp, "GET", "/patrols/<patrol_id:int>", access=AUTHENTICATED)
async def patrol(request: Request, who: Principal, patrol_id: int) -> HTTPResponse:
    detail = await api._detail(request, patrol_id, who.user.id)
    recorder = detail.worker_id == who.user.id
    return render(
        request,
        "patrol.html",
        p=detail,
        recorder=recorder,
        categories=await complaints.categories() if recorder else [],
    )


@page(bp, "POST", "/patrols/<patrol_id:int>/findings/<seq:int>/complaint", access=AUTHENTICATED)
async def escalate(request: Request, who: Principal, patrol_id: int, seq: int) -> HTTPResponse:
    body = form_model(request, api.EscalateIn, {"category": form_text(request, "category")})
    await service.escalate(
        patrol_id, seq, category=body.category, worker=who.user, actor=who.actor, wechat=request.app.ctx.wechat,
        cache=request.app.ctx.cache, media_url=lambda photo: checker_url(request, photo.id),
    )  # fmt: skip
    return see_other(f"{PREFIX}/patrols/{patrol_id}")
