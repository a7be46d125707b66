"""Content security before publication: WeChat's msg_sec_check (v2) for the text, media_check_async
for each image with its verdict arriving later through the message push. Risky content is held with
the reason; "review" waits for a person (rules.REVIEWERS)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from notices.content import security_chunks
from notices.models import MediaVerdict
from notices.rules import Status
from wechat import Scene, WeChatApi

# WeChat's labels, as a reason a publisher can act on
LABELS = {
    100: "正常",
    10001: "含有广告内容",
    20001: "含有时政敏感内容",
    20002: "含有色情内容",
    20003: "含有辱骂内容",
    20006: "含有违法犯罪内容",
    20008: "含有欺诈内容",
    20012: "含有低俗内容",
    20013: "涉嫌侵犯版权",
    21000: "含有其他不适宜内容",
}
_RANK = {"pass": 0, "review": 1, "risky": 2}


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status  # PUBLISHED (go), CHECKING (wait for images), REVIEW or HELD
    reason: str | None = None
    label: int | None = None


def reason_for(label: int | None, what: str) -> str:
    return f"{what}{LABELS.get(label or 0, '未通过内容安全检测')}"


async def check_text(wechat: WeChatApi, *, openid: str, title: str, body: str) -> tuple[str, int]:
    """The worst verdict over every chunk of the title and body: (suggest, label)."""
    worst, label = "pass", 100
    for chunk in security_chunks(title, body):
        verdict = await wechat.msg_sec_check(openid=openid, content=chunk, scene=int(Scene.FORUM))
        if _RANK[verdict.suggest] > _RANK[worst]:
            worst, label = verdict.suggest, verdict.label
    return worst, label


def decide(text: tuple[str, int], images: Iterable[tuple[MediaVerdict, int | None]]) -> Outcome:
    """The text verdict first, then the images: any risky holds, any review waits for a person,
    any pending waits for WeChat's push."""
    suggest, label = text
    if suggest == "risky":
        return Outcome(Status.HELD, reason_for(label, "正文"), label)
    verdicts = list(images)
    for verdict, image_label in verdicts:
        if verdict is MediaVerdict.RISKY:
            return Outcome(Status.HELD, reason_for(image_label, "图片"), image_label)
    if suggest == "review":
        return Outcome(Status.REVIEW, reason_for(label, "正文疑似"), label)
    for verdict, image_label in verdicts:
        if verdict is MediaVerdict.REVIEW:
            return Outcome(Status.REVIEW, reason_for(image_label, "图片疑似"), image_label)
    if any(verdict is MediaVerdict.PENDING for verdict, _ in verdicts):
        return Outcome(Status.CHECKING)
    return Outcome(Status.PUBLISHED)
