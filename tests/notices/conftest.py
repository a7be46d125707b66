"""A compound with a person for every role, a second compound and a second community, the fake
WeChat server behind the real client, and helpers to publish and to deliver WeChat's push."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from accounts.models import (
    Building,
    Committee,
    CommitteeMember,
    Community,
    Compound,
    Owner,
    Ownership,
    PropertyCompany,
    Resident,
    ResidentRelation,
    RoleGrant,
    ServiceContract,
    Unit,
    User,
)
from accounts.sessions import open_session
from config.settings import Settings
from core.cache import Cache
from miniprogram_api.notices import push_config
from wechat import SecurityVerdict, WeChatClient
from wechat.fake import FakeWeChat
from wechat.push import signed_push

ROLES = [
    "anonymous",
    "nobody",
    "resident",
    "owner",
    "committee",
    "property_staff",
    "community_admin",
    "other_community_admin",
    "grid_worker",
    "department_staff",
    "supervisor",
]


@pytest.fixture
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat("wx0000000000000000", "fake-wechat-secret")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def api(serve, fake_wechat: FakeWeChat, cache: Cache) -> AsyncIterator[httpx.AsyncClient]:
    assert fake_wechat.base_url is not None
    client = WeChatClient("wx0000000000000000", "fake-wechat-secret", cache, base_url=fake_wechat.base_url)
    server = await serve(wechat=client)
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as http:
        yield http
    await client.aclose()


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> dict[str, Any]:
    a = await Community.create(name="东街社区")
    b = await Community.create(name="西街社区")
    compound = await Compound.create(community=a, name="阳光花园")
    neighbour = await Compound.create(community=a, name="锦绣家园")
    faraway = await Compound.create(community=b, name="和平小区")
    building = await Building.create(compound=compound, name="1号楼")
    units = [
        await Unit.create(compound=compound, building=building, number=f"10{i}", area=Decimal("88.80"))
        for i in range(1, 4)
    ]
    users = {role: await User.create(openid=f"openid-{role}", nickname=role) for role in ROLES[1:]}
    owner = await Owner.create(name="业主甲", user=users["owner"])
    chair = await Owner.create(name="主任乙", user=users["committee"])
    await Ownership.create(unit=units[0], owner=owner)
    await Ownership.create(unit=units[1], owner=chair)
    await Resident.create(unit=units[0], user=users["resident"], relation=ResidentRelation.TENANT)
    committee = await Committee.create(
        compound=compound, term_starts_on=date(2020, 1, 1), term_ends_on=date(2099, 1, 1)
    )
    await CommitteeMember.create(committee=committee, owner=chair)
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    await ServiceContract.create(
        company=company, compound=compound, starts_on=date(2020, 1, 1), ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )  # fmt: skip
    grants = [
        ("property_staff", "property_staff", "company", company.id),
        ("community_admin", "community_admin", "community", a.id),
        ("other_community_admin", "community_admin", "community", b.id),
        ("grid_worker", "grid_worker", "community", a.id),
        ("department_staff", "department_staff", "department", 1),
        ("supervisor", "supervisor", "county", 0),
    ]
    for who, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[who], role=role, scope_type=scope, scope_id=scope_id)
    tokens = {role: (await open_session(cache, user.id, 3600)).token for role, user in users.items()}
    return {
        "auth": {role: {"authorization": f"Bearer {t}"} for role, t in tokens.items()} | {"anonymous": {}},
        "users": users,
        "compound": compound.id,
        "neighbour": neighbour.id,
        "faraway": faraway.id,
        "community": a.id,
        "other_community": b.id,
    }


def manage(world: dict[str, Any], scope: str = "compound", target: int | None = None) -> str:
    if target is None:
        target = {"compound": world["compound"], "community": world["community"], "county": 0}[scope]
    return f"/manage/{scope}/{target}"


async def draft(
    api: httpx.AsyncClient, world: dict[str, Any], *, role: str = "committee", scope: str = "compound",
    **fields: Any,
) -> int:  # fmt: skip
    body = {"category": "announcement", "title": "停水通知", "body_markdown": "明天 9:00 停水。"} | fields
    response = await api.post(f"{manage(world, scope)}/notices", headers=world["auth"][role], json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def publish(
    api: httpx.AsyncClient, world: dict[str, Any], notice_id: int, *, role: str = "committee",
    scope: str = "compound", **window: Any,
) -> dict[str, Any]:  # fmt: skip
    response = await api.post(
        f"{manage(world, scope)}/notices/{notice_id}/publish", headers=world["auth"][role], json=window
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def post(api: httpx.AsyncClient, world: dict[str, Any], **fields: Any) -> int:
    notice_id = await draft(api, world, **fields)
    assert (await publish(api, world, notice_id))["state"] == "live"
    return notice_id


async def board(api: httpx.AsyncClient, world: dict[str, Any], role: str = "owner", **query: Any) -> Any:
    response = await api.get(
        f"/compounds/{world['compound']}/notices", headers=world["auth"][role], params=query
    )
    assert response.status_code == 200, response.text
    return response.json()


async def titles(
    api: httpx.AsyncClient, world: dict[str, Any], role: str = "owner", **query: Any
) -> list[str]:
    return [item["title"] for item in (await board(api, world, role, **query))["items"]]


def media_check_event(verdict: SecurityVerdict) -> dict[str, Any]:
    """The wxa_media_check event WeChat pushes (JSON data format)."""
    return {
        "ToUserName": "gh_0000", "FromUserName": "oFake", "CreateTime": int(time.time()), "MsgType": "event",
        "Event": "wxa_media_check", "appid": "wx0000000000000000", "trace_id": verdict.trace_id, "version": 2,
        "detail": [{"strategy": "content_model", "errcode": 0, "suggest": verdict.suggest, "label": verdict.label}],
        "errcode": 0, "errmsg": "ok", "result": {"suggest": verdict.suggest, "label": verdict.label},
    }  # fmt: skip


async def post_push(api: httpx.AsyncClient, query: dict[str, str], body: bytes) -> httpx.Response:
    return await api.post(
        "/wechat/push", params=query, content=body, headers={"content-type": "application/json"}
    )


async def deliver(
    api: httpx.AsyncClient, settings: Settings, verdict: SecurityVerdict, *, signature: str | None = None
) -> httpx.Response:
    """WeChat's message push for one media check, in plain JSON mode, correctly signed (each call with
    a fresh nonce, as WeChat sends them)."""
    query, body = signed_push(push_config(settings), media_check_event(verdict))
    if signature is not None:
        query["signature"] = signature
    return await post_push(api, query, body)
