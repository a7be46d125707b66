"""Reading the registry (community → compound → building → unit)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.functions import Count

from accounts.models import Community, Compound


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    id: int
    name: str
    compounds: int
    standalone: int


async def list_communities() -> list[CommunitySummary]:
    """Each community with its count of compounds and of stand-alone buildings (two grouped queries)."""
    communities = await Community.all().order_by("id")
    counts: dict[tuple[int, bool], int] = {}
    rows = (
        await Compound.all()
        .group_by("community_id", "standalone")
        .annotate(n=Count("id"))
        .values("community_id", "standalone", "n")
    )
    for row in rows:
        counts[(row["community_id"], bool(row["standalone"]))] = row["n"]
    return [
        CommunitySummary(c.id, c.name, counts.get((c.id, False), 0), counts.get((c.id, True), 0))
        for c in communities
    ]
