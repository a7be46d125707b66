"""The published lists of a motion as keyset pages (core.pages): the frozen roll (rooms and areas,
never names) by voter id, and the anonymised ballot list (room, area, choice) by voter id. The
whole-motion export (voting.service.export) keeps the full roll: it is one document to verify
offline, not a list to page through."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from core import pages
from voting import disclosure, errors
from voting.counting import participation
from voting.models import CurrentBallot, Motion, Voter
from voting.roll import Weight, hundredths_to_area
from voting.rules import format_percent, format_ratio


def _ratio(part: int, whole: int) -> dict[str, Any]:
    """An exact fraction beside the display percentage (two decimals, half up) of ``part/whole``."""
    ratio = Fraction(part, whole) if whole else Fraction(0)
    return {"ratio": format_ratio(ratio), "numerator": ratio.numerator, "denominator": ratio.denominator,
            "percent": format_percent(ratio)}  # fmt: skip


async def turnout(motion: Motion) -> dict[str, Any]:
    """Participation as totals (heads and area) and as exact shares of the roll's, never choices: not
    even the committee sees how the vote stands before the count (voting.disclosure)."""
    if motion.roll_hash is None:
        raise errors.MotionWrongState("投票尚未开始")
    total = Weight(int(motion.total_area_h or 0), int(motion.total_headcount or 0))
    now = await participation(motion)
    return {
        "total": total.to_dict(),
        "participating": now.to_dict(),
        "participation_area": _ratio(now.area_hundredths, total.area_hundredths),
        "participation_headcount": _ratio(now.headcount, total.headcount),
    }


async def roll_page(motion: Motion, *, cursor: str | None, limit: int) -> pages.Page[dict[str, Any]]:
    """Rooms and areas, never names (published once the roll is frozen), by voter id."""
    if motion.roll_hash is None:
        raise errors.MotionWrongState("表决名单尚未冻结")
    rows = await Voter.filter(motion_id=motion.id, id__gt=pages.after(cursor)).order_by("id").limit(limit + 1)
    found = pages.page(rows, limit, key=lambda v: v.id)
    return pages.Page(
        [
            {
                "voter_id": v.id,
                "area": str(hundredths_to_area(v.area_h)),
                "developer": v.is_developer,
                "rooms": v.rooms,
            }
            for v in found.items
        ],
        found.next_cursor,
    )


async def ballot_page(motion: Motion, *, cursor: str | None, limit: int) -> pages.Page[dict[str, Any]]:
    """The anonymised counted ballots: room, area and choice, by voter id; none for a secret motion."""
    if not disclosure.results_published(motion):
        raise errors.MotionWrongState("计票完成后公布", code="results_not_ready")
    if not disclosure.ballots_by_room_published(motion):
        raise errors.MotionWrongState("本事项为无记名表决，不公布逐票明细", code="motion_secret")
    rows = (
        await CurrentBallot.filter(motion_id=motion.id, voter_id__gt=pages.after(cursor))
        .prefetch_related("voter", "ballot")
        .order_by("voter_id")
        .limit(limit + 1)
    )
    found = pages.page(rows, limit, key=lambda c: c.voter_id)  # type: ignore[attr-defined]
    return pages.Page(
        [
            {
                "voter_id": c.voter_id,  # type: ignore[attr-defined]
                "rooms": [r["room"] for r in c.voter.rooms],
                "area": str(hundredths_to_area(c.voter.area_h)),
                "choices": c.ballot.choices,
                "channel": c.channel.value,
            }
            for c in found.items
        ],
        found.next_cursor,
    )
