"""The objection window is the RATING_OBJECTION_DAYS setting: validated when settings load, and the
window a submitted inspection gets over HTTP."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from config.settings import MAX_RATING_OBJECTION_DAYS, SettingsError, from_mapping
from ratings.rules import OBJECTION_DAYS
from tests.ratings.conftest import County, all_codes


def test_the_setting_defaults_to_the_rules_window_and_takes_a_number_of_days() -> None:
    assert from_mapping({}).rating_objection_days == OBJECTION_DAYS
    assert from_mapping({"RATING_OBJECTION_DAYS": "3"}).rating_objection_days == 3
    assert from_mapping({"RATING_OBJECTION_DAYS": "30"}).rating_objection_days == MAX_RATING_OBJECTION_DAYS


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("0", "RATING_OBJECTION_DAYS must be at least 1"),
        ("-2", "RATING_OBJECTION_DAYS must be at least 1"),
        ("31", "RATING_OBJECTION_DAYS may be at most 30"),
        ("seven", "RATING_OBJECTION_DAYS must be an integer"),
    ],
)
def test_a_window_out_of_range_is_refused_naming_the_setting(raw: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        from_mapping({"RATING_OBJECTION_DAYS": raw})


async def test_a_submitted_inspection_gets_the_configured_window(serve: Any, county: County) -> None:
    def three_days(app: Any) -> None:
        app.ctx.settings = dataclasses.replace(app.ctx.settings, rating_objection_days=3)

    server = await serve(three_days)
    h = county.headers
    base = f"/admin/compounds/{county.compound.id}/inspections"
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as api:
        r = await api.post(base, json={"kind": "daily"}, headers=h("community_admin"))
        assert r.status_code == 201, r.text
        path = f"{base}/{r.json()['inspection']['id']}"
        items = [{"code": c, "points": 10} for c in all_codes()]
        r = await api.put(f"{path}/scores", json={"items": items}, headers=h("community_admin"))
        assert r.status_code == 200, r.text
        r = await api.post(f"{path}/submit", headers=h("community_admin"))
        assert r.status_code == 200, r.text
    submitted = r.json()["inspection"]
    window = datetime.fromisoformat(submitted["objection_due_at"]) - datetime.fromisoformat(
        submitted["submitted_at"]
    )
    assert (submitted["status"], window) == ("submitted", timedelta(days=3))
