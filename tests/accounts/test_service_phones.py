"""The board's complaint and service lines take the service numbers Chinese boards post (400/800
numbers, landlines with area code and extension, 12345-style hotlines), each stored in one form; a
person's phone keeps the mobile-or-landline rule; anything else is refused with a stable code, the
field and a Chinese message, over HTTP too, with nothing changed."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from accounts.contacts import (
    ContactPhoneInvalid,
    ServicePhoneInvalid,
    normalise_phone,
    normalise_service_phone,
)
from accounts.models import (
    Community,
    Compound,
    CompoundContact,
    PropertyCompany,
    RoleGrant,
    ServiceContract,
    User,
)
from accounts.sessions import open_session
from audit.models import AuditEvent
from core.cache import Cache

API = "/api/v1"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("400-820-8820", "400-820-8820"),
        ("4008208820", "400-820-8820"),
        ("400 820 8820", "400-820-8820"),
        ("４００-８２０-８８２０", "400-820-8820"),
        ("400-820-8820转2", "400-820-8820-2"),
        ("400-820-8820-2", "400-820-8820-2"),
        ("4008-208-820", "400-820-8820"),
        ("800-810-8888", "800-810-8888"),
        ("8008108888转 301", "800-810-8888-301"),
        ("12345", "12345"),
        ("12315", "12315"),
        ("95598", "95598"),
        ("95105105", "95105105"),
        ("96777", "96777"),
        ("961234", "961234"),
        # what a person's phone accepts, a service line accepts in the same form
        ("0838-2212345", "0838-2212345"),
        ("（0838）2212345 转 801", "0838-2212345-801"),
        ("010-62345678-12", "010-62345678-12"),
        ("+86 139 1234 5678", "13912345678"),
    ],
)
def test_service_numbers_are_accepted_in_one_form(written: str, stored: str) -> None:
    assert normalise_service_phone(written, "service_phone") == stored


@pytest.mark.parametrize(
    "written",
    [
        "",
        "400",
        "400-820-882",  # nine digits
        "400-820-88201",  # eleven digits, no extension mark
        "400-820-8820转",
        "400-820-8820-1234567",
        "500-820-8820",
        "110",
        "119",
        "1234",
        "12445",
        "123456",
        "9559",
        "9559812",
        "9612",
        "9612345",
        "0838-12345",
        "123-45",
        "12345转1",
        "2212345",
        "0838-1234567",  # a local number never starts with 1
        "12912345678",
        "400-820-8820a",
    ],
)
def test_other_service_numbers_are_refused(written: str) -> None:
    with pytest.raises(ServicePhoneInvalid) as refused:
        normalise_service_phone(written, "complaint_phone")
    assert refused.value.code == "service_phone_invalid"
    assert refused.value.details == {"field": "complaint_phone"}
    assert "400" in refused.value.user_message and "12345" in refused.value.user_message


@pytest.mark.parametrize("written", ["400-820-8820", "8008108888", "12345", "95598", "96777"])
def test_a_persons_phone_is_never_a_service_number(written: str) -> None:
    with pytest.raises(ContactPhoneInvalid):
        normalise_phone(written, "project_manager.phone")


@pytest.fixture
async def staff(clean_db: None, cache: Cache) -> dict[str, Any]:
    community = await Community.create(name="东街社区")
    compound = await Compound.create(community=community, name="阳光花园")
    company = await PropertyCompany.create(name="安居物业", credit_code="91510000MA0000002Y")
    await ServiceContract.create(
        company=company, compound=compound, starts_on=date(2020, 1, 1), ends_on=date(2099, 1, 1),
        price_fen_per_m2=150,
    )  # fmt: skip
    user = await User.create(openid="o-staff")
    await RoleGrant.create(user=user, role="property_staff", scope_type="company", scope_id=company.id)
    token = (await open_session(cache, user.id, 3600)).token
    return {"compound": compound, "headers": {"authorization": f"Bearer {token}"}}


async def test_the_board_shows_service_numbers_and_refuses_others_over_http(
    staff: dict[str, Any], client: httpx.AsyncClient
) -> None:
    url = f"{API}/admin/compounds/{staff['compound'].id}/contacts/property"
    body = {
        "project_manager": {"name": "王伟", "phone": "13912345678"},
        "complaint_phone": "12345",
        "service_phone": "400 820 8820 转 2",
    }
    answer = await client.put(url, json=body, headers=staff["headers"])
    assert answer.status_code == 200, answer.text
    profile = (await client.get(f"{API}/compounds/{staff['compound'].id}/profile")).json()
    company = profile["property_company"]
    assert (company["complaint_phone"]["phone"], company["service_phone"]["phone"]) == (
        "12345",
        "400-820-8820-2",
    )

    before = (
        list(await CompoundContact.all().order_by("id").values_list("kind", "phone")),
        await AuditEvent.all().count(),
    )
    refusals = [
        ({"complaint_phone": "110"}, "service_phone_invalid", "complaint_phone"),
        ({"service_phone": "400-820-882"}, "service_phone_invalid", "service_phone"),
        ({"project_manager": {"name": "王伟", "phone": "400-820-8820"}}, "contact_phone_invalid",
         "project_manager.phone"),
    ]  # fmt: skip
    for change, code, field in refusals:
        refused = await client.put(url, json={**body, **change}, headers=staff["headers"])
        error = refused.json()
        assert (refused.status_code, error["code"], error["details"]["field"]) == (400, code, field)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    after = (
        list(await CompoundContact.all().order_by("id").values_list("kind", "phone")),
        await AuditEvent.all().count(),
    )
    assert after == before
