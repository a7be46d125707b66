"""Archive of a motion: the roll and every ballot (all casts, with which one counted), as CSV and XLSX.
Names never appear: rooms, areas and roll numbers identify voters. Nothing is deletable: the product has
no delete for motions, rolls or ballots, and every foreign key to them is ON DELETE RESTRICT, so the
database itself refuses to drop a motion that has a roll or ballots (kept at least the one year in
which an owner may ask a court to set a decision aside)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from core import clock
from voting.models import Ballot, CurrentBallot, Motion, Voter
from voting.roll import hundredths_to_area

HEADER = ["名单编号", "房号", "面积", "投票方式", "投票时间", "选择", "是否计入", "选票哈希", "回执码"]


async def rows(motion: Motion) -> list[list[Any]]:
    voters = {v.id: v for v in await Voter.filter(motion_id=motion.id)}
    counted = set(await CurrentBallot.filter(motion_id=motion.id).values_list("ballot_id", flat=True))
    out: list[list[Any]] = []
    for b in await Ballot.filter(motion_id=motion.id).order_by("voter_id", "id"):
        voter = voters[b.voter_id]  # type: ignore[attr-defined]
        out.append([
            voter.id, "、".join(r["room"] for r in voter.rooms), str(hundredths_to_area(voter.area_h)), b.channel.value,
            clock.to_local(b.cast_at).strftime("%Y-%m-%d %H:%M:%S"), "" if motion.secret else _choices(b.choices),
            "是" if b.id in counted else "否", b.ballot_hash, b.receipt_code,
        ])  # fmt: skip
    voted = {r[0] for r in out}
    for v in sorted(voters.values(), key=lambda v: v.id):
        if v.id not in voted:
            out.append(
                [
                    v.id,
                    "、".join(r["room"] for r in v.rooms),
                    str(hundredths_to_area(v.area_h)),
                    "未投票",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return out


def _choices(choices: dict[str, Any]) -> str:
    return "; ".join(
        f"{k}:{v if isinstance(v, str) else ','.join(map(str, v))}" for k, v in sorted(choices.items())
    )


async def csv_bytes(motion: Motion) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(await rows(motion))
    return ("\ufeff" + buffer.getvalue()).encode()


async def xlsx_bytes(motion: Motion) -> bytes:
    data = await rows(motion)

    def build() -> bytes:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = f"表决{motion.id}"
        sheet.append(HEADER)
        for row in data:
            sheet.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    return await asyncio.to_thread(build)
