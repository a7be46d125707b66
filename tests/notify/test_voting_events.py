"""Motions notify their voters: opening and result rows are written in the transition's transaction."""

from __future__ import annotations

from datetime import timedelta

from core import clock
from notify.models import Notification
from tests.voting.conftest import World, world  # noqa: F401 (a fixture)


async def test_opening_writes_one_row_per_voter_with_an_account_and_the_result_another(world: World) -> None:  # noqa: F811
    motion_id = await world.open()
    voters = await world.on_roll(motion_id)
    rows = await Notification.filter(event="motion.opening").order_by("user_id")
    assert sorted(r.user_id for r in rows) == sorted(world.users[o] for o in voters)  # type: ignore[attr-defined]
    assert {r.key for r in rows} == {f"motion.opening:motion:{motion_id}:{world.users[o]}" for o in voters}
    assert {r.page for r in rows} == {f"pages/voting/motion?id={motion_id}"}
    assert {r.data["thing1"] for r in rows} == {"关于使用维修资金维修电梯的表决"}
    # opening again (the clock racing a member) writes nothing more
    await world.step(motion_id, "open")
    assert await Notification.filter(event="motion.opening").count() == len(rows)

    await world.count(motion_id)
    await world.step(motion_id, "publish")
    results = await Notification.filter(event="motion.result")
    assert len(results) == len(rows)
    assert {r.data["thing2"] for r in results} <= {"1/1项通过", "0/1项通过"}


async def test_announcing_tells_the_owners_in_scope_with_an_account(world: World) -> None:  # noqa: F811
    opens_at = clock.now() + timedelta(hours=1)  # time enough to announce on a slow machine
    motion_id = await world.motion(opens_at=opens_at.isoformat())
    assert await Notification.filter(event="motion.announced").count() == 0  # a draft tells nobody
    await world.step(motion_id, "announce")
    rows = await Notification.filter(event="motion.announced")
    assert sorted(r.user_id for r in rows) == sorted(world.users.values())  # type: ignore[attr-defined]
    assert {r.key for r in rows} == {f"motion.announced:motion:{motion_id}:{u}" for u in world.users.values()}
    assert {r.data["thing1"] for r in rows} == {"关于使用维修资金维修电梯的表决"}


async def test_voters_who_have_not_voted_hear_that_voting_closes_soon_once(world: World) -> None:  # noqa: F811
    from voting import lifecycle

    motion_id = await world.open()  # closes in two hours: inside the reminder's day
    voters = await world.on_roll(motion_id)
    [item] = await world.item_ids(motion_id)
    cast = await world.cast(motion_id, voters[0], {str(item): "agree"})
    assert cast.status_code == 201, cast.text
    done = await lifecycle.tick()
    assert done["reminded"] == len(voters) - 1
    rows = await Notification.filter(event="motion.closing_soon")
    assert sorted(r.user_id for r in rows) == sorted(world.users[o] for o in voters[1:])  # type: ignore[attr-defined]
    assert (await lifecycle.tick())["reminded"] == 0  # the next tick (or another worker) tells nobody again
    assert await Notification.filter(event="motion.closing_soon").count() == len(voters) - 1
