"""The unified social credit code (统一社会信用代码, GB 32100-2015): its check character, on codes of real
registered companies and on codes altered one character at a time; the roster refuses a bad one."""

from __future__ import annotations

import httpx
import pytest

from accounts.identity import (
    CREDIT_CHARSET,
    credit_check_char,
    credit_code_hash,
    make_credit_code,
    normalise_credit_code,
)
from accounts.roster_parse import parse_roster

# Codes of real companies, as printed on their business licences (public registers).
REAL = [
    "9144030071526726XG",  # 深圳市腾讯计算机系统有限公司
    "91330100716105852F",  # 阿里巴巴（中国）有限公司
    "914403001922038216",  # 华为技术有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91350100M000100Y43",  # the standard's own example (GB 32100-2015, appendix)
]


@pytest.mark.parametrize("code", REAL)
def test_real_codes_pass_the_check(code: str) -> None:
    assert normalise_credit_code(code) == code
    assert normalise_credit_code(f" {code[:9]} {code[9:].lower()} ") == code  # spaces, lower case
    assert credit_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", REAL)
def test_any_other_check_character_fails(code: str) -> None:
    wrong = [c for c in CREDIT_CHARSET if c != code[17]]
    assert len(wrong) == 30
    assert all(normalise_credit_code(code[:17] + c) is None for c in wrong)


def test_a_changed_or_swapped_character_fails() -> None:
    code = REAL[0]
    for i in range(17):
        for c in "0A1X":
            if c != code[i]:
                assert normalise_credit_code(code[:i] + c + code[i + 1 :]) is None, (i, c)
    swapped = code[:3] + code[4] + code[3] + code[5:]
    assert swapped != code and normalise_credit_code(swapped) is None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "9144030071526726X",  # 17 characters
        "9144030071526726XGG",  # 19
        "9144030071526726IG",  # I, O, S, V, Z are not in the character set
        "91440300O1526726XG",
        "9144030071526726SG",
        "914403007152672VXG",
        "914403007152672ZXG",
        "91510000MA0000001X",  # the check character of 91510000MA0000001 is F
    ],
)
def test_malformed_codes_are_refused(bad: str) -> None:
    assert normalise_credit_code(bad) is None
    assert credit_code_hash(b"k", bad) is None


def test_make_credit_code_and_the_hash_are_of_the_normal_form() -> None:
    assert make_credit_code("91510000MA0000001") == "91510000MA0000001F"
    assert credit_code_hash(b"k", "91510000ma0000001f") == credit_code_hash(b"k", "91510000MA0000001F")
    assert credit_code_hash(b"k", REAL[0]) != credit_code_hash(b"other", REAL[0])


def _roster(code: str) -> bytes:
    return (
        "building,unit,kind,area,owner_name,owner_kind,id_number,developer\n"
        f"3号楼,601,住宅,90.00,县城投置业有限公司,单位,{code},是\n"
    ).encode()


def test_the_roster_takes_an_organisation_with_a_valid_code_and_refuses_a_bad_check() -> None:
    (row,) = parse_roster(_roster("91510000MA0000001F"), "csv")
    assert row.owner is not None and row.owner.number == "91510000MA0000001F" and row.owner.developer
    from accounts.errors import RosterInvalid

    with pytest.raises(RosterInvalid) as refused:
        parse_roster(_roster("91510000MA0000001X"), "csv")
    (problem,) = refused.value.details["problems"]
    assert (problem["field"], problem["code"]) == ("id_number", "bad_credit_code")
    assert "91510000MA0000001X" not in str(refused.value.details)


# The owner's routes of an organisation claim: any logged-in person (the claim itself decides).
ME_ROUTES = [
    ("POST", "/api/v1/me/claims/organisation", {}),
    ("GET", "/api/v1/me/organisation-claims", None),
]


async def test_organisation_claim_routes_need_a_session_and_write_nothing_when_refused(
    client: httpx.AsyncClient,
) -> None:
    from accounts.models import OrganisationClaim

    for method, path, body in ME_ROUTES:
        response = await client.request(method, path, json=body)
        assert response.status_code == 401, (method, path, response.text)
    assert await OrganisationClaim.all().count() == 0
