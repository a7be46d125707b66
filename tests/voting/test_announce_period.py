"""The announcement period (issue 10, item 9, 物业管理条例 第十四条): a motion is announced at least
15 days before voting opens; a compound may set longer, never shorter. Only a development or test
configuration lowers the minimum, and the API reports the minimum in force."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import httpx
import pytest

from accounts.demo import FILLED, seed_demo
from accounts.models import Compound, User
from accounts.sessions import open_session
from audit.service import SYSTEM
from config.settings import Settings
from core import clock
from core.cache import Cache
from voting import lifecycle
from voting.models import Motion, MotionStatus
from voting.rules import Matter


@pytest.fixture
async def legal(serve, cache: Cache, settings: Settings) -> Any:
    """A server with the production minimum (15 days), and the chair of a demo compound."""
    await seed_demo(hmac_key=b"k")
    compound = await Compound.get(name=FILLED[0])

    def production_minimum(app: Any) -> None:
        app.ctx.settings = dataclasses.replace(settings, min_announce_days=15)

    server = await serve(production_minimum, background=False)
    chair = await User.get(openid="demo-committee")
    headers = {"authorization": f"Bearer {(await open_session(cache, chair.id, 3600)).token}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
        yield api, compound, headers


def _body(**overrides: Any) -> dict[str, Any]:
    now = clock.now()
    return {
        "title": "关于续聘物业的表决",
        "text": "详见附件。",
        "items": [{"title": "续聘物业", "matter": "hire_property_company"}],
        "opens_at": (now + timedelta(days=16)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        **overrides,
    }


async def test_the_api_reports_the_minimum_in_force(legal: Any, client: httpx.AsyncClient) -> None:
    api, _, _ = legal
    assert (await api.get("/api/v1/motions/rules")).json() == {
        "min_announce_days": 15,
        "legal_min_announce_days": 15,
    }
    # the test configuration lowers it, and says so
    assert (await client.get("/api/v1/motions/rules")).json() == {
        "min_announce_days": 0,
        "legal_min_announce_days": 15,
    }
    document = (await api.get("/docs/openapi.json")).json()
    assert "/api/v1/motions/rules" in document["paths"]


@pytest.mark.parametrize("days", [0, 1, 14])
async def test_a_shorter_period_is_refused_and_nothing_is_created(legal: Any, days: int) -> None:
    api, compound, headers = legal
    admin = f"/api/v1/admin/compounds/{compound.id}/motions"
    refused = await api.post(admin, headers=headers, json=_body(announce_days=days))
    assert (refused.status_code, refused.json()["code"]) == (400, "motion_invalid")
    assert "公告期不得少于 15 天" in refused.json()["message"]
    assert await Motion.all().count() == 0


async def test_the_legal_period_by_default_and_a_longer_one_on_request(legal: Any) -> None:
    api, compound, headers = legal
    admin = f"/api/v1/admin/compounds/{compound.id}/motions"
    default = await api.post(admin, headers=headers, json=_body())
    longer = await api.post(admin, headers=headers, json=_body(announce_days=20))
    assert (default.status_code, longer.status_code) == (201, 201)
    days = [
        (await api.get(f"{admin}/{r.json()['id']}", headers=headers)).json()["announce_days"]
        for r in (default, longer)
    ]
    assert days == [15, 20]
    # the 15-day motion opens in 16 days: it may be announced now; the 20-day one may not
    assert (await api.post(f"{admin}/{default.json()['id']}/announce", headers=headers)).status_code == 200
    early = await api.post(f"{admin}/{longer.json()['id']}/announce", headers=headers)
    assert (early.status_code, early.json()["details"]["announce_days"]) == (400, 20)
    assert (await Motion.get(id=longer.json()["id"])).status is MotionStatus.DRAFT


async def test_a_draft_stored_with_a_shorter_period_is_announced_with_the_legal_one(legal: Any) -> None:
    """A draft written before the rule (or under a test configuration) cannot skip the notice."""
    api, compound, headers = legal
    user = await User.get(openid="demo-committee")
    now = clock.now()
    draft = lifecycle.MotionDraft(
        title="旧草稿", text="旧", items=[lifecycle.ItemDraft("续聘物业", Matter.HIRE_PROPERTY_COMPANY)],
        opens_at=now + timedelta(days=1), closes_at=now + timedelta(days=10), announce_days=0,
    )  # fmt: skip
    motion = await lifecycle.create(SYSTEM, compound.id, user.id, draft, min_announce_days=0)
    refused = await api.post(
        f"/api/v1/admin/compounds/{compound.id}/motions/{motion.id}/announce", headers=headers
    )
    assert (refused.status_code, refused.json()["details"]["announce_days"]) == (400, 15)
    assert (await Motion.get(id=motion.id)).status is MotionStatus.DRAFT


async def test_the_domain_defaults_to_the_law_without_a_configuration(legal: Any) -> None:
    _, compound, _ = legal
    user = await User.get(openid="demo-committee")
    now = clock.now()
    draft = lifecycle.MotionDraft(
        title="草稿", text="无", items=[lifecycle.ItemDraft("续聘物业", Matter.HIRE_PROPERTY_COMPANY)],
        opens_at=now + timedelta(days=20), closes_at=now + timedelta(days=30), announce_days=3,
    )  # fmt: skip
    with pytest.raises(lifecycle.errors.MotionInvalid):
        await lifecycle.create(SYSTEM, compound.id, user.id, draft)
    assert await Motion.all().count() == 0
