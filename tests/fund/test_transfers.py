"""Transfer on sale: a roster import naming new owners of a unit leaves its sub-account and balance with
the unit and enters one zero-amount transfer (by the hourly job), never twice; a unit whose owners
were only removed is not a sale."""

from __future__ import annotations

import asyncio
from datetime import datetime

from accounts.demo import demo_person
from accounts.roster import import_roster
from audit.models import AuditEvent
from core import clock
from fund import ledger, transfers
from fund.models import FundEntry, SubAccount
from fund.rules import EntryKind
from tests.fund.conftest import ACTOR, FundWorld, deposit_all

KEY = b"k" * 32
HEADER = "楼栋,房号,类型,面积,业主姓名,证件号码\n"


def _row(building: str, unit: str, area: str, person: int | None) -> str:
    if person is None:
        return f"{building},{unit},住宅,{area},,\n"
    who = demo_person(person)
    return f"{building},{unit},住宅,{area},{who['name']},{who['id_number']}\n"


async def _import(world: FundWorld, buyer_of_101: int | None) -> None:
    # 1号楼-101 sold to ``buyer_of_101``; 1号楼-201 keeps one owner throughout
    data = HEADER + _row("1号楼", "101", "88.80", buyer_of_101) + _row("1号楼", "201", "88.80", 7)
    await import_roster(world.compound.id, data.encode(), "csv", hmac_key=KEY, actor=ACTOR)


async def test_a_sale_in_the_roster_is_entered_once_and_the_balance_stays(world: FundWorld) -> None:
    await deposit_all(world)
    sold = await SubAccount.get(unit_id=world.lift_units[0].id)
    kept = await SubAccount.get(unit_id=world.lift_units[1].id)
    balance = await ledger.balance(sold.id)
    await _import(world, 7)  # 201's owner in the file replaces its test owner: both units change hands
    assert await transfers.run_hourly(datetime(2026, 5, 1, 9, tzinfo=clock.SHANGHAI)) == 2
    await _import(world, 7)  # the same file again: nothing changed
    await _import(world, 8)  # 101 sold on to another buyer
    hour = datetime(2026, 5, 1, 10, tzinfo=clock.SHANGHAI)
    runs = await asyncio.gather(*(transfers.run_hourly(hour) for _ in range(2)))  # two schedulers
    assert sorted(runs) == [0, 1]
    assert await transfers.run_hourly(datetime(2026, 5, 1, 11, tzinfo=clock.SHANGHAI)) == 0

    entries = await FundEntry.filter(account_id=sold.id, kind=EntryKind.TRANSFER).order_by("seq")
    assert [(e.key, e.amount_fen, e.actor) for e in entries] == [
        (f"sale:{sold.id}:1", 0, "system"),
        (f"sale:{sold.id}:2", 0, "system"),
    ]
    assert await FundEntry.filter(account_id=kept.id, kind=EntryKind.TRANSFER).count() == 1
    assert await ledger.balance(sold.id) == balance  # the balance moved with the house
    assert (await SubAccount.get(id=sold.id)).unit_id == world.lift_units[0].id
    assert (await ledger.verify(world.compound.id)).ok
    events = await AuditEvent.filter(action="fund.transfer").order_by("id").values_list("payload", flat=True)
    assert [e["rooms"] for e in events] == [["1号楼-101", "1号楼-201"], ["1号楼-101"]]  # type: ignore[index]


async def test_owners_removed_is_not_a_sale(world: FundWorld) -> None:
    account = await SubAccount.get(unit_id=world.lift_units[0].id)
    await _import(world, None)  # 101's owner removed, nobody named
    assert await transfers.record_transfers(world.compound.id) == 1  # only 201 changed hands
    assert not await FundEntry.exists(account_id=account.id, kind=EntryKind.TRANSFER)
    await _import(world, 9)  # now a buyer is named
    assert await transfers.record_transfers(world.compound.id) == 1
    assert await transfers.record_transfers(world.compound.id) == 0
    assert await FundEntry.filter(account_id=account.id, kind=EntryKind.TRANSFER).count() == 1
