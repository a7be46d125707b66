"""What voting posts to the compound's notice board: the announcement of a motion and its result."""

from __future__ import annotations

from typing import Any

from audit.service import Actor
from core import clock
from notices import service as notices
from voting.models import Motion, MotionItem
from voting.rules import Matter


def _local(moment: Any) -> str:
    return f"{clock.to_local(moment):%Y年%m月%d日 %H:%M}"


async def announce(motion: Motion, items: list[MotionItem], actor: Actor) -> int:
    lines = [
        motion.text,
        "",
        f"投票时间：{_local(motion.opens_at)} 至 {_local(motion.closes_at)}",
        "",
        "表决项：",
    ]
    for item in items:
        label = Matter(item.matter).label
        lines.append(f"{item.position}. {item.title}（{label}）")
    if motion.secret:
        lines += ["", "本次为无记名表决，逐票明细不予公布。"]
    return await notices.post_system_notice(
        compound_id=motion.compound_id,  # type: ignore[attr-defined]
        category="motion",
        title=f"表决公告：{motion.title}",
        body_markdown="\n".join(lines),
        actor=actor,
        subject=f"motion:{motion.id}",
        data={"motion_id": motion.id},
    )


async def result(motion: Motion, actor: Actor) -> int:
    outcome = motion.result or {}
    lines = [f"表决事项：{motion.title}", ""]
    for item in outcome.get("items", []):
        if "passed" in item:
            verdict = "通过" if item["passed"] else "未通过"
            lines.append(
                f"{item['position']}. {item['title']}：{verdict}（参与面积 {item['participation_area']['percent']}%，"
                f"参与人数 {item['participation_headcount']['percent']}%；同意面积 {item['agreement_area']['percent']}%，"
                f"同意人数 {item['agreement_headcount']['percent']}%）"
            )
        else:
            elected = "、".join(
                c["name"]
                for c in item.get("candidates", [])
                if c.get("candidate_id") in item.get("elected", [])
            )
            lines.append(f"{item['position']}. {item['title']}：当选 {elected or '无'}")
    if motion.objection_until is not None:
        lines += ["", f"如有异议，请于 {_local(motion.objection_until)} 前向业主委员会提出。"]
    return await notices.post_system_notice(
        compound_id=motion.compound_id,  # type: ignore[attr-defined]
        category="vote_result",
        title=f"表决结果公示：{motion.title}",
        body_markdown="\n".join(lines),
        actor=actor,
        subject=f"motion:{motion.id}",
        data={"motion_id": motion.id, "result": outcome},
    )
