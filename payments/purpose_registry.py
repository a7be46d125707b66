"""The handlers higher domains register for their payment purposes (payments.purposes is the API).

payments sits below fund/ and bookings/ and never imports them: a higher domain registers, at import
time, what it does when an order of its purpose is paid, closed or refunded, and payments calls it
inside the transaction that records that change (orders.apply_result, orders._close_locally,
refunds._finish). A handler that raises rolls the change back: a notification is then refused
(WeChat Pay retries it), an expiry is retried by the next run.

An order whose purpose has no registered handlers is never settled: the change is refused with
PurposeNotRegistered (a programming or deployment error, logged), so no payment is taken without
the domain that asked for it hearing of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from payments.models import BILLS, PaymentOrder

EventKind = Literal["paid", "closed", "refunded", "refund_failed"]


class PurposeNotRegistered(RuntimeError):
    """An order of a purpose nobody registered: refused, never settled silently."""


@dataclass(frozen=True, slots=True)
class PurposeEvent:
    """What a handler receives. Amounts are integer fen; ``at`` is aware UTC."""

    kind: EventKind
    purpose: str
    reference: str
    order_id: int
    out_trade_no: str
    payee_id: int
    payer_id: int
    compound_id: int
    unit_id: int
    amount_fen: int  # the order's amount
    at: datetime  # paid: WeChat Pay's success time; closed: now; refunded: the refund's success time
    transaction_id: str | None = None  # paid, refunded
    out_refund_no: str | None = None  # refunded
    refund_fen: int = 0  # refunded: this refund
    refunded_fen: int = 0  # refunded: every successful refund of the order so far, this one included
    fully_refunded: bool = False  # refunded: nothing is left of the payment
    reason: str | None = None  # refunded, refund_failed: the reason given when it was requested
    # refund_failed: "closed" (nothing was paid back; the amount may be refunded again) or
    # "abnormal" (WeChat Pay could not pay it into the payer's account: a person must act there;
    # the amount stays held and on_refunded runs once WeChat Pay reports it paid back)
    refund_state: str | None = None
    failure: str | None = None  # refund_failed: why, for people


Handler = Callable[[PurposeEvent], Awaitable[None]]


async def _nothing(event: PurposeEvent) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    on_paid: Handler
    on_closed: Handler
    on_refunded: Handler
    on_refund_failed: Handler


_REGISTRY: dict[str, Purpose] = {}
NAME_MAX = 20


def register(
    name: str,
    *,
    on_paid: Handler,
    on_closed: Handler | None = None,
    on_refunded: Handler | None = None,
    on_refund_failed: Handler | None = None,
) -> Purpose:
    """Register the handlers of a purpose (once per process, at import time of the owning domain's
    module). Registering a name again with other handlers is an error (two domains, one name)."""
    if not name or len(name) > NAME_MAX or name == BILLS or not name.replace("_", "").isalnum():
        raise ValueError(f"purpose name {name!r}: 1-{NAME_MAX} letters, digits or _, not {BILLS!r}")
    purpose = Purpose(
        name, on_paid, on_closed or _nothing, on_refunded or _nothing, on_refund_failed or _nothing
    )
    existing = _REGISTRY.get(name)
    if existing is not None and existing != purpose:
        raise ValueError(f"payment purpose {name!r} is registered twice")
    _REGISTRY[name] = purpose
    return purpose


def unregister(name: str) -> None:
    """For tests that register a purpose of their own."""
    _REGISTRY.pop(name, None)


def registered(name: str) -> Purpose:
    found = _REGISTRY.get(name)
    if found is None:
        raise PurposeNotRegistered(
            f"payment purpose {name!r} has no handlers in this process: is its module imported "
            "(server/pay.py PAYMENT_PURPOSE_MODULES)?"
        )
    return found


def event_of(order: PaymentOrder, kind: EventKind, at: datetime, **more: object) -> PurposeEvent:
    return PurposeEvent(
        kind=kind,
        purpose=order.purpose,
        reference=order.reference or "",
        order_id=order.id,
        out_trade_no=order.out_trade_no,
        payee_id=order.payee_id,
        payer_id=order.payer_id,
        compound_id=order.compound_id,
        unit_id=order.unit_id,
        amount_fen=order.amount_fen,
        at=at,
        **more,  # type: ignore[arg-type]
    )


async def dispatch(order: PaymentOrder, kind: EventKind, at: datetime, **more: object) -> None:
    """Call the handler of ``order``'s purpose for ``kind`` (nothing for bill orders). Call it inside
    the transaction that made the change, right after the conditional update that made it (so it
    runs once per change)."""
    if order.purpose == BILLS:
        return
    purpose = registered(order.purpose)
    handler = {
        "paid": purpose.on_paid,
        "closed": purpose.on_closed,
        "refunded": purpose.on_refunded,
        "refund_failed": purpose.on_refund_failed,
    }[kind]
    await handler(event_of(order, kind, at, **more))


def check_registered(order: PaymentOrder) -> None:
    """Before any change to a purpose order: refuse it when nobody would hear of it."""
    if order.purpose != BILLS:
        registered(order.purpose)
