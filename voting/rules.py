"""Deciding an owners' assembly vote (Civil Code art. 278): pure functions, exact arithmetic.

Every decision needs participation of at least 2/3 of the total area AND at least 2/3 of the owners
(headcount) in scope; then, among the participants, more than 1/2 (matters 1-5 and 9) or at least 3/4
(matters 6-8) of the area AND of the headcount must agree. "At least" (>=) and "more than" (>) differ
exactly at the boundary, so every ratio is a ``Fraction`` over integer hundredths of m² and heads; a
float would mis-decide sums such as 0.1 + 0.2 right where the law draws the line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any

from voting.errors import (
    BallotDuplicateCandidate,
    BallotInvalid,
    BallotTooManyCandidates,
    BallotUnknownCandidate,
    ElectionInvalid,
    VoterNotOnRoll,
)
from voting.roll import OwnerId, Roll, Weight

CandidateId = int


@dataclass(frozen=True, slots=True)
class Threshold:
    fraction: Fraction
    inclusive: bool  # True: "at least" (>=); False: "more than" (>)

    def is_met(self, ratio: Fraction) -> bool:
        return ratio >= self.fraction if self.inclusive else ratio > self.fraction

    def __str__(self) -> str:
        return f"{'>=' if self.inclusive else '>'}{format_ratio(self.fraction)}"


# 物业管理条例 第十四条: an owners' assembly meeting is notified to all owners at least 15 days before.
# A compound may set a longer period, never a shorter one (only development and test may lower it).
LEGAL_MIN_ANNOUNCE_DAYS = 15

PARTICIPATION = Threshold(Fraction(2, 3), inclusive=True)
MORE_THAN_HALF = Threshold(Fraction(1, 2), inclusive=False)
AT_LEAST_THREE_QUARTERS = Threshold(Fraction(3, 4), inclusive=True)


class Matter(StrEnum):
    """The nine matters of art. 278, in the article's order (``item`` is the article's numbering)."""

    RULES_OF_PROCEDURE = "rules_of_procedure"
    MANAGEMENT_RULES = "management_rules"
    ELECT_COMMITTEE = "elect_committee"
    HIRE_PROPERTY_COMPANY = "hire_property_company"
    USE_MAINTENANCE_FUND = "use_maintenance_fund"
    RAISE_MAINTENANCE_FUND = "raise_maintenance_fund"
    REBUILD = "rebuild"
    CHANGE_COMMON_PARTS_USE = "change_common_parts_use"
    OTHER_MAJOR_MATTER = "other_major_matter"

    @property
    def item(self) -> int:
        return list(Matter).index(self) + 1

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def threshold(self) -> Threshold:
        """What share of the participants must agree (the 2/3 participation applies to every matter)."""
        return AT_LEAST_THREE_QUARTERS if self in _THREE_QUARTER_MATTERS else MORE_THAN_HALF


_LABELS: dict[Matter, str] = {
    Matter.RULES_OF_PROCEDURE: "制定和修改业主大会议事规则",
    Matter.MANAGEMENT_RULES: "制定和修改管理规约",
    Matter.ELECT_COMMITTEE: "选举业主委员会或者更换业主委员会成员",
    Matter.HIRE_PROPERTY_COMPANY: "选聘和解聘物业服务企业或者其他管理人",
    Matter.USE_MAINTENANCE_FUND: "使用建筑物及其附属设施的维修资金",
    Matter.RAISE_MAINTENANCE_FUND: "筹集建筑物及其附属设施的维修资金",
    Matter.REBUILD: "改建、重建建筑物及其附属设施",
    Matter.CHANGE_COMMON_PARTS_USE: "改变共有部分的用途或者利用共有部分从事经营活动",
    Matter.OTHER_MAJOR_MATTER: "有关共有和共同管理权利的其他重大事项",
}
# Raising the fund costs every owner money and the other two change what everyone owns in common, hence
# the stricter majority; *using* the fund (item 5) is deliberately only a simple majority.
_THREE_QUARTER_MATTERS = frozenset(
    {Matter.RAISE_MAINTENANCE_FUND, Matter.REBUILD, Matter.CHANGE_COMMON_PARTS_USE}
)


class Choice(StrEnum):
    AGREE = "agree"
    OPPOSE = "oppose"
    ABSTAIN = "abstain"  # participates (counts toward the 2/3) but does not agree


def format_ratio(ratio: Fraction) -> str:
    return f"{ratio.numerator}/{ratio.denominator}"


def format_percent(ratio: Fraction) -> str:
    """Percentage with two decimals, rounded half up from the exact fraction (display only: 2/3 -> 66.67)."""
    # Ratios here are never negative, so half up is floor(x + 1/2).
    rounded = math.floor(ratio * 10000 + Fraction(1, 2))
    return f"{rounded // 100}.{rounded % 100:02d}"


@dataclass(frozen=True, slots=True)
class RatioTest:
    ratio: Fraction
    threshold: Threshold

    @classmethod
    def of(cls, part: int, whole: int, threshold: Threshold) -> RatioTest:
        # Nobody participating leaves "share of participants" undefined; 0 makes it fail, as it must.
        return cls(Fraction(part, whole) if whole else Fraction(0), threshold)

    @property
    def passed(self) -> bool:
        return self.threshold.is_met(self.ratio)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratio": format_ratio(self.ratio),
            "percent": format_percent(self.ratio),
            "threshold": str(self.threshold),
            "passed": self.passed,
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """The count of one motion item; ``passed`` only if all four tests pass."""

    matter: Matter
    total: Weight
    agree: Weight
    oppose: Weight
    abstain: Weight
    non_voters: Weight
    follow_majority: bool
    followed: Choice | None  # the side non-voters were deemed to join (从多), if any
    participation_area: RatioTest
    participation_headcount: RatioTest
    agreement_area: RatioTest
    agreement_headcount: RatioTest

    @property
    def participating(self) -> Weight:
        return self.agree + self.oppose + self.abstain

    @property
    def passed(self) -> bool:
        return all(
            t.passed
            for t in (
                self.participation_area,
                self.participation_headcount,
                self.agreement_area,
                self.agreement_headcount,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "matter": self.matter.value,
            "matter_label": self.matter.label,
            "total": self.total.to_dict(),
            "participating": self.participating.to_dict(),
            "agree": self.agree.to_dict(),
            "oppose": self.oppose.to_dict(),
            "abstain": self.abstain.to_dict(),
            "non_voters": self.non_voters.to_dict(),
            "follow_majority": self.follow_majority,
            "followed": self.followed.value if self.followed is not None else None,
            "participation_area": self.participation_area.to_dict(),
            "participation_headcount": self.participation_headcount.to_dict(),
            "agreement_area": self.agreement_area.to_dict(),
            "agreement_headcount": self.agreement_headcount.to_dict(),
            "passed": self.passed,
        }


def tally(
    matter: Matter, roll: Roll, ballots: Mapping[OwnerId, Choice], *, follow_majority: bool = False
) -> Tally:
    """Count one item: ``ballots`` maps each voter who voted to their choice; everyone else did not vote.

    从多 (``follow_majority``, off by default because its legality is disputed since the Civil Code):
    the majority side among actual voters is AGREE if the agreeing voters hold strictly more area AND
    strictly more heads than the opposing ones, OPPOSE if the reverse holds, and there is none otherwise
    (a tie, or area and heads pointing different ways; abstainers are on neither side). If there is a
    majority side, every non-voter is deemed to have cast that one choice for the agreement measure only:
    their area and heads join that side AND the agreement denominators, which become participants plus
    non-voters, i.e. the whole roll (leaving them out of the denominator could push agreement above 100 %).
    With no majority side non-voters stay out entirely. Non-voters never count toward the 2/3
    participation, so 从多 can never make an inquorate vote pass.
    """
    unknown = sorted(v for v in ballots if v not in roll)
    if unknown:
        raise VoterNotOnRoll(details={"voter_ids": unknown})
    sides = {choice: Weight() for choice in Choice}
    for voter_id, choice in ballots.items():
        try:
            side = Choice(choice)  # tolerate the plain strings a stored ballot may come back as
        except ValueError:
            raise BallotInvalid(details={"voter_id": voter_id, "choice": choice}) from None
        sides[side] += roll.voter(voter_id).weight
    return decide(matter, roll.total, sides, follow_majority=follow_majority)


def decide(
    matter: Matter, total: Weight, sides: Mapping[Choice, Weight], *, follow_majority: bool = False
) -> Tally:
    """The decision from aggregated weights (what ``tally`` computes from single ballots, or what the
    database sums up with GROUP BY). The 从多 rule is documented on ``tally``."""
    agree = sides.get(Choice.AGREE, Weight())
    oppose = sides.get(Choice.OPPOSE, Weight())
    abstain = sides.get(Choice.ABSTAIN, Weight())
    participating = agree + oppose + abstain
    non_voters = total - participating

    followed: Choice | None = None
    if follow_majority:
        followed = _majority_side(agree, oppose)
    base = participating + non_voters if followed is not None else participating
    agreeing = agree + non_voters if followed is Choice.AGREE else agree
    return Tally(
        matter=matter,
        total=total,
        agree=agree,
        oppose=oppose,
        abstain=abstain,
        non_voters=non_voters,
        follow_majority=follow_majority,
        followed=followed,
        participation_area=RatioTest.of(participating.area_hundredths, total.area_hundredths, PARTICIPATION),
        participation_headcount=RatioTest.of(participating.headcount, total.headcount, PARTICIPATION),
        agreement_area=RatioTest.of(agreeing.area_hundredths, base.area_hundredths, matter.threshold),
        agreement_headcount=RatioTest.of(agreeing.headcount, base.headcount, matter.threshold),
    )


def _majority_side(agree: Weight, oppose: Weight) -> Choice | None:
    if agree.area_hundredths > oppose.area_hundredths and agree.headcount > oppose.headcount:
        return Choice.AGREE
    if oppose.area_hundredths > agree.area_hundredths and oppose.headcount > agree.headcount:
        return Choice.OPPOSE
    return None


# --- elections ------------------------------------------------------------------------------------


def validate_selection(
    selection: Sequence[CandidateId], candidates: Sequence[CandidateId], seats: int
) -> frozenset[CandidateId]:
    """Check one election ballot; an empty selection is valid (the voter participates, backs nobody)."""
    duplicates = sorted({c for c in selection if selection.count(c) > 1})
    if duplicates:
        raise BallotDuplicateCandidate(details={"candidate_ids": duplicates})
    unknown = sorted(set(selection) - set(candidates))
    if unknown:
        raise BallotUnknownCandidate(details={"candidate_ids": unknown})
    if len(selection) > seats:
        raise BallotTooManyCandidates(details={"seats": seats, "chosen": len(selection)})
    return frozenset(selection)


@dataclass(frozen=True, slots=True)
class CandidateResult:
    candidate_id: CandidateId
    votes: Weight
    agreement_area: RatioTest
    agreement_headcount: RatioTest

    @property
    def passed(self) -> bool:
        """Backed by the matter's share of participants; being elected also needs quorum and a seat."""
        return self.agreement_area.passed and self.agreement_headcount.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate_id": self.candidate_id,
            "votes": self.votes.to_dict(),
            "agreement_area": self.agreement_area.to_dict(),
            "agreement_headcount": self.agreement_headcount.to_dict(),
            "passed": self.passed,
        }


@dataclass(frozen=True, slots=True)
class ElectionResult:
    """Invariant: ``len(elected) + tied_seats + vacant_seats == seats``."""

    matter: Matter
    seats: int
    total: Weight
    participating: Weight
    participation_area: RatioTest
    participation_headcount: RatioTest
    candidates: tuple[CandidateResult, ...]  # by headcount votes, then area votes, then id
    elected: tuple[CandidateId, ...]
    tied: tuple[CandidateId, ...]  # passing candidates tied for the last seat(s): none of them is elected
    tied_seats: int  # seats the tie leaves open, for a run-off or whatever the rules of procedure say
    vacant_seats: int  # seats left open because too few candidates passed (or the vote was inquorate)

    @property
    def quorate(self) -> bool:
        return self.participation_area.passed and self.participation_headcount.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "matter": self.matter.value,
            "matter_label": self.matter.label,
            "seats": self.seats,
            "total": self.total.to_dict(),
            "participating": self.participating.to_dict(),
            "participation_area": self.participation_area.to_dict(),
            "participation_headcount": self.participation_headcount.to_dict(),
            "quorate": self.quorate,
            "candidates": [c.to_dict() for c in self.candidates],
            "elected": list(self.elected),
            "tied": list(self.tied),
            "tied_seats": self.tied_seats,
            "vacant_seats": self.vacant_seats,
        }


def tally_election(
    roll: Roll,
    candidates: Sequence[CandidateId],
    seats: int,
    ballots: Mapping[OwnerId, Sequence[CandidateId]],
    *,
    matter: Matter = Matter.ELECT_COMMITTEE,
) -> ElectionResult:
    """Elect up to ``seats`` candidates, each of whom must be backed by the matter's share of participants.

    Every voter with a ballot participates, even with an empty selection. Passing candidates take the
    seats ranked by headcount votes, then by area votes; when candidates equal on both straddle the last
    seat, none of them is elected and the tie is reported rather than decided arbitrarily. 从多 does not
    apply: non-voters cannot "follow" a majority among several candidates.
    """
    if seats < 1 or not candidates or len(set(candidates)) != len(candidates):
        raise ElectionInvalid(details={"seats": seats, "candidate_ids": list(candidates)})
    unknown = sorted(v for v in ballots if v not in roll)
    if unknown:
        raise VoterNotOnRoll(details={"voter_ids": unknown})
    selections = {v: validate_selection(s, candidates, seats) for v, s in ballots.items()}

    participating = sum((roll.voter(v).weight for v in selections), Weight())
    votes = {c: Weight() for c in candidates}
    for voter_id, chosen in selections.items():
        for c in chosen:
            votes[c] += roll.voter(voter_id).weight
    return decide_election(roll.total, participating, votes, seats, matter=matter)


def decide_election(
    total: Weight,
    participating: Weight,
    votes: Mapping[CandidateId, Weight],
    seats: int,
    *,
    matter: Matter = Matter.ELECT_COMMITTEE,
) -> ElectionResult:
    """The election outcome from aggregated weights: ``votes`` has every candidate (zero if unvoted)."""
    candidates = list(votes)
    if seats < 1 or not candidates:
        raise ElectionInvalid(details={"seats": seats, "candidate_ids": candidates})

    def rank(c: CandidateId) -> tuple[int, int]:
        return (-votes[c].headcount, -votes[c].area_hundredths)

    results = tuple(
        CandidateResult(
            candidate_id=c,
            votes=votes[c],
            agreement_area=RatioTest.of(
                votes[c].area_hundredths, participating.area_hundredths, matter.threshold
            ),
            agreement_headcount=RatioTest.of(votes[c].headcount, participating.headcount, matter.threshold),
        )
        for c in sorted(candidates, key=lambda c: (*rank(c), c))
    )
    participation_area = RatioTest.of(participating.area_hundredths, total.area_hundredths, PARTICIPATION)
    participation_headcount = RatioTest.of(participating.headcount, total.headcount, PARTICIPATION)
    quorate = participation_area.passed and participation_headcount.passed
    passing = [r.candidate_id for r in results if r.passed] if quorate else []

    elected, tied = passing, []
    if len(passing) > seats and rank(passing[seats - 1]) == rank(passing[seats]):
        cut = rank(passing[seats - 1])
        elected = [c for c in passing if rank(c) < cut]
        tied = [c for c in passing if rank(c) == cut]
    elif len(passing) > seats:
        elected = passing[:seats]
    tied_seats = seats - len(elected) if tied else 0
    return ElectionResult(
        matter=matter,
        seats=seats,
        total=total,
        participating=participating,
        participation_area=participation_area,
        participation_headcount=participation_headcount,
        candidates=results,
        elected=tuple(elected),
        tied=tuple(tied),
        tied_seats=tied_seats,
        vacant_seats=seats - len(elected) - tied_seats,
    )


# --- 从多: how non-voters are counted where the compound's rules of procedure say so ---------------

FOLLOW_MAJORITY_RULE = (
    "从多（未参与表决的业主视为同意多数意见）：仅当本小区业主大会议事规则有此规定、由业主委员会开启时适用，"
    "且在表决事项开始投票时固定于该事项（有已公告或正在投票的事项时不能修改）。"
    "对每个表决项：参与表决的同意方在专有面积和人数上都严格多于反对方时，未参与表决业主的面积和人数计入同意方；"
    "反对方在两项上都严格多于同意方时计入反对方；否则（持平，或面积与人数方向不一）不计入任何一方。"
    "计入时同意比例的分母为参与表决者加未参与表决者（即表决范围内全体业主）。"
    "未参与表决的业主从不计入“参与表决”的三分之二（从多不能使参与人数不足的表决通过）；选举事项不适用从多。"
    "民法典施行后其合法性存在争议，默认关闭。"
)
