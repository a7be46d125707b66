"""The 公示栏's contacts (issue 12 item 1): each section posted by its role over HTTP, refused for any
other role or compound with nothing changed, shown in full on the public profile, checked with stable
codes, and shown only while what they speak for holds."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from accounts.contacts import ContactPhoneInvalid, normalise_phone
from accounts.models import (
    Building,
    Committee,
    CommitteeMember,
    Community,
    Compound,
    CompoundContact,
    Owner,
    Ownership,
    PropertyCompany,
    Resident,
    ResidentRelation,
    RoleGrant,
    ServiceContract,
    Unit,
    User,
)
from accounts.sessions import open_session
from audit.models import AuditEvent
from core.cache import Cache

API = "/api/v1"
FOREVER = (date(2020, 1, 1), date(2099, 1, 1))
ROLE_NAMES = ("staff", "far_staff", "chair", "other_chair", "admin", "far_admin", "grid", "far_grid", "owner")
ROLE_NAMES += ("tenant",)
OWNER_PHONE = "13900000001"  # a resident's own phone, on their account and on the roster

PROPERTY = {
    "project_manager": {"name": "王 伟", "phone": "139 1234 5678"},
    "complaint_phone": "(0838)2212345",
    "service_phone": "0838-2212346转801",
}
COMMITTEE = {"contact": {"name": "李主任", "phone": "13800000002"}}


async def _user(openid: str, phone: str | None = None) -> User:
    return await User.create(openid=openid, phone=phone)


@pytest.fixture
async def world(clean_db: None, cache: Cache) -> dict[str, Any]:
    """东街社区: 阳光花园 and 东街一号院, both served by 安居物业, each with its committee; 西街社区:
    阳光小区 served by 乐家物业. One person for each role."""
    east = await Community.create(name="东街社区")
    west = await Community.create(name="西街社区")
    sunny = await Compound.create(community=east, name="阳光花园")
    other = await Compound.create(community=east, name="东街一号院")
    far = await Compound.create(community=west, name="阳光小区")
    anju = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    lejia = await PropertyCompany.create(name="乐家物业", credit_code="91510000MA0000003X")
    for company, compound in ((anju, sunny), (anju, other), (lejia, far)):
        await ServiceContract.create(
            company=company, compound=compound, starts_on=FOREVER[0], ends_on=FOREVER[1], price_fen_per_m2=150
        )
    users = {name: await _user(f"o-{name}", OWNER_PHONE if name == "owner" else None) for name in ROLE_NAMES}
    for compound, name in ((sunny, "chair"), (other, "other_chair")):
        building = await Building.create(compound=compound, name="1号楼")
        unit = await Unit.create(compound=compound, building=building, number="101", area=Decimal("88.80"))
        chair = await Owner.create(compound=compound, name="委员", user=users[name])
        await Ownership.create(unit=unit, owner=chair)
        committee = await Committee.create(
            compound=compound, term_starts_on=FOREVER[0], term_ends_on=FOREVER[1]
        )
        await CommitteeMember.create(committee=committee, owner=chair)
        if compound is sunny:
            owner = await Owner.create(compound=sunny, name="张伟", phone=OWNER_PHONE, user=users["owner"])
            await Ownership.create(unit=unit, owner=owner, votes_for_unit=False)
            await Resident.create(unit=unit, user=users["tenant"], relation=ResidentRelation.TENANT)
    grants = [
        ("staff", "property_staff", "company", anju.id),
        ("far_staff", "property_staff", "company", lejia.id),
        ("admin", "community_admin", "community", east.id),
        ("far_admin", "community_admin", "community", west.id),
        ("grid", "grid_worker", "community", east.id),
        ("far_grid", "grid_worker", "community", west.id),
    ]
    for name, role, scope, scope_id in grants:
        await RoleGrant.create(user=users[name], role=role, scope_type=scope, scope_id=scope_id)
    headers = {
        name: {"authorization": f"Bearer {(await open_session(cache, user.id, 3600)).token}"}
        for name, user in users.items()
    }
    return {"sunny": sunny, "other": other, "far": far, "lejia": lejia, "users": users, "headers": headers}


def community_body(world: dict[str, Any], worker: str = "grid") -> dict[str, Any]:
    return {
        "contact": {"name": "社区 赵干事", "phone": "0838-2210000"},
        "grid_worker": {"user_id": world["users"][worker].id, "name": "刘网格", "phone": "13700000003"},
    }


async def profile(client: httpx.AsyncClient, compound: Compound) -> dict[str, Any]:
    response = await client.get(f"{API}/compounds/{compound.id}/profile")
    assert response.status_code == 200, response.text
    return dict(response.json())


def board(found: dict[str, Any]) -> dict[str, Any]:
    """The profile's contacts, without the moments they were set."""

    def bare(value: Any) -> Any:
        return None if value is None else {k: v for k, v in value.items() if k != "updated_at"}

    company, committee = found["property_company"] or {}, found["committee"] or {}
    return {
        "project_manager": bare(company.get("project_manager")),
        "complaint_phone": bare(company.get("complaint_phone")),
        "service_phone": bare(company.get("service_phone")),
        "committee": bare(committee.get("contact")),
        "community": bare(found["community_contact"]),
        "grid_worker": bare(found["grid_worker"]),
    }


EMPTY = dict.fromkeys(
    ("project_manager", "complaint_phone", "service_phone", "committee", "community", "grid_worker")
)
SHOWN = {
    "project_manager": {"name": "王 伟", "phone": "13912345678"},
    "complaint_phone": {"phone": "0838-2212345"},
    "service_phone": {"phone": "0838-2212346-801"},
    "committee": {"name": "李主任", "phone": "13800000002"},
    "community": {"name": "社区 赵干事", "phone": "0838-2210000"},
    "grid_worker": {"name": "刘网格", "phone": "13700000003"},
}


async def put(
    client: httpx.AsyncClient, compound: Compound, section: str, body: Any, who: dict[str, str]
) -> Any:
    return await client.put(f"{API}/admin/compounds/{compound.id}/contacts/{section}", json=body, headers=who)


async def test_each_role_posts_its_section_and_the_public_profile_shows_it(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    sunny, other, headers = world["sunny"], world["other"], world["headers"]
    assert board(await profile(client, sunny)) == EMPTY

    for section, body, who in (
        ("property", PROPERTY, "staff"),
        ("committee", COMMITTEE, "chair"),
        ("community", community_body(world), "admin"),
    ):
        response = await put(client, sunny, section, body, headers[who])
        assert response.status_code == 200, response.text
    answered = response.json()

    shown = await profile(client, sunny)  # anyone, without logging in
    assert board(shown) == SHOWN
    document = (await client.get("/docs/openapi.json")).json()
    for path, method, body in (
        ("/api/v1/compounds/{compound_id}/profile", "get", shown),
        ("/api/v1/admin/compounds/{compound_id}/contacts/community", "put", response.json()),
    ):
        schema = document["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        validator = OAS30Validator({**schema, "components": document["components"]})
        assert [e.message for e in validator.iter_errors(body)] == [], path
    assert {
        k: (v and {f: x for f, x in v.items() if f != "updated_at"}) for k, v in answered.items()
    } == SHOWN
    assert shown["grid_worker"]["updated_at"].endswith("+08:00")
    assert OWNER_PHONE not in str(shown)  # a resident's own phone is never on the board
    # the same company serves 东街一号院, the same community holds it: nothing changed there
    assert board(await profile(client, other)) == EMPTY

    events = await AuditEvent.filter(
        stream=f"compound:{sunny.id}", action="compound.contacts_changed"
    ).order_by("seq")
    assert [(e.actor, e.payload["section"]) for e in events] == [
        (f"user:{world['users']['staff'].id}", "property"),
        (f"user:{world['users']['chair'].id}", "committee"),
        (f"user:{world['users']['admin'].id}", "community"),
    ]
    assert events[0].payload["from"] == {"project_manager": None, "complaint": None, "service": None}
    assert events[0].payload["to"]["project_manager"] == SHOWN["project_manager"]
    assert events[2].payload["user_id"] == world["users"]["grid"].id

    # the same section again changes nothing and logs nothing; null takes a line off the board
    assert (await put(client, sunny, "property", PROPERTY, headers["staff"])).status_code == 200
    off = {**PROPERTY, "service_phone": None}
    assert (await put(client, sunny, "property", off, headers["staff"])).status_code == 200
    assert board(await profile(client, sunny)) == {**SHOWN, "service_phone": None}
    changes = await AuditEvent.filter(
        stream=f"compound:{sunny.id}", action="compound.contacts_changed"
    ).count()
    assert changes == 4
    assert await CompoundContact.filter(compound_id=sunny.id).count() == 5


# (section, who, compound): each refused, and nothing changes anywhere
REFUSED = [
    ("property", None, "sunny", 401),
    ("property", "far_staff", "sunny", 403),  # another company
    ("property", "staff", "far", 403),  # a compound the company does not serve
    ("property", "chair", "sunny", 403),
    ("property", "admin", "sunny", 403),
    ("property", "owner", "sunny", 403),
    ("committee", "other_chair", "sunny", 403),  # another compound's committee
    ("committee", "chair", "other", 403),
    ("committee", "staff", "sunny", 403),
    ("committee", "owner", "sunny", 403),
    ("committee", "admin", "sunny", 403),
    ("community", "far_admin", "sunny", 403),  # another community's admin
    ("community", "admin", "far", 403),
    ("community", "grid", "sunny", 403),
    ("community", "chair", "sunny", 403),
    ("community", "tenant", "sunny", 403),
    ("community", "staff", "sunny", 403),
]


async def _state() -> tuple[list[tuple[Any, ...]], int]:
    rows = await CompoundContact.all().order_by("id").values_list("compound_id", "kind", "name", "phone")
    return list(rows), await AuditEvent.all().count()


async def test_other_roles_and_other_compounds_are_refused_and_change_nothing(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    headers = world["headers"]
    bodies = {"property": PROPERTY, "committee": COMMITTEE, "community": community_body(world)}
    for compound in ("sunny", "far"):  # something on the boards that a refusal could disturb
        staff = "staff" if compound == "sunny" else "far_staff"
        assert (await put(client, world[compound], "property", PROPERTY, headers[staff])).status_code == 200
    before = await _state()
    failures = []
    for section, who, compound, status in REFUSED:
        response = await put(client, world[compound], section, bodies[section], headers.get(who or "", {}))
        if response.status_code != status:
            failures.append((section, who, compound, response.status_code, response.text))
        elif status == 403 and response.json()["code"] != "role_missing":
            failures.append((section, who, compound, response.json()["code"]))
    assert failures == []
    assert await _state() == before


# (section, body change, code, field): every refusal says what and where, in Chinese
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("property", {"project_manager": {"name": "王伟1", "phone": "13912345678"}}, "contact_name_invalid",
     "project_manager.name"),
    ("property", {"project_manager": {"name": "一" * 21, "phone": "13912345678"}}, "invalid", "project_manager.name"),
    ("property", {"complaint_phone": "2212345"}, "service_phone_invalid", "complaint_phone"),
    ("property", {"complaint_phone": "12912345678"}, "service_phone_invalid", "complaint_phone"),
    ("property", {"service_phone": "010-1234567"}, "service_phone_invalid", "service_phone"),
    ("property", {"service_phone": "0838-2212345-1234567"}, "service_phone_invalid", "service_phone"),
    ("property", {"service_phone": "0" * 25}, "invalid", "service_phone"),
    ("property", {"comment": "x"}, "invalid", "comment"),
    ("committee", {"contact": {"name": "  ", "phone": "13800000002"}}, "contact_name_invalid", "contact.name"),
    ("committee", {"contact": {"name": "李主任", "phone": "138-0000-000"}}, "contact_phone_invalid",
     "contact.phone"),
    ("community", {"grid_worker": {"user_id": "{far_grid}", "name": "刘网格", "phone": "13700000003"}},
     "grid_worker_not_of_community", "grid_worker.user_id"),
    ("community", {"grid_worker": {"user_id": "{admin}", "name": "刘网格", "phone": "13700000003"}},
     "grid_worker_not_of_community", "grid_worker.user_id"),
]  # fmt: skip


async def test_invalid_contacts_are_refused_with_a_stable_code_and_change_nothing(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    sunny, headers, users = world["sunny"], world["headers"], world["users"]
    bodies = {"property": PROPERTY, "committee": COMMITTEE, "community": community_body(world)}
    who = {"property": "staff", "committee": "chair", "community": "admin"}
    before = await _state()
    failures = []
    for section, change, code, field in INVALID:
        body = {**bodies[section], **change}
        if "grid_worker" in change:
            named = change["grid_worker"]["user_id"].strip("{}")
            body["grid_worker"] = {**change["grid_worker"], "user_id": users[named].id}
        response = await put(client, sunny, section, body, headers[who[section]])
        error = response.json()
        details = error["details"] if isinstance(error["details"], list) else [error["details"]]
        if (response.status_code, error["code"]) != (400, code) or field not in [d["field"] for d in details]:
            failures.append((section, change, response.status_code, error))
        elif not any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]):
            failures.append((section, change, "message not in Chinese", error["message"]))
    missing = await put(client, sunny, "property", {"project_manager": None}, headers["staff"])
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")  # null must be said, not implied
    assert {d["field"] for d in missing.json()["details"]} == {"complaint_phone", "service_phone"}
    assert failures == []
    assert await _state() == before


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13912345678", "13912345678"),
        ("+86 139-1234-5678", "13912345678"),
        ("１３９１２３４５６７８", "13912345678"),
        ("0838-2212345", "0838-2212345"),
        ("08382212345", "0838-2212345"),
        ("（0838）22123456", "0838-22123456"),
        ("010-62345678", "010-62345678"),
        ("02162345678", "021-62345678"),
        ("0838-2212345-801", "0838-2212345-801"),
        ("0838 2212345 转 8012", "0838-2212345-8012"),
    ],
)
def test_phones_are_stored_in_one_form(written: str, stored: str) -> None:
    assert normalise_phone(written, "phone") == stored


@pytest.mark.parametrize(
    "written",
    [
        "",
        "2212345",
        "1391234567",
        "139123456789",
        "010-1234567",
        "0838-123456",
        "0838-2212345-",
        "4008001234",
    ],
)
def test_phones_that_are_neither_mobile_nor_landline_are_refused(written: str) -> None:
    with pytest.raises(ContactPhoneInvalid):
        normalise_phone(written, "phone")


async def test_a_contact_leaves_the_board_when_what_it_speaks_for_ends(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    sunny, headers, users = world["sunny"], world["headers"], world["users"]
    for section, body, who in (
        ("property", PROPERTY, "staff"),
        ("committee", COMMITTEE, "chair"),
        ("community", community_body(world), "admin"),
    ):
        assert (await put(client, sunny, section, body, headers[who])).status_code == 200
    assert board(await profile(client, sunny)) == SHOWN

    # a new company takes over: its board is empty until its own staff post it
    yesterday = date.today() - timedelta(days=1)
    await ServiceContract.filter(compound_id=sunny.id).update(ends_on=yesterday)
    await ServiceContract.create(
        company=world["lejia"], compound=sunny, starts_on=yesterday, ends_on=FOREVER[1], price_fen_per_m2=160
    )
    # the committee's term ends; the grid worker's role is withdrawn
    await Committee.filter(compound_id=sunny.id).update(term_ends_on=yesterday)
    await RoleGrant.filter(user_id=users["grid"].id).delete()
    shown = await profile(client, sunny)
    assert shown["property_company"]["name"] == "乐家物业" and shown["committee"] is None
    assert board(shown) == {**EMPTY, "community": SHOWN["community"]}
    refused = await put(client, sunny, "property", PROPERTY, headers["staff"])
    assert (refused.status_code, refused.json()["code"]) == (403, "role_missing")

    taken_over = await put(
        client, sunny, "property", {**PROPERTY, "service_phone": None}, headers["far_staff"]
    )
    assert taken_over.status_code == 200, taken_over.text
    assert board(await profile(client, sunny))["project_manager"] == SHOWN["project_manager"]
    row = await CompoundContact.get(compound_id=sunny.id, kind="project_manager")
    assert (row.company_id, row.set_by_id) == (world["lejia"].id, users["far_staff"].id)  # type: ignore[attr-defined]


async def test_concurrent_edits_of_a_section_end_as_one_of_them(
    world: dict[str, Any], client: httpx.AsyncClient
) -> None:
    sunny, staff = world["sunny"], world["headers"]["staff"]
    bodies = [
        {"project_manager": {"name": f"经理{'甲乙丙丁戊己庚辛'[i]}", "phone": f"1391234560{i}"},
         "complaint_phone": f"0838-221234{i}", "service_phone": None}
        for i in range(8)
    ]  # fmt: skip
    answers = await asyncio.gather(*(put(client, sunny, "property", body, staff) for body in bodies))
    assert [a.status_code for a in answers] == [200] * len(bodies)
    shown = board(await profile(client, sunny))
    winner = next(
        i for i, b in enumerate(bodies) if b["project_manager"]["name"] == shown["project_manager"]["name"]
    )
    assert shown["complaint_phone"] == {"phone": bodies[winner]["complaint_phone"]}  # never a mix of two
    assert await CompoundContact.filter(compound_id=sunny.id).count() == 2
    events = await AuditEvent.filter(
        stream=f"compound:{sunny.id}", action="compound.contacts_changed"
    ).order_by("seq")
    assert len(events) == len(bodies)
    assert events[-1].payload["to"]["project_manager"] == shown["project_manager"]
    for earlier, later in itertools.pairwise(events):
        assert later.payload["from"] == earlier.payload["to"]  # each change saw the one before it
