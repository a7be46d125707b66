"""Every role against every committee route of voting: allowed, or 403 with nothing changed."""

from __future__ import annotations

import pytest

from accounts.models import RoleGrant, User
from accounts.sessions import open_session
from core.cache import Cache
from tests.matrix import row_counts

from .conftest import World

MANAGERS = {"committee", "community_admin"}
WATCHERS = {"committee", "community_admin", "supervisor"}
ROLES = [
    "nobody",
    "owner",
    "property_staff",
    "grid_worker",
    "other_community_admin",
    "committee",
    "community_admin",
    "supervisor",
]

# (method, path under the compound's motions, who may)
ROUTES = [
    ("POST", "", MANAGERS),
    ("GET", "", WATCHERS),
    ("GET", "/{m}", WATCHERS),
    ("POST", "/{m}/announce", MANAGERS),
    ("POST", "/{m}/open", MANAGERS),
    ("POST", "/{m}/close", MANAGERS),
    ("POST", "/{m}/count", MANAGERS),
    ("POST", "/{m}/publish", MANAGERS),
    ("POST", "/{m}/finalize", MANAGERS),
    ("POST", "/{m}/extend", MANAGERS),
    ("POST", "/{m}/cancel", MANAGERS),
    ("GET", "/{m}/roll", WATCHERS),
    ("GET", "/{m}/turnout", WATCHERS),
    ("POST", "/{m}/paper-ballots", MANAGERS),
    ("GET", "/{m}/proxies", MANAGERS),
    ("POST", "/{m}/proxies/1/decision", MANAGERS),
    ("GET", "/{m}/archive.csv", WATCHERS),
    ("GET", "/{m}/archive.xlsx", WATCHERS),
]


async def test_every_voting_admin_route_is_in_the_matrix(server) -> None:
    declared = {
        (
            method,
            "/"
            + "/".join(
                "<>" if p.startswith("<") else p
                for p in route.path.split("/motions", 1)[1].strip("/").split("/")
                if p
            ),
        )
        for route in server.app.router.routes
        if "/motions" in route.path and route.path.startswith("api/v1/admin")
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    covered = {
        (
            method,
            "/" + "/".join("<>" if p in ("{m}", "1") else p for p in template.strip("/").split("/") if p),
        )
        for method, template, _ in ROUTES
    }
    assert declared == covered


async def _snapshot() -> dict[str, int]:
    return await row_counts()


@pytest.mark.parametrize("role", ROLES)
async def test_voting_permission_matrix(role: str, world: World, cache: Cache) -> None:
    motion_id = await world.open()
    if role == "committee":
        headers = world.chair
    elif role == "owner":
        headers = world.owners[(await world.on_roll(motion_id))[-1]]  # not on the committee (its first five)
    else:
        user = await User.create(openid=f"role-{role}")
        scopes = {
            "property_staff": ("company", 1),
            "grid_worker": ("community", world.compound.community_id),  # type: ignore[attr-defined]
            "other_community_admin": ("community", 999),
            "community_admin": ("community", world.compound.community_id),  # type: ignore[attr-defined]
            "supervisor": ("county", 0),
        }
        if role in scopes:
            grant_role = "community_admin" if role == "other_community_admin" else role
            await RoleGrant.create(
                user=user, role=grant_role, scope_type=scopes[role][0], scope_id=scopes[role][1]
            )
        headers = {"authorization": f"Bearer {(await open_session(cache, user.id, 600)).token}"}
    failures = []
    for method, template, allowed in ROUTES:
        path = world.admin + template.replace("{m}", str(motion_id))
        before = await _snapshot()
        response = await world.api.request(
            method, path, headers=headers, json={} if method == "POST" else None
        )
        if role in allowed:
            if response.status_code in (401, 403):
                failures.append(f"{role} refused {method} {template}: {response.text}")
        else:
            if response.status_code != 403:
                failures.append(
                    f"{role} got {response.status_code} on {method} {template}: {response.text[:200]}"
                )
            if await _snapshot() != before:
                failures.append(f"{role}'s refused {method} {template} changed the database")
    assert failures == []


# The owners' routes under /api/v1/motions (issue 10): who may read a motion, its roll, results, ballot
# list and export; receipts, the chain head and the rules are public. Casting is checked against the
# roll itself (test_voting_http), so it is left out here.
PUBLIC = {"anonymous", "resident", *ROLES}
OWNER_READERS = {"owner", "resident", "committee", "community_admin", "supervisor"}
OWNER_ROUTES = [
    ("GET", "/mine", PUBLIC - {"anonymous"}),
    ("GET", "/rules", PUBLIC),
    ("GET", "/{m}", OWNER_READERS),
    ("POST", "/{m}/ballots", None),
    ("POST", "/{m}/proxies", OWNER_READERS),
    ("POST", "/{m}/proxy-invitations/{m}/revoke", OWNER_READERS),  # the owner's own only: proxies test
    ("GET", "/proxy-invitations", PUBLIC - {"anonymous"}),
    ("POST", "/proxy-invitations/accept", PUBLIC - {"anonymous"}),
    ("GET", "/{m}/receipts/AAAAAAAAAAAA", PUBLIC),
    ("GET", "/{m}/chain", PUBLIC),
    ("GET", "/{m}/roll", OWNER_READERS),
    ("GET", "/{m}/results", OWNER_READERS),
    ("GET", "/{m}/ballot-list", OWNER_READERS),
    ("GET", "/{m}/export", OWNER_READERS),
]


async def test_every_owner_voting_route_is_in_the_matrix(server) -> None:
    declared = {
        (
            method,
            "/" + "/".join("<>" if p.startswith("<") else p for p in route.path.split("/", 3)[3].split("/")),
        )
        for route in server.app.router.routes
        if route.path.startswith("api/v1/motions")
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    covered = {
        (
            method,
            "/"
            + "/".join("<>" if p in ("{m}", "AAAAAAAAAAAA") else p for p in template.strip("/").split("/")),
        )
        for method, template, _ in OWNER_ROUTES
    }
    assert declared == covered


@pytest.mark.parametrize("role", ["anonymous", "resident", *ROLES])
async def test_owner_voting_routes_permission_matrix(role: str, world: World, cache: Cache) -> None:
    from accounts.models import Resident, ResidentRelation, Unit

    motion_id = await world.open()
    headers: dict[str, str] = {}
    if role == "committee":
        headers = world.chair
    elif role == "owner":
        headers = world.owners[(await world.on_roll(motion_id))[-1]]
    elif role != "anonymous":
        user = await User.create(openid=f"role-{role}")
        scopes = {
            "property_staff": ("company", 1),
            "grid_worker": ("community", world.compound.community_id),  # type: ignore[attr-defined]
            "other_community_admin": ("community", 999),
            "community_admin": ("community", world.compound.community_id),  # type: ignore[attr-defined]
            "supervisor": ("county", 0),
        }
        if role in scopes:
            grant_role = "community_admin" if role == "other_community_admin" else role
            await RoleGrant.create(
                user=user, role=grant_role, scope_type=scopes[role][0], scope_id=scopes[role][1]
            )
        if role == "resident":
            unit = await Unit.filter(compound=world.compound).first()
            await Resident.create(unit=unit, user=user, relation=ResidentRelation.TENANT)
        headers = {"authorization": f"Bearer {(await open_session(cache, user.id, 600)).token}"}
    failures = []
    for method, template, allowed in OWNER_ROUTES:
        if allowed is None:
            continue
        path = f"/api/v1/motions{template.replace('{m}', str(motion_id))}"
        before = await _snapshot()
        response = await world.api.request(
            method, path, headers=headers, json={} if method == "POST" else None
        )
        if role in allowed:
            if response.status_code in (401, 403):
                failures.append(f"{role} refused {method} {template}: {response.text}")
        else:
            expected = 401 if role == "anonymous" else 403
            if response.status_code != expected:
                failures.append(
                    f"{role} got {response.status_code} on {method} {template}: {response.text[:200]}"
                )
            if await _snapshot() != before:
                failures.append(f"{role}'s refused {method} {template} changed the database")
    assert failures == []
