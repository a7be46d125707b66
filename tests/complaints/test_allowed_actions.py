"""allowed_actions over HTTP, for every person × every state: each action the app is told it may
take succeeds, each one it is not told is refused and changes nothing. The list comes from where
the person sees the complaint: its detail, else the similar-complaints list (a neighbour's "me too"),
else nowhere (then every action must be refused)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from audit.models import AuditEvent
from complaints.guards import ACTIONS
from complaints.models import Complaint, Event, Moderation, Status, Support
from core import clock

from .conftest import PEOPLE, World, make_complaint

# action -> (path, body) of the route that takes it
CALLS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "accept": ("/staff/complaints/{id}/accept", {}),
    "dispatch": ("/staff/complaints/{id}/dispatch", {}),
    "start": ("/staff/complaints/{id}/progress", {}),
    "resolve": ("/staff/complaints/{id}/resolve", {"note": "已处理"}),
    "reject": ("/staff/complaints/{id}/reject", {"note": "重复投诉"}),
    "escalate": ("/staff/complaints/{id}/escalate", {"note": "需要社区协调"}),
    "moderate": ("/staff/complaints/{id}/moderation", {"passed": True}),
    "rate": ("/complaints/{id}/rate", {"rating": 4}),
    "reopen": ("/complaints/{id}/reopen", {"note": "还没有修好"}),
    "support": ("/complaints/{id}/support", None),
}
OLD = timedelta(days=8)  # past the reopen window
# (label, make_complaint arguments)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("submitted", {}),
    ("submitted-held", {"moderation": Moderation.HELD}),
    ("submitted-department", {"category": "illegal_construction"}),
    ("accepted-by-community", {"status": Status.ACCEPTED}),
    ("accepted-by-company", {"status": Status.ACCEPTED, "assigned": True}),
    ("dispatched", {"status": Status.DISPATCHED}),
    ("dispatched-department", {"status": Status.DISPATCHED, "category": "illegal_construction"}),
    ("in_progress", {"status": Status.IN_PROGRESS}),
    ("in_progress-department", {"status": Status.IN_PROGRESS, "category": "illegal_construction"}),
    ("resolved", {"status": Status.RESOLVED}),
    ("resolved-long-ago", {"status": Status.RESOLVED, "resolved_at": "old"}),
    ("confirmed", {"status": Status.CONFIRMED}),
    ("confirmed-long-ago", {"status": Status.CONFIRMED, "resolved_at": "old"}),
    ("reopened", {"status": Status.REOPENED}),
    ("closed", {"status": Status.CLOSED}),
]


def test_every_action_has_a_route_in_the_matrix() -> None:
    assert set(CALLS) == set(ACTIONS)


async def _make(world: World, arguments: dict[str, Any]) -> Complaint:
    kwargs = dict(arguments)
    if kwargs.get("resolved_at") == "old":
        kwargs["resolved_at"] = clock.now() - OLD
    return await make_complaint(world, **kwargs)


async def _listed(api: httpx.AsyncClient, world: World, who: str, complaint: Complaint) -> list[str] | None:
    """What the app shows ``who`` for this complaint, or None when they see it nowhere."""
    headers = world.headers(who)
    detail = await api.get(f"/complaints/{complaint.id}", headers=headers)
    if detail.status_code == 200:
        return list(detail.json()["allowed_actions"])
    assert detail.status_code == 404, detail.text
    similar = await api.get(
        "/complaints/similar",
        params={"building_id": world.building.id, "category": complaint.category_id},  # type: ignore[attr-defined]
        headers=headers,
    )
    if similar.status_code == 200:
        for item in similar.json()["items"]:
            if item["id"] == complaint.id:
                return list(item["allowed_actions"])
    return None


async def _state(complaint_id: int) -> tuple[object, ...]:
    row = await Complaint.get(id=complaint_id).values_list(
        "status", "version", "moderation", "company_id", "department_id", "rating", "reopen_count",
        "escalations", "supporters",
    )  # fmt: skip
    return (
        row,
        await Event.filter(complaint_id=complaint_id).count(),
        await Support.filter(complaint_id=complaint_id).count(),
        await AuditEvent.filter(subject=f"complaint:{complaint_id}").count(),
    )


async def _take(
    api: httpx.AsyncClient, world: World, who: str, action: str, complaint_id: int
) -> httpx.Response:
    path, body = CALLS[action]
    return await api.post(path.replace("{id}", str(complaint_id)), json=body, headers=world.headers(who))


@pytest.mark.parametrize(("label", "arguments"), CASES, ids=[c[0] for c in CASES])
async def test_listed_actions_succeed_and_the_others_are_refused(
    label: str, arguments: dict[str, Any], world: World, api: httpx.AsyncClient
) -> None:
    failures: list[str] = []
    lists: dict[str, list[str]] = {}
    for who in PEOPLE:
        complaint = await _make(world, arguments)
        listed = await _listed(api, world, who, complaint) or []
        lists[who] = listed
        assert set(listed) <= set(ACTIONS)
        before = await _state(complaint.id)
        for action in ACTIONS:
            if action in listed:
                fresh = await _make(world, arguments)  # each allowed action on its own copy
                response = await _take(api, world, who, action, fresh.id)
                if response.status_code != 200:
                    failures.append(f"{who}: listed {action} failed {response.status_code} {response.text}")
            else:
                response = await _take(api, world, who, action, complaint.id)
                if response.status_code < 400 or response.status_code >= 500:
                    failures.append(f"{who}: unlisted {action} answered {response.status_code}")
                if await _state(complaint.id) != before:
                    failures.append(f"{who}: refused {action} changed the complaint")
                    before = await _state(complaint.id)
    assert failures == []
    assert lists == EXPECTED[label]


# What each person is offered, written by hand from the rules (DOMAIN.md; complaints/rules.py).
# Absent people are offered nothing.


def _with(**offers: list[str]) -> dict[str, list[str]]:
    return {who: offers.get(who, []) for who in PEOPLE}


_NEIGHBOURS_SUPPORT = {"neighbour": ["support"], "owner": ["support"]}
EXPECTED: dict[str, dict[str, list[str]]] = {
    "submitted": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["accept", "escalate"],
        community_admin=["accept", "reject"],
        grid_worker=["escalate"],
    ),
    "submitted-held": _with(community_admin=["moderate"], supervisor=["moderate"]),
    "submitted-department": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["escalate"],
        community_admin=["accept", "reject"],
        grid_worker=["escalate"],
    ),
    "accepted-by-community": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["escalate"],
        community_admin=["dispatch", "reject"],
        grid_worker=["escalate"],
    ),
    "accepted-by-company": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["start", "resolve", "escalate"],
        community_admin=["dispatch", "reject"],
        grid_worker=["escalate"],
    ),
    "dispatched": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["start", "resolve", "escalate"],
        community_admin=["dispatch"],
        grid_worker=["escalate"],
    ),
    "dispatched-department": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["escalate"],
        community_admin=["dispatch"],
        grid_worker=["escalate"],
        department_staff=["start", "resolve", "escalate"],
    ),
    "in_progress": _with(
        **_NEIGHBOURS_SUPPORT, property_staff=["resolve", "escalate"], grid_worker=["escalate"]
    ),
    "in_progress-department": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["escalate"],
        grid_worker=["escalate"],
        department_staff=["resolve", "escalate"],
    ),
    "resolved": _with(resident=["rate", "reopen"]),
    "resolved-long-ago": _with(resident=["rate"]),
    "confirmed": _with(resident=["reopen"]),
    "confirmed-long-ago": _with(),
    "reopened": _with(
        **_NEIGHBOURS_SUPPORT,
        property_staff=["start", "resolve", "escalate"],
        community_admin=["dispatch"],
        grid_worker=["escalate"],
    ),
    "closed": _with(),
}
