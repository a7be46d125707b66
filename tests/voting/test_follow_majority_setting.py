"""Issue 12 item 6: the 从多 setting of a compound, changed only by its committee, audited, refused while
a motion is announced or open, and stated in the result (did it apply, which non-voters went where)."""

from __future__ import annotations

from accounts.models import Compound, RoleGrant, User
from accounts.sessions import open_session
from audit.models import AuditEvent
from core.cache import Cache
from tests import motion_timing
from voting.models import Motion, Voter
from voting.rules import FOLLOW_MAJORITY_RULE

from .conftest import World

BASIS = "《业主大会议事规则》第十二条"


def _path(world: World) -> str:
    return f"/api/v1/admin/compounds/{world.compound.id}/voting-settings/follow-majority"


async def _changes(world: World) -> list[dict]:  # type: ignore[type-arg]
    rows = await AuditEvent.filter(
        stream=f"compound:{world.compound.id}", action="compound.follow_majority_changed"
    ).order_by("seq")
    return [r.payload for r in rows]


async def test_only_the_committee_changes_it_and_every_change_is_audited(world: World, cache: Cache) -> None:
    path = _path(world)
    shown = await world.api.get(path, headers=world.chair)
    assert shown.status_code == 200, shown.text
    assert (shown.json()["enabled"], shown.json()["locked_by"], shown.json()["rule"]) == (
        False,
        [],
        FOLLOW_MAJORITY_RULE,
    )

    missing = await world.api.put(path, headers=world.chair, json={"enabled": True})
    assert (missing.status_code, missing.json()["code"]) == (400, "follow_majority_basis_missing")
    owner = world.owners[sorted(world.owners)[-1]]
    admin = await User.create(openid="the-community-admin")
    await RoleGrant.create(
        user=admin, role="community_admin", scope_type="community", scope_id=world.compound.community_id
    )  # type: ignore[attr-defined]
    admin_headers = {"authorization": f"Bearer {(await open_session(cache, admin.id, 600)).token}"}
    for headers in (owner, admin_headers, {}):
        refused = await world.api.put(path, headers=headers, json={"enabled": True, "basis": BASIS})
        assert refused.status_code == (401 if not headers else 403), refused.text
    assert not (await Compound.get(id=world.compound.id)).non_voters_follow_majority
    assert await _changes(world) == []

    changed = await world.api.put(path, headers=world.chair, json={"enabled": True, "basis": BASIS})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["basis"]) == (True, BASIS)
    assert changed.json()["changed_at"] is not None
    same = await world.api.put(path, headers=world.chair, json={"enabled": True, "basis": BASIS})
    assert same.status_code == 200
    assert await _changes(world) == [{"from": False, "to": True, "basis": BASIS}]  # a no-op logs nothing
    event = await AuditEvent.get(
        stream=f"compound:{world.compound.id}", action="compound.follow_majority_changed"
    )
    chair_user = await User.get(openid="demo-committee")
    assert event.actor == f"user:{chair_user.id}"
    unknown = await world.api.put(path, headers=world.chair, json={"enabled": False, "note": "x"})
    assert unknown.status_code == 400


async def test_refused_while_a_motion_is_announced_or_open_and_the_result_says_what_it_did(
    world: World,
) -> None:
    path = _path(world)
    assert (
        await world.api.put(path, headers=world.chair, json={"enabled": True, "basis": BASIS})
    ).status_code == 200
    motion_id = await world.motion()
    await world.announce(motion_id)
    locked = await world.api.put(path, headers=world.chair, json={"enabled": False})
    assert (locked.status_code, locked.json()["code"]) == (409, "follow_majority_locked")
    assert locked.json()["details"] == {"motions": [motion_id]}
    assert (await world.api.get(path, headers=world.chair)).json()["locked_by"] == [motion_id]

    await motion_timing.until_opens(motion_id)
    await world.step(motion_id, "open")
    assert (await Motion.get(id=motion_id)).follow_majority is True
    assert (await world.api.put(path, headers=world.chair, json={"enabled": False})).status_code == 409

    # everyone but the developer and two owners votes; agreement is the majority by area and heads
    (item_id,) = await world.item_ids(motion_id)
    on_roll = await world.on_roll(motion_id)
    voters = {v.owner_id: v for v in await Voter.filter(motion_id=motion_id)}  # type: ignore[attr-defined]
    abstaining = set(on_roll[:2])
    casting = [o for o in on_roll if o not in abstaining and not voters[o].is_developer]
    for n, owner_id in enumerate(casting):
        choice = "oppose" if n == 0 else "agree"
        assert (await world.cast(motion_id, owner_id, {str(item_id): choice})).status_code == 201
    await world.count(motion_id)
    result = (await world.api.get(f"/api/v1/motions/{motion_id}/results", headers=world.chair)).json()
    assert result["follow_majority"] is True and result["follow_majority_rule"] == FOLLOW_MAJORITY_RULE
    (item,) = result["items"]
    non_voters = [v for o, v in voters.items() if o not in casting]
    area = sum(v.area_h for v in non_voters)
    assert item["follow_majority_applied"] is True
    assert item["non_voters_counted"] == {
        "side": "agree",
        "area": f"{area / 100:.2f}",
        "headcount": len(non_voters),
    }
    assert item["participating"]["headcount"] == len(casting)  # non-voters never participate

    # counted: no motion is announced or open any more, so the committee may change it again
    off = await world.api.put(path, headers=world.chair, json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert [c["to"] for c in await _changes(world)] == [True, False]
