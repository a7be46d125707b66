"""Template ids come from the settings (NOTIFY_TEMPLATE_IDS), reach the catalogue when an app or a
worker starts, and the outbox rows written afterwards carry them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from config.settings import Settings, SettingsError, from_mapping
from notify import catalogue, service
from notify.models import Notification
from server.app import apply_template_ids, create_app


@pytest.fixture
def restore_catalogue() -> Iterator[None]:
    yield
    catalogue.configure({})


def test_the_setting_is_parsed_and_bad_pairs_are_refused() -> None:
    settings = from_mapping({"NOTIFY_TEMPLATE_IDS": "motion.opening=AbC-123_x, tmpl_booking=Zz9"})
    assert settings.notify_template_ids == (("motion.opening", "AbC-123_x"), ("tmpl_booking", "Zz9"))
    assert from_mapping({}).notify_template_ids == ()
    for bad in ("motion.opening", "motion.opening=", "=abc", "motion opening=abc", "a=b c"):
        with pytest.raises(SettingsError, match="NOTIFY_TEMPLATE_IDS"):
            from_mapping({"NOTIFY_TEMPLATE_IDS": bad})


def test_an_app_puts_the_ids_in_the_catalogue(settings: Settings, restore_catalogue: None) -> None:
    configured = replace(
        settings, notify_template_ids=(("motion.opening", "OPENING-ID"), ("tmpl_booking", "BOOKING-ID"))
    )
    create_app(configured, manage_db=False, background=False)
    assert catalogue.BY_EVENT["motion.opening"].template_id == "OPENING-ID"
    assert {catalogue.BY_EVENT[e].template_id for e in ("booking.confirmed", "booking.cancelled")} == {
        "BOOKING-ID"
    }
    assert catalogue.BY_EVENT["motion.result"].template_id == "tmpl_motion_result"
    assert "motion.opening" not in catalogue.placeholders()
    assert "motion.result" in catalogue.placeholders()
    # starting again without them gives the catalogue's own ids back
    apply_template_ids(settings)
    assert catalogue.BY_EVENT["motion.opening"].template_id == "tmpl_motion_opening"


def test_an_unknown_event_stops_the_start(settings: Settings, restore_catalogue: None) -> None:
    with pytest.raises(ValueError, match=r"motion\.openning"):
        apply_template_ids(replace(settings, notify_template_ids=(("motion.openning", "X1"),)))


async def test_rows_written_afterwards_carry_the_configured_id(
    clean_db: None, settings: Settings, restore_catalogue: None
) -> None:
    from accounts.models import User

    user = await User.create(openid="openid-a", nickname="a")
    apply_template_ids(replace(settings, notify_template_ids=(("motion.opening", "OPENING-ID"),)))
    params = {"motion_id": 1, "title": "关于更换电梯的表决", "closes_at": datetime(2026, 12, 1, tzinfo=UTC)}
    await service.enqueue("motion.opening", subject="motion:1", user_ids=[user.id], params=params)
    row = await Notification.get(user_id=user.id)
    assert (row.event, row.template_id) == ("motion.opening", "OPENING-ID")
