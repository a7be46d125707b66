"""A motion's written proxies on its console page are read 50 at a time: with more, the page links
the next one (``proxies_cursor``, sealed like every console cursor), which shows the rest."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from accounts.models import User
from audit.service import SYSTEM
from core import clock
from tests.console.conftest import Demo, sign_in
from voting import lifecycle
from voting.lifecycle import ItemDraft, MotionDraft
from voting.models import ProxyAuthorization, ProxyStatus, Voter
from voting.rules import Matter

PROXIES = 53


async def _open_motion(demo: Demo) -> int:
    chair = await User.get(openid="demo-committee")
    opens = clock.now() + timedelta(hours=1)
    draft = MotionDraft(
        title="选聘物业服务企业",
        text="续聘现物业服务企业三年。",
        items=[ItemDraft("同意续聘", Matter.HIRE_PROPERTY_COMPANY)],
        opens_at=opens,
        closes_at=opens + timedelta(days=7),
        announce_days=0,
    )
    motion = await lifecycle.create(SYSTEM, demo.compound.id, chair.id, draft, min_announce_days=0)
    motion = await lifecycle.announce(SYSTEM, motion, min_announce_days=0)
    motion = await lifecycle.open_voting(SYSTEM, motion, now=opens)  # the roll is frozen
    return motion.id


async def test_more_than_50_written_proxies_page_to_the_rest(demo: Demo, http: httpx.AsyncClient) -> None:
    motion_id = await _open_motion(demo)
    voters = await Voter.filter(motion_id=motion_id).order_by("id")
    proxy = await User.create(openid="proxy-holder", nickname="受托人")
    made = [
        (
            await ProxyAuthorization.create(
                motion_id=motion_id, voter=voters[n % len(voters)], proxy_user=proxy,
                document_ref=f"paper:{n}", status=ProxyStatus.PENDING,
            )
        ).id
        for n in range(PROXIES)
    ]  # fmt: skip
    await sign_in(http, "demo-committee")
    url = f"/console/compounds/{demo.compound.id}/motions/{motion_id}"
    shown = re.compile(rf'action="{url}/proxies/(\d+)/decision"')

    first = await http.get(url)
    assert first.status_code == 200, first.text
    link = re.search(rf'href="{url}\?proxies_cursor=([A-Za-z0-9_-]+)#proxies"', first.text)
    assert link, first.text
    second = await http.get(f"{url}?proxies_cursor={link.group(1)}")
    assert second.status_code == 200 and "下一页书面委托" not in second.text

    on_first = sorted({int(i) for i in shown.findall(first.text)})
    on_second = sorted({int(i) for i in shown.findall(second.text)})
    assert on_first == made[:50] and on_second == made[50:]
    forged = await http.get(f"{url}?proxies_cursor={link.group(1)[:-2]}AA")
    assert forged.status_code == 400 and "分页参数无效" in forged.text
