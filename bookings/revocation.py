"""A community withdraws a provider's admission (准入): its services in the community's compounds
leave the catalogue and their entries leave the compound's board, and its open bookings there that
have not started are cancelled as by the provider (full refund through payments, the resident told
by notify). A booking already in service is left to finish.

The withdrawn entries stay withdrawn (their history is the record of the revocation): once the
community admits the provider again and it reactivates a service, bookings.catalogue.update posts a
new entry with the price then, and bookings are charged that price."""

from __future__ import annotations

from dataclasses import dataclass

from audit.service import Actor
from bookings import payment, providers
from bookings.booking import cancel_by_provider
from bookings.errors import BookingStateConflict
from bookings.models import Booking, Service
from bookings.rules import State
from core import clock
from core.cache import Cache
from notices import service as notices
from wechat.pay.protocol import WeChatPayApi

REASON = "服务机构已被取消准入，预约取消并全额退款"


@dataclass(frozen=True, slots=True)
class Revoked:
    services: int
    notices_withdrawn: int
    bookings_cancelled: int


async def revoke(
    api: WeChatPayApi | None,
    actor: Actor,
    *,
    community_id: int,
    provider_id: int,
    reason: str,
    cache: Cache | None = None,
) -> Revoked:
    service_ids = await providers.revoke(
        actor, community_id=community_id, provider_id=provider_id, reason=reason
    )
    withdrawn = 0
    for service in await Service.filter(id__in=service_ids, notice_id__isnull=False).only(
        "id", "compound_id", "notice_id"
    ):
        assert service.notice_id is not None
        withdrawn += await notices.withdraw_system_notice(
            notice_id=service.notice_id,
            compound_id=service.compound_id,
            reason=f"服务机构已被取消准入：{reason}"[:200],
            actor=actor,
            subject=f"service:{service.id}",
            cache=cache,
        )
    cancelled = 0
    open_ids = await Booking.filter(
        service_id__in=service_ids, state__in=[State.HELD, State.CONFIRMED], starts_at__gt=clock.now()
    ).values_list("id", flat=True)
    for booking_id in open_ids:
        try:
            moved = await cancel_by_provider(provider_id, int(booking_id), reason=REASON, actor_id=None)  # type: ignore[call-overload]
        except BookingStateConflict:  # paid, expired or cancelled meanwhile: the next state stands
            continue
        await payment.after_cancel(api, moved, reason=REASON)
        cancelled += 1
    return Revoked(len(service_ids), withdrawn, cancelled)
