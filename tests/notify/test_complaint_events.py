"""A complaint's resident is told when it is accepted, dispatched and resolved (and asked to rate)."""

from __future__ import annotations

import httpx

from complaints.models import Status
from notify.models import Notification
from tests.complaints.conftest import World, api, fake_wechat, make_complaint, wechat, world  # noqa: F401


async def test_accepting_notifies_the_complainant_once(api: httpx.AsyncClient, world: World) -> None:  # noqa: F811
    complaint = await make_complaint(world, status=Status.SUBMITTED)
    denied = await api.post(
        f"/staff/complaints/{complaint.id}/accept", json={}, headers=world.headers("outsider")
    )
    assert denied.status_code == 403
    assert await Notification.all().count() == 0  # a refused step tells nobody
    done = await api.post(
        f"/staff/complaints/{complaint.id}/accept", json={}, headers=world.headers("property_staff")
    )
    assert done.status_code == 200, done.text
    (row,) = await Notification.all()
    assert row.user_id == world.users["resident"].id  # type: ignore[attr-defined]
    assert (row.event, row.data["phrase3"], row.page) == (
        "complaint.accepted", "已受理", f"pages/complaints/detail?id={complaint.id}",
    )  # fmt: skip
