"""Signing in to the console: a one-time code confirmed in the mini-program, the demo login, the
session cookie, CSRF on every form, logout; and the console's pages stay out of the API's document."""

from __future__ import annotations

import re

import httpx

from accounts.models import User, UserSession
from config.settings import Settings
from server.app import create_app
from tests.console.conftest import Demo, bearer, csrf_of, sign_in
from tests.matrix import declared

CODE = re.compile(r'id="login-code">([0-9A-Z ]{9})<')


async def _shown_code(http: httpx.AsyncClient) -> tuple[str, str]:
    page = await http.get("/console/login")
    assert page.status_code == 200
    return CODE.search(page.text).group(1), csrf_of(page.text)  # type: ignore[union-attr]


async def test_a_code_confirmed_in_the_mini_program_starts_the_session_once(demo: Demo, http, cache) -> None:
    chair = await User.get(openid="demo-committee")
    code, csrf = await _shown_code(http)
    poll = {"x-csrf-token": csrf}
    assert (await http.post("/console/login/poll", headers=poll)).json() == {"state": "waiting"}
    assert (await http.get("/console/")).status_code == 303  # not signed in yet

    async with httpx.AsyncClient(base_url=demo.url) as api:
        confirmed = await api.post(
            "/api/v1/console-login/confirm",
            json={"code": code.lower()},
            headers=await bearer(cache, chair.id),
        )
        assert confirmed.status_code == 200, confirmed.text
        assert 0 < confirmed.json()["expires_in"] <= 300
        # a second confirmation, by anyone, is refused: the first one decides who signs in
        other = await User.create(openid="someone-else")
        again = await api.post(
            "/api/v1/console-login/confirm", json={"code": code}, headers=await bearer(cache, other.id)
        )
        assert (again.status_code, again.json()["code"]) == (404, "console_code_invalid")

    pending = http.cookies.get("wuye_console_login") or ""
    done = await http.post("/console/login/poll?next=/console/audit", headers=poll)
    assert done.json() == {"state": "done", "next": "/console/audit"}
    cookie = done.headers["set-cookie"]
    assert "wuye_console=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # Secure only in production
    home = await http.get("/console/")
    assert home.status_code == 200 and "阳光花园" in home.text
    assert await UserSession.filter(user_id=chair.id).count() == 2  # the API's session and the console's

    # the code is spent: the same waiting browser polling again starts no second session
    async with httpx.AsyncClient(base_url=demo.url, cookies={"wuye_console_login": pending}) as replay:
        spent = await replay.post("/console/login/poll", headers=poll)
        assert spent.json()["state"] == "expired"
    assert await UserSession.filter(user_id=chair.id).count() == 2


async def test_a_code_only_signs_in_the_browser_that_shows_it(demo: Demo, http, cache) -> None:
    chair = await User.get(openid="demo-committee")
    code, _ = await _shown_code(http)
    async with httpx.AsyncClient(base_url=demo.url) as api, httpx.AsyncClient(base_url=demo.url) as other:
        # another browser with its own waiting code cannot claim this one
        _, other_csrf = await _shown_code(other)
        assert (
            await api.post(
                "/api/v1/console-login/confirm", json={"code": code}, headers=await bearer(cache, chair.id)
            )
        ).status_code == 200
        answer = await other.post("/console/login/poll", headers={"x-csrf-token": other_csrf})
        assert answer.json() == {"state": "waiting"}
        assert "wuye_console=" not in answer.headers.get("set-cookie", "")
        unknown = await api.post(
            "/api/v1/console-login/confirm", json={"code": "ZZZZ ZZZZ"}, headers=await bearer(cache, chair.id)
        )
        assert (unknown.status_code, unknown.json()["message"]) == (
            404,
            "登录码无效或已过期，请在电脑上刷新后重试",
        )
        anonymous = await api.post("/api/v1/console-login/confirm", json={"code": code})
        assert anonymous.status_code == 401


async def test_every_form_without_its_token_is_refused_and_changes_nothing(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-community")
    path = f"/console/communities/{demo.community.id}/compounds"
    before = await http.get(path)
    for token in (None, "", "0" * 64, csrf[:-1] + ("0" if csrf[-1] != "0" else "1"), "\u91d1" * 64):
        data = {"name": "新建小区甲", "address": "东街 1 号"} | ({"csrf": token} if token is not None else {})
        refused = await http.post(path, data=data)
        assert refused.status_code == 403
        assert "页面已过期或请求来源不明，请刷新页面后重试" in refused.text
    assert "新建小区甲" not in (await http.get(path)).text
    assert before.status_code == 200
    # the same form with the session's token goes through
    made = await http.post(path, data={"csrf": csrf, "name": "新建小区甲", "address": "东街 1 号"})
    assert made.status_code == 303, made.text
    assert "新建小区甲" in (await http.get(path)).text
    # a token is bound to its session: another session's token is refused
    async with httpx.AsyncClient(base_url=demo.url) as other:
        await sign_in(other, "demo-community")
        stolen = await other.post(path, data={"csrf": csrf, "name": "新建小区乙"})
        assert stolen.status_code == 403
    assert "新建小区乙" not in (await http.get(path)).text


async def test_logout_ends_the_session_everywhere(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-supervisor")
    token = http.cookies.get("wuye_console")
    out = await http.post("/console/logout", data={"csrf": csrf})
    assert (out.status_code, out.headers["location"]) == (303, "/console/login")
    async with httpx.AsyncClient(base_url=demo.url, cookies={"wuye_console": token or ""}) as replay:
        again = await replay.get("/console/audit")
        assert (again.status_code, again.headers["location"]) == (303, "/console/login?next=/console/audit")


async def test_domain_errors_show_the_api_chinese_message(demo: Demo, http) -> None:
    csrf = await sign_in(http, "demo-community")
    path = f"/console/compounds/{demo.compound.id}/committees"
    bad = await http.post(
        path, data={"csrf": csrf, "term_starts_on": "2027-01-01", "term_ends_on": "2026-01-01"}
    )
    assert bad.status_code == 400
    assert "无法完成操作" in bad.text and "错误代码" in bad.text
    missing = await http.get("/console/compounds/2147483647/motions/1")
    assert missing.status_code in (403, 404)
    huge = await http.get("/console/compounds/2147483648")
    assert huge.status_code == 404 and "页面不存在" in huge.text


async def test_next_never_leaves_the_console(demo: Demo) -> None:
    for target in ("https://evil.example/", "//evil.example/console/", "/api/v1/me", "/console/\\evil"):
        async with httpx.AsyncClient(base_url=demo.url) as http:
            csrf = csrf_of((await http.get("/console/login", params={"next": target})).text)
            done = await http.post(
                "/console/login/demo", data={"csrf": csrf, "openid": "demo-grid", "next": target}
            )
            assert (done.status_code, done.headers["location"]) == (303, "/console/"), target
    async with httpx.AsyncClient(base_url=demo.url) as http:
        csrf = csrf_of((await http.get("/console/login")).text)
        done = await http.post(
            "/console/login/demo", data={"csrf": csrf, "openid": "demo-grid", "next": "/console/complaints"}
        )
        assert done.headers["location"] == "/console/complaints"


def test_console_pages_are_not_api_routes(settings: Settings) -> None:
    app = create_app(settings, manage_db=False)
    assert len(declared(app, "/console")) > 30
    # a HEAD route runs its GET twin's handler (server.app._add_head_routes)
    handlers = [
        getattr(r.handler, "__head_of__", r.handler)
        for r in app.router.routes
        if r.path.startswith("console")
    ]
    assert handlers and all(getattr(h, "__console__", False) for h in handlers)
    assert not any(hasattr(h, "__endpoint__") for h in handlers)


async def test_the_api_document_lists_the_confirm_route_and_no_console_page(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/docs/openapi.json")).json()
    assert not [p for p in document["paths"] if p.startswith("/console")]
    assert "/api/v1/console-login/confirm" in document["paths"]
