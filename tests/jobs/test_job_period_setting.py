"""JOB_PERIOD_SECONDS: one short period for every periodic job (tests and demos), refused in
production and for periods arq's cron cannot schedule; unset, each job keeps its own period."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.settings import SettingsError, from_mapping
from server import jobs
from tests.config.test_min_announce_days import PRODUCTION


@pytest.fixture
def restore_periods() -> Iterator[None]:
    yield
    jobs.override_periods(None)


def test_the_setting_is_parsed_and_empty_means_each_job_s_own_period() -> None:
    assert from_mapping({"JOB_PERIOD_SECONDS": "2"}).job_period_seconds == 2
    assert from_mapping({}).job_period_seconds is None
    assert from_mapping({"JOB_PERIOD_SECONDS": ""}).job_period_seconds is None
    with pytest.raises(SettingsError, match="JOB_PERIOD_SECONDS must be an integer"):
        from_mapping({"JOB_PERIOD_SECONDS": "fast"})


def test_production_refuses_it() -> None:
    with pytest.raises(SettingsError, match="JOB_PERIOD_SECONDS is for tests and demos"):
        from_mapping({**PRODUCTION, "JOB_PERIOD_SECONDS": "2"}).check()


def test_an_override_applies_to_every_job_and_goes_away(restore_periods: None) -> None:
    own = {job.name: job.period_seconds() for job in jobs.PERIODIC}
    assert own["payment_orders"] == 60
    jobs.override_periods(2)
    assert {job.period_seconds() for job in jobs.PERIODIC} == {2.0}
    assert jobs.current_period(jobs.PERIODIC[0], now=101.0) == 50
    with pytest.raises(ValueError, match="does not divide the minute"):
        jobs.override_periods(7)
    assert {job.period_seconds() for job in jobs.PERIODIC} == {2.0}  # a refused period changes nothing
    jobs.override_periods(None)
    assert {job.name: job.period_seconds() for job in jobs.PERIODIC} == own
