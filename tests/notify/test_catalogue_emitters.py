"""Which domain publishes each event of the catalogue (issue 16, item 2): every event is either
written to the outbox by the domain named here (its package's source names the event) or listed as
not published yet, so a new event cannot join the catalogue unaccounted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from notify import catalogue

ROOT = Path(__file__).resolve().parents[2]
EMITTED_BY = {
    "motion.announced": "voting", "motion.opening": "voting", "motion.closing_soon": "voting",
    "motion.result": "voting",
    "complaint.accepted": "complaints", "complaint.dispatched": "complaints",
    "complaint.resolved": "complaints", "complaint.rate": "complaints",
    "bill.issued": "payments", "bill.overdue": "payments",
    "fund.topup_due": "fund",
    "booking.confirmed": "bookings", "booking.reminder": "bookings", "booking.cancelled": "bookings",
    "notice.acknowledge": "notices",
}  # fmt: skip
# In the catalogue, with a template, but nothing writes it yet (none today: a new event that no domain
# publishes goes here until one does)
NOT_PUBLISHED_YET: set[str] = set()


def test_every_event_of_the_catalogue_is_accounted_for() -> None:
    assert set(EMITTED_BY) | NOT_PUBLISHED_YET == set(catalogue.BY_EVENT)
    assert not set(EMITTED_BY) & NOT_PUBLISHED_YET


@pytest.mark.parametrize(("event", "package"), sorted(EMITTED_BY.items()))
def test_the_publishing_domain_names_its_event(event: str, package: str) -> None:
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / package).rglob("*.py")]
    assert any(f'"{event}"' in text for text in sources), f"{package} never names {event}"
