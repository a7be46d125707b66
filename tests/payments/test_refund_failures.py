"""Refunds that fail (CLOSED, ABNORMAL) and payments to a property company's sub-merchant: our real
WeChat Pay client against the fake over loopback, the outcome arriving as real signed and encrypted
REFUND.* notifications POSTed to our notify route (or our own query), a test purpose's handlers told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import PropertyCompany
from audit import service as audit
from payments import billing, errors, ledger, orders, purposes, refunds, setup
from payments.models import Bill, LedgerEntry, Payee, PayeeKind, PaymentOrder, RefundRecord
from payments.purposes import PurposeEvent
from payments.rules import RefundState
from tests.payments.conftest import ACTOR, SUB_MCHID, Stack

PURPOSE = "test_refunds"


@pytest.fixture
async def heard() -> AsyncIterator[list[PurposeEvent]]:
    events: list[PurposeEvent] = []

    async def hear(event: PurposeEvent) -> None:
        events.append(event)

    purposes.register(PURPOSE, on_paid=hear, on_closed=hear, on_refunded=hear, on_refund_failed=hear)
    yield events
    purposes.unregister(PURPOSE)


async def _paid_order(stack: Stack, payee: Payee, amount: int = 8800) -> PaymentOrder:
    fees, user = stack.fees, stack.fees.users["resident"]
    created = await purposes.create_order(
        stack.client,
        purpose=PURPOSE,
        reference="1",
        payee_id=payee.id,
        amount_fen=amount,
        description="上门保洁 2 小时",
        user_id=user.id,
        openid=user.openid,
        compound_id=fees.compound.id,
        unit_id=fees.units[0].id,
    )
    assert (await stack.fake.pay(created.order.out_trade_no)).status == 204
    return await PaymentOrder.get(id=created.order.id)


async def _provider(name: str = "好帮手家政", sub_mchid: str = "1900000333") -> Payee:
    return await purposes.payee_for(PayeeKind.SERVICE_PROVIDER, name=name, sub_mchid=sub_mchid)


def kinds(events: list[PurposeEvent]) -> list[str]:
    return [e.kind if e.kind != "refund_failed" else f"failed:{e.refund_state}" for e in events]


async def _unsettled(stack: Stack) -> list[str]:
    rows = await refunds.unsettled(compound_id=stack.fees.compound.id, limit=20, before_id=None)
    return [r.out_refund_no for r in rows]


async def test_abnormal_refund_stays_owed_until_wechat_pay_pays_it_back(
    stack: Stack, heard: list[PurposeEvent]
) -> None:
    order = await _paid_order(stack, await _provider())
    refund = await purposes.refund(stack.client, ACTOR, order=order, reason="预约取消", user_id=None)
    delivery = await stack.fake.complete_refund(refund.out_refund_no, "ABNORMAL")
    assert delivery.status == 204
    assert (await stack.fake.notify_refund(refund.out_refund_no, times=5, concurrent=True)).status == 204
    assert kinds(heard) == ["paid", "failed:abnormal"]
    failed = heard[1]
    assert (failed.out_refund_no, failed.refund_fen, failed.reason) == (
        refund.out_refund_no,
        8800,
        "预约取消",
    )
    assert failed.failure and "商户平台" in failed.failure
    record = await RefundRecord.get(id=refund.id)
    assert (record.state, record.failure, record.settled_at) == (RefundState.ABNORMAL, failed.failure, None)
    # the money is still owed: held (nothing more may be refunded), not in the ledger, listed for a person
    current = await PaymentOrder.get(id=order.id)
    assert (current.state.value, current.refunded_fen) == ("paid", 8800)
    with pytest.raises(errors.RefundInvalid):
        await purposes.refund(stack.client, ACTOR, order=order, amount_fen=1, reason="再退", user_id=None)
    with pytest.raises(errors.RefundNotRetryable):
        await refunds.retry(stack.client, ACTOR, refund=record, user_id=None)
    assert await LedgerEntry.filter(order_id=order.id, kind="refund").count() == 0
    assert await _unsettled(stack) == [refund.out_refund_no]
    # asking WeChat Pay again before anyone handled it there changes nothing
    assert (await refunds.recheck(stack.client, record)).state is RefundState.ABNORMAL
    assert len(heard) == 2
    # a person handles it at WeChat Pay; its notification is late, our recheck finds it paid back
    stack.fake.hold = True
    await stack.fake.complete_refund(refund.out_refund_no, "SUCCESS")
    stack.fake.hold = False
    settled = await refunds.recheck(stack.client, record)
    assert settled.state is RefundState.SUCCESS and settled.settled_at is not None
    assert kinds(heard) == ["paid", "failed:abnormal", "refunded"]
    assert (heard[2].refunded_fen, heard[2].fully_refunded) == (8800, True)
    assert [d.status for d in await stack.fake.release()] == [
        204
    ]  # the late notification: taken, nothing new
    assert len(heard) == 3
    assert await LedgerEntry.filter(order_id=order.id, kind="refund").count() == 1
    assert (await PaymentOrder.get(id=order.id)).state.value == "refunded"
    assert await _unsettled(stack) == []
    with pytest.raises(errors.RefundNotAbnormal):
        await refunds.recheck(stack.client, settled)
    assert (await ledger.verify(order.payee_id)).ok


async def test_closed_refund_gives_the_amount_back_and_is_retried_once(
    stack: Stack, heard: list[PurposeEvent]
) -> None:
    order = await _paid_order(stack, await _provider())
    refund = await purposes.refund(
        stack.client, ACTOR, order=order, amount_fen=3000, reason="少做一项", user_id=None
    )
    assert (await stack.fake.complete_refund(refund.out_refund_no, "CLOSED")).status == 204
    assert (await stack.fake.notify_refund(refund.out_refund_no, times=3)).status == 204
    assert kinds(heard) == ["paid", "failed:closed"]
    record = await RefundRecord.get(id=refund.id)
    assert record.state is RefundState.CLOSED and "重新发起" in record.failure
    assert (await PaymentOrder.get(id=order.id)).refunded_fen == 0
    assert await _unsettled(stack) == [refund.out_refund_no]
    # two people retry at once: one new refund, the other refused
    results = await asyncio.gather(
        *(
            purposes.retry_refund(stack.client, ACTOR, out_refund_no=refund.out_refund_no, user_id=None)
            for _ in range(2)
        ),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, RefundRecord)]
    assert len(made) == 1, results
    assert all(isinstance(r, errors.RefundNotRetryable) for r in results if r not in made)
    again = made[0]
    assert (again.amount_fen, again.reason, again.state) == (3000, "少做一项", RefundState.PROCESSING)
    assert (await RefundRecord.get(id=refund.id)).retried_as == again.out_refund_no
    assert await _unsettled(stack) == []
    assert (await PaymentOrder.get(id=order.id)).refunded_fen == 3000
    assert (await stack.fake.complete_refund(again.out_refund_no, "SUCCESS")).status == 204
    assert kinds(heard) == ["paid", "failed:closed", "refunded"]
    assert heard[2].refunded_fen == 3000
    requested = [
        e["payload"]["retries"]
        for e in await audit.events(f"payments:payee:{order.payee_id}")
        if e["action"] == "payments.refund_requested"
    ]
    assert requested == [None, refund.out_refund_no]
    # a new refund of the order also settles a closed one (the money owed is asked again)
    rest = await purposes.refund(stack.client, ACTOR, order=order, reason="全部退回", user_id=None)
    await stack.fake.complete_refund(rest.out_refund_no, "CLOSED")
    assert await _unsettled(stack) == [rest.out_refund_no]
    last = await purposes.refund(stack.client, ACTOR, order=order, reason="全部退回", user_id=None)
    assert last.amount_fen == 5800 and await _unsettled(stack) == []
    assert (await RefundRecord.get(id=rest.id)).retried_as == last.out_refund_no


async def test_company_lists_and_retries_a_closed_bill_refund_over_http(stack: Stack) -> None:
    fees = stack.fees
    await billing.run_billing(
        ACTOR, compound_id=fees.compound.id, period_text="2026-03", metered_fen={}, user_id=None
    )
    bill = await Bill.get(unit_id=fees.units[0].id)
    created = await orders.create_order(
        stack.client, user_id=fees.uid("owner"), openid="openid-owner", bill_ids=[bill.id]
    )
    await stack.fake.pay(created.order.out_trade_no)
    fee = f"/api/v1/admin/compounds/{fees.compound.id}/fees"
    r = await stack.http.post(
        f"{fee}/orders/{created.order.id}/refunds",
        json={"amount_fen": 500, "reason": "多收"},
        headers=fees.headers("property_staff"),
    )
    assert r.status_code == 201, r.text
    no = r.json()["out_refund_no"]
    await stack.fake.complete_refund(no, "CLOSED")
    r = await stack.http.get(f"{fee}/refunds/unsettled", headers=fees.headers("committee"))
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert (item["out_refund_no"], item["state"], item["action"], item["amount_fen"]) == (
        no,
        "closed",
        "retry",
        500,
    )
    r = await stack.http.post(f"{fee}/refunds/{item['id']}/retry", headers=fees.headers("committee"))
    assert r.status_code == 403
    r = await stack.http.post(f"{fee}/refunds/{item['id']}/recheck", headers=fees.headers("property_staff"))
    assert (r.status_code, r.json()["code"]) == (409, "refund_not_abnormal")
    r = await stack.http.post(f"{fee}/refunds/{item['id']}/retry", headers=fees.headers("property_staff"))
    assert r.status_code == 201, r.text
    assert (r.json()["amount_fen"], r.json()["state"]) == (500, "processing")
    r = await stack.http.post(f"{fee}/refunds/{item['id']}/retry", headers=fees.headers("property_staff"))
    assert (r.status_code, r.json()["code"]) == (409, "refund_not_retryable")
    r = await stack.http.get(f"{fee}/refunds/unsettled", headers=fees.headers("property_staff"))
    assert r.json()["items"] == []


# --- a booking paid to a property company: the company's own sub-merchant ------------------------


async def test_a_property_company_is_paid_at_its_fee_sub_merchant(
    stack: Stack, heard: list[PurposeEvent]
) -> None:
    fees = stack.fees
    payee = await purposes.payee_of_company(fees.company.id, name=fees.company.name, sub_mchid=None)
    assert (payee.id, payee.sub_mchid, payee.kind) == (
        fees.contract.payee_id,
        SUB_MCHID,
        PayeeKind.PROPERTY_COMPANY,
    )
    same = await purposes.payee_of_company(fees.company.id, name="安居物业家政", sub_mchid=SUB_MCHID)
    assert same.id == payee.id
    with pytest.raises(errors.OrderStateConflict) as wrong:
        await purposes.payee_of_company(fees.company.id, name=fees.company.name, sub_mchid="1900000999")
    assert wrong.value.error_code == "payee_sub_mchid_mismatch"
    with pytest.raises(errors.OrderStateConflict):  # its account is never another payee's
        await purposes.payee_for(PayeeKind.SERVICE_PROVIDER, name="安居物业家政", sub_mchid=SUB_MCHID)
    order = await _paid_order(stack, payee)
    assert (order.sub_mchid, stack.fake.order(order.out_trade_no, SUB_MCHID).trade_state) == (
        SUB_MCHID,
        "SUCCESS",
    )
    assert (
        await LedgerEntry.filter(order_id=order.id, payee_id=payee.id, credit=f"payee:{payee.id}").count()
        == 1
    )
    assert kinds(heard) == ["paid"]


async def test_a_company_without_fee_contract_gets_its_payee_once(stack: Stack) -> None:
    company = await PropertyCompany.create(name="新管家物业", credit_code="91510000MA0000009Y")
    with pytest.raises(errors.PayeeUnknown):
        await purposes.payee_of_company(company.id, name=company.name, sub_mchid=None)
    with pytest.raises(errors.OrderStateConflict):  # another payee's account
        await purposes.payee_of_company(company.id, name=company.name, sub_mchid=SUB_MCHID)
    made: list[Any] = await asyncio.gather(
        *(purposes.payee_of_company(company.id, name=company.name, sub_mchid="1900000444") for _ in range(3))
    )
    assert {p.id for p in made} == {made[0].id} and await Payee.filter(company_id=company.id).count() == 1
    assert made[0].kind is PayeeKind.PROPERTY_COMPANY
    # its fee contract later must name the same account
    terms = setup.ContractTerms(
        stack.fees.far_compound.id,
        company.id,
        2,
        Decimal(150),
        date(2020, 1, 1),
        date(2099, 1, 1),
        "1900000555",
    )
    with pytest.raises(errors.FeeItemInvalid):
        await setup.set_fee_contract(ACTOR, terms)
