"""Archive of a motion: the roll and every ballot (all casts, with which one counted), as CSV and XLSX.
Names never appear: rooms, areas and roll numbers identify voters. Nothing is deletable: the product has
no delete for motions, rolls or ballots, and every foreign key to them is ON DELETE RESTRICT, so the
database itself refuses to drop a motion that has a roll or ballots (kept at least the one year in
which an owner may ask a court to set a decision aside).

What the archive shows follows voting.disclosure. Once an open motion is counted, each cast is a row
with its room, area, time, channel and choice. Before the count, and for a secret motion always, the
roll and the ballots are two separate lists that never meet: the roll's rows (roll number, rooms,
area) say nothing of voting, and the ballots' rows (hash, and after the count whether it counted) say
nothing of whose they are."""

from __future__ import annotations

import asyncio
from typing import Any

from core import tabular
from voting import disclosure
from voting.models import Ballot, CurrentBallot, Motion, Voter
from voting.roll import hundredths_to_area

HEADER = [
    "名单编号",
    "房号",
    "面积",
    "投票方式",
    "投票时间（北京时间）",
    "选择",
    "是否计入",
    "选票哈希",
    "回执码",
]


def _rooms(voter: Voter) -> str:
    return "、".join(r["room"] for r in voter.rooms)


async def rows(motion: Motion) -> list[list[Any]]:
    voters = sorted(await Voter.filter(motion_id=motion.id), key=lambda v: v.id)
    counted = set(await CurrentBallot.filter(motion_id=motion.id).values_list("ballot_id", flat=True))
    if not disclosure.ballots_by_room_published(motion):
        published = disclosure.results_published(motion)
        roll = [[v.id, _rooms(v), str(hundredths_to_area(v.area_h)), "", "", "", "", "", ""] for v in voters]
        cast = await Ballot.filter(motion_id=motion.id).order_by("id").values_list("id", "ballot_hash")
        ballots = [
            ["", "", "", "", "", "", ("是" if i in counted else "否") if published else "", h, ""]
            for i, h in cast
        ]
        return roll + ballots
    by_id = {v.id: v for v in voters}
    out: list[list[Any]] = []
    for b in await Ballot.filter(motion_id=motion.id).order_by("voter_id", "id"):
        voter = by_id[b.voter_id]  # type: ignore[attr-defined]
        out.append([
            voter.id, _rooms(voter), str(hundredths_to_area(voter.area_h)), b.channel.value,
            b.cast_at, _choices(b.choices),
            "是" if b.id in counted else "否", b.ballot_hash, b.receipt_code,
        ])  # fmt: skip
    voted = {r[0] for r in out}
    out += [
        [v.id, _rooms(v), str(hundredths_to_area(v.area_h)), "未投票", "", "", "", "", ""]
        for v in voters
        if v.id not in voted
    ]
    return out


def _choices(choices: dict[str, Any]) -> str:
    return "; ".join(
        f"{k}:{v if isinstance(v, str) else ','.join(map(str, v))}" for k, v in sorted(choices.items())
    )


async def csv_bytes(motion: Motion) -> bytes:
    return tabular.csv_bytes(HEADER, await rows(motion))


async def xlsx_bytes(motion: Motion) -> bytes:
    data = await rows(motion)
    return await asyncio.to_thread(tabular.xlsx_bytes, f"表决{motion.id}", HEADER, data)
