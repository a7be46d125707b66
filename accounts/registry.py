"""Reading the registry (community → compound → building → unit)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.functions import Count

from accounts.models import Community
from core import pages


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    id: int
    name: str
    compounds: int
    standalone: int


async def list_communities(*, cursor: str | None = None, limit: int = 20) -> pages.Page[CommunitySummary]:
    """Each community with its count of compounds and of stand-alone buildings, in one query; a keyset
    page by id."""
    after = pages.after(cursor)
    rows = (
        await Community.filter(id__gt=after)
        .annotate(
            n_compounds=Count("compounds", _filter=Q(compounds__standalone=False)),
            n_standalone=Count("compounds", _filter=Q(compounds__standalone=True)),
        )
        .order_by("id")
        .limit(limit + 1)
        .values("id", "name", "n_compounds", "n_standalone")
    )
    found = [CommunitySummary(r["id"], r["name"], r["n_compounds"], r["n_standalone"]) for r in rows]
    return pages.page(found, limit, key=lambda community: community.id)
