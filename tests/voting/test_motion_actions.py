"""The motion detail's allowed_actions over HTTP: for owners, a proxy and a resident across a motion's
life (announced, open without and with changes allowed, after a ballot, counted), every action listed
succeeds and every action not listed is refused."""

from __future__ import annotations

from typing import Any

import httpx

from accounts.models import Resident, ResidentRelation, Unit, User
from accounts.sessions import open_session
from core.cache import Cache
from tests import motion_timing
from voting.actions import ACTIONS
from voting.models import ProxyAuthorization, ProxyStatus, Voter

from .conftest import World, jpeg

API = "/api/v1"


async def _upload(api: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await api.post(
        f"{API}/photos", content=jpeg(), headers={**headers, "content-type": "image/jpeg"}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _try(
    world: World, motion_id: int, headers: dict[str, str], action: str, for_voter: int | None
) -> int:
    """Take ``action`` as the app would from the detail's button; the HTTP status."""
    api = world.api
    if action == "view_results":
        return (await api.get(f"{API}/motions/{motion_id}/results", headers=headers)).status_code
    if action == "invite_proxy":
        body = {"document_photo_ids": [await _upload(api, headers)]}
        return (await api.post(f"{API}/motions/{motion_id}/proxies", json=body, headers=headers)).status_code
    items = await world.item_ids(motion_id)
    choices: dict[str, Any] = {str(i): "agree" for i in items}
    body = {"choices": choices, **({"for_voter": for_voter} if action == "cast_as_proxy" else {})}
    if action == "cast_as_proxy" and for_voter is None:
        body["for_voter"] = 1  # nobody they may vote for: any id
    return (await api.post(f"{API}/motions/{motion_id}/ballots", json=body, headers=headers)).status_code


async def _check(
    world: World, motion_id: int, people: dict[str, tuple[dict[str, str], int | None]]
) -> dict[str, list[str]]:
    """Each person's allowed_actions; then each listed action must succeed, each other be refused."""
    lists = {}
    for who, (headers, _) in people.items():
        detail = await world.api.get(f"{API}/motions/{motion_id}", headers=headers)
        assert detail.status_code == 200, detail.text
        lists[who] = detail.json()["allowed_actions"]
    failures = []
    for who, (headers, for_voter) in people.items():
        for action in ("view_results", "invite_proxy", "cast_as_proxy", "cast"):
            status = await _try(world, motion_id, headers, action, for_voter)
            if action in lists[who] and status not in (200, 201):
                failures.append(f"{who}: listed {action} answered {status}")
            if action not in lists[who] and not 400 <= status < 500:
                failures.append(f"{who}: unlisted {action} answered {status}")
    assert failures == []
    return lists


async def test_allowed_actions_across_a_motion(world: World, cache: Cache) -> None:
    assert set(ACTIONS) == {"cast", "cast_as_proxy", "invite_proxy", "view_results"}
    unit = await Unit.filter(compound=world.compound).order_by("id").first()
    assert unit is not None
    tenant = await User.create(openid="tenant-1", nickname="租户")
    await Resident.create(unit=unit, user=tenant, relation=ResidentRelation.TENANT)
    tenant_headers = {"authorization": f"Bearer {(await open_session(cache, tenant.id, 3600)).token}"}

    for allow_change in (False, True):
        motion_id = await world.motion(allow_change=allow_change)
        await world.announce(motion_id)
        voter, proxy_owner, represented = sorted(world.owners)[:3]
        people = {
            "voter": (world.owners[voter], None),
            "proxy": (world.owners[proxy_owner], None),
            "tenant": (tenant_headers, None),
        }
        announced = await _check(world, motion_id, people)
        assert announced == {"voter": [], "proxy": [], "tenant": []}

        await motion_timing.until_opens(motion_id)
        await world.step(motion_id, "open")  # the roll is fixed now
        assert {voter, proxy_owner, represented} <= set(await world.on_roll(motion_id))
        represented_voter = await Voter.get(motion_id=motion_id, owner_id=represented)
        await ProxyAuthorization.create(
            motion_id=motion_id, voter=represented_voter, proxy_user_id=world.users[proxy_owner],
            document_ref="photo:1", status=ProxyStatus.APPROVED,
        )  # fmt: skip
        people["proxy"] = (world.owners[proxy_owner], represented_voter.id)
        before = {
            who: (await world.api.get(f"{API}/motions/{motion_id}", headers=h)).json()["allowed_actions"]
            for who, (h, _) in people.items()
        }
        assert before == {
            "voter": ["cast", "invite_proxy"],
            "proxy": ["cast", "cast_as_proxy", "invite_proxy"],
            "tenant": [],
        }
        after = await _check(world, motion_id, people)  # every listed one taken once: ballots exist now
        again = await _check(world, motion_id, people)
        if allow_change:
            assert after == again == before  # changing a ballot stays possible
        else:
            assert again == {"voter": ["invite_proxy"], "proxy": ["invite_proxy"], "tenant": []}

        await world.count(motion_id)
        counted = await _check(world, motion_id, people)
        assert counted == {
            "voter": ["view_results"],
            "proxy": ["view_results"],
            "tenant": ["view_results"],
        }
