"""/motions/mine (issue 12 item 7): a keyset page, newest first, with a status filter whose default
leaves out cancelled motions; a cursor that no page wrote is a 400 (cursors are opaque and signed:
miniprogram_api.endpoint)."""

from __future__ import annotations

from .conftest import World


async def test_my_motions_are_paged_newest_first_without_cancelled_by_default(world: World) -> None:
    created = [await world.motion(title=f"表决{i}") for i in range(3)]
    for motion_id in created:
        await world.announce(motion_id)
    await world.step(created[1], "cancel", reason="议题撤回")
    hidden = await world.motion(title="草稿")  # a draft is never listed
    owner = world.owners[next(iter(world.owners))]
    api = world.api

    default = (await api.get("/api/v1/motions/mine", headers=owner)).json()
    assert [m["id"] for m in default["items"]] == [created[2], created[0]]
    assert default["next_cursor"] is None

    cancelled = (await api.get("/api/v1/motions/mine", params={"status": "cancelled"}, headers=owner)).json()
    assert [(m["id"], m["status"]) for m in cancelled["items"]] == [(created[1], "cancelled")]

    first = (await api.get("/api/v1/motions/mine", params={"limit": 1}, headers=owner)).json()
    assert [m["id"] for m in first["items"]] == [created[2]]
    assert first["next_cursor"] and first["next_cursor"] != str(created[2])  # opaque, not the id
    second = (
        await api.get(
            "/api/v1/motions/mine", params={"limit": 1, "cursor": first["next_cursor"]}, headers=owner
        )
    ).json()
    assert ([m["id"] for m in second["items"]], second["next_cursor"]) == ([created[0]], None)
    assert hidden not in {m["id"] for m in default["items"] + cancelled["items"]}


async def test_bad_cursors_limits_and_statuses_are_400(world: World) -> None:
    owner = world.owners[next(iter(world.owners))]
    for params, code in [
        ({"cursor": "abc"}, "cursor_invalid"),
        ({"cursor": "0"}, "cursor_invalid"),
        ({"cursor": "9" * 21}, "cursor_invalid"),
        ({"cursor": "3"}, "cursor_invalid"),  # a bare id no page wrote
        ({"limit": 51}, "invalid"),
        ({"limit": 0}, "invalid"),
        ({"status": "deleted"}, "invalid"),
    ]:
        response = await world.api.get("/api/v1/motions/mine", params=params, headers=owner)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] == code, params


async def test_the_committees_list_pages_every_motion_and_filters_by_status(world: World) -> None:
    draft = await world.motion(title="草稿")
    announced = await world.motion(title="公告")
    await world.step(announced, "announce")
    everything = (await world.api.get(world.admin, headers=world.chair)).json()
    assert [m["id"] for m in everything["items"]] == [announced, draft]
    drafts = (await world.api.get(world.admin, params={"status": "draft"}, headers=world.chair)).json()
    assert ([m["id"] for m in drafts["items"]], drafts["next_cursor"]) == ([draft], None)
    first = (await world.api.get(world.admin, params={"limit": 1}, headers=world.chair)).json()
    assert [m["id"] for m in first["items"]] == [announced] and first["next_cursor"]
    rest = (
        await world.api.get(
            world.admin, params={"limit": 1, "cursor": first["next_cursor"]}, headers=world.chair
        )
    ).json()
    assert ([m["id"] for m in rest["items"]], rest["next_cursor"]) == ([draft], None)
