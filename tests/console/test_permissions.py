"""Every console route against every role, over plain HTTP: the same rules as the API (the routes use
the API's own Access objects; this table is written from the API's rules, not read from the code).
A user of one compound cannot open another's pages; a community admin not another community's."""

from __future__ import annotations

import re

import httpx

from accounts.models import Community, Compound, RoleGrant, ServiceContract, Unit, User
from accounts.roles import Role, Scope
from bookings import providers
from config.settings import Settings
from notices.demo import seed_notices
from payments.demo import seed_payments
from server.app import create_app
from tests.console.conftest import Demo, csrf_of, owner_users, sign_in
from tests.matrix import covered, declared

PERSONAS = {
    "chair": "demo-committee",
    "community": "demo-community",
    "property": "demo-property",
    "grid": "demo-grid",
    "supervisor": "demo-supervisor",
    "stranger": "a-stranger",
}
EVERYONE = frozenset(PERSONAS)
READERS = frozenset({"chair", "property", "community", "grid", "supervisor"})
KEEPERS = MANAGERS = frozenset({"chair", "community"})
WATCHERS = frozenset({"chair", "community", "supervisor"})
COMMUNITY = frozenset({"community"})
STAFF = frozenset({"property", "community", "grid", "supervisor"})
INTAKE = frozenset({"community", "property"})
ASSIGNEE = frozenset({"property"})
WHISTLE = frozenset({"property", "grid"})
OVERSIGHT = frozenset({"community", "supervisor"})
SUPERVISOR = frozenset({"supervisor"})
CHAIR = frozenset({"chair"})
NOBODY: frozenset[str] = frozenset()  # the fund office only (no demo persona holds it)
FEE_READERS = frozenset({"chair", "property", "community", "supervisor"})
# the notice board's publishers of a compound (notices_admin MANAGERS and POSTING: the committee, the
# property company, the community and the supervisor; which category each may post the service decides)
PUBLISHERS = frozenset({"chair", "property", "community", "supervisor"})
INSPECTION_READERS = COMPANY_READERS = frozenset({"property", "community", "supervisor"})
PATROL_READERS = frozenset({"grid", "community", "supervisor"})
GRANTORS = frozenset({"community", "supervisor"})
PUBLIC = None  # no sign-in needed

N = 999_999  # a motion, claim, committee or proxy that does not exist: 404 once past the access check
LONG = "长" * 600  # a note over every form's limit: refused (400) after the access check, nothing changes

C = "/console/compounds/{A}"
M = C + f"/motions/{N}"
# A compound's fund applications and their steps: the committee's and (emergency, completion) the
# community's where there is no committee; never the fund office's (it approves the payout).
FUND_APPLYING = [
    ("POST", "/fund/applications", CHAIR),
    ("POST", "/fund/applications/emergency", MANAGERS),
    ("POST", f"/fund/applications/{N}/vote-result", CHAIR),
    ("POST", f"/fund/applications/{N}/completion", MANAGERS),
]
ROWS: list[tuple[str, str, frozenset[str] | None]] = [
    ("GET", "/console/static/{S}", PUBLIC),
    ("GET", "/console/login", PUBLIC),
    ("POST", "/console/login/poll", PUBLIC),
    ("POST", "/console/login/demo", PUBLIC),
    ("GET", "/console/", EVERYONE),
    ("GET", C, READERS),
    ("GET", C + "/roster", KEEPERS),
    ("POST", C + "/roster", KEEPERS),
    ("GET", C + "/roster.csv", KEEPERS),
    ("GET", C + "/claims", KEEPERS),
    ("POST", C + f"/claims/{N}/decision", KEEPERS),
    ("GET", C + "/committees", READERS),
    ("POST", C + "/committees", COMMUNITY),
    ("POST", C + f"/committees/{N}/filing", COMMUNITY),
    ("GET", C + "/motions", WATCHERS),
    ("POST", C + "/motions", MANAGERS),
    ("GET", M, WATCHERS),
    ("GET", M + "/turnout.json", WATCHERS),
    ("GET", M + "/archive.csv", WATCHERS),
    ("GET", M + "/archive.xlsx", WATCHERS),
    *[("POST", M + f"/{a}", MANAGERS) for a in ("announce", "open", "close", "count", "publish", "finalize")],
    ("POST", M + "/cancel", MANAGERS),
    ("POST", M + "/paper-ballots", MANAGERS),
    ("POST", M + f"/proxies/{N}/decision", MANAGERS),
    ("GET", "/console/complaints", STAFF),
    ("GET", "/console/complaints/{K}", STAFF),  # the service shows it to its handlers, not to strangers
    ("POST", "/console/complaints/{K}/accept", INTAKE),
    ("POST", "/console/complaints/{K}/dispatch", COMMUNITY),
    ("POST", "/console/complaints/{K}/start", ASSIGNEE),
    ("POST", "/console/complaints/{K}/resolve", ASSIGNEE),
    ("POST", "/console/complaints/{K}/reject", COMMUNITY),
    ("POST", "/console/complaints/{K}/escalate", WHISTLE),
    ("GET", "/console/communities/{Y}/compounds", OVERSIGHT),
    ("POST", "/console/communities/{Y}/compounds", OVERSIGHT),
    ("GET", "/console/audit", SUPERVISOR),
    # payments (miniprogram_api.payments_admin)
    ("GET", C + "/fees", FEE_READERS),
    ("POST", C + "/fees/billing-runs", ASSIGNEE),
    ("GET", C + "/fees/orders", ASSIGNEE),
    ("GET", C + f"/fees/orders/{N}", ASSIGNEE),
    ("POST", C + f"/fees/orders/{N}/refunds", ASSIGNEE),
    ("POST", C + "/fees/contract", ASSIGNEE),
    ("POST", C + "/fees/items", ASSIGNEE),
    ("POST", C + f"/fees/items/{N}/deactivate", ASSIGNEE),
    # the maintenance fund (fund_office, fund_admin); the fund office's own rows: test_fund_office_pages
    ("GET", "/console/fund", SUPERVISOR),
    ("POST", "/console/fund/rates", NOBODY),
    ("POST", f"/console/fund/applications/{N}/payout", NOBODY),
    ("GET", C + "/fund", WATCHERS),
    ("GET", C + f"/fund/applications/{N}", WATCHERS),
    *[(m, C + p, who) for m, p, who in FUND_APPLYING],
    ("GET", "/console/fund/corrections", NOBODY),
    ("POST", "/console/fund/corrections", NOBODY),
    ("POST", f"/console/fund/corrections/{N}/decision", NOBODY),
    # bookings (bookings_provider, bookings_admin): {P} is the demo property company's own provider
    ("GET", "/console/providers", EVERYONE),
    ("GET", "/console/providers/{P}", ASSIGNEE),
    *[
        ("POST", f"/console/providers/{{P}}/bookings/{N}/{s}", ASSIGNEE)
        for s in ("arrive", "complete", "no-show")
    ],
    ("GET", "/console/communities/{Y}/providers", COMMUNITY),
    # a provider's managers (MANAGER; the property company's staff manage its own provider)
    ("GET", f"/console/providers/{{P}}/services/{N}", ASSIGNEE),
    ("POST", f"/console/providers/{{P}}/services/{N}", ASSIGNEE),
    *[
        ("POST", f"/console/providers/{{P}}/services/{N}/{s}", ASSIGNEE)
        for s in ("hours", "closures", "staff")
    ],
    ("GET", "/console/providers/{P}/staff", ASSIGNEE),
    ("POST", "/console/providers/{P}/staff", ASSIGNEE),
    *[("POST", f"/console/providers/{{P}}/staff/{N}/{s}", ASSIGNEE) for s in ("hours", "leave")],
    *[("POST", f"/console/providers/{{P}}/bookings/{N}/{s}", ASSIGNEE) for s in ("assign", "cancel")],
    ("POST", "/console/communities/{Y}/providers", COMMUNITY),
    ("POST", f"/console/communities/{{Y}}/providers/{N}/revoke", COMMUNITY),
    ("GET", f"/console/communities/{{Y}}/providers/{N}/ratings", COMMUNITY),
    # supervision (supervision_dashboard, ratings_admin, ratings_inspections)
    ("GET", "/console/supervision", SUPERVISOR),
    ("GET", "/console/communities/{Y}/dashboard", OVERSIGHT),
    ("POST", "/console/supervision/lists", SUPERVISOR),
    ("GET", f"/console/supervision/lists/{N}", SUPERVISOR),
    ("POST", f"/console/supervision/lists/{N}/publish", SUPERVISOR),
    ("GET", C + "/inspections", INSPECTION_READERS),
    ("POST", C + "/inspections", OVERSIGHT),  # the inspectors: the community admin and the supervisor
    ("GET", C + f"/inspections/{N}", INSPECTION_READERS),
    *[("POST", C + f"/inspections/{N}/{a}", OVERSIGHT) for a in ("scores", "submit", "decision")],
    ("POST", C + f"/inspections/{N}/objection", ASSIGNEE),  # the inspected company's staff
    # grid patrols (supervision): recording, a patrol and a finding's complaint are open to anyone signed
    # in, as the API's; the service refuses who is not a grid worker of the compound (or the recorder)
    ("GET", "/console/communities/{Y}/patrols", PATROL_READERS),
    ("POST", "/console/patrols", EVERYONE),
    ("GET", f"/console/patrols/{N}", EVERYONE),
    ("POST", f"/console/patrols/{N}/findings/1/complaint", EVERYONE),
    # role grants (admin GRANTORS: the supervisor and the community's admin; which role the domain decides)
    ("GET", "/console/communities/{Y}/grants", GRANTORS),
    ("POST", "/console/communities/{Y}/grants", GRANTORS),
    ("POST", f"/console/communities/{{Y}}/grants/{N}/revoke", GRANTORS),
    ("GET", "/console/companies/{Q}/credit", COMPANY_READERS),
    # notices and disclosures (notices_admin)
    ("GET", C + "/notices", PUBLISHERS),
    ("POST", C + "/notices", PUBLISHERS),
    ("GET", C + f"/notices/{N}", PUBLISHERS),
    *[("POST", C + f"/notices/{N}/{a}", PUBLISHERS) for a in ("edit", "publish", "withdraw")],
    ("POST", C + f"/notices/{N}/pin", PUBLISHERS),
    ("POST", C + f"/notices/{N}/review", OVERSIGHT),  # notices_admin REVIEWING: notices.rules.REVIEWERS
    ("POST", C + f"/notices/{N}/attachments", PUBLISHERS),
    ("GET", C + f"/notices/{N}/attachments/{N}", PUBLISHERS),
    ("POST", C + f"/notices/{N}/attachments/{N}/remove", PUBLISHERS),
    ("GET", C + "/disclosures/new", PUBLISHERS),
    ("POST", C + "/disclosures", PUBLISHERS),
    ("GET", C + f"/disclosures/{N}", PUBLISHERS),
    ("POST", C + f"/disclosures/{N}", PUBLISHERS),
    ("POST", "/console/logout", EVERYONE),  # run last: it ends the session
]


# The API's complaint detail is open to any signed-in user and the service answers "not found" to
# whoever does not handle (or file, or live by) the complaint: the console's page does the same.
HIDDEN = {"/console/complaints/{K}"}


def passed_access(response: httpx.Response, template: str = "") -> bool:
    refused = (401, 403, 404) if template in HIDDEN else (401, 403)
    if response.status_code in refused:
        return False
    location = response.headers.get("location", "")
    return not (response.status_code == 303 and location.startswith("/console/login?next="))


async def _complaint(demo: Demo, cache) -> int:
    owners = await owner_users(demo.compound, cache)
    unit = await Unit.filter(compound=demo.compound).order_by("id").first()
    assert unit is not None
    async with httpx.AsyncClient(base_url=demo.url) as api:
        filed = await api.post(
            "/api/v1/complaints",
            headers=next(iter(owners.values())),
            json={"compound_id": demo.compound.id, "category": "repair", "text": "楼道灯坏了，请维修",
                  "place_kind": "common", "place_note": "1号楼楼道"},
        )  # fmt: skip
    assert filed.status_code == 201, filed.text
    return int(filed.json()["id"])


async def _company(demo: Demo) -> dict[str, int]:
    """The demo property company (serving 阳光花园) and its own service provider."""
    contract = await ServiceContract.filter(compound_id=demo.compound.id).order_by("-starts_on").first()
    assert contract is not None
    company_id = contract.company_id  # type: ignore[attr-defined]
    return {"Q": company_id, "P": (await providers.provider_of_company(company_id)).id}


async def _send(http: httpx.AsyncClient, method: str, path: str, csrf: str) -> httpx.Response:
    if method == "GET":
        return await http.get(path)
    if path == "/console/login/demo" or path == "/console/login/poll":  # a waiting login's own token
        page = await http.get("/console/login")
        csrf = csrf_of(page.text) if page.status_code == 200 else csrf
    return await http.post(path, data={"csrf": csrf, "note": LONG, "reason": "", "openid": ""})


def test_the_matrix_covers_every_console_route(settings: Settings) -> None:
    assert covered(ROWS) == declared(create_app(settings, manage_db=False), "/console")


async def test_every_console_route_lets_in_exactly_the_apis_roles(demo: Demo, cache) -> None:
    await seed_notices()
    await seed_payments()  # the company's fee contract: its fee pages get past their access check
    complaint = await _complaint(demo, cache)
    ids = {
        "A": demo.compound.id,
        "K": complaint,
        "Y": demo.community.id,
        "S": "console.css",
        **await _company(demo),
    }
    wrong: list[str] = []
    for persona, openid in PERSONAS.items():
        async with httpx.AsyncClient(base_url=demo.url, timeout=30) as http:
            csrf = await sign_in(http, openid)
            for method, template, allowed in ROWS:
                response = await _send(http, method, template.format(**ids), csrf)
                expected = allowed is None or persona in allowed
                if passed_access(response, template) != expected:
                    wrong.append(f"{persona} {method} {template}: {response.status_code}")
                if not expected and response.status_code != (404 if template in HIDDEN else 403):
                    wrong.append(f"{persona} {method} {template}: refused with {response.status_code}")
    assert wrong == [], "\n".join(wrong)


async def test_without_a_session_every_page_asks_to_sign_in(demo: Demo, http) -> None:
    ids = {"A": demo.compound.id, "K": 1, "Y": demo.community.id, "S": "console.css", "P": 1, "Q": 1}
    csrf = csrf_of((await http.get("/console/login")).text)  # a waiting login's token: CSRF passes
    wrong = []
    for method, template, allowed in ROWS:
        response = await _send(http, method, template.format(**ids), csrf)
        if passed_access(response, template) != (allowed is None):
            wrong.append(f"{method} {template}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)


async def test_a_user_of_compound_a_cannot_open_compound_bs_pages(demo: Demo, http) -> None:
    """The chair of 阳光花园 on 锦绣家园 (same community); the community admin of 东街 on a compound
    of another community. Refused before anything is read or changed."""
    elsewhere = await Compound.exclude(community_id=demo.community.id).order_by("id").first()
    other_community = await Community.exclude(id=demo.community.id).order_by("id").first()
    assert elsewhere is not None and other_community is not None
    rows = [r for r in ROWS if "{A}" in r[1] or "{Y}" in r[1]]
    wrong = []
    for openid, ids in (
        ("demo-committee", {"A": demo.other.id, "Y": demo.community.id, "S": ""}),
        ("demo-community", {"A": elsewhere.id, "Y": other_community.id, "S": ""}),
    ):
        async with httpx.AsyncClient(base_url=demo.url, timeout=30) as client:
            csrf = await sign_in(client, openid)
            for method, template, _ in rows:
                if openid == "demo-committee" and "{Y}" in template:
                    continue  # a committee member has no community pages at all (the matrix above)
                response = await _send(client, method, template.format(**ids), csrf)
                if response.status_code != 403 or "您没有执行此操作的权限" not in response.text:
                    wrong.append(f"{openid} {method} {template}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)
    assert not await Compound.filter(name="").exists()


async def test_the_fund_office_opens_its_pages_and_no_others(demo: Demo, http) -> None:
    """The fund office (no demo persona holds it): its desk, rates and payouts, any compound's fund;
    not the fees, the dashboards or the lists."""
    office = await User.create(openid="perm-fund-office", nickname="维修资金管理中心")
    await RoleGrant.create(user=office, role=Role.FUND_OFFICE.value, scope_type=Scope.COUNTY.value)
    csrf = await sign_in(http, "perm-fund-office")
    ids = {"A": demo.compound.id, "Y": demo.community.id}
    rows = [r for r in ROWS if any(k in r[1] for k in ("/fund", "/fees", "/supervision", "/dashboard"))]
    wrong = []
    for method, template, _ in rows:
        response = await _send(http, method, template.format(**ids), csrf)
        office = "/fund" in template and template not in {C + p for _, p, _ in FUND_APPLYING}
        if passed_access(response, template) != office:
            wrong.append(f"{method} {template}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)


async def test_the_complaint_queue_pages_by_signed_cursors(demo: Demo, http, cache) -> None:
    """The staff queue pages as the API's (core.pages keyset cursors, sealed): every complaint once,
    in order; an edited cursor, or one carried to another filter, is refused."""
    owners = await owner_users(demo.compound, cache)
    filed = []
    async with httpx.AsyncClient(base_url=demo.url) as api:
        for text in ("2号楼楼道灯坏了", "小区东门道闸抬不起来", "3号楼屋顶漏水"):
            answer = await api.post(
                "/api/v1/complaints", headers=next(iter(owners.values())),
                json={"compound_id": demo.compound.id, "category": "repair", "text": text,
                      "place_kind": "common", "place_note": "公共区域"},
            )  # fmt: skip
            assert answer.status_code == 201, answer.text
            filed.append(int(answer.json()["id"]))
    await sign_in(http, "demo-property")
    first = await http.get("/console/complaints?limit=2")
    assert first.status_code == 200, first.text
    link = re.search(r'href="\?status=&overdue=&limit=2&cursor=([A-Za-z0-9_-]+)"', first.text)
    assert link, first.text
    second = await http.get(f"/console/complaints?limit=2&cursor={link.group(1)}")
    assert second.status_code == 200 and "下一页" not in second.text
    seen = [int(i) for i in re.findall(r'href="/console/complaints/(\d+)"', first.text + second.text)]
    assert sorted(seen) == sorted(filed)
    forged = link.group(1)[:-2] + ("AA" if not link.group(1).endswith("AA") else "BB")
    for url in (
        f"/console/complaints?cursor={forged}",
        f"/console/complaints?status=accepted&cursor={link.group(1)}",
    ):
        refused = await http.get(url)
        assert refused.status_code == 400 and "分页参数无效" in refused.text, url
