"""The fund office (住建局维修资金管理机构) is a county role, granted by the supervisor only, and held over
every compound of the county (it holds every compound's sub-accounts)."""

from __future__ import annotations

from typing import Any

import httpx

from accounts import roles
from accounts.models import RoleGrant
from accounts.roles import GRANTABLE, Role, Scope
from tests.fund.conftest import FundWorld


async def test_the_fund_office_is_a_county_role(world: FundWorld) -> None:
    assert GRANTABLE[Role.FUND_OFFICE] is Scope.COUNTY
    assert Role.FUND_OFFICE in await roles.county_roles(world.uid("fund_office"))
    assert Role.FUND_OFFICE in await roles.compound_roles(world.uid("fund_office"), world.far_compound.id)
    assert Role.FUND_OFFICE not in await roles.compound_roles(world.uid("supervisor"), world.compound.id)


async def test_only_the_supervisor_grants_it(world: FundWorld, serve: Any) -> None:
    server = await serve()
    path = f"/api/v1/admin/communities/{world.compound.community_id}/grants"  # type: ignore[attr-defined]
    body = {"user_id": world.uid("outsider"), "role": "fund_office", "scope_id": 0}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        refused = await http.post(path, json=body, headers=world.headers("community_admin"))
        assert refused.status_code == 403
        assert not await RoleGrant.exists(user_id=world.uid("outsider"))
        granted = await http.post(path, json=body, headers=world.headers("supervisor"))
        assert granted.status_code == 201, granted.text
    assert Role.FUND_OFFICE in await roles.county_roles(world.uid("outsider"))
