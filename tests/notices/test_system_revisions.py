"""A system notice revised in place (a life service's new price): the board shows the new text at
once, the history keeps the old one, and only live system notices of that compound can be revised."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from audit.service import SYSTEM, verify_database
from notices.errors import NoticeStateConflict
from notices.service import post_system_notice, revise_system_notice
from tests.notices.conftest import board


async def test_a_revised_system_notice_shows_its_new_text_and_keeps_the_old(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice_id = await post_system_notice(
        compound_id=world["compound"],
        category="life_services",
        title="上门保洁（安居物业）",
        body_markdown="价格：50.00 元/次",
        actor=SYSTEM,
        subject="service:1",
        data={"price_fen": 5000},
    )
    assert [i["title"] for i in (await board(api, world))["items"]] == ["上门保洁（安居物业）"]
    number = await revise_system_notice(
        notice_id=notice_id,
        compound_id=world["compound"],
        title="上门保洁（安居物业）调价",
        body_markdown="价格：60.00 元/次",
        actor=SYSTEM,
        subject="service:1",
        note="调价",
        data={"price_fen": 6000},
    )
    assert number == 2
    [item] = (await board(api, world))["items"]
    assert (item["id"], item["title"], item["revision"]) == (notice_id, "上门保洁（安居物业）调价", 2)
    path = f"/compounds/{world['compound']}/notices/{notice_id}"
    detail = (await api.get(path, headers=world["auth"]["owner"])).json()
    assert detail["data"] == {"price_fen": 6000} and "60.00" in detail["body_html"]
    history = (await api.get(f"{path}/revisions", headers=world["auth"]["owner"])).json()
    assert [(h["number"], h["note"]) for h in history["items"]] == [(1, ""), (2, "调价")]
    assert (await verify_database()).ok


async def test_only_a_live_system_notice_of_that_compound_is_revised(
    api: httpx.AsyncClient, world: dict[str, Any]
) -> None:
    notice_id = await post_system_notice(
        compound_id=world["compound"],
        category="life_services",
        title="上门保洁",
        body_markdown="50 元/次",
        actor=SYSTEM,
        subject="service:1",
    )
    with pytest.raises(NoticeStateConflict):
        await revise_system_notice(
            notice_id=notice_id,
            compound_id=world["compound"] + 1,
            title="x",
            body_markdown="x",
            actor=SYSTEM,
            subject="service:1",
        )
    with pytest.raises(NoticeStateConflict):
        await revise_system_notice(
            notice_id=notice_id + 1,
            compound_id=world["compound"],
            title="x",
            body_markdown="x",
            actor=SYSTEM,
            subject="s",
        )
