"""The developer's voucher photo over real HTTP: uploaded through the photos pipeline by the fund office,
attached with the deposit, seen by the fund office and the compound's committee only."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from fund import vouchers
from fund.models import FundEntry, SubAccount
from tests.fund.conftest import FundWorld


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((320, 240), 60) for _ in range(3)]).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_the_voucher_photo_is_seen_by_the_office_and_the_committee_only(
    world: FundWorld, serve: Any
) -> None:
    server = await serve()
    unit = world.lift_units[0]
    account = await SubAccount.get(unit_id=unit.id)
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        office = world.headers("fund_office")
        up = await http.post(
            "/api/v1/photos", content=_jpeg(), headers={**office, "content-type": "image/jpeg"}
        )
        assert up.status_code == 201, up.text
        photo_id = up.json()["id"]
        deposit = f"/api/v1/admin/fund/units/{unit.id}/developer-deposits"
        body = {"voucher": "V-2025-0001", "amount_fen": account.first_deposit_fen, "photo_ids": [photo_id]}
        # someone else's photo cannot be attached, and then the deposit is not recorded either
        other = await http.post(
            "/api/v1/photos",
            content=_jpeg(),
            headers={**world.headers("owner"), "content-type": "image/jpeg"},
        )
        refused = await http.post(deposit, json={**body, "photo_ids": [other.json()["id"]]}, headers=office)
        assert refused.status_code == 409, refused.text
        assert not await FundEntry.exists(account_id=account.id)
        recorded = await http.post(deposit, json=body, headers=office)
        assert recorded.status_code == 201, recorded.text
        assert [p.id for p in await vouchers.photos_of(account.id)] == [photo_id]

        seen = {}
        for who in ("fund_office", "fund_office2", "committee", "owner", "property_staff", "community_admin",
                    "far_owner", "supervisor"):  # fmt: skip
            r = await http.get(f"/api/v1/photos/{photo_id}/display", headers=world.headers(who))
            seen[who] = r.status_code
            if r.status_code == 200:
                assert r.headers["content-type"].startswith("image/")
    assert seen == {
        "fund_office": 200, "fund_office2": 200, "committee": 200, "owner": 404, "property_staff": 404,
        "community_admin": 404, "far_owner": 404, "supervisor": 404,
    }  # fmt: skip
