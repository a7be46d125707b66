"""The shapes of a motion's published reads: results, live turnout, the roll, the ballot list and
the offline-verifiable export (voting.counting, voting.listing, voting.service.export).

Every ratio a client shows comes with its exact fraction (``ratio`` = "numerator/denominator" in
lowest terms, over integer hundredths of m² or heads): ``percent`` is for display only, rounded half
up to two decimals, and a client must never decide "at least 2/3" from it (66.67 % is not 2/3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from voting.lifecycle import MAX_ITEMS

FRACTION = r"^[0-9]+/[1-9][0-9]*$"


class WeightOut(BaseModel):
    area: Decimal = Field(description="面积（㎡，两位小数）")
    headcount: int = Field(description="人数（一个专有部分计一人；同一业主多套房计一人；开发建设单位计一人）")


class ShareOut(BaseModel):
    ratio: str = Field(
        pattern=FRACTION, description="精确比例（最简分数 分子/分母）；判断是否达到门槛以此为准"
    )
    numerator: int
    denominator: int
    percent: Decimal = Field(description="百分比（两位小数，四舍五入；仅供显示）")


class RatioTestOut(BaseModel):
    ratio: str = Field(pattern=FRACTION, description="精确比例（最简分数 分子/分母）；判断是否通过以此为准")
    percent: Decimal = Field(description="百分比（两位小数，四舍五入；仅供显示）")
    threshold: str = Field(description="门槛，如 >=2/3、>1/2、>=3/4")
    passed: bool


class NonVotersCountedOut(BaseModel):
    side: Literal["agree", "oppose", "abstain"]
    area: Decimal
    headcount: int


class CandidateResultOut(BaseModel):
    candidate_id: int
    name: str | None
    votes: WeightOut
    agreement_area: RatioTestOut
    agreement_headcount: RatioTestOut
    passed: bool


class ItemResultOut(BaseModel):
    """One item's count: a decision (agree/oppose/abstain) or an election (candidates, seats)."""

    item_id: int
    position: int
    title: str
    matter: str
    matter_label: str
    total: WeightOut
    participating: WeightOut
    participation_area: RatioTestOut = Field(description="参与表决的面积占总面积（须 >=2/3）")
    participation_headcount: RatioTestOut = Field(description="参与表决的人数占总人数（须 >=2/3）")
    agree: WeightOut | None = None
    oppose: WeightOut | None = None
    abstain: WeightOut | None = None
    non_voters: WeightOut | None = None
    follow_majority: bool | None = None
    followed: Literal["agree", "oppose", "abstain"] | None = None
    agreement_area: RatioTestOut | None = Field(default=None, description="同意的面积占参与表决的面积")
    agreement_headcount: RatioTestOut | None = Field(default=None, description="同意的人数占参与表决的人数")
    passed: bool | None = Field(default=None, description="表决事项是否通过（选举项为空，见 elected）")
    seats: int | None = None
    quorate: bool | None = None
    candidates: list[CandidateResultOut] | None = None
    elected: list[int] | None = None
    tied: list[int] | None = None
    tied_seats: int | None = None
    vacant_seats: int | None = None
    follow_majority_applied: bool
    non_voters_counted: NonVotersCountedOut | None


class ResultsOut(BaseModel):
    status: str
    objection_until: AwareDatetime | None
    motion_id: int
    total: WeightOut
    participating: WeightOut
    roll_hash: str | None
    follow_majority: bool
    follow_majority_rule: str
    items: list[ItemResultOut] = Field(
        max_length=MAX_ITEMS, description="每个表决项的结果（一个事项至多 20 项）"
    )


class TurnoutOut(BaseModel):
    total: WeightOut
    participating: WeightOut
    participation_area: ShareOut = Field(description="已投票面积占总面积（精确分数）")
    participation_headcount: ShareOut = Field(description="已投票人数占总人数（精确分数）")


class RollRoomOut(BaseModel):
    unit_id: int
    room: str
    area: Decimal


class RollEntryOut(BaseModel):
    voter_id: int
    area: Decimal
    developer: bool = Field(description="开发建设单位（其未售出等房屋合计一名投票人）")
    rooms: list[RollRoomOut]


class RollPageOut(BaseModel):
    items: list[RollEntryOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class BallotRowOut(BaseModel):
    voter_id: int
    rooms: list[str]
    area: Decimal
    choices: dict[str, Any] = Field(
        description='{"表决项编号": "agree|oppose|abstain"} 或选举项 {"编号": [候选人编号]}'
    )
    channel: str


class BallotPageOut(BaseModel):
    items: list[BallotRowOut]
    next_cursor: str | None = Field(description="下一页的游标；为空表示没有更多")


class ExportItemOut(BaseModel):
    id: int
    title: str
    matter: str
    seats: int | None
    candidates: list[dict[str, Any]]


class CountingRuleOut(BaseModel):
    """voting.ballots.COUNTING_RULE: which of a voter's ballots counts."""

    latest_by: Literal["cast_at"] = Field(description="每位投票人计入投票时间最晚的一张选票")
    paper_outranked_by: list[str] = Field(description="有这些渠道的选票时，纸质选票不再计入")
    description: str = Field(description="计票规则的说明")


class ExportMotionOut(BaseModel):
    id: int
    title: str
    status: str
    roll_hash: str | None
    items: list[ExportItemOut]
    secret: bool
    counting_rule: CountingRuleOut
    follow_majority: bool
    result: dict[str, Any] | None = Field(description="计票结果（同 /results 的结果部分）；计票前为空")


class ExportHeadOut(BaseModel):
    seq: int
    hash: str


class ExportEventOut(BaseModel):
    stream: str
    seq: int
    at: str = Field(description="UTC 时间（参与哈希计算的原文，以 Z 结尾）")
    actor: str | None
    actor_name: str | None
    action: str
    subject: str | None
    payload: dict[str, Any]
    request_id: str | None
    prev_hash: str | None
    hash: str


class ExportBallotOut(BaseModel):
    id: int
    ballot_hash: str
    batch: int | None
    counted: bool | None = None
    motion: int | None = None
    voter: int | None = None
    channel: str | None = None
    choices: dict[str, Any] | None = None
    cast_at: str | None = Field(default=None, description="UTC 时间（参与哈希计算的原文）")
    nonce: str | None = None


class ExportOut(BaseModel):
    format: Literal["wuye-audit-export/1"]
    exported_at: str = Field(description="UTC 时间（以 Z 结尾）")
    heads: dict[str, ExportHeadOut]
    streams: dict[str, list[ExportEventOut]]
    motion: ExportMotionOut
    roll: list[RollEntryOut]
    ballots: list[ExportBallotOut]
