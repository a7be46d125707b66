"""The console's role grants of a community over HTTP: the community admin grants a grid worker, sees
them listed with a masked phone and revokes them (both audited); a county role is refused with the
domain's Chinese reason; a post without the CSRF token changes nothing; another community's admin is
refused."""

from __future__ import annotations

import html
import re

import httpx

from accounts.models import Community, RoleGrant, User
from accounts.roles import Role, Scope
from audit.models import AuditEvent
from console.grants import PAGE
from tests.console.conftest import Demo, sign_in


def _base(demo: Demo, community_id: int | None = None) -> str:
    return f"/console/communities/{community_id or demo.community.id}/grants"


async def _newcomer() -> User:
    return await User.create(openid="grant-newcomer", nickname="新网格员", phone="13912345678")


async def _grid_grant(demo: Demo, user: User) -> RoleGrant | None:
    return await RoleGrant.get_or_none(
        user_id=user.id,
        role=Role.GRID_WORKER.value,
        scope_type=Scope.COMMUNITY.value,
        scope_id=demo.community.id,
    )


async def test_the_community_admin_grants_and_revokes_a_grid_worker(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    user = await _newcomer()
    csrf = await sign_in(http, "demo-community")
    home = await http.get("/console/")
    assert f'href="{_base(demo)}"' in home.text
    done = await http.post(_base(demo), data={"csrf": csrf, "user_id": str(user.id), "role": "grid_worker"})
    assert done.status_code == 303 and done.headers["location"] == _base(demo), done.text
    grant = await _grid_grant(demo, user)
    assert grant is not None
    granted = await AuditEvent.filter(action="role.granted", subject=f"user:{user.id}").first()
    assert granted is not None and granted.payload["role"] == "grid_worker"
    assert granted.payload["scope_id"] == demo.community.id

    listed = await http.get(_base(demo))
    assert listed.status_code == 200
    assert "新网格员" in listed.text and "139****5678" in listed.text and "13912345678" not in listed.text
    action = f"{_base(demo)}/{grant.id}/revoke"
    assert f'action="{action}"' in listed.text and "data-confirm=" in listed.text

    done = await http.post(action, data={"csrf": csrf})
    assert done.status_code == 303, done.text
    assert await _grid_grant(demo, user) is None
    revoked = await AuditEvent.filter(action="role.revoked", subject=f"user:{user.id}").first()
    assert revoked is not None and revoked.payload["scope_id"] == demo.community.id
    assert "新网格员" not in (await http.get(_base(demo))).text


async def test_a_county_role_is_refused_with_the_domains_reason(demo: Demo, http: httpx.AsyncClient) -> None:
    user = await _newcomer()
    csrf = await sign_in(http, "demo-community")
    refused = await http.post(_base(demo), data={"csrf": csrf, "user_id": str(user.id), "role": "supervisor"})
    assert refused.status_code == 403 and "您不能授予该角色" in refused.text
    assert not await RoleGrant.filter(user_id=user.id).exists()


async def test_posts_without_the_csrf_token_change_nothing(demo: Demo, http: httpx.AsyncClient) -> None:
    user = await _newcomer()
    await sign_in(http, "demo-community")
    grid = await User.get(openid="demo-grid")
    grant = await _grid_grant(demo, grid)
    assert grant is not None
    for token in ("", "0" * 64):
        form = {"csrf": token, "user_id": str(user.id), "role": "grid_worker"}
        refused = await http.post(_base(demo), data=form)
        assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
        refused = await http.post(f"{_base(demo)}/{grant.id}/revoke", data={"csrf": token})
        assert refused.status_code == 403 and "页面已过期或请求来源不明" in refused.text
    assert await _grid_grant(demo, user) is None
    assert await _grid_grant(demo, grid) is not None
    assert not await AuditEvent.filter(action__in=["role.granted", "role.revoked"]).exists()


async def test_another_communitys_admin_is_refused(demo: Demo, http: httpx.AsyncClient) -> None:
    other = await Community.exclude(id=demo.community.id).order_by("id").first()
    assert other is not None
    admin = await User.create(openid="grant-other-admin", nickname="别的社区管理员")
    await RoleGrant.create(
        user=admin, role=Role.COMMUNITY_ADMIN.value, scope_type=Scope.COMMUNITY.value, scope_id=other.id
    )
    user = await _newcomer()
    grid = await User.get(openid="demo-grid")
    grant = await _grid_grant(demo, grid)
    assert grant is not None
    csrf = await sign_in(http, "grant-other-admin")
    assert (await http.get(_base(demo))).status_code == 403
    form = {"csrf": csrf, "user_id": str(user.id), "role": "grid_worker"}
    refused = await http.post(_base(demo), data=form)
    assert refused.status_code == 403 and "您没有执行此操作的权限" in refused.text
    refused = await http.post(f"{_base(demo)}/{grant.id}/revoke", data={"csrf": csrf})
    assert refused.status_code == 403
    # on its own community's page the grant of this community's worker is the domain's to refuse
    refused = await http.post(f"{_base(demo, other.id)}/{grant.id}/revoke", data={"csrf": csrf})
    assert refused.status_code == 403 and "您不能撤销该授权" in refused.text
    assert await _grid_grant(demo, user) is None and await _grid_grant(demo, grid) is not None
    assert (await http.get(_base(demo, other.id))).status_code == 200


async def test_the_list_is_paged_with_sealed_cursors(demo: Demo, http: httpx.AsyncClient) -> None:
    for n in range(PAGE):  # with the demo's own grid worker: one more than a page
        user = await User.create(openid=f"grant-page-{n}", nickname=f"分页网格员{n:02d}")
        await RoleGrant.create(
            user=user,
            role=Role.GRID_WORKER.value,
            scope_type=Scope.COMMUNITY.value,
            scope_id=demo.community.id,
        )
    await sign_in(http, "demo-community")
    first = await http.get(_base(demo))
    found = re.search(r'href="([^"]*\?cursor=[^"]+)"', first.text)
    assert first.status_code == 200 and found, first.text
    assert "分页网格员48" in first.text and "分页网格员49" not in first.text
    second = await http.get(html.unescape(found.group(1)))
    assert second.status_code == 200 and "分页网格员49" in second.text and "分页网格员48" not in second.text
    assert "?cursor=" not in second.text
    forged = await http.get(f"{_base(demo)}?cursor=1")
    assert forged.status_code == 400
