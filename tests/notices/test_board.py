"""The board as residents see it: order, pages, unread marks, audience, schedule, expiry, revisions,
withdrawal, and the cache showing every change on the next read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from audit.models import AuditEvent
from notices.models import Notice, NoticeRead, NoticeRevision
from tests.notices.conftest import board, draft, manage, post, publish, titles


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def test_pinned_first_then_newest_in_cursor_pages(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    for n in range(1, 6):
        await post(api, world, title=f"通知{n}")
    first = await post(api, world, title="置顶", pinned=True)
    assert first
    page1 = await board(api, world, limit=3)
    assert [i["title"] for i in page1["items"]] == ["置顶", "通知5", "通知4"]
    assert page1["items"][0]["pinned"] is True
    page2 = await board(api, world, limit=3, cursor=page1["next_cursor"])
    assert [i["title"] for i in page2["items"]] == ["通知3", "通知2", "通知1"]
    assert page2["next_cursor"] is None
    bad = await api.get(
        f"/compounds/{world['compound']}/notices", headers=world["auth"]["owner"], params={"cursor": "xx"}
    )
    assert (bad.status_code, bad.json()["code"]) == (400, "cursor_invalid")


async def test_category_filter_and_unread_marks(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    water = await post(api, world, title="停水", category="emergency")
    await post(api, world, title="换届", category="committee_decision")
    assert await titles(api, world, category="emergency") == ["停水"]
    unknown = await api.get(
        f"/compounds/{world['compound']}/notices", headers=world["auth"]["owner"], params={"category": "x"}
    )
    assert unknown.json()["code"] == "category_unknown"
    assert [i["unread"] for i in (await board(api, world))["items"]] == [True, True]
    opened = await api.get(f"/compounds/{world['compound']}/notices/{water}", headers=world["auth"]["owner"])
    assert opened.status_code == 200 and opened.json()["first_read"] is True
    again = await api.get(f"/compounds/{world['compound']}/notices/{water}", headers=world["auth"]["owner"])
    assert again.json()["first_read"] is False
    marks = {i["title"]: i["unread"] for i in (await board(api, world))["items"]}
    assert marks == {"停水": False, "换届": True}
    # another person's marks are their own
    assert all(i["unread"] for i in (await board(api, world, role="resident"))["items"])
    reads = await api.get(f"{manage(world)}/notices/{water}/reads", headers=world["auth"]["committee"])
    assert reads.json() == {"notice_id": water, "read_count": 1, "audience_size": 3}
    assert await NoticeRead.filter(notice_id=water).count() == 1


async def test_owners_only_notices_are_hidden_from_residents_and_staff(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    secret = await post(api, world, title="关于续聘物业的意见征集", audience="owners")
    await post(api, world, title="公共通知")
    assert await titles(api, world, role="owner") == ["公共通知", "关于续聘物业的意见征集"]
    assert await titles(api, world, role="resident") == ["公共通知"]
    assert await titles(api, world, role="property_staff") == ["公共通知"]
    refused = await api.get(
        f"/compounds/{world['compound']}/notices/{secret}", headers=world["auth"]["resident"]
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "audience_restricted")
    assert await NoticeRead.all().count() == 0
    outsider = await api.get(f"/compounds/{world['compound']}/notices", headers=world["auth"]["nobody"])
    assert outsider.status_code == 403


async def test_scheduled_notice_appears_on_time_and_expires_on_time(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    later = await draft(api, world, title="定时")
    scheduled = await publish(api, world, later, publish_at=_iso(now + timedelta(seconds=2)))
    assert scheduled["state"] == "scheduled"
    short = await draft(api, world, title="限时")
    assert (await publish(api, world, short, expires_at=_iso(now + timedelta(seconds=2))))["state"] == "live"
    assert await titles(api, world) == ["限时"]  # cached now, until the first of the two moments
    hidden = await api.get(f"/compounds/{world['compound']}/notices/{later}", headers=world["auth"]["owner"])
    assert hidden.status_code == 404
    await asyncio.sleep(2.3)
    assert await titles(api, world) == ["定时"]
    listing = (await api.get(f"{manage(world)}/notices", headers=world["auth"]["committee"])).json()["items"]
    assert {i["title"]: i["state"] for i in listing} == {"定时": "live", "限时": "expired"}


async def test_publication_window_is_checked(api: httpx.AsyncClient, world: dict[str, Any]) -> None:
    notice = await draft(api, world)
    now = datetime.now(UTC)
    url = f"{manage(world)}/notices/{notice}/publish"
    past = await api.post(
        url, headers=world["auth"]["committee"], json={"publish_at": _iso(now - timedelta(days=1))}
    )
    assert (past.status_code, past.json()["code"]) == (400, "publish_in_past")
    inverted = await api.post(
        url,
        headers=world["auth"]["committee"],
        json={"publish_at": _iso(now + timedelta(days=2)), "expires_at": _iso(now + timedelta(days=1))},
    )
    assert (inverted.status_code, inverted.json()["code"]) == (400, "window_invalid")
    assert (await Notice.get(id=notice)).status == "draft"


async def test_editing_adds_a_revision_and_the_history_stays_visible(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice = await post(api, world, title="停水通知", body_markdown="明天 9:00 停水。")
    await board(api, world)  # cache the board
    edited = await api.put(
        f"{manage(world)}/notices/{notice}",
        headers=world["auth"]["committee"],
        json={"title": "停水通知（更正）", "body_markdown": "明天 **10:00** 停水。", "note": "时间更正"},
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["revision"], edited.json()["state"]) == (2, "live")
    items = (await board(api, world))["items"]
    assert [(i["title"], i["revision"]) for i in items] == [("停水通知（更正）", 2)]
    detail = (
        await api.get(f"/compounds/{world['compound']}/notices/{notice}", headers=world["auth"]["owner"])
    ).json()
    assert detail["body_html"] == "<p>明天 <strong>10:00</strong> 停水。</p>\n"
    history = (
        await api.get(
            f"/compounds/{world['compound']}/notices/{notice}/revisions", headers=world["auth"]["owner"]
        )
    ).json()["items"]
    assert [(r["number"], r["title"], r["note"]) for r in history] == [
        (1, "停水通知", ""),
        (2, "停水通知（更正）", "时间更正"),
    ]
    assert history[0]["body_html"] == "<p>明天 9:00 停水。</p>\n"
    assert await NoticeRevision.filter(notice_id=notice).count() == 2


async def test_withdrawal_takes_it_off_the_board_with_the_reason(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice = await post(api, world, title="错发的通知")
    assert await titles(api, world) == ["错发的通知"]
    url = f"{manage(world)}/notices/{notice}/withdraw"
    empty = await api.post(url, headers=world["auth"]["committee"], json={"reason": " "})
    assert empty.json()["code"] == "reason_required"
    done = await api.post(url, headers=world["auth"]["committee"], json={"reason": "内容有误"})
    assert (done.json()["state"], done.json()["withdraw_reason"]) == ("withdrawn", "内容有误")
    assert await titles(api, world) == []
    gone = await api.get(f"/compounds/{world['compound']}/notices/{notice}", headers=world["auth"]["owner"])
    assert gone.status_code == 404
    twice = await api.post(url, headers=world["auth"]["committee"], json={"reason": "再次"})
    assert (twice.status_code, twice.json()["code"]) == (409, "notice_state_conflict")
    edit = await api.put(
        f"{manage(world)}/notices/{notice}",
        headers=world["auth"]["committee"],
        json={"title": "x", "body_markdown": "y"},
    )
    assert edit.status_code == 409
    event = await AuditEvent.filter(action="notice.withdrawn").get()
    assert (event.subject, event.payload["reason"]) == (f"notice:{notice}", "内容有误")


async def test_every_change_is_visible_on_the_next_read(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    """The board is cached; each kind of change replaces the cache token."""
    one = await post(api, world, title="一")
    await post(api, world, title="二")
    assert await titles(api, world) == ["二", "一"]
    assert await titles(api, world) == ["二", "一"]  # served from the cache
    await Notice.filter(id=one).update(title="改了数据库但没经过服务")
    assert await titles(api, world) == ["二", "一"]  # proves the read above came from the cache
    pin = await api.post(
        f"{manage(world)}/notices/{one}/pin", headers=world["auth"]["committee"], json={"pinned": True}
    )
    assert pin.status_code == 200
    assert await titles(api, world) == ["改了数据库但没经过服务", "二"]
    await post(api, world, title="三")
    assert await titles(api, world) == ["改了数据库但没经过服务", "三", "二"]
    await api.post(
        f"{manage(world)}/notices/{one}/withdraw", headers=world["auth"]["committee"], json={"reason": "过期"}
    )
    assert await titles(api, world) == ["三", "二"]


async def test_official_notices_reach_every_board_in_their_scope(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    await board(api, world)  # cached before the community posts
    community = await draft(
        api, world, role="community_admin", scope="community", category="official", title="社区通知"
    )
    await publish(api, world, community, role="community_admin", scope="community")
    county = await draft(api, world, role="supervisor", scope="county", category="official", title="全县通知")
    await publish(api, world, county, role="supervisor", scope="county")
    assert await titles(api, world) == ["全县通知", "社区通知"]
    refused = await api.post(
        f"{manage(world, 'county')}/notices",
        headers=world["auth"]["community_admin"],
        json={"category": "official", "title": "越权", "body_markdown": "x"},
    )
    assert refused.status_code == 403
    assert await Notice.filter(scope="community").count() == 1
    other = await api.post(
        f"{manage(world, 'community', world['other_community'])}/notices",
        headers=world["auth"]["community_admin"],
        json={"category": "official", "title": "别的社区", "body_markdown": "x"},
    )
    assert other.status_code == 403


async def test_a_change_through_one_worker_is_visible_on_another(
    api: httpx.AsyncClient, serve, world: dict[str, Any]
) -> None:
    """Two app instances sharing the cache backend (Redis in the PostgreSQL run), as two workers do."""
    other = await serve()
    async with httpx.AsyncClient(base_url=other.url + "/api/v1", timeout=30) as second:
        notice = await post(api, world, title="第一版")
        assert await titles(second, world) == ["第一版"]  # cached by the second worker
        await api.post(
            f"{manage(world)}/notices/{notice}/withdraw",
            headers=world["auth"]["committee"],
            json={"reason": "重发"},
        )
        assert await titles(second, world) == []


async def test_the_publisher_gets_the_notice_back_however_many_the_scope_has(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    """Each manage action answers with the notice's own row: once it was looked up among the newest
    500 of the scope, and the oldest notice of a busy compound answered 500."""
    first = await draft(api, world, title="最早的一条")
    row = await Notice.filter(id=first).values()
    template = {k: v for k, v in row[0].items() if k != "id"}
    await Notice.bulk_create([Notice(**template) for _ in range(500)])
    published = await publish(api, world, first)
    assert (published["id"], published["title"], published["state"]) == (first, "最早的一条", "live")
    detail = await api.get(f"{manage(world, 'compound')}/notices/{first}", headers=world["auth"]["committee"])
    assert detail.status_code == 200 and detail.json()["state"] == "live"
