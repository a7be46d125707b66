"""Use of the fund (维修资金使用): proposal → owners' vote → works → payout → disclosure.

An ordinary application creates a matter-5 motion (use of the maintenance fund) in voting/ whose
roll is exactly the units sharing the cost; the application proceeds only if that motion's final
result passed it (art. 278 as voting counts it); a failed or cancelled vote rejects it for good. An
emergency on the plan's list is applied for directly by the committee (or the community where the
compound has no committee) and needs no vote; it is disclosed once paid. The fund office approves
the payout: the deduction entries are written and the use posted to the board in one transaction,
and no unit's balance may go negative (checked under the chain's lock, and shown before the vote).

    voting ──(vote passed)──→ approved ──(works done)──→ completed ──(office)──→ paid
       └──(failed)──→ rejected            emergency: approved at once
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from accounts.models import Building, Committee, Unit
from audit import service as audit
from audit.service import Actor
from core import clock, pages
from fund import disclosure, errors, ledger
from fund import payments as deposits
from fund.models import SubAccount, UseApplication
from fund.rules import (
    EMERGENCY_NAMES,
    ApplicationKind,
    ApplicationStatus,
    EmergencyCategory,
    EntryKind,
    Share,
    shortfalls,
    split_cost,
    yuan,
)
from fund.subaccounts import compound_stream
from voting import lifecycle as motions
from voting.lifecycle import ItemDraft, MotionDraft
from voting.models import MotionStatus
from voting.rules import Matter

S = ApplicationStatus
MAX_BUDGET_FEN = 10**11  # 10 亿元


@dataclass(frozen=True, slots=True)
class Scope:
    """Who shares the cost: buildings and/or single units of the compound; neither: all of it."""

    buildings: list[int]
    units: list[int]

    def to_dict(self) -> dict[str, list[int]]:
        return {"buildings": sorted(set(self.buildings)), "units": sorted(set(self.units))}


@dataclass(frozen=True, slots=True)
class Preview:
    accounts: list[SubAccount]
    shares: list[Share]
    balances: dict[int, int]  # by unit id
    short: list[dict[str, int]]

    def rows(self) -> list[dict[str, Any]]:
        by_unit = {a.unit_id: a for a in self.accounts}
        return [
            {
                "unit_id": s.unit_id,
                "room": by_unit[s.unit_id].room,
                "area": str(s.area),
                "share_fen": s.share_fen,
                "balance_fen": self.balances.get(s.unit_id, 0),
            }
            for s in self.shares
        ]


async def sharing_accounts(compound_id: int, scope: Scope) -> list[SubAccount]:
    """The sub-accounts of the units in scope; every named building or unit must be the compound's
    and every unit in scope must have a sub-account (otherwise its share would fall on no one)."""
    if scope.buildings:
        found = await Building.filter(compound_id=compound_id, id__in=scope.buildings).count()
        if found != len(set(scope.buildings)):
            raise errors.ScopeInvalid("分摊范围中有不属于本小区的楼栋")
    if scope.units:
        found = await Unit.filter(compound_id=compound_id, id__in=scope.units).count()
        if found != len(set(scope.units)):
            raise errors.ScopeInvalid("分摊范围中有不属于本小区的房屋")
    units = Unit.filter(compound_id=compound_id)
    if scope.buildings or scope.units:
        ids = set(scope.units) | set(
            await Unit.filter(building_id__in=scope.buildings).values_list("id", flat=True)
        )
        units = units.filter(id__in=list(ids))
    unit_ids = list(await units.values_list("id", flat=True))
    accounts = await SubAccount.filter(unit_id__in=unit_ids).order_by("unit_id")
    if not accounts or len(accounts) != len(unit_ids):
        missing = sorted(set(unit_ids) - {a.unit_id for a in accounts})
        raise errors.ScopeInvalid(details={"units_without_account": missing[:50]})
    return accounts


async def preview(compound_id: int, scope: Scope, total_fen: int) -> Preview:
    """The cost split by area with each unit's balance, and those it would make negative."""
    if not 0 < total_fen <= MAX_BUDGET_FEN:
        raise errors.FundAmountInvalid("预算须大于零")
    accounts = await sharing_accounts(compound_id, scope)
    shares = split_cost(total_fen, [(a.unit_id, Decimal(a.area)) for a in accounts])
    by_account = await ledger.balances_of([a.id for a in accounts])
    balances = {a.unit_id: by_account[a.id] for a in accounts}
    return Preview(accounts, shares, balances, shortfalls(shares, balances))


def _refuse_short(found: Preview) -> None:
    if found.short:
        rooms = {a.unit_id: a.room for a in found.accounts}
        listed = "、".join(rooms[s["unit_id"]] for s in found.short[:10])
        raise errors.BalanceShort(
            f"以下房屋维修资金余额不足以承担分摊金额，须先续交：{listed}",
            details={"units": [{**s, "room": rooms[s["unit_id"]]} for s in found.short[:200]]},
        )


def _split_markdown(found: Preview) -> str:
    lines = ["| 房屋 | 面积（㎡） | 分摊（元） | 余额（元） |", "|---|---|---|---|"]
    lines += [
        f"| {r['room']} | {r['area']} | {yuan(r['share_fen'])} | {yuan(r['balance_fen'])} |"
        for r in found.rows()
    ]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Proposal:
    title: str
    works: str
    budget_fen: int
    scope: Scope


async def apply_ordinary(
    actor: Actor,
    *,
    compound_id: int,
    user_id: int,
    proposal: Proposal,
    opens_at: datetime,
    closes_at: datetime,
    min_announce_days: int,
    announce_days: int | None = None,
) -> UseApplication:
    """The application and its draft matter-5 motion over exactly the sharing units."""
    found = await preview(compound_id, proposal.scope, proposal.budget_fen)
    _refuse_short(found)
    text = (
        f"{proposal.works}\n\n预算 {yuan(proposal.budget_fen)} 元，由下列房屋按面积分摊"
        f"（舍去不足一分的部分后，余下的分依次计入舍去部分最大的房屋）：\n\n{_split_markdown(found)}"
    )
    draft = MotionDraft(
        title=proposal.title[:100],
        text=text,
        items=[
            ItemDraft(title=f"同意使用维修资金：{proposal.title}"[:200], matter=Matter.USE_MAINTENANCE_FUND)
        ],
        opens_at=opens_at,
        closes_at=closes_at,
        scope_units=[a.unit_id for a in found.accounts],
        announce_days=min_announce_days if announce_days is None else announce_days,
    )
    async with in_transaction():
        motion = await motions.create(actor, compound_id, user_id, draft, min_announce_days=min_announce_days)
        application = await UseApplication.create(
            compound_id=compound_id,
            kind=ApplicationKind.ORDINARY,
            title=proposal.title,
            works=proposal.works,
            budget_fen=proposal.budget_fen,
            scope=proposal.scope.to_dict(),
            shares=found.rows(),
            status=S.VOTING,
            motion_id=motion.id,
            applicant_id=user_id,
            applicant_role="committee",
        )
        await _audit(
            actor, application, "applied", {"motion_id": motion.id, "budget_fen": proposal.budget_fen}
        )
    return application


async def has_committee(compound_id: int, on: date) -> bool:
    return await Committee.exists(compound_id=compound_id, term_starts_on__lte=on, term_ends_on__gte=on)


async def apply_emergency(
    actor: Actor,
    *,
    compound_id: int,
    user_id: int,
    proposal: Proposal,
    category: EmergencyCategory,
    as_committee: bool,
) -> UseApplication:
    """An emergency on the plan's list: no vote; the committee applies, or the community where the
    compound has no committee."""
    if not as_committee and await has_committee(compound_id, clock.to_local(clock.now()).date()):
        raise errors.EmergencyApplicant()
    found = await preview(compound_id, proposal.scope, proposal.budget_fen)
    _refuse_short(found)
    async with in_transaction():
        application = await UseApplication.create(
            compound_id=compound_id,
            kind=ApplicationKind.EMERGENCY,
            emergency=category,
            title=proposal.title,
            works=proposal.works,
            budget_fen=proposal.budget_fen,
            scope=proposal.scope.to_dict(),
            shares=found.rows(),
            status=S.APPROVED,
            applicant_id=user_id,
            applicant_role="committee" if as_committee else "community_admin",
        )
        await _audit(
            actor, application, "applied", {"emergency": category.value, "budget_fen": proposal.budget_fen}
        )
    return application


async def get(application_id: int, compound_id: int | None = None) -> UseApplication:
    query = UseApplication.filter(id=application_id)
    if compound_id is not None:
        query = query.filter(compound_id=compound_id)
    found = await query.first()
    if found is None:
        raise errors.ApplicationNotFound()
    return found


async def listing(
    compound_id: int | None, *, status: ApplicationStatus | None, cursor: str | None, limit: int
) -> pages.Page[UseApplication]:
    before = pages.before(cursor)
    query = UseApplication.all() if compound_id is None else UseApplication.filter(compound_id=compound_id)
    if status is not None:
        query = query.filter(status=status)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda a: a.id)


async def _move(
    application: UseApplication, source: ApplicationStatus, target: ApplicationStatus, **changes: Any
) -> None:
    moved = await UseApplication.filter(id=application.id, status=source).update(status=target, **changes)
    if not moved:
        current = await UseApplication.get(id=application.id)
        raise errors.ApplicationState(details={"status": current.status.value, "wanted": target.value})


async def _audit(actor: Actor, application: UseApplication, what: str, payload: dict[str, Any]) -> None:
    await audit.append(
        compound_stream(application.compound_id),
        f"fund.application_{what}",
        actor=actor,
        subject=f"application:{application.id}",
        payload=payload,
    )


async def record_vote(actor: Actor, application: UseApplication) -> UseApplication:
    """Take the motion's final result: passed → approved, failed or cancelled → rejected. Before the
    result is final (objection period over) nothing moves."""
    if application.status is not S.VOTING or application.motion_id is None:
        raise errors.ApplicationState(details={"status": application.status.value})
    motion = await motions.get_motion(application.motion_id, application.compound_id)
    summary: dict[str, Any]
    if motion.status is MotionStatus.CANCELLED:
        passed, summary = False, {"cancelled": True}
    elif motion.status is MotionStatus.FINAL:
        item = ((motion.result or {}).get("items") or [{}])[0]
        passed = bool(item.get("passed"))
        summary = {
            "participating": (motion.result or {}).get("participating"),
            "total": (motion.result or {}).get("total"),
            "passed": passed,
        }
    else:
        raise errors.VoteNotDecided(details={"motion_status": motion.status.value})
    result = {"motion_id": motion.id, "passed": passed, **summary}
    async with in_transaction():
        await _move(application, S.VOTING, S.APPROVED if passed else S.REJECTED, vote_result=result)
        await _audit(actor, application, "voted", result)
    return await UseApplication.get(id=application.id)


async def complete(actor: Actor, application: UseApplication, *, cost_fen: int) -> UseApplication:
    """Works done: the final cost (at most the budget), split again by area."""
    if not 0 < cost_fen <= application.budget_fen:
        raise errors.FundAmountInvalid(
            "决算金额须大于零且不超过预算", details={"budget_fen": application.budget_fen}
        )
    scope = Scope(application.scope.get("buildings", []), application.scope.get("units", []))
    found = await preview(application.compound_id, scope, cost_fen)
    async with in_transaction():
        await _move(
            application,
            S.APPROVED,
            S.COMPLETED,
            cost_fen=cost_fen,
            shares=found.rows(),
            completed_at=clock.now(),
        )
        await _audit(actor, application, "completed", {"cost_fen": cost_fen})
    return await UseApplication.get(id=application.id)


async def pay_out(actor: Actor, application: UseApplication, *, user_id: int) -> UseApplication:
    """The fund office approves the payout: under the chain's lock, the shares of the final cost are
    deducted (none may make a balance negative), the application is paid and its use disclosed."""
    if application.status is not S.COMPLETED or application.cost_fen is None:
        raise errors.ApplicationState(details={"status": application.status.value, "wanted": "paid"})
    scope = Scope(application.scope.get("buildings", []), application.scope.get("units", []))
    async with in_transaction():
        await ledger.lock(application.compound_id)
        found = await preview(application.compound_id, scope, application.cost_fen)
        _refuse_short(found)
        await _move(application, S.COMPLETED, S.PAID, paid_by_id=user_id, paid_at=clock.now())
        by_unit = {a.unit_id: a for a in found.accounts}
        await ledger.append(
            application.compound_id,
            [
                ledger.NewEntry(
                    key=f"use:{application.id}:{by_unit[s.unit_id].id}",
                    kind=EntryKind.USE,
                    account_id=by_unit[s.unit_id].id,
                    amount_fen=-s.share_fen,
                    note=application.title[:200],
                    ref=f"application:{application.id}",
                )
                for s in found.shares
                if s.share_fen
            ],
            actor=actor.id,
        )
        application = await UseApplication.get(id=application.id)
        notice_id = await disclosure.post_use(application, found.rows(), actor)
        await UseApplication.filter(id=application.id).update(notice_id=notice_id, shares=found.rows())
        await deposits.notify_top_ups([a.id for a in found.accounts])
        await _audit(actor, application, "paid", {"cost_fen": application.cost_fen, "notice_id": notice_id})
    return await UseApplication.get(id=application.id)


def emergency_name(category: EmergencyCategory | None) -> str | None:
    return EMERGENCY_NAMES[category] if category is not None else None
