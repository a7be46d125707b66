"""The console's world: the demo data (a compound with verified owners, its committee chair, the
demo community admin, property staff and supervisor), a real server, and signed-in browsers-by-HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from accounts.demo import FILLED, seed_demo
from accounts.models import Community, Compound, Owner, User
from accounts.sessions import open_session
from complaints.demo import seed_complaints_catalog
from core.cache import Cache

CSRF = re.compile(r'data-csrf="([0-9a-f]*)"')
FIELD = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html) or FIELD.search(html)
    assert found, html[:500]
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, openid: str) -> str:
    """Demo login as ``openid`` (fake WeChat mode); returns the session's CSRF token."""
    page = await http.get("/console/login")
    assert page.status_code == 200, page.text
    done = await http.post("/console/login/demo", data={"csrf": csrf_of(page.text), "openid": openid})
    assert done.status_code == 303, done.text
    home = await http.get("/console/")
    assert home.status_code == 200, home.text
    return csrf_of(home.text)


@dataclass
class Demo:
    url: str
    app: Any
    compound: Compound  # 阳光花园: the chair's compound
    other: Compound  # 锦绣家园: another compound of the same community
    community: Community


@pytest.fixture
async def demo(serve) -> Demo:
    await seed_demo(hmac_key=b"k")
    await seed_complaints_catalog()
    server = await serve(background=False)
    compound = (await Compound.filter(name=FILLED[0]).order_by("id"))[0]
    community = await Community.get(id=compound.community_id)  # type: ignore[attr-defined]
    other = await Compound.get(name=FILLED[1], community_id=community.id)
    return Demo(server.url, server.app, compound, other, community)


@pytest.fixture
async def http(demo: Demo) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as client:
        yield client


async def bearer(cache: Cache, user_id: int) -> dict[str, str]:
    return {"authorization": f"Bearer {(await open_session(cache, user_id, 3600)).token}"}


async def owner_users(compound: Compound, cache: Cache) -> dict[int, dict[str, str]]:
    """Every owner of the compound with a mini-program account and session (owner id -> auth header)."""
    headers = {}
    for owner in await Owner.filter(ownerships__unit__compound=compound).distinct().order_by("id"):
        if owner.user_id is None:  # type: ignore[attr-defined]
            owner.user = await User.create(openid=f"owner-{owner.id}", nickname=owner.name)
            await owner.save(update_fields=["user_id"])
        headers[owner.id] = await bearer(cache, owner.user_id)  # type: ignore[attr-defined]
    return headers


# --- the browser (tests/console/test_browser*.py; those modules skip without Chromium) -----------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@pytest.fixture
def dialogs() -> dict[str, Any]:
    """The questions pages asked before irreversible actions; ``dismiss`` answers that many with No."""
    return {"asked": [], "dismiss": 0}


@pytest.fixture
async def page(browser: Any, demo: Demo, dialogs: dict[str, Any]) -> AsyncIterator[Any]:
    context = await browser.new_context(
        base_url=demo.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    tab = await context.new_page()

    async def answer(dialog: Any) -> None:
        dialogs["asked"].append(dialog.message)
        if dialogs["dismiss"]:
            dialogs["dismiss"] -= 1
            await dialog.dismiss()
        else:
            await dialog.accept()

    tab.on("dialog", answer)
    yield tab
    await context.close()
