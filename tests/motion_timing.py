"""Announcing a test motion that opens moments from now, on a machine of any speed.

Tests draft motions that open 400 ms after drafting, to get to voting quickly. On a loaded machine more
than that can pass before the announcement, which the law's rule (announce before voting opens) rightly
refuses; the draft's start is then re-timed (a draft records no start in the audit chain) and announced
again. ``until_opens`` waits only as long as the start is still ahead.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from core import clock

MARGIN = timedelta(milliseconds=400)


async def announce(api: httpx.AsyncClient, admin: str, motion_id: int, headers: dict[str, str]) -> None:
    """POST {admin}/{motion_id}/announce, re-timing the draft while the margin keeps running out."""
    from voting.models import Motion

    for _ in range(5):
        response = await api.post(f"{admin}/{motion_id}/announce", headers=headers)
        if response.status_code != 400:
            break
        assert response.json()["code"] == "motion_invalid", response.text
        assert "earliest_opens_at" in response.json()["details"], response.text
        await Motion.filter(id=motion_id).update(opens_at=clock.now() + MARGIN)
    assert response.status_code == 200, response.text


async def until_opens(motion_id: int) -> None:
    """Sleep until the announced motion's start has passed."""
    from voting.models import Motion

    opens_at = (await Motion.get(id=motion_id)).opens_at
    await asyncio.sleep(max(0.0, (opens_at - clock.now()).total_seconds()) + 0.05)
