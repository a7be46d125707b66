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
from notices import acknowledgement, content
from notices.errors import NoticeInvalid, NoticeStateConflict
from notices.models import Notice, NoticeAttachment, NoticeRevision
from notices.moderation import Outcome, check_text, decide
from notices.rules import (
    CATEGORIES,
    EDITABLE,
    PUBLISHABLE,
    Audience,
    Category,
    Scope,
    Status,
    check_window,
    live,
)
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
    requires_ack: bool = False,
) -> Notice:
    kind = category_of(category)
    require_poster(caller, where, kind)
    acknowledgement.check_allowed(where.scope, requires_ack)
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
            requires_ack=requires_ack,
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
            payload={
                "category": kind.value,
                "title": title,
                "audience": audience.value,
                "requires_ack": requires_ack,
            },
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
    requires_ack: bool | None = None,
) -> Notice:
    """A new revision. A live notice goes through content security again, keeping its place."""
    notice = await load(where, notice_id)
    require_manager(caller, where, notice)
    ack = notice.requires_ack if requires_ack is None else requires_ack
    acknowledgement.check_allowed(where.scope, ack)
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
            requires_ack=ack,
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
            payload={"revision": number, "title": title, "note": note, "requires_ack": ack},
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
    async with in_transaction():
        moved = await Notice.filter(id=notice.id, revision=notice.revision, status=notice.status).update(
            status=Status.CHECKING, publish_at=publish_at, expires_at=expires_at
        )
        if moved != 1:
            raise NoticeStateConflict("公告已被他人修改，请刷新后重试")
        # The images' verdicts are read under the notice's row lock, the one a verdict push takes
        # first (lifecycle.media_verdict): a verdict landing during the text check is seen here, or
        # finds the notice checking and settles it itself; it cannot fall between the two.
        images = await NoticeAttachment.filter(notice_id=notice.id).values_list("verdict", "verdict_label")
        outcome = decide(text, images)  # type: ignore[arg-type]
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
        # those it asks to acknowledge it, and their outbox rows, in this same transaction
        await acknowledgement.on_published(notice_id)
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


async def revise_system_notice(
    *,
    notice_id: int,
    compound_id: int,
    title: str,
    body_markdown: str,
    actor: audit.Actor,
    subject: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    cache: Cache | None = None,
) -> int:
    """Publish a new revision of a live system notice of ``compound_id`` at once (a life service's
    price changed: its entry on the board changes with it, the old text stays in the history), and
    return the revision number now live. Two revisions at once: each gets its own number."""
    for _ in range(8):
        notice = await Notice.get_or_none(
            id=notice_id, scope=Scope.COMPOUND, compound_id=compound_id, system=True
        )
        if notice is None or notice.status is not Status.PUBLISHED:
            raise NoticeStateConflict("只能修订已发布的系统公告", details={"notice_id": notice_id})
        number = notice.revision + 1
        now = clock.now()
        async with in_transaction():
            moved = await Notice.filter(id=notice.id, revision=notice.revision).update(
                revision=number,
                title=title[:100],
                summary=content.summary(body_markdown),
                data=data if data is not None else notice.data,
            )
            if moved != 1:
                continue
            revision = await _add_revision(notice, number, title[:100], body_markdown, data, note, None)
            await NoticeRevision.filter(id=revision.id).update(published_at=now)
            await audit.append(
                stream_of(Where(Scope.COMPOUND, compound_id)),
                "notice.revised",
                actor=actor,
                subject=f"notice:{notice.id}",
                payload={
                    "revision": number,
                    "title": title[:100],
                    "note": note,
                    "about": subject,
                    "system": True,
                },
            )
        await invalidate(cache, Where(Scope.COMPOUND, compound_id))
        return number
    raise NoticeStateConflict("公告正被同时修订，请稍后重试")


async def withdraw_system_notice(
    *,
    notice_id: int,
    compound_id: int,
    reason: str,
    actor: audit.Actor,
    subject: str,
    cache: Cache | None = None,
) -> bool:
    """Take a system notice of ``compound_id`` off the board for good (a life service whose provider
    lost its admission), the reason on record; False when it was already withdrawn or is not one.
    Nests as a savepoint inside the caller's transaction; the board cache is replaced on return."""
    async with in_transaction():
        moved = await Notice.filter(
            id=notice_id,
            scope=Scope.COMPOUND,
            compound_id=compound_id,
            system=True,
            status__not=Status.WITHDRAWN,
        ).update(status=Status.WITHDRAWN, withdrawn_at=clock.now(), withdraw_reason=reason[:200])
        if moved != 1:
            return False
        await audit.append(
            stream_of(Where(Scope.COMPOUND, compound_id)),
            "notice.withdrawn",
            actor=actor,
            subject=f"notice:{notice_id}",
            payload={"reason": reason[:200], "about": subject, "system": True},
        )
    await invalidate(cache, Where(Scope.COMPOUND, compound_id))
    return True


async def is_posted(*, compound_id: int, notice_id: int, category: str) -> bool:
    """Whether notice ``notice_id`` is live now on the board of ``compound_id`` in ``category``
    (payments bills a fee item only while its standard is posted, category fee_standard)."""
    notice = await Notice.get_or_none(
        id=notice_id, scope=Scope.COMPOUND, compound_id=compound_id, category=category
    ).only("id", "status", "publish_at", "expires_at")
    if notice is None:
        return False
    return live(notice.status, notice.publish_at, notice.expires_at, clock.now())


async def live_notice_ids(*, compound_id: int, category: str) -> list[int]:
    """The notices of ``category`` live now on the board of ``compound_id``, oldest first."""
    rows = await Notice.filter(scope=Scope.COMPOUND, compound_id=compound_id, category=category).order_by(
        "id"
    )
    now = clock.now()
    return [n.id for n in rows if live(n.status, n.publish_at, n.expires_at, now)]
