"""Rates, sub-accounts (分户账), first deposits and what each unit owes.

The fund office publishes the rate per m² by building type (with the date it applies from) and
opens a compound's sub-accounts, one per unit, assessing each first deposit as area × the rate of
its building's type then in force (fund.rules). Deposits land as ledger entries: the developer's at
contract filing with its voucher, the owner's through WeChat Pay (fund.deposits)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Building, Ownership, Unit
from audit import service as audit
from audit.service import Actor
from core import clock, pages
from fund import errors, ledger
from fund.models import FundEntry, FundRate, SubAccount
from fund.rules import (
    BUILDING_TYPE_NAMES,
    BuildingType,
    Due,
    EntryKind,
    due_of,
    first_deposit_fen,
)

FIRST_KINDS = (EntryKind.FIRST_DEPOSIT, EntryKind.DEVELOPER_DEPOSIT)
COUNTY_STREAM = "fund:county"


def compound_stream(compound_id: int) -> str:
    return f"fund:compound:{compound_id}"


# --- rates ------------------------------------------------------------------------------------


async def set_rate(
    actor: Actor, *, building_type: BuildingType, fen_per_m2: Decimal, effective_from: date, user_id: int
) -> FundRate:
    """Publish (or restate, for the same date) the rate of a building type from a date on."""
    if fen_per_m2 <= 0:
        raise errors.FundAmountInvalid("交存标准须大于零")
    async with in_transaction():
        rate = await FundRate.get_or_none(building_type=building_type, effective_from=effective_from)
        if rate is None:
            rate = await FundRate.create(
                building_type=building_type,
                fen_per_m2=fen_per_m2,
                effective_from=effective_from,
                set_by_id=user_id,
            )
        else:
            rate.fen_per_m2 = fen_per_m2
            rate.set_by_id = user_id
            await rate.save(update_fields=["fen_per_m2", "set_by_id"])
        await audit.append(
            COUNTY_STREAM,
            "fund.rate_set",
            actor=actor,
            subject=f"rate:{building_type.value}",
            payload={
                "building_type": building_type.value,
                "fen_per_m2": str(fen_per_m2),
                "effective_from": effective_from.isoformat(),
            },
        )
    return rate


async def rates() -> list[FundRate]:
    return await FundRate.all().order_by("building_type", "-effective_from")


async def rate_on(building_type: BuildingType, on: date) -> FundRate:
    rate = (
        await FundRate.filter(building_type=building_type, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
    if rate is None:
        name = BUILDING_TYPE_NAMES[building_type]
        raise errors.NoFundRate(f"{name}在 {on.isoformat()} 尚无适用的维修资金交存标准")
    return rate


# --- sub-accounts -----------------------------------------------------------------------------


def owners_digest(owner_ids: Iterable[int]) -> str:
    """Who holds a unit, as the fund remembers it (fund.transfers): never a name."""
    return hashlib.sha256(",".join(str(i) for i in sorted(set(owner_ids))).encode()).hexdigest()


async def current_digests(unit_ids: list[int]) -> dict[int, str | None]:
    """unit id → the digest of its owners in the roster now (None: no owner)."""
    held: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(unit_ids), 1000):
        chunk = unit_ids[start : start + 1000]
        for unit_id, owner_id in await Ownership.filter(unit_id__in=chunk).values_list("unit_id", "owner_id"):
            held[int(unit_id)].add(int(owner_id))
    return {u: owners_digest(held[u]) if held.get(u) else None for u in unit_ids}


@dataclass(frozen=True, slots=True)
class Opened:
    opened: int
    already: int


async def open_accounts(
    actor: Actor, *, compound_id: int, buildings: dict[int, BuildingType], on: date
) -> Opened:
    """Open a sub-account for every unit of the named buildings that has none, with its first
    deposit assessed at the rate in force on ``on``. Units with an account are left alone."""
    found = await Building.filter(compound_id=compound_id, id__in=list(buildings)).values_list("id", "name")
    names = {int(i): str(n) for i, n in found}
    if not buildings or len(names) != len(buildings):
        raise errors.ScopeInvalid("楼栋不属于本小区")
    rate_of = {t: await rate_on(t, on) for t in set(buildings.values())}
    units = await Unit.filter(building_id__in=list(names)).values_list("id", "building_id", "number", "area")
    existing = set(
        await SubAccount.filter(unit_id__in=[u[0] for u in units]).values_list("unit_id", flat=True)
    )
    digests = await current_digests([int(u[0]) for u in units if u[0] not in existing])
    fresh = []
    for unit_id, building_id, number, area in units:
        if unit_id in existing:
            continue
        kind = buildings[int(building_id)]
        rate = rate_of[kind]
        fresh.append(
            SubAccount(
                unit_id=unit_id,
                compound_id=compound_id,
                building_id=building_id,
                room=f"{names[int(building_id)]}-{number}",
                area=Decimal(area),
                building_type=kind,
                rate_fen_per_m2=rate.fen_per_m2,
                first_deposit_fen=first_deposit_fen(Decimal(area), Decimal(rate.fen_per_m2)),
                owners_digest=digests[int(unit_id)],
            )
        )
    try:
        async with in_transaction():
            await SubAccount.bulk_create(fresh, batch_size=1000)
            await audit.append(
                compound_stream(compound_id),
                "fund.accounts_opened",
                actor=actor,
                subject=f"compound:{compound_id}",
                payload={
                    "buildings": {str(b): t.value for b, t in sorted(buildings.items())},
                    "opened": len(fresh),
                    "on": on.isoformat(),
                },
            )
    except IntegrityError as exc:  # opened concurrently by someone else: they won
        raise errors.AccountExists() from exc
    return Opened(len(fresh), len(existing))


async def account_of_unit(unit_id: int) -> SubAccount:
    account = await SubAccount.get_or_none(unit_id=unit_id)
    if account is None:
        raise errors.AccountNotFound()
    return account


async def accounts_of_owner(user_id: int, *, cursor: str | None, limit: int) -> pages.Page[SubAccount]:
    """The sub-accounts of the units the user is a verified owner of, by account id."""
    after = pages.after(cursor)
    units = await Ownership.filter(owner__user_id=user_id).values_list("unit_id", flat=True)
    rows = await SubAccount.filter(unit_id__in=list(units), id__gt=after).order_by("id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda a: a.id)


async def first_paid(account_id: int) -> bool:
    return await FundEntry.exists(account_id=account_id, kind__in=list(FIRST_KINDS))


@dataclass(frozen=True, slots=True)
class AccountView:
    account: SubAccount
    balance_fen: int
    first_paid: bool
    due: Due


async def view(account: SubAccount) -> AccountView:
    balance = await ledger.balance(account.id)
    paid = await first_paid(account.id)
    due = due_of(first_deposit_fen=account.first_deposit_fen, first_paid=paid, balance_fen=balance)
    return AccountView(account, balance, paid, due)


async def entries(account_id: int, *, cursor: str | None, limit: int) -> pages.Page[FundEntry]:
    """The account's entries, newest first, a keyset page."""
    before = pages.before(cursor)
    query = FundEntry.filter(account_id=account_id)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1)
    return pages.page(rows, limit, key=lambda e: e.id)


async def record_developer_deposit(
    actor: Actor,
    *,
    unit_id: int,
    voucher: str,
    amount_fen: int,
    at: datetime | None = None,
    photo_ids: Sequence[int] = (),
    uploader_id: int | None = None,
) -> FundEntry:
    """The developer paid the first deposit in full at contract filing (网签备案), with the bank's
    voucher: exactly the assessed amount, once per unit (an owner's online first deposit and the
    developer's share one key). ``photo_ids``: the voucher's photos ``uploader_id`` uploaded
    (fund.vouchers), attached in the same transaction."""
    from fund import vouchers

    if len(set(photo_ids)) > vouchers.MAX_PHOTOS or (photo_ids and uploader_id is None):
        raise errors.VoucherPhotosInvalid()
    account = await account_of_unit(unit_id)
    if amount_fen != account.first_deposit_fen:
        raise errors.FundAmountInvalid(
            f"首期应交 {account.first_deposit_fen} 分",
            details={"due_fen": account.first_deposit_fen},
        )
    entry = ledger.NewEntry(
        key=f"first:{account.id}",
        kind=EntryKind.DEVELOPER_DEPOSIT,
        account_id=account.id,
        amount_fen=amount_fen,
        note="开发建设单位交存首期维修资金",
        ref=f"voucher:{voucher}",
    )
    try:
        async with in_transaction():
            (row,) = await ledger.append(account.compound_id, [entry], actor=actor.id, at=at)
            photos = await vouchers.attach(account.id, photo_ids, uploader_id=uploader_id or 0)
            await audit.append(
                compound_stream(account.compound_id),
                "fund.developer_deposit",
                actor=actor,
                subject=f"unit:{unit_id}",
                payload={
                    "amount_fen": amount_fen,
                    "voucher": voucher,
                    "entry_seq": row.seq,
                    "photo_ids": [p.id for p in photos],
                },
            )
    except IntegrityError as exc:
        raise errors.AlreadyDeposited() from exc
    return row


async def record_transfer(actor: Actor, *, unit_id: int, note: str) -> FundEntry:
    """The unit was sold: its balance stays on the sub-account and moves with the unit (a zero
    entry records that the owner changed, so the ledger tells the account's whole story)."""
    account = await account_of_unit(unit_id)
    seq = await FundEntry.filter(account_id=account.id, kind=EntryKind.TRANSFER).count()
    async with in_transaction():
        (row,) = await ledger.append(
            account.compound_id,
            [
                ledger.NewEntry(
                    key=f"transfer:{account.id}:{seq + 1}",
                    kind=EntryKind.TRANSFER,
                    account_id=account.id,
                    amount_fen=0,
                    note=note,
                )
            ],
            actor=actor.id,
        )
        await audit.append(
            compound_stream(account.compound_id),
            "fund.transfer",
            actor=actor,
            subject=f"unit:{unit_id}",
            payload={"note": note, "entry_seq": row.seq},
        )
    return row


def today() -> date:
    return clock.to_local(clock.now()).date()
