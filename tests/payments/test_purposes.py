"""Payment purposes of higher domains (payments.purposes), with a tiny purpose registered by the test:
orders created through our real WeChat Pay client against the fake over loopback, real signed and
encrypted notifications POSTed to our notify route, handlers called once inside the transaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from audit import service as audit
from core import clock
from payments import errors, ledger, orders, purposes, reconcile
from payments.models import LedgerEntry, PayeeKind, PaymentOrder, Receipt, RefundRecord
from payments.purposes import PurposeEvent
from tests.payments.conftest import ACTOR, Stack

PURPOSE = "test_thing"
SUB_MCHID = "1900000222"


@dataclass
class Heard:
    """What the test purpose's handlers were told, and a switch to make on_paid fail."""

    events: list[PurposeEvent] = field(default_factory=list)
    fail_paid: int = 0  # the next n on_paid calls raise
    states_seen: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


@pytest.fixture
async def heard() -> AsyncIterator[Heard]:
    h = Heard()

    async def on_paid(event: PurposeEvent) -> None:
        # inside the transaction that records the payment: the order is already paid there
        h.states_seen.append((await PaymentOrder.get(id=event.order_id)).state.value)
        if h.fail_paid:
            h.fail_paid -= 1
            raise RuntimeError("the higher domain could not take it")
        h.events.append(event)

    async def on_closed(event: PurposeEvent) -> None:
        h.events.append(event)

    async def on_refunded(event: PurposeEvent) -> None:
        h.events.append(event)

    purposes.register(PURPOSE, on_paid=on_paid, on_closed=on_closed, on_refunded=on_refunded)
    yield h
    purposes.unregister(PURPOSE)


async def _payee_id() -> int:
    payee = await purposes.payee_for(PayeeKind.SERVICE_PROVIDER, name="好帮手家政", sub_mchid=SUB_MCHID)
    return payee.id


async def _create(stack: Stack, reference: str = "7", who: str = "resident", amount: int = 8800) -> Any:
    fees = stack.fees
    user = fees.users[who]
    return await purposes.create_order(
        stack.client,
        purpose=PURPOSE,
        reference=reference,
        payee_id=await _payee_id(),
        amount_fen=amount,
        description="上门保洁 2 小时",
        user_id=user.id,
        openid=user.openid,
        compound_id=fees.compound.id,
        unit_id=fees.units[0].id,
    )


async def test_paid_by_fifty_concurrent_notifications_lands_once(stack: Stack, heard: Heard) -> None:
    created = await _create(stack)
    order = created.order
    assert (order.purpose, order.reference, order.sub_mchid, order.amount_fen) == (
        PURPOSE,
        "7",
        SUB_MCHID,
        8800,
    )
    params = created.params.as_dict()
    assert params["appId"] == stack.fake.sp_appid and params["package"].startswith("prepay_id=")
    assert stack.fake.order(order.out_trade_no).sub_mchid == SUB_MCHID
    await stack.fake.pay(order.out_trade_no, deliver=False)
    await stack.fake.notify_transaction(order.out_trade_no, times=50, concurrent=True)
    assert [d.status for d in stack.fake.deliveries if d.key == order.out_trade_no] == [204] * 50
    assert heard.kinds() == ["paid"]
    event = heard.events[0]
    assert (event.purpose, event.reference, event.order_id, event.amount_fen) == (
        PURPOSE,
        "7",
        order.id,
        8800,
    )
    assert event.transaction_id == stack.fake.order(order.out_trade_no).transaction_id
    assert heard.states_seen == ["paid"]
    assert await LedgerEntry.filter(order_id=order.id).count() == 1
    receipt = await Receipt.get(order_id=order.id)
    assert receipt.lines == [{"bill_id": None, "item": "上门保洁 2 小时", "period": None, "amount_fen": 8800}]
    payee_id = await _payee_id()
    assert (await ledger.verify(payee_id)).ok


async def test_asking_again_and_racing_requests_make_one_order(stack: Stack, heard: Heard) -> None:
    results = await asyncio.gather(*(_create(stack) for _ in range(8)), return_exceptions=True)
    ids = {r.order.id for r in results if not isinstance(r, BaseException)}
    assert len(ids) == 1, results
    assert await PaymentOrder.filter(purpose=PURPOSE, reference="7").count() == 1
    with pytest.raises(errors.PurposeOrderPending):
        await _create(stack, who="owner")
    [only] = ids
    await stack.fake.pay((await PaymentOrder.get(id=only)).out_trade_no)
    with pytest.raises(errors.PurposeAlreadyPaid):
        await _create(stack)
    other = await _create(stack, reference="8")  # another thing: its own order
    assert other.order.id != only


async def test_a_failing_handler_rolls_the_payment_back_and_the_retry_lands(
    stack: Stack, heard: Heard
) -> None:
    order = (await _create(stack)).order
    heard.fail_paid = 1
    delivery = await stack.fake.pay(order.out_trade_no)
    assert delivery is not None and delivery.status == 500
    assert (await PaymentOrder.get(id=order.id)).state.value == "created"
    assert await LedgerEntry.all().count() == 0 and await Receipt.all().count() == 0
    assert (await stack.fake.notify_transaction(order.out_trade_no)).status == 204  # WeChat Pay retries
    assert heard.kinds() == ["paid"]
    assert (await PaymentOrder.get(id=order.id)).state.value == "paid"
    assert await LedgerEntry.all().count() == 1


async def test_an_unregistered_purpose_is_never_settled(stack: Stack, heard: Heard) -> None:
    order = (await _create(stack)).order
    saved = purposes.registered(PURPOSE)
    purposes.unregister(PURPOSE)
    delivery = await stack.fake.pay(order.out_trade_no)
    assert delivery is not None and delivery.status == 500
    assert (await PaymentOrder.get(id=order.id)).state.value == "created"
    purposes.register(
        PURPOSE, on_paid=saved.on_paid, on_closed=saved.on_closed, on_refunded=saved.on_refunded
    )
    assert (await stack.fake.notify_transaction(order.out_trade_no)).status == 204
    assert heard.kinds() == ["paid"]


async def test_refund_part_then_the_rest_each_heard_once(stack: Stack, heard: Heard) -> None:
    order = (await _create(stack)).order
    await stack.fake.pay(order.out_trade_no)
    actor = audit.Actor(f"user:{stack.fees.uid('resident')}", "住户")
    first = await purposes.refund(
        stack.client,
        actor,
        order=order,
        amount_fen=3000,
        reason="取消部分服务",
        user_id=stack.fees.uid("resident"),
    )
    assert (first.state.value, first.amount_fen) == ("processing", 3000)
    await stack.fake.complete_refund(first.out_refund_no, "SUCCESS")
    await stack.fake.notify_refund(first.out_refund_no, times=20, concurrent=True)
    assert heard.kinds() == ["paid", "refunded"]
    refunded = heard.events[1]
    assert (refunded.refund_fen, refunded.refunded_fen, refunded.fully_refunded) == (3000, 3000, False)
    assert (refunded.out_refund_no, refunded.reason) == (first.out_refund_no, "取消部分服务")
    rest = await purposes.refund(stack.client, actor, order=order, reason="预约取消", user_id=None)
    assert rest.amount_fen == 5800
    assert (await stack.fake.complete_refund(rest.out_refund_no, "SUCCESS")).status == 204
    assert heard.kinds() == ["paid", "refunded", "refunded"]
    assert (heard.events[2].refunded_fen, heard.events[2].fully_refunded) == (8800, True)
    current = await PaymentOrder.get(id=order.id)
    assert (current.state.value, current.refunded_fen) == ("refunded", 8800)
    with pytest.raises(errors.RefundInvalid):
        await purposes.refund(stack.client, actor, order=order, amount_fen=1, reason="再退", user_id=None)
    assert await RefundRecord.filter(order_id=order.id).count() == 2
    assert [
        str(k)
        for k in await LedgerEntry.filter(order_id=order.id).order_by("id").values_list("kind", flat=True)
    ] == [
        "payment",
        "refund",
        "refund",
    ]
    requested = [
        e
        for e in await audit.events(orders.order_stream(order.payee_id))
        if e["action"] == "payments.refund_requested"
    ]
    assert [(e["actor"], e["payload"]["amount_fen"]) for e in requested] == [
        (actor.id, 3000),
        (actor.id, 5800),
    ]
    assert (await ledger.verify(order.payee_id)).ok


async def test_close_an_unpaid_order_then_pay_anew(stack: Stack, heard: Heard) -> None:
    order = (await _create(stack)).order
    assert await purposes.close(stack.client, order) == "closed"
    assert stack.fake.order(order.out_trade_no).trade_state == "CLOSED"
    assert await purposes.close(stack.client, order) == "already_closed"
    assert heard.kinds() == ["closed"]
    assert await purposes.live_order(PURPOSE, "7") is None
    again = (await _create(stack)).order
    assert again.id != order.id and (await purposes.live_order(PURPOSE, "7")) is not None


async def test_closing_an_order_paid_meanwhile_takes_the_payment(stack: Stack, heard: Heard) -> None:
    order = (await _create(stack)).order
    await stack.fake.pay(order.out_trade_no, deliver=False)
    assert await purposes.close(stack.client, order) == "paid"
    assert heard.kinds() == ["paid"]
    assert (await stack.fake.notify_transaction(order.out_trade_no, times=3)).status == 204
    assert heard.kinds() == ["paid"]


async def test_the_expiry_job_closes_purpose_orders(stack: Stack, heard: Heard) -> None:
    order = (await _create(stack)).order
    await PaymentOrder.filter(id=order.id).update(expires_at=clock.now() - timedelta(seconds=1))
    assert await orders.expire_due(stack.client) == 1
    assert await orders.expire_due(stack.client) == 0
    assert heard.kinds() == ["closed"]
    assert (await PaymentOrder.get(id=order.id)).state.value == "closed"


async def test_reconciliation_covers_purpose_orders(stack: Stack, heard: Heard) -> None:
    order = (await _create(stack)).order
    await stack.fake.pay(order.out_trade_no, deliver=False)
    yesterday = clock.now() - timedelta(days=1)
    stack.fake.order(order.out_trade_no).success_time = yesterday
    assert (await stack.fake.notify_transaction(order.out_trade_no)).status == 204
    payee = await purposes.payee_for(PayeeKind.SERVICE_PROVIDER, name="好帮手家政", sub_mchid=SUB_MCHID)
    day = clock.to_local(yesterday).date()
    report = await reconcile.reconcile(stack.client, ACTOR, day=day, payee=payee, user_id=None)
    assert (report.matched, report.differences) == (1, [])


async def test_a_sub_merchant_keeps_its_kind(stack: Stack, heard: Heard) -> None:
    await _payee_id()
    with pytest.raises(errors.OrderStateConflict):
        await purposes.payee_for(PayeeKind.FUND_ACCOUNT, name="维修资金专户", sub_mchid=SUB_MCHID)
    with pytest.raises(ValueError):
        purposes.register("bills", on_paid=heard_handler)


async def heard_handler(event: PurposeEvent) -> None:
    return None
