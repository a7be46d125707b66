"""The public receipt check is bounded per client address: codes that name no ballot are counted and,
past the limit, every check from that address is refused for the minute (before any query), while
successful checks are never counted (owners behind one NAT address all check their receipts)."""

from __future__ import annotations

from dataclasses import replace

import httpx
from sanic import Sanic

from miniprogram_api.voting import RECEIPT_MISSES_PER_MINUTE

from .conftest import World


async def test_misses_are_limited_per_address_and_hits_are_not_counted(world: World, serve) -> None:  # type: ignore[no-untyped-def]
    motion_id = await world.open()
    (item,) = await world.item_ids(motion_id)
    owner = (await world.on_roll(motion_id))[0]
    cast = await world.cast(motion_id, owner, {str(item): "agree"})
    assert cast.status_code == 201, cast.text
    own = f"/api/v1/motions/{motion_id}/receipts/{cast.json()['receipt_code']}"
    for _ in range(RECEIPT_MISSES_PER_MINUTE + 5):  # many owners' successful checks from one address
        assert (await world.api.get(own)).status_code == 200
    for n in range(RECEIPT_MISSES_PER_MINUTE):
        miss = await world.api.get(f"/api/v1/motions/{motion_id}/receipts/GUESS{n:06d}")
        assert (miss.status_code, miss.json()["code"]) == (404, "receipt_not_found")
    refused = await world.api.get(f"/api/v1/motions/{motion_id}/receipts/GUESSAGAIN")
    assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited")
    assert 1 <= refused.json()["details"]["retry_after"] <= 60
    assert (await world.api.get(own)).status_code == 429  # the guesser's address is refused outright
    # A header naming another address changes nothing when the peer is not a configured proxy
    assert (await world.api.get(own, headers={"x-forwarded-for": "203.0.113.7"})).status_code == 429

    def behind_proxy(app: Sanic) -> None:
        app.ctx.settings = replace(app.ctx.settings, trusted_proxies=("127.0.0.1/32",))

    proxied = await serve(behind_proxy, background=False)
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as api:
        # behind our proxy each client is its own address; spoofed entries left of it are ignored
        other = await api.get(own, headers={"x-forwarded-for": "127.0.0.1, 203.0.113.7"})
        assert other.status_code == 200, other.text
        for n in range(RECEIPT_MISSES_PER_MINUTE + 1):
            await api.get(
                f"/api/v1/motions/{motion_id}/receipts/X{n:06d}", headers={"x-forwarded-for": "198.51.100.9"}
            )
        assert (await api.get(own, headers={"x-forwarded-for": "198.51.100.9"})).status_code == 429
        spoofed = await api.get(own, headers={"x-forwarded-for": "203.0.113.7, 198.51.100.9"})
        assert spoofed.status_code == 429  # the proxy saw 198.51.100.9; the left entry is the client's word
        assert (await api.get(own, headers={"x-forwarded-for": "203.0.113.7"})).status_code == 200
