"""Use cases of the notice board: draft, edit (a new revision), publish through content security,
schedule and expire, pin, withdraw with a reason, a person's review; and ``post_system_notice`` for
other features (voting posts motions and results through it). Every change is audit-logged inside
its transaction, and every change to what a board shows replaces the board's cache token after commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from audit import service as audit
from core import clock
from core.cache import Cache
from notices import content
from notices.errors import NoticeInvalid, NoticeStateConflict
from notices.models import Notice, NoticeAttachment, NoticeRevision
from notices.moderation import Outcome, check_text, decide
from notices.rules import CATEGORIES, EDITABLE, PUBLISHABLE, Audience, Category, Scope, Status, check_window
from notices.scoping import (
    Caller,
    Where,
    category_of,
    invalidate,
    load,
    poster_role,
    require_manager,
    require_poster,
    speaker,
    stream_of,
    where_of,
)
from wechat import WeChatApi

BACKDATE_TOLERANCE = timedelta(minutes=5)


async def create(
    caller: Caller,
    where: Where,
    *,
    category: str,
    title: str,
    body_markdown: str,
    audience: Audience = Audience.EVERYONE,
    pinned: bool = False,
    data: dict[str, Any] | None = None,
) -> Notice:
    kind = category_of(category)
    require_poster(caller, where, kind)
    if CATEGORIES[kind].structured and data is None:
        raise NoticeInvalid("该类别须以结构化公示提交", code="category_structured")
    publisher = await speaker(caller, where, kind)
    async with in_transaction():
        notice = await Notice.create(
            scope=where.scope,
            compound_id=where.scope_id if where.scope is Scope.COMPOUND else None,
            community_id=where.scope_id if where.scope is Scope.COMMUNITY else None,
            category=kind.value,
            audience=audience,
            pinned=pinned,
            title=title,
            summary=content.summary(body_markdown),
            publisher=publisher,
            poster_role=poster_role(caller, where, kind).value,
            author_id=caller.user_id,
            data=data,
        )
        await _add_revision(notice, 1, title, body_markdown, data, "", caller)
        await audit.append(
            stream_of(where),
            "notice.created",
            actor=caller.actor,
            subject=f"notice:{notice.id}",
            payload={"category": kind.value, "title": title, "audience": audience.value},
        )
    return notice


async def _add_revision(
    notice: Notice, number: int, title: str, body: str, data: Any, note: str, caller: Caller | None
) -> NoticeRevision:
    return await NoticeRevision.create(
        notice=notice,
        number=number,
        title=title,
        body_markdown=body,
        body_html=content.render(body),
        data=data,
        note=note,
        editor_id=caller.user_id if caller else None,
        editor_name=caller.actor.name if caller else audit.SYSTEM.name,
    )


async def edit(
    cache: Cache | None,
    wechat: WeChatApi,
    caller: Caller,
    where: Where,
    notice_id: int,
    *,
    title: str,
    body_markdown: str,
    note: str = "",
    audience: Audience | None = None,
    data: dict[str, Any] | None = None,
) -> Notice:
    """A new revision. A live notice goes through content security again, keeping its place."""
    notice = await load(where, notice_id)
    require_manager(caller, where, notice)
    if notice.status not in EDITABLE:
        raise NoticeStateConflict("已撤回的公告不能修改")
    was_published = notice.status is Status.PUBLISHED
    number = notice.revision + 1
    async with in_transaction():
        updated = await Notice.filter(id=notice.id, revision=notice.revision).update(
            revision=number,
            title=title,
            summary=content.summary(body_markdown),
            audience=audience or notice.audience,
            data=data if data is not None else notice.data,
            status=Status.DRAFT,
        )
        if updated != 1:
            raise NoticeStateConflict("公告已被他人修改，请刷新后重试")
        await _add_revision(notice, number, title, body_markdown, data or notice.data, note, caller)
        await audit.append(
            stream_of(where),
            "notice.revised",
            actor=caller.actor,
            subject=f"notice:{notice.id}",
            payload={"revision": number, "title": title, "note": note},
        )
    if was_published:
        await invalidate(cache, where)
        return await publish(
            cache,
            wechat,
            caller,
            where,
            notice.id,
            publish_at=notice.publish_at,
            expires_at=notice.expires_at,
        )
    return await load(where, notice.id)


async def publish(
    cache: Cache | None,
    wechat: WeChatApi,
    caller: Caller,
    where: Where,
    notice_id: int,
    *,
    publish_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Notice:
    """Check the text (and the images' verdicts) and publish now, at ``publish_at``, or hold."""
    notice = await load(where, notice_id)
    require_manager(caller, where, notice)
    if notice.status not in PUBLISHABLE:
        raise NoticeStateConflict(details={"status": notice.status.value})
    now = clock.now()
    if publish_at is not None and publish_at < now - BACKDATE_TOLERANCE and notice.publish_at != publish_at:
        raise NoticeInvalid("发布时间不能早于当前时间", code="publish_in_past")
    problem = check_window(max(publish_at or now, now), expires_at)
    if problem:
        raise NoticeInvalid(problem, code="window_invalid")
    revision = await NoticeRevision.get(notice_id=notice.id, number=notice.revision)
    text = await check_text(wechat, openid=caller.openid, title=revision.title, body=revision.body_markdown)
    images = await NoticeAttachment.filter(notice_id=notice.id).values_list("verdict", "verdict_label")
    outcome = decide(text, images)  # type: ignore[arg-type]
    async with in_transaction():
        moved = await Notice.filter(id=notice.id, revision=notice.revision, status=notice.status).update(
            status=Status.CHECKING, publish_at=publish_at, expires_at=expires_at
        )
        if moved != 1:
            raise NoticeStateConflict("公告已被他人修改，请刷新后重试")
        await settle(notice.id, notice.revision, Status.CHECKING, outcome, caller.actor)
    await invalidate(cache, where)
    return await load(where, notice.id)


async def settle(
    notice_id: int, revision: int, expected: Status, outcome: Outcome, actor: audit.Actor
) -> bool:
    """Move a notice waiting in ``expected`` to the outcome; False when it had moved on meanwhile.
    Called inside the caller's transaction."""
    notice = await Notice.get(id=notice_id)
    if notice.status is not expected or notice.revision != revision:
        return False
    now = clock.now()
    fields: dict[str, Any] = {
        "status": outcome.status,
        "hold_reason": outcome.reason,
        "hold_label": outcome.label,
    }
    if outcome.status is Status.PUBLISHED:
        fields["publish_at"] = notice.publish_at or now
        fields["hold_reason"] = fields["hold_label"] = None
    moved = await Notice.filter(id=notice_id, status=expected, revision=revision).update(**fields)
    if moved != 1:
        return False
    if outcome.status is Status.PUBLISHED:
        await NoticeRevision.filter(notice_id=notice_id, number=revision).update(published_at=now)
    action = {
        Status.PUBLISHED: "notice.published",
        Status.CHECKING: "notice.awaiting_media_check",
        Status.REVIEW: "notice.awaiting_review",
        Status.HELD: "notice.held",
    }[outcome.status]
    payload = {"revision": revision, "reason": outcome.reason, "label": outcome.label}
    if outcome.status is Status.PUBLISHED:
        payload["publish_at"] = clock.iso_utc(fields["publish_at"])
    await audit.append(
        stream_of(where_of(notice)), action, actor=actor, subject=f"notice:{notice_id}", payload=payload
    )
    return True


SYSTEM_PUBLISHERS = {
    Category.MOTION: "业主大会",
    Category.VOTE_RESULT: "业主大会",
    Category.FUND_USE: "维修资金管理",
}


async def post_system_notice(
    *,
    compound_id: int,
    category: str,
    title: str,
    body_markdown: str,
    actor: audit.Actor,
    subject: str,
    audience: str = "everyone",
    data: dict[str, Any] | None = None,
    cache: Cache | None = None,
) -> int:
    """Post trusted system content (a motion announced, a vote result, fund use after completion) to
    a compound's board, published at once, and return the notice id.

    ``subject`` names what it is about ("motion:12") and goes into the audit event with the notice.
    No content-security round trip: the text is generated by the product, not typed by a person.
    Call it after your own transaction has committed (or inside it: it nests as a savepoint, and the
    board cache is replaced when it returns). Pass ``cache=request.app.ctx.cache`` if you have it;
    otherwise the app's cache registered at server start is used.
    """
    kind = category_of(category)
    try:
        seen_by = Audience(audience)
    except ValueError as exc:
        raise NoticeInvalid("未知的公告对象", code="audience_unknown") from exc
    where = Where(Scope.COMPOUND, compound_id)
    now = clock.now()
    async with in_transaction():
        notice = await Notice.create(
            scope=Scope.COMPOUND,
            compound_id=compound_id,
            category=kind.value,
            audience=seen_by,
            title=title[:100],
            summary=content.summary(body_markdown),
            publisher=SYSTEM_PUBLISHERS.get(kind, CATEGORIES[kind].label),
            system=True,
            status=Status.PUBLISHED,
            publish_at=now,
            data=data,
        )
        revision = await _add_revision(notice, 1, title[:100], body_markdown, data, "", None)
        await NoticeRevision.filter(id=revision.id).update(published_at=now)
        await audit.append(
            stream_of(where),
            "notice.published",
            actor=actor,
            subject=f"notice:{notice.id}",
            payload={"category": kind.value, "title": title[:100], "about": subject, "system": True},
        )
    await invalidate(cache, where)
    return notice.id
