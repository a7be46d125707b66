"""Other features post to the same board: post_system_notice (no content-security round trip, the
board cache replaced); and the demo notices."""

from __future__ import annotations

from typing import Any

import httpx

from accounts.demo import FILLED, seed_demo
from accounts.models import Compound
from audit.models import AuditEvent
from audit.service import SYSTEM, verify_database
from notices.demo import seed_notices
from notices.models import Notice
from notices.service import post_system_notice
from tests.notices.conftest import board, titles
from wechat.fake import FakeWeChat


async def test_a_vote_result_is_on_the_board_at_once(
    api: httpx.AsyncClient, world: dict[str, Any], fake_wechat: FakeWeChat
) -> None:
    assert await titles(api, world) == []  # cached empty
    notice_id = await post_system_notice(
        compound_id=world["compound"],
        category="vote_result",
        title="关于续聘物业服务企业的表决结果",
        body_markdown="通过。参与面积 80.00%，同意面积 70.00%。",
        actor=SYSTEM,
        subject="motion:7",
        audience="owners",
        data={"motion_id": 7, "passed": True},
    )
    assert fake_wechat.calls["/wxa/msg_sec_check"] == 0
    [item] = (await board(api, world))["items"]
    assert (item["id"], item["category"], item["publisher"], item["audience"]) == (
        notice_id,
        "vote_result",
        "业主大会",
        "owners",
    )
    assert await titles(api, world, role="resident") == []
    detail = (
        await api.get(f"/compounds/{world['compound']}/notices/{notice_id}", headers=world["auth"]["owner"])
    ).json()
    assert detail["data"] == {"motion_id": 7, "passed": True}
    event = await AuditEvent.get(action="notice.published", subject=f"notice:{notice_id}")
    assert event.payload["about"] == "motion:7" and event.actor == "system"
    # nobody may post a vote result by hand
    manual = await api.post(
        f"/manage/compound/{world['compound']}/notices",
        headers=world["auth"]["committee"],
        json={"category": "vote_result", "title": "伪造结果", "body_markdown": "x"},
    )
    assert (manual.status_code, manual.json()["code"]) == (403, "category_not_allowed")


async def test_demo_notices_load_once(clean_db: None) -> None:
    await seed_demo(hmac_key=b"k")
    assert await seed_notices() == 8
    assert await seed_notices() == 0
    compound = await Compound.get(name=FILLED[0])
    assert await Notice.filter(compound_id=compound.id, status="published").count() == 7
    assert await Notice.filter(scope="community", status="published").count() == 1
    assert (await verify_database()).ok
