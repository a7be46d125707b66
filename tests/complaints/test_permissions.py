"""Every person against every staff complaint route: allowed, or 401/403 with nothing changed.
The expected table is written by hand from the rules in DOMAIN.md, not derived from the code, and the
test fails if a staff route exists that the table does not cover."""

from __future__ import annotations

import httpx
import pytest

from complaints.models import Complaint, Event, Moderation, Status

from .conftest import World, make_complaint

PEOPLE = [
    "anonymous", "resident", "neighbour", "outsider", "property_staff", "other_property_staff",
    "community_admin", "other_community_admin", "grid_worker", "department_staff",
    "other_department_staff", "supervisor",
]  # fmt: skip
STAFF = {
    "property_staff", "other_property_staff", "community_admin", "other_community_admin", "grid_worker",
    "department_staff", "other_department_staff", "supervisor",
}  # fmt: skip
OVERSIGHT = {"community_admin", "other_community_admin", "supervisor"}

# (method, path under /staff/complaints, state of the complaint it needs, body, who may call it)
ROUTES: list[tuple[str, str, Status | None, dict[str, object], set[str]]] = [
    ("GET", "", None, {}, STAFF),
    ("GET", "/statistics", None, {}, OVERSIGHT),
    ("POST", "/sweep", None, {}, OVERSIGHT),
    ("POST", "/{id}/accept", Status.SUBMITTED, {}, {"community_admin", "property_staff"}),
    ("POST", "/{id}/dispatch", Status.ACCEPTED, {}, {"community_admin"}),  # no dispatch to oneself
    ("POST", "/{id}/progress", Status.DISPATCHED, {}, {"property_staff"}),
    ("POST", "/{id}/resolve", Status.IN_PROGRESS, {"note": "好了"}, {"property_staff"}),
    ("POST", "/{id}/reject", Status.SUBMITTED, {"note": "重复"}, {"community_admin"}),
    ("POST", "/{id}/escalate", Status.DISPATCHED, {"note": "需要执法"}, {"property_staff", "grid_worker"}),
    ("POST", "/{id}/moderation", Status.SUBMITTED, {"passed": True}, {"community_admin", "supervisor"}),
]


async def snapshot() -> list[tuple[object, ...]]:
    rows = await Complaint.all().order_by("id").values_list("id", "status", "version", "moderation")
    return [*rows, ("events", await Event.all().count())]


def test_every_staff_route_is_in_the_matrix(server) -> None:  # type: ignore[no-untyped-def]
    declared = {
        (method, route.path.removeprefix("api/v1/staff/complaints").replace("<complaint_id:int>", "{id}"))
        for route in server.app.router.routes
        if route.path.startswith("api/v1/staff/complaints")
        for method in route.methods - {"HEAD", "OPTIONS"}
    }
    assert declared == {(method, path) for method, path, *_ in ROUTES}


@pytest.mark.parametrize("who", PEOPLE)
async def test_permission_matrix(who: str, world: World, api: httpx.AsyncClient) -> None:
    failures = []
    for method, template, status, payload, allowed in ROUTES:
        path = "/staff/complaints" + template
        if status is not None:
            held = template.endswith("moderation")
            complaint = await make_complaint(
                world, status=status, moderation=Moderation.HELD if held else Moderation.PASSED
            )
            path = path.replace("{id}", str(complaint.id))
        before = await snapshot()
        response = await api.request(
            method, path, headers=world.headers(who), json=payload if method == "POST" else None
        )
        expected = 401 if who == "anonymous" else (None if who in allowed else 403)
        if expected is None:
            if response.status_code >= 400:
                failures.append(f"{who} refused {method} {template}: {response.status_code} {response.text}")
        else:
            if response.status_code != expected:
                failures.append(
                    f"{who} got {response.status_code} on {method} {template}, expected {expected}"
                )
            if await snapshot() != before:
                failures.append(f"{who}'s refused {method} {template} changed the database")
    assert failures == []
