"""After publication: pin, withdraw with a reason, a person's decision on content WeChat marked for
review, the images' verdicts arriving by push; and the publisher's views (all notices with their
state, read counts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Ownership, Resident
from accounts.roles import Role
from audit import service as audit
from core import clock, pages
from core.cache import Cache
from notices import acknowledgement
from notices.errors import AttachmentNotFound, CategoryNotAllowed, NoticeInvalid, NoticeStateConflict
from notices.models import Disclosure, MediaVerdict, Notice, NoticeAttachment, NoticeRevision
from notices.moderation import Outcome, decide, reason_for
from notices.rules import REVIEWERS, Audience, Scope, Status, public_state
from notices.scoping import Caller, Where, invalidate, load, require_manager, stream_of, where_of
from notices.service import settle


async def set_pinned(
    cache: Cache | None, caller: Caller, where: Where, notice_id: int, pinned: bool
) -> Notice:
    notice = await load(where, notice_id)
    require_manager(caller, where, notice)
    async with in_transaction():
        await Notice.filter(id=notice.id).update(pinned=pinned)
        await audit.append(
            stream_of(where),
            "notice.pinned" if pinned else "notice.unpinned",
            actor=caller.actor,
            subject=f"notice:{notice.id}",
        )
    await invalidate(cache, where)
    return await load(where, notice.id)


async def withdraw(cache: Cache | None, caller: Caller, where: Where, notice_id: int, reason: str) -> Notice:
    """Off the board for good, with the reason on record. The community may also withdraw a
    compound notice (task 8: it revokes unlawful committee decisions and tells the owners)."""
    notice = await load(where, notice_id)
    if Role.COMMUNITY_ADMIN not in caller.roles or where.scope is not Scope.COMPOUND:
        require_manager(caller, where, notice)
    if not reason.strip():
        raise NoticeInvalid("请填写撤回原因", code="reason_required")
    async with in_transaction():
        moved = await Notice.filter(id=notice.id, status__not=Status.WITHDRAWN).update(
            status=Status.WITHDRAWN, withdrawn_at=clock.now(), withdraw_reason=reason
        )
        if moved != 1:
            raise NoticeStateConflict("公告已撤回")
        # A withdrawn disclosure no longer stands for its period: a new one may be posted for it
        await Disclosure.filter(notice_id=notice.id).update(period_key=None)
        # Nobody is asked any more to acknowledge it (a scheduled one tells nobody at all)
        await acknowledgement.withdrawn(notice.id)
        await audit.append(
            stream_of(where),
            "notice.withdrawn",
            actor=caller.actor,
            subject=f"notice:{notice.id}",
            payload={"reason": reason, "was": notice.status.value},
        )
    await invalidate(cache, where)
    return await load(where, notice.id)


async def review(
    cache: Cache | None, caller: Caller, where: Where, notice_id: int, *, approve: bool, reason: str = ""
) -> Notice:
    """A person's decision on content WeChat could not decide on."""
    if REVIEWERS.isdisjoint(caller.roles):
        raise CategoryNotAllowed("只有社区或主管部门可以审核公告", code="review_not_allowed")
    notice = await load(where, notice_id)
    if notice.status is not Status.REVIEW:
        raise NoticeStateConflict("该公告不在待人工审核状态")
    images = await NoticeAttachment.filter(notice_id=notice.id).values_list("verdict", "verdict_label")
    if approve:
        # The reviewer decides on what WeChat doubted; an image still being checked keeps it waiting.
        outcome = decide(("pass", 100), [(v, lab) for v, lab in images if v is not MediaVerdict.REVIEW])  # type: ignore[misc]
    else:
        outcome = Outcome(
            Status.HELD, f"人工审核未通过：{reason or notice.hold_reason or ''}", notice.hold_label
        )
    async with in_transaction():
        if not await settle(notice.id, notice.revision, Status.REVIEW, outcome, caller.actor):
            raise NoticeStateConflict("公告已被他人处理，请刷新后重试")
        await audit.append(
            stream_of(where),
            "notice.reviewed",
            actor=caller.actor,
            subject=f"notice:{notice.id}",
            payload={"approved": approve, "reason": reason},
        )
    await invalidate(cache, where)
    return await load(where, notice.id)


async def media_verdict(cache: Cache | None, *, trace_id: str, suggest: str, label: int) -> bool | None:
    """WeChat's push for one image (event wxa_media_check), applied only to an image of ours still
    waiting for its verdict: True applied; False the image had its verdict already (nothing changed);
    None no such check (another feature's media, or the attachment was removed)."""
    attachment = await NoticeAttachment.get_or_none(trace_id=trace_id) if trace_id else None
    if attachment is None:
        return None
    verdict = {"pass": MediaVerdict.PASS, "risky": MediaVerdict.RISKY}.get(suggest, MediaVerdict.REVIEW)
    async with in_transaction():
        # The notice's row lock first, as publish takes it (service.publish): a verdict and a publish
        # of the same notice are applied one after the other, each seeing what the other wrote.
        notice = await Notice.filter(id=attachment.notice_id).select_for_update().get()  # type: ignore[attr-defined]
        where = where_of(notice)
        # Conditional: a replayed or second verdict for the same check finds it decided
        applied = await NoticeAttachment.filter(
            id=attachment.id, trace_id=trace_id, verdict=MediaVerdict.PENDING
        ).update(verdict=verdict, verdict_label=label)
        if not applied:
            return False
        await audit.append(
            stream_of(where),
            "notice.media_checked",
            actor=audit.SYSTEM,
            subject=f"notice:{notice.id}",
            payload={"attachment": attachment.id, "suggest": verdict.value, "label": label},
        )
        if notice.status is Status.CHECKING:
            images = await NoticeAttachment.filter(notice_id=notice.id).values_list(
                "verdict", "verdict_label"
            )
            outcome = decide(("pass", 100), images)  # type: ignore[arg-type]
            if outcome.status is not Status.CHECKING:
                await settle(notice.id, notice.revision, Status.CHECKING, outcome, audit.SYSTEM)
        elif notice.status is Status.PUBLISHED and verdict is MediaVerdict.RISKY:
            # A late verdict against an image already public: take the notice down and say why.
            await Notice.filter(id=notice.id).update(
                status=Status.HELD, hold_reason=reason_for(label, "图片"), hold_label=label
            )
            await audit.append(
                stream_of(where), "notice.held", actor=audit.SYSTEM, subject=f"notice:{notice.id}",
                payload={"reason": reason_for(label, "图片"), "label": label},
            )  # fmt: skip
    await invalidate(cache, where)
    return True


def _managed(where: Where, status: str | None) -> Any:
    query = Notice.filter(scope=where.scope)
    if where.scope is Scope.COMPOUND:
        query = query.filter(compound_id=where.scope_id)
    elif where.scope is Scope.COMMUNITY:
        query = query.filter(community_id=where.scope_id)
    if status:
        query = query.filter(status=status)
    return query


async def manage_page(
    where: Where, *, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> pages.Page[dict[str, Any]]:
    """The notices of the scope as keyset pages, newest first (the publisher's view)."""
    query = _managed(where, status)
    before = pages.before(cursor)
    if before is not None:
        query = query.filter(id__lt=before)
    found = pages.page(await query.order_by("-id").limit(limit + 1), limit, key=lambda n: n.id)
    now = clock.now()
    return pages.Page([_managed_row(n, now) for n in found.items], found.next_cursor)


async def manage_row(where: Where, notice_id: int) -> dict[str, Any]:
    """One notice of the scope as the publisher's list shows it. The clock is read after the row: a
    verdict published between the two would otherwise show as scheduled in the future."""
    notice = await load(where, notice_id)
    return _managed_row(notice, clock.now())


def _managed_row(n: Notice, now: datetime) -> dict[str, Any]:
    return {
        "id": n.id,
        "category": n.category,
        "title": n.title,
        "status": n.status.value,
        "state": public_state(n.status, n.publish_at, n.expires_at, now),
        "audience": n.audience.value,
        "pinned": n.pinned,
        "revision": n.revision,
        "publish_at": n.publish_at,
        "expires_at": n.expires_at,
        "hold_reason": n.hold_reason,
        "withdraw_reason": n.withdraw_reason,
        "read_count": n.read_count,
        "system": n.system,
        "requires_ack": n.requires_ack,
    }


async def manage_detail(where: Where, notice_id: int) -> dict[str, Any]:
    """The latest revision's source for the editor, with the attachments and their verdicts."""
    notice = await load(where, notice_id)
    revision = await NoticeRevision.get(notice_id=notice.id, number=notice.revision)
    row = _managed_row(notice, clock.now())
    attachments = await NoticeAttachment.filter(notice_id=notice.id).order_by("id")
    return row | {
        "body_markdown": revision.body_markdown,
        "body_html": revision.body_html,
        "data": notice.data,
        "attachments": [
            {"id": a.id, "kind": a.kind.value, "name": a.name, "verdict": a.verdict.value}
            for a in attachments
        ],
    }


async def read_report(where: Where, notice_id: int) -> dict[str, Any]:
    """How many have read it, out of how many it is for (accounts with a unit in the compound)."""
    notice = await load(where, notice_id)
    audience: int | None = None
    if where.scope is Scope.COMPOUND:
        owners = set(
            await Ownership.filter(
                unit__compound_id=where.scope_id, owner__user_id__not_isnull=True
            ).values_list("owner__user_id", flat=True)
        )
        if notice.audience is Audience.EVERYONE:
            owners |= set(
                await Resident.filter(unit__compound_id=where.scope_id).values_list("user_id", flat=True)
            )
        audience = len(owners)
    return {"notice_id": notice.id, "read_count": notice.read_count, "audience_size": audience}


async def attachment_of(where: Where, notice_id: int, attachment_id: int) -> NoticeAttachment:
    notice = await load(where, notice_id)
    attachment = await NoticeAttachment.get_or_none(id=attachment_id, notice_id=notice.id)
    if attachment is None:
        raise AttachmentNotFound()
    return attachment
