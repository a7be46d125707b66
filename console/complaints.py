"""The complaint queue (stage deadlines, overdue marks, filters and signed keyset pages on the server,
as the API's) and one
complaint with its history, photos and the steps the viewer may take now (accept, dispatch, start,
resolve with photos, reject, escalate). Access and services are those of
miniprogram_api.complaints_staff; the buttons follow the detail's allowed_actions."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from complaints import service
from complaints.models import Party
from complaints.rules import Action
from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_text,
    page,
    query_int,
    render,
    see_other,
)
from core.cache import hit
from core.errors import Invalid, RateLimited
from miniprogram_api import complaints_staff as api
from miniprogram_api.auth import AUTHENTICATED, Principal
from miniprogram_api.complaints import detail_out, photo_check
from miniprogram_api.photos import UPLOADS_PER_DAY
from photos import records

bp = Blueprint("console_complaints")
PAGE = 50
MAX_PHOTOS = 9

STATUS_NAMES = {
    "submitted": "待受理",
    "accepted": "已受理",
    "dispatched": "已派单",
    "in_progress": "处理中",
    "resolved": "已处理待确认",
    "confirmed": "已确认",
    "reopened": "重新打开",
    "closed": "已办结",
}
ACTION_NAMES = {
    "accept": "受理",
    "dispatch": "派单",
    "start": "开始处理",
    "resolve": "处理完毕",
    "reject": "不予受理",
    "escalate": "提请社区协调",
}
QUESTIONS = {
    "resolve": "确认已处理完毕？将通知投诉人确认。",
    "reject": "不予受理后投诉即办结，确定？",
    "escalate": "确定提请社区协调（吹哨）？",
    "dispatch": "确定派单？",
}


@page(bp, "GET", "/complaints", access=api.STAFF)
async def queue(request: Request, who: Principal) -> HTTPResponse:
    status = request.args.get("status") or None
    overdue = {"yes": True, "no": False}.get(request.args.get("overdue", ""))
    scope = f"complaints:{status or ''}:{request.args.get('overdue', '')}"
    query = form_model(
        request, api.QueuePageQuery,
        {"status": status, "overdue": overdue, "limit": query_int(request, "limit", PAGE, high=PAGE),
         "cursor": cursor_in(request, scope)},
    )  # fmt: skip
    if await request.app.ctx.cache.add("complaints:sweep", b"1", ttl=api.SWEEP_EVERY):
        await service.run_periodic()
    found = await service.queue_page(
        user_id=who.user.id,
        status=query.status,
        overdue=query.overdue,
        cursor=query.cursor,
        limit=query.limit,
    )
    return render(
        request,
        "complaints.html",
        complaints=found.items,
        next_cursor=cursor_out(request, found.next_cursor, scope),
        first=query.cursor is None,
        limit=query.limit,
        status=status or "",
        overdue=request.args.get("overdue", ""),
        STATUS_NAMES=STATUS_NAMES,
    )


@page(bp, "GET", "/complaints/<complaint_id:int>", access=AUTHENTICATED)
async def detail(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    complaint = await detail_out(request, complaint_id, who.user.id)
    return render(
        request,
        "complaint.html",
        c=complaint,
        actions=[
            (a, ACTION_NAMES[a], QUESTIONS.get(a, "")) for a in complaint.allowed_actions if a in ACTION_NAMES
        ],
        STATUS_NAMES=STATUS_NAMES,
    )


async def _photos(request: Request, who: Principal) -> list[int]:
    files = [f for f in (request.files.getlist("photos") if request.files else []) or [] if f.body]
    if len(files) > MAX_PHOTOS:
        raise Invalid(f"最多附 {MAX_PHOTOS} 张照片", code="too_many_photos")
    ids = []
    for file in files:
        decision = await hit(
            request.app.ctx.cache, f"photos:{who.user.id}", limit=UPLOADS_PER_DAY, window=86400
        )
        if not decision.allowed:
            raise RateLimited(
                "今天上传的图片太多了，请明天再试", details={"retry_after": decision.retry_after}
            )
        photo = await records.upload(request.app.ctx.photo_storage, bytes(file.body), uploader_id=who.user.id)
        ids.append(photo.id)
    return ids


async def _act(request: Request, who: Principal, complaint_id: int, step: service.Step) -> HTTPResponse:
    await service.act(
        complaint_id, step, user_id=who.user.id, actor=who.actor, photo_check=photo_check(request, who)
    )
    return see_other(f"{PREFIX}/complaints/{complaint_id}")


def _note(request: Request) -> api.NoteIn:
    return form_model(request, api.NoteIn, {"note": form_text(request, "note")})


@page(bp, "POST", "/complaints/<complaint_id:int>/accept", access=api.INTAKE)
async def accept(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    return await _act(request, who, complaint_id, service.Step(Action.ACCEPT, note=_note(request).note))


@page(bp, "POST", "/complaints/<complaint_id:int>/dispatch", access=api.COMMUNITY)
async def dispatch(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    party = form_text(request, "party") or None
    body = form_model(request, api.DispatchIn, {"party": party, "note": form_text(request, "note")})
    step = service.Step(Action.DISPATCH, note=body.note, party=Party(body.party) if body.party else None)
    return await _act(request, who, complaint_id, step)


@page(bp, "POST", "/complaints/<complaint_id:int>/start", access=api.ASSIGNEE)
async def start(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    note = _note(request).note
    return await _act(
        request,
        who,
        complaint_id,
        service.Step(Action.START, note=note, photo_ids=await _photos(request, who)),
    )


@page(bp, "POST", "/complaints/<complaint_id:int>/resolve", access=api.ASSIGNEE)
async def resolve(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    note = _note(request).note
    step = service.Step(Action.RESOLVE, note=note, photo_ids=await _photos(request, who))
    return await _act(request, who, complaint_id, step)


@page(bp, "POST", "/complaints/<complaint_id:int>/reject", access=api.COMMUNITY)
async def reject(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    return await _act(request, who, complaint_id, service.Step(Action.REJECT, note=_note(request).note))


@page(bp, "POST", "/complaints/<complaint_id:int>/escalate", access=api.WHISTLE)
async def escalate(request: Request, who: Principal, complaint_id: int) -> HTTPResponse:
    await service.escalate(complaint_id, user_id=who.user.id, actor=who.actor, note=_note(request).note)
    return see_other(f"{PREFIX}/complaints/{complaint_id}")
