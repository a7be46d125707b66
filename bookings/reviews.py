"""Ratings of providers from completed bookings: what the community sees, and what ratings/ (issue
17, credit records) reads through ``provider_ratings`` / ``company_ratings``. Only the stars, the
comment, the service and when: never who rated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from tortoise.functions import Avg, Count

from bookings.models import Booking, Provider
from core import pages


@dataclass(frozen=True, slots=True)
class Rating:
    booking_id: int
    provider_id: int
    compound_id: int
    service_id: int
    service: str
    stars: int
    comment: str
    rated_at: datetime


@dataclass(frozen=True, slots=True)
class Score:
    provider_id: int
    company_id: int | None  # set when the provider is a property company
    ratings: int
    average: Decimal | None  # two places; None without ratings


def _rating(b: Booking) -> Rating:
    assert b.stars is not None and b.rated_at is not None
    return Rating(
        b.id, b.provider_id, b.compound_id, b.service_id, b.service.name, b.stars, b.comment, b.rated_at
    )


async def provider_ratings(
    provider_id: int, *, cursor: str | None = None, limit: int = 20
) -> pages.Page[Rating]:
    """A provider's ratings, newest first."""
    before = pages.before(cursor)
    query = Booking.filter(provider_id=provider_id, stars__not_isnull=True)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1).prefetch_related("service")
    found = pages.page(rows, limit, key=lambda b: b.id)
    return pages.Page([_rating(b) for b in found.items], found.next_cursor)


async def scores(provider_ids: Iterable[int], *, since: datetime | None = None) -> dict[int, Score]:
    """Count and mean of the stars per provider (every id passed is in the answer), rated since
    ``since`` if given: one grouped query."""
    ids = sorted(set(provider_ids))
    companies = dict(await Provider.filter(id__in=ids).values_list("id", "company_id"))  # type: ignore[arg-type]
    query = Booking.filter(provider_id__in=ids, stars__not_isnull=True)
    if since is not None:
        query = query.filter(rated_at__gte=since)
    rows = (
        await query.annotate(n=Count("id"), mean=Avg("stars"))
        .group_by("provider_id")
        .values("provider_id", "n", "mean")
    )
    found = {int(r["provider_id"]): (int(r["n"]), r["mean"]) for r in rows}
    return {
        i: Score(
            i,
            companies.get(i),
            found.get(i, (0, None))[0],
            None
            if found.get(i, (0, None))[1] is None
            else Decimal(str(found[i][1])).quantize(Decimal("0.01"), ROUND_HALF_UP),
        )
        for i in ids
    }


async def company_ratings(company_ids: Iterable[int], *, since: datetime | None = None) -> dict[int, Score]:
    """The same per property company (as a provider of life services); companies that never
    provided any have 0 ratings."""
    wanted = sorted(set(company_ids))
    providers = dict(await Provider.filter(company_id__in=wanted).values_list("company_id", "id"))  # type: ignore[arg-type]
    by_provider = await scores(providers.values(), since=since)
    return {c: by_provider[providers[c]] if c in providers else Score(0, c, 0, None) for c in wanted}
