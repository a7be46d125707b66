"""A compound with verified owners and a committee, ready for motions over real HTTP."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from accounts.demo import FILLED, seed_demo
from accounts.models import Compound, Owner, User
from accounts.sessions import open_session
from core import clock
from core.cache import Cache
from tests import motion_timing


async def every_page(api: Any, url: str, headers: dict[str, str], limit: int = 7) -> list[Any]:
    """All items of a paged list, following next_cursor (a small limit, so the paging is exercised)."""
    items: list[Any] = []
    cursor = None
    for _ in range(1000):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await api.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("no last page")


def jpeg() -> bytes:
    """A small photo (a scanned letter, say) the photo pipeline accepts."""
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((320, 240), 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


@dataclass
class World:
    api: httpx.AsyncClient
    compound: Compound
    chair: dict[str, str]
    owners: dict[int, dict[str, str]] = field(default_factory=dict)  # owner id -> auth header
    users: dict[int, int] = field(default_factory=dict)  # owner id -> user id

    @property
    def admin(self) -> str:
        return f"/api/v1/admin/compounds/{self.compound.id}/motions"

    async def motion(self, items: list[dict[str, Any]] | None = None, **overrides: Any) -> int:
        now = clock.now()
        body = {
            "title": "关于使用维修资金维修电梯的表决",
            "text": "详见附件。",
            "items": items
            or [{"title": "同意使用维修资金维修 1 号楼电梯", "matter": "use_maintenance_fund"}],
            "opens_at": (now + timedelta(milliseconds=400)).isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat(),
            "announce_days": 0,
            **overrides,
        }
        created = await self.api.post(self.admin, headers=self.chair, json=body)
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    async def step(self, motion_id: int, action: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        response = await self.api.post(
            f"{self.admin}/{motion_id}/{action}", headers=self.chair, json=body or None
        )
        assert response.status_code == expect, response.text
        return dict(response.json())

    async def announce(self, motion_id: int) -> None:
        """Announce a draft from ``motion``, re-timed if a slow machine let its start slip by."""
        await motion_timing.announce(self.api, self.admin, motion_id, self.chair)

    async def open(self, items: list[dict[str, Any]] | None = None, **overrides: Any) -> int:
        motion_id = await self.motion(items, **overrides)
        await self.announce(motion_id)
        await motion_timing.until_opens(motion_id)
        await self.step(motion_id, "open")
        return motion_id

    async def count(self, motion_id: int) -> dict[str, Any]:
        """Close the motion as if its deadline had passed, and count it."""
        from voting.models import Motion

        await Motion.filter(id=motion_id).update(closes_at=clock.now())
        await self.step(motion_id, "close")
        return await self.step(motion_id, "count")

    async def cast(
        self, motion_id: int, owner_id: int, choices: dict[str, Any], **extra: Any
    ) -> httpx.Response:
        return await self.api.post(
            f"/api/v1/motions/{motion_id}/ballots",
            headers=self.owners[owner_id],
            json={"choices": choices, **extra},
        )

    async def on_roll(self, motion_id: int) -> list[int]:
        """Owner ids on the motion's roll who have an account (the developer has none)."""
        from voting.models import Voter

        owners = await Voter.filter(motion_id=motion_id).values_list("owner_id", flat=True)
        return sorted(o for o in owners if o in self.owners)

    async def item_ids(self, motion_id: int) -> list[int]:
        detail = await self.api.get(f"{self.admin}/{motion_id}", headers=self.chair)
        return [i["id"] for i in detail.json()["items"]]


@pytest.fixture
async def world(serve, cache: Cache) -> World:
    await seed_demo(hmac_key=b"k")
    compound = await Compound.get(name=FILLED[0])
    server = await serve(background=False)
    api = httpx.AsyncClient(base_url=server.url, timeout=60)
    chair_user = await User.get(openid="demo-committee")
    world = World(
        api, compound, {"authorization": f"Bearer {(await open_session(cache, chair_user.id, 3600)).token}"}
    )
    for owner in await Owner.filter(ownerships__unit__compound=compound).distinct():
        if owner.user_id is None:  # type: ignore[attr-defined]
            owner.user = await User.create(openid=f"owner-{owner.id}", nickname=owner.name)
            await owner.save(update_fields=["user_id"])
        user_id = owner.user_id  # type: ignore[attr-defined]
        world.users[owner.id] = user_id
        world.owners[owner.id] = {
            "authorization": f"Bearer {(await open_session(cache, user_id, 3600)).token}"
        }
    yield world
    await api.aclose()
