"""A person's nickname over HTTP: set by themselves, bounded, checked (no phone or ID numbers, WeChat's
content check), cleared; and household members shown by nickname or a masked label, never "用户7"."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from accounts.models import (
    Building,
    Community,
    Compound,
    Owner,
    Ownership,
    Resident,
    ResidentRelation,
    Unit,
    User,
)
from accounts.profile import masked_label


async def _login(client: httpx.AsyncClient, openid: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"code": f"test:{openid}"})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


async def test_set_and_clear_a_nickname(client: httpx.AsyncClient) -> None:
    headers = await _login(client, "o-nick-1")
    user = await User.get(openid="o-nick-1")
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["nickname"] == "" and me["display_name"] == masked_label(user)
    assert me["display_name"].startswith("用户·") and str(user.id) not in me["display_name"].removeprefix(
        "用户·"
    )

    response = await client.put("/api/v1/me/profile", json={"nickname": "  三楼  张阿姨 "}, headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["nickname"], response.json()["display_name"]) == ("三楼 张阿姨", "三楼 张阿姨")
    assert (await User.get(id=user.id)).nickname == "三楼 张阿姨"

    await User.filter(id=user.id).update(phone="13912345678")
    cleared = await client.put("/api/v1/me/profile", json={"nickname": ""}, headers=headers)
    assert (cleared.json()["nickname"], cleared.json()["display_name"]) == ("", "用户（尾号5678）")


@pytest.mark.parametrize(
    ("nickname", "status", "code"),
    [
        ("一" * 21, 400, None),  # over the bound: refused at parsing
        ("小王13912345678", 400, "nickname_personal_data"),
        ("身份证 510100-19900307", 400, "nickname_personal_data"),
        ("违禁昵称", 400, "nickname_content_risky"),
        ("张\u0007三", 400, "nickname_invalid"),
    ],
)
async def test_refused_nicknames_change_nothing(
    client: httpx.AsyncClient, nickname: str, status: int, code: str | None
) -> None:
    headers = await _login(client, "o-nick-2")
    assert (
        await client.put("/api/v1/me/profile", json={"nickname": "老李"}, headers=headers)
    ).status_code == 200
    response = await client.put("/api/v1/me/profile", json={"nickname": nickname}, headers=headers)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["code"] == code
    assert (await User.get(openid="o-nick-2")).nickname == "老李"
    unknown = await client.put("/api/v1/me/profile", json={"nickname": "老李", "phone": "1"}, headers=headers)
    assert unknown.status_code == 400  # only the nickname: no other personal field is taken


async def test_household_members_show_by_nickname_or_a_masked_label(client: httpx.AsyncClient) -> None:
    community = await Community.create(name="东街社区")
    compound = await Compound.create(community=community, name="阳光花园")
    building = await Building.create(compound=compound, name="1号楼")
    unit = await Unit.create(compound=compound, building=building, number="101", area=Decimal("88.80"))
    owner_headers = await _login(client, "o-owner")
    owner_user = await User.get(openid="o-owner")
    owner = await Owner.create(compound=compound, name="王芳", user=owner_user)
    await Ownership.create(unit=unit, owner=owner)
    tenant_headers = await _login(client, "o-tenant")
    tenant = await User.get(openid="o-tenant")
    await User.filter(id=tenant.id).update(phone="13800001234")
    await Resident.create(unit=unit, user=tenant, relation=ResidentRelation.TENANT)
    family = await User.create(openid="o-family")
    await Resident.create(unit=unit, user=family, relation=ResidentRelation.FAMILY)

    members = (await client.get(f"/api/v1/me/units/{unit.id}/household", headers=owner_headers)).json()[
        "members"
    ]
    names = [(m["kind"], m["name"]) for m in members]
    assert names == [
        ("owner", "王芳"),
        ("tenant", "租户（尾号1234）"),
        ("family", masked_label(family, "家庭成员")),
    ]
    assert all(f"用户{u.id}" not in name for u in (tenant, family) for _, name in names)

    await client.put("/api/v1/me/profile", json={"nickname": "小陈"}, headers=tenant_headers)
    members = (await client.get(f"/api/v1/me/units/{unit.id}/household", headers=owner_headers)).json()[
        "members"
    ]
    assert [m["name"] for m in members][1] == "小陈"


async def test_only_a_signed_in_person_sets_a_nickname_and_only_their_own(client: httpx.AsyncClient) -> None:
    """The route's permission row: no session is 401, a bad token is 401; nothing changes either way."""
    await _login(client, "o-nick-self")
    for headers in ({}, {"authorization": "Bearer not-a-session"}):
        response = await client.put("/api/v1/me/profile", json={"nickname": "冒名"}, headers=headers)
        assert response.status_code == 401, response.text
    assert (await User.get(openid="o-nick-self")).nickname == ""
