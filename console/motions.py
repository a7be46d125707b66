"""Motions: create, announce, open, live turnout, paper and proxy entry (with the authorization
document shown), close, count, publish, finalise, cancel, archives. The same services and the same
Access objects as miniprogram_api.voting_admin."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console.committee import compound
from console.web import (
    PREFIX,
    cursor_in,
    cursor_out,
    form_model,
    form_moment,
    form_text,
    page,
    render,
    see_other,
)
from miniprogram_api import voting_admin as api
from miniprogram_api.auth import Principal
from miniprogram_api.voting import min_announce_days, motion_out
from voting import archive, ballots, counting, lifecycle, proxies, service
from voting.lifecycle import ItemDraft, MotionDraft
from voting.models import Channel, MotionStatus
from voting.rules import Choice, Matter

bp = Blueprint("console_motions")
BASE = "/compounds/<compound_id:int>/motions"
PROXIES_PAGE = 50

STATUS_NAMES = {
    "draft": "草稿",
    "announced": "已公告",
    "open": "投票中",
    "closed": "已截止",
    "counted": "已计票",
    "objection": "询异期",
    "final": "结果确定",
    "cancelled": "已取消",
}
CHOICE_NAMES = {Choice.AGREE: "同意", Choice.OPPOSE: "反对", Choice.ABSTAIN: "弃权"}
# (action, button, the question asked first, the status it is offered in)
STEPS = (
    ("announce", "公告", "公告后事项内容不能再修改，确定公告？", "draft"),
    ("open", "开始投票", "开始投票将冻结表决名单，确定开始？", "announced"),
    ("close", "截止投票", "截止后不能再投票，确定截止？", "open"),
    ("count", "计票", "计票将封存全部选票并计算结果，不能撤销。确定计票？", "closed"),
    ("publish", "公布结果", "公布后结果向全体业主公开并进入询异期，确定公布？", "counted"),
    ("finalize", "确定结果", "询异期满后结果确定，不能撤销。确定？", "objection"),
)
ACTIONS = {
    "announce": None,
    "open": lifecycle.open_voting,
    "close": lifecycle.close,
    "count": counting.count,
    "publish": lifecycle.publish,
    "finalize": lifecycle.finalize,
}


@page(bp, "GET", BASE, access=api.WATCHERS)
async def motions(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    status = request.args.get("status") or None
    scope = f"motions:{compound_id}:{status or ''}"
    query = form_model(
        request, api.CompoundMotionsQuery, {"status": status, "cursor": cursor_in(request, scope)}
    )
    listed = await service.motions_of_compound(
        compound_id, status=query.status, cursor=query.cursor, limit=query.limit
    )
    return render(
        request,
        "motions.html",
        compound=await compound(compound_id),
        motions=listed.items,
        next_cursor=cursor_out(request, listed.next_cursor, scope),
        status=status or "",
        STATUS_NAMES=STATUS_NAMES,
        matters=[(m.value, f"（{m.item}）{m.label}") for m in Matter],
        may_manage=bool(who.roles & api.MANAGERS.allowed),
        shortest=min_announce_days(request),
    )


@page(bp, "POST", BASE, access=api.MANAGERS)
async def create(request: Request, who: Principal, compound_id: int) -> HTTPResponse:
    items = []
    for n in range(1, 4):
        title = form_text(request, f"item{n}_title")
        if title:
            items.append({"title": title, "matter": form_text(request, f"item{n}_matter")})
    announce = form_text(request, "announce_days")
    body = form_model(
        request,
        api.MotionIn,
        {
            "title": form_text(request, "title"),
            "text": form_text(request, "text"),
            "items": items,
            "opens_at": form_moment(request, "opens_at"),
            "closes_at": form_moment(request, "closes_at"),
            "announce_days": int(announce)
            if announce.isdigit() and len(announce) < 4
            else (announce or None),
            "secret": form_text(request, "secret") == "yes",
            "allow_change": form_text(request, "allow_change", "yes") == "yes",
        },
    )
    shortest = min_announce_days(request)
    draft = MotionDraft(
        title=body.title, text=body.text, opens_at=body.opens_at, closes_at=body.closes_at,
        items=[ItemDraft(i.title, i.matter, i.seats, i.candidates) for i in body.items],
        scope_buildings=body.scope_buildings, allow_change=body.allow_change, secret=body.secret,
        announce_days=shortest if body.announce_days is None else body.announce_days,
        objection_days=body.objection_days, max_extension_days=body.max_extension_days,
        attachments=body.attachments,
    )  # fmt: skip
    motion = await lifecycle.create(who.actor, compound_id, who.user.id, draft, min_announce_days=shortest)
    return see_other(f"{PREFIX}/compounds/{compound_id}/motions/{motion.id}")


async def _roll(motion: Any) -> list[dict[str, Any]]:
    return await service.public_roll(motion) if motion.roll_hash is not None else []


@page(bp, "GET", BASE + "/<motion_id:int>", access=api.WATCHERS)
async def detail(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
    motion = await lifecycle.get_motion(motion_id, compound_id)
    manage = bool(who.roles & api.MANAGERS.allowed)
    proxy_items, proxies_next = [], None
    if manage and motion.roll_hash is not None:
        scope = f"motion-proxies:{motion.id}"
        page_ = await proxies.proxies_of_motion(
            motion, cursor=cursor_in(request, scope, "proxies_cursor"), limit=PROXIES_PAGE
        )
        proxy_items = [api._proxy_out(request, p, who.user.id) for p in page_.items]
        proxies_next = cursor_out(request, page_.next_cursor, scope)
    return render(
        request,
        "motion.html",
        compound=await compound(compound_id),
        motion=await motion_out(motion),
        result=motion.result
        if motion.status in (MotionStatus.COUNTED, MotionStatus.OBJECTION, MotionStatus.FINAL)
        else None,
        turnout=await service.turnout(motion) if motion.roll_hash is not None else None,
        roll=await _roll(motion) if manage and motion.status is MotionStatus.OPEN else [],
        proxies=proxy_items,
        proxies_next=proxies_next,
        steps=[s for s in STEPS if s[3] == motion.status.value] if manage else [],
        may_manage=manage,
        STATUS_NAMES=STATUS_NAMES,
        CHOICES=list(CHOICE_NAMES.items()),
        MATTERS={m.value: m.label for m in Matter},
    )


@page(bp, "GET", BASE + "/<motion_id:int>/turnout.json", access=api.WATCHERS)
async def turnout(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
    return json(await service.turnout(await lifecycle.get_motion(motion_id, compound_id)))


def _step_route(action: str) -> None:
    @page(bp, "POST", BASE + f"/<motion_id:int>/{action}", access=api.MANAGERS, name=f"motion_{action}")
    async def step(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
        motion = await lifecycle.get_motion(motion_id, compound_id)
        if action == "announce":
            await lifecycle.announce(who.actor, motion, min_announce_days=min_announce_days(request))
        else:
            await ACTIONS[action](who.actor, motion)  # type: ignore[misc]
        return see_other(f"{PREFIX}/compounds/{compound_id}/motions/{motion_id}")


for _action in ACTIONS:
    _step_route(_action)


@page(bp, "POST", BASE + "/<motion_id:int>/cancel", access=api.MANAGERS)
async def cancel(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
    body = form_model(request, api.CancelIn, {"reason": form_text(request, "reason")})
    await lifecycle.cancel(who.actor, await lifecycle.get_motion(motion_id, compound_id), body.reason)
    return see_other(f"{PREFIX}/compounds/{compound_id}/motions/{motion_id}")


@page(bp, "POST", BASE + "/<motion_id:int>/paper-ballots", access=api.MANAGERS)
async def paper(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
    motion = await lifecycle.get_motion(motion_id, compound_id)
    voter = form_text(request, "voter_id")
    detail_ = await motion_out(motion)
    choices = {str(i.id): form_text(request, f"choice_{i.id}") for i in detail_.items if i.seats is None}
    body = form_model(
        request,
        api.PaperIn,
        {"voter_id": int(voter) if voter.isdigit() and len(voter) < 11 else voter, "choices": choices,
         "scan_ref": form_text(request, "scan_ref")},
    )  # fmt: skip
    receipt = await ballots.cast(
        motion,
        who.user.id,
        body.choices,
        channel=Channel.PAPER,
        for_voter=body.voter_id,
        scan_ref=body.scan_ref,
    )
    return render(
        request, "receipt.html", compound=await compound(compound_id), motion=detail_, receipt=receipt
    )


@page(bp, "POST", BASE + "/<motion_id:int>/proxies/<proxy_id:int>/decision", access=api.MANAGERS)
async def decide_proxy(
    request: Request, who: Principal, compound_id: int, motion_id: int, proxy_id: int
) -> HTTPResponse:
    motion = await lifecycle.get_motion(motion_id, compound_id)
    body = form_model(request, api.DecisionIn, {"approve": form_text(request, "approve") == "yes"})
    await service.decide_proxy(motion, proxy_id, body.approve, who.actor, who.user.id)
    return see_other(f"{PREFIX}/compounds/{compound_id}/motions/{motion_id}#proxies")


@page(bp, "GET", BASE + "/<motion_id:int>/archive.csv", access=api.WATCHERS)
async def archive_csv(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
    data = await archive.csv_bytes(await lifecycle.get_motion(motion_id, compound_id))
    return HTTPResponse(
        data,
        content_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="motion-{motion_id}.csv"'},
    )


@page(bp, "GET", BASE + "/<motion_id:int>/archive.xlsx", access=api.WATCHERS)
async def archive_xlsx(request: Request, who: Principal, compound_id: int, motion_id: int) -> HTTPResponse:
    data = await archive.xlsx_bytes(await lifecycle.get_motion(motion_id, compound_id))
    return HTTPResponse(
        data,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="motion-{motion_id}.xlsx"'},
    )
