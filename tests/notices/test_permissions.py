"""Every role against every publishing route: allowed, or 401/403 with nothing changed.

The expected table is written by hand from the rules (plan tasks 8, 17, 20 and DOMAIN.md), not derived
from notices.rules, and the test fails if a /manage route exists that the table does not cover."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.matrix import row_counts
from tests.notices.conftest import ROLES, draft, publish

PDF = b"%PDF-1.4\n%%EOF\n"
COMMITTEE = {"committee"}
ANNOUNCERS = {"committee", "property_staff", "community_admin"}
MANAGERS = {"committee", "property_staff", "community_admin", "supervisor"}
REVIEWERS = {"community_admin", "supervisor"}
WITHDRAWERS = {"committee", "community_admin"}  # the community revokes and announces (task 8)
OFFICIALS = {"community_admin", "supervisor"}
SUPERVISOR = {"supervisor"}

ANNOUNCEMENT = {"category": "announcement", "title": "通知", "body_markdown": "内容"}
OFFICIAL = {"category": "official", "title": "通知", "body_markdown": "内容"}
SECTIONS = {
    s: {"lines": []} for s in ("common_income", "common_income_use", "fund_use", "committee_expenses")
}
DISCLOSURE = {
    "kind": "committee_annual",
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "sections": SECTIONS,
}
DISCLOSURE_EDIT = {"period_start": "2025-01-01", "period_end": "2025-12-31", "sections": SECTIONS}
# One disclosure per period: the route posts the year before the one the fixture already holds
ANOTHER_YEAR = DISCLOSURE | {"period_start": "2024-01-01", "period_end": "2024-12-31"}

C = "/manage/compound/{compound}"
# (method, path, body, who may call it)
ROUTES: list[tuple[str, str, Any, set[str]]] = [
    ("GET", C + "/notices", None, MANAGERS),
    ("POST", C + "/notices", ANNOUNCEMENT, ANNOUNCERS),
    ("GET", C + "/notices/{draft}", None, MANAGERS),
    ("PUT", C + "/notices/{draft}", {"title": "改", "body_markdown": "改"}, COMMITTEE),
    ("POST", C + "/notices/{draft2}/publish", {}, COMMITTEE),
    ("POST", C + "/notices/{live}/withdraw", {"reason": "有误"}, WITHDRAWERS),
    ("POST", C + "/notices/{live2}/pin", {"pinned": True}, COMMITTEE),
    ("POST", C + "/notices/{review}/review", {"approve": True}, REVIEWERS),
    ("POST", C + "/notices/{draft3}/attachments", PDF, COMMITTEE),
    ("GET", C + "/notices/{draft4}/attachments/{attachment}", None, MANAGERS),
    ("DELETE", C + "/notices/{draft5}/attachments/{attachment2}", None, COMMITTEE),
    ("GET", C + "/notices/{live3}/reads", None, MANAGERS),
    ("GET", C + "/notices/{ack}/acknowledgements", None, MANAGERS),
    ("POST", C + "/disclosures", ANOTHER_YEAR, COMMITTEE),
    ("PUT", C + "/disclosures/{disclosure}", DISCLOSURE_EDIT, COMMITTEE),
    ("GET", "/manage/community/{community}/notices", None, OFFICIALS),
    ("POST", "/manage/community/{community}/notices", OFFICIAL, OFFICIALS),
    ("GET", "/manage/county/0/notices", None, SUPERVISOR),
    ("POST", "/manage/county/0/notices", OFFICIAL, SUPERVISOR),
]


async def snapshot() -> dict[str, int]:
    return await row_counts()


def test_every_manage_route_is_in_the_matrix(server) -> None:
    def shape(path: str) -> str:
        parts = path.strip("/").split("/")
        return "/".join("<>" if p.startswith(("<", "{")) or p.isdigit() else p for p in parts)

    declared = {
        (method, shape(route.path.removeprefix("api/v1")))
        for route in server.app.router.routes
        if route.path.startswith("api/v1/manage")
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    covered = {
        (method, shape(path.replace("compound/{compound}", "<scope>/<target>")))
        for method, path, *_ in ROUTES
    }
    scoped = {
        (m, p.replace("manage/community/<>", "manage/<>/<>").replace("manage/county/<>", "manage/<>/<>"))
        for m, p in covered
    }
    scoped = {(m, p.replace("manage/compound/<>", "manage/<>/<>")) for m, p in scoped}
    assert declared == {(m, p.replace("<scope>/<target>", "<>/<>")) for m, p in scoped}


@pytest.fixture
async def targets(api: httpx.AsyncClient, world: dict[str, Any]) -> dict[str, int]:
    ids = {key: world[key] for key in ("compound", "community")}
    for key in ("draft", "draft2", "draft3", "draft4", "draft5"):
        ids[key] = await draft(api, world)
    for key in ("live", "live2", "live3"):
        ids[key] = await draft(api, world)
        await publish(api, world, ids[key])
    ids["ack"] = await draft(api, world, requires_ack=True)
    await publish(api, world, ids["ack"])
    ids["review"] = await draft(api, world, body_markdown="待审")
    await publish(api, world, ids["review"])
    attached = await api.post(
        f"/manage/compound/{world['compound']}/notices/{ids['draft4']}/attachments",
        headers={**world["auth"]["committee"], "content-type": "application/pdf"},
        content=PDF,
    )
    ids["attachment"] = attached.json()["id"]
    attached = await api.post(
        f"/manage/compound/{world['compound']}/notices/{ids['draft5']}/attachments",
        headers={**world["auth"]["committee"], "content-type": "application/pdf"},
        content=PDF,
    )
    ids["attachment2"] = attached.json()["id"]
    disclosure = await api.post(
        f"/manage/compound/{world['compound']}/disclosures",
        headers=world["auth"]["committee"],
        json=DISCLOSURE,
    )
    ids["disclosure"] = disclosure.json()["id"]
    return ids


@pytest.mark.parametrize("role", ROLES)
async def test_permission_matrix(
    role: str, api: httpx.AsyncClient, world: dict[str, Any], targets: dict[str, int]
) -> None:
    headers = world["auth"][role]
    failures = []
    for method, template, body, allowed in ROUTES:
        path = template.format(**targets)
        before = await snapshot()
        if isinstance(body, bytes):
            response = await api.request(
                method, path, headers={**headers, "content-type": "application/pdf"}, content=body
            )
        else:
            response = await api.request(method, path, headers=headers, json=body)
        expected = 401 if role == "anonymous" else (None if role in allowed else 403)
        if expected is None:
            if response.status_code >= 400:
                failures.append(f"{role} refused {method} {template}: {response.status_code} {response.text}")
        else:
            if response.status_code != expected:
                failures.append(
                    f"{role} got {response.status_code} on {method} {template}, expected {expected}"
                )
            after = await snapshot()
            if after != before:
                changed = {t: (before.get(t), n) for t, n in after.items() if before.get(t) != n}
                failures.append(f"{role}'s refused {method} {template} changed the database: {changed}")
    assert failures == []


async def test_the_company_cannot_manage_the_committees_notice(
    api: httpx.AsyncClient, world: dict[str, Any], targets: dict[str, int]
) -> None:
    response = await api.post(
        f"/manage/compound/{world['compound']}/notices/{targets['live']}/pin",
        headers=world["auth"]["property_staff"],
        json={"pinned": True},
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_your_notice")


async def test_reading_the_board_needs_a_role_in_the_compound(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    readers = {
        "resident",
        "owner",
        "committee",
        "property_staff",
        "community_admin",
        "grid_worker",
        "supervisor",
    }
    for role in ROLES:
        response = await api.get(f"/compounds/{world['compound']}/notices", headers=world["auth"][role])
        expected = 401 if role == "anonymous" else (200 if role in readers else 403)
        assert (role, response.status_code) == (role, expected)
    faraway = await api.get(f"/compounds/{world['faraway']}/notices", headers=world["auth"]["owner"])
    assert faraway.status_code == 403


async def test_acknowledging_needs_an_owner_or_resident_of_the_compound(
    api: httpx.AsyncClient, world: dict[str, Any], targets: dict[str, int]
) -> None:
    acknowledgers = {"resident", "owner", "committee"}  # the committee's chair owns a unit
    path = f"/compounds/{world['compound']}/notices/{targets['ack']}/acknowledge"
    for role in ROLES:
        before = await snapshot()
        response = await api.post(path, headers=world["auth"][role])
        expected = 401 if role == "anonymous" else (200 if role in acknowledgers else 403)
        assert (role, response.status_code) == (role, expected), response.text
        if expected != 200:
            assert await snapshot() == before, f"{role}'s refused acknowledgement changed the database"
