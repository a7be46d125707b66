"""Reading the registry (community → compound → building → unit)."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.functions import Count

from accounts.models import Community


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    id: int
    name: str
    compounds: int
    standalone: int


async def list_communities() -> list[CommunitySummary]:
    """Each community with its count of compounds and of stand-alone buildings, in one query."""
    rows = (
        await Community.all()
        .annotate(
            n_compounds=Count("compounds", _filter=Q(compounds__standalone=False)),
            n_standalone=Count("compounds", _filter=Q(compounds__standalone=True)),
        )
        .order_by("id")
        .values("id", "name", "n_compounds", "n_standalone")
    )
    return [CommunitySummary(r["id"], r["name"], r["n_compounds"], r["n_standalone"]) for r in rows]
