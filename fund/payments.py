"""The owner's online deposit (维修资金网上缴存): a payments purpose ("fund_deposit") paid to the fund's
own sub-merchant (the special account's, never the property company's), landing on the sub-account
once, inside the transaction that records the verified WeChat Pay notification.

What is due decides the order: the first deposit until it is paid (reference ``first:<account>``, so
it can be paid once, whoever pays), then a top-up when the balance fell below 30 % of the first
deposit (reference ``topup:<account>:<n>``, n = top-ups so far + 1: one live order per round). The
entry's key is the order's out_trade_no, so 50 notifications of one payment land once (payments calls
on_paid once per order, and the key is the last line of defence).

If the developer's deposit landed while an owner's first-deposit order was pending, the owner's payment
still lands (the money is in the special account and is the unit's): as a top-up entry saying so.
Raising would only make WeChat Pay retry for a day."""

from __future__ import annotations

from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Owner
from audit import service as audit
from audit.service import Actor
from core import clock
from fund import errors, ledger
from fund.models import FundEntry, SpecialAccount, SubAccount
from fund.rules import EntryKind, top_up_amount, top_up_due
from fund.subaccounts import COUNTY_STREAM, account_of_unit, first_paid
from notify import service as notify
from payments import purposes
from payments.models import PayeeKind
from payments.purposes import PurposeEvent
from wechat.pay.protocol import WeChatPayApi

PURPOSE = "fund_deposit"
TOP_UP_NOTICE_DAYS = 30


async def set_special_account(actor: Actor, *, name: str, sub_mchid: str) -> SpecialAccount:
    """The fund office names the special account's WeChat Pay sub-merchant (its payee)."""
    payee = await purposes.payee_for(PayeeKind.FUND_ACCOUNT, name=name, sub_mchid=sub_mchid)
    async with in_transaction():
        current = await SpecialAccount.first()
        if current is None:
            current = await SpecialAccount.create(name=name, sub_mchid=sub_mchid, payee_id=payee.id)
        else:
            current.name, current.sub_mchid, current.payee_id = name, sub_mchid, payee.id
            await current.save(update_fields=["name", "sub_mchid", "payee_id"])
        await audit.append(
            COUNTY_STREAM, "fund.special_account_set", actor=actor, subject="special_account",
            payload={"name": name, "sub_mchid": sub_mchid, "payee_id": payee.id},
        )  # fmt: skip
    return current


async def special_account() -> SpecialAccount:
    found = await SpecialAccount.first()
    if found is None:
        raise errors.NoSpecialAccount()
    return found


async def reference_due(account: SubAccount) -> tuple[str, EntryKind, int]:
    """(reference, kind, amount) of what the unit owes now; NothingDue when nothing."""
    balance = await ledger.balance(account.id)
    if not await first_paid(account.id):
        return f"first:{account.id}", EntryKind.FIRST_DEPOSIT, account.first_deposit_fen
    amount = top_up_amount(balance, account.first_deposit_fen)
    if not amount:
        raise errors.NothingDue()
    rounds = await FundEntry.filter(account_id=account.id, kind=EntryKind.TOP_UP).count()
    return f"topup:{account.id}:{rounds + 1}", EntryKind.TOP_UP, amount


async def create_deposit_order(
    pay: WeChatPayApi, *, unit_id: int, user_id: int, openid: str
) -> purposes.Created:
    """An order for what the unit owes (the caller checked that the user owns the unit)."""
    account = await account_of_unit(unit_id)
    reference, kind, amount = await reference_due(account)
    payee = await special_account()
    label = "首期维修资金" if kind is EntryKind.FIRST_DEPOSIT else "续交维修资金"
    return await purposes.create_order(
        pay,
        purpose=PURPOSE,
        reference=reference,
        payee_id=payee.payee_id,
        amount_fen=amount,
        description=f"{label} {account.room}",
        user_id=user_id,
        openid=openid,
        compound_id=account.compound_id,
        unit_id=unit_id,
    )


async def _paid(event: PurposeEvent) -> None:
    account = await SubAccount.get(id=int(event.reference.split(":")[1]))
    first = event.reference.startswith("first:")
    already = first and await first_paid(account.id)
    kind = EntryKind.FIRST_DEPOSIT if first and not already else EntryKind.TOP_UP
    note = "网上交存首期维修资金" if kind is EntryKind.FIRST_DEPOSIT else "网上续交维修资金"
    if already:
        note = "首期已由开发建设单位交存，本笔网上交存计入余额"
    entry = ledger.NewEntry(
        key=f"first:{account.id}" if kind is EntryKind.FIRST_DEPOSIT else f"order:{event.out_trade_no}",
        kind=kind,
        account_id=account.id,
        amount_fen=event.amount_fen,
        note=note,
        ref=f"order:{event.out_trade_no}",
    )
    if await FundEntry.exists(ref=entry.ref):
        return  # landed already (payments calls once; this is the last line of defence)
    try:
        async with in_transaction():
            await ledger.append(account.compound_id, [entry], actor=f"user:{event.payer_id}", at=event.at)
    except IntegrityError:
        return  # the same payment, landed concurrently


purposes.register(PURPOSE, on_paid=_paid)


async def notify_top_ups(account_ids: list[int]) -> int:
    """Tell the owners of the accounts now below the threshold (inside the caller's transaction);
    once per account and top-up round."""
    told = 0
    balances = await ledger.balances_of(account_ids)
    for account in await SubAccount.filter(id__in=account_ids):
        balance = balances[account.id]
        if not top_up_due(balance, account.first_deposit_fen):
            continue
        users = await Owner.filter(ownerships__unit_id=account.unit_id, user_id__isnull=False).values_list(
            "user_id", flat=True
        )
        rounds = await FundEntry.filter(account_id=account.id, kind=EntryKind.TOP_UP).count()
        due = clock.to_local(clock.now()).date() + timedelta(days=TOP_UP_NOTICE_DAYS)
        await notify.enqueue(
            "fund.topup_due",
            subject=f"fund:unit:{account.unit_id}:{rounds + 1}",
            user_ids=[int(u) for u in users],  # type: ignore[call-overload]
            params={
                "unit": account.room,
                "amount_fen": top_up_amount(balance, account.first_deposit_fen),
                "due": due,
                "unit_id": account.unit_id,
            },
        )
        told += 1
    return told
