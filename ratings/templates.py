"""Star-rating template versions: a new version is a new row (never an edit), so an inspection keeps
the version it was made with; the newest version of a kind is used for new inspections."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit import service as audit
from core import pages
from ratings.errors import TemplateNotFound, TemplateVersionConflict
from ratings.models import Template
from ratings.paging import newest_first
from ratings.rules import Aspect, AspectSpec, InspectionKind, Item, Threshold, check_template

STREAM = "county"


def specs_of(template: Template) -> tuple[list[AspectSpec], list[Threshold]]:
    aspects = [
        AspectSpec(
            aspect=Aspect(a["aspect"]),
            weight=int(a["weight"]),
            items=tuple(Item(i["code"], i["text"], int(i["max_points"])) for i in a["items"]),
        )
        for a in template.aspects
    ]
    thresholds = [Threshold(int(t["stars"]), Decimal(str(t["min_score"]))) for t in template.thresholds]
    return aspects, thresholds


def _stored(aspects: Sequence[AspectSpec], thresholds: Sequence[Threshold]) -> tuple[list[Any], list[Any]]:
    return (
        [
            {
                "aspect": a.aspect.value,
                "weight": a.weight,
                "items": [{"code": i.code, "text": i.text, "max_points": i.max_points} for i in a.items],
            }
            for a in sorted(aspects, key=lambda a: list(Aspect).index(a.aspect))
        ],
        [
            {"stars": t.stars, "min_score": str(t.min_score)}
            for t in sorted(thresholds, key=lambda t: -t.stars)
        ],
    )


async def create(
    actor: audit.Actor,
    *,
    user_id: int,
    kind: InspectionKind,
    name: str,
    aspects: Sequence[AspectSpec],
    thresholds: Sequence[Threshold],
) -> Template:
    """The next version of the template of ``kind``. Two at once: the unique (kind, version) makes
    one of them retry with the next number."""
    check_template(aspects, thresholds)
    stored_aspects, stored_thresholds = _stored(aspects, thresholds)
    for _ in range(30):  # each retry means another version was added meanwhile: progress
        latest = await Template.filter(kind=kind).order_by("-version").first()
        version = (latest.version if latest else 0) + 1
        try:
            async with in_transaction():
                template = await Template.create(
                    kind=kind,
                    version=version,
                    name=name,
                    aspects=stored_aspects,
                    thresholds=stored_thresholds,
                    created_by_id=user_id,
                )
                await audit.append(
                    STREAM,
                    "rating.template_created",
                    actor=actor,
                    subject=f"rating_template:{template.id}",
                    payload={
                        "kind": kind.value,
                        "version": version,
                        "name": name,
                        "thresholds": stored_thresholds,
                    },
                )
            return template
        except IntegrityError:
            continue
    raise TemplateVersionConflict()


async def get(template_id: int) -> Template:
    template = await Template.get_or_none(id=template_id)
    if template is None:
        raise TemplateNotFound()
    return template


async def latest(kind: InspectionKind) -> Template:
    template = await Template.filter(kind=kind).order_by("-version").first()
    if template is None:
        raise TemplateNotFound("尚未发布该类考核的评分模板")
    return template


async def listing(*, kind: InspectionKind | None, cursor: str | None, limit: int) -> pages.Page[Template]:
    query = Template.all()
    if kind is not None:
        query = query.filter(kind=kind)
    return await newest_first(query, cursor=cursor, limit=limit)
