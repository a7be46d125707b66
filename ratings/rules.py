"""Pure rules of ratings: the eight aspects and template scoring to a star grade, the county's credit
scheme (DOMAIN.md "Ratings"), and the quarterly red/black list rule. No database here.

Scoring a template: each aspect's score is the share of its items' points (0..100); the total is the
weight-averaged aspect score, rounded half up to two decimals. The star grade is the highest grade
whose threshold the total reaches (thresholds are part of the template version).

Credit (信用评价) at a date d, over the records valid on d (valid one year from their date):
    base       = min(80, sum of the base records)          (基础分, up to 80)
    additions  = min(40, sum of the good records)          (良好信用, up to +40)
    deductions = sum of the bad records                    (不良信用, no cap)
    score      = max(0, base + additions - deductions)
    grade      = AAA >= 85 > AA >= 80 > A >= 70 > B >= 60 > C
A grade edge belongs to the upper grade (85.00 is AAA, 84.99 is AA).

Quarterly lists (rule "top/bottom share with ties", stated in ``LIST_RULE``): the companies with a
credit score at the quarter's last day are ranked by score, highest first, with competition ranking
(equal scores share a rank, the next rank skips: 1, 2, 2, 4). With n ranked companies and
k = ceil(n x share):
    red list   = rank <= k (from the top) and grade AAA
    black list = rank <= k counted from the bottom (1 + number strictly lower) and grade B or C,
                 plus every company graded C whatever its rank
Ties at a boundary are all in (never split by name or id); a company is never on both lists (the
red condition needs AAA, the black one B or C).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from ratings.errors import ScoresInvalid, TemplateInvalid

CENT = Decimal("0.01")


class Aspect(StrEnum):
    """The eight aspects of the city's star standard, in its order."""

    INTERNAL_MANAGEMENT = "internal_management"
    PUBLIC_RELATIONS = "public_relations"
    FACILITIES = "facilities"
    SECURITY = "security"
    PUBLIC_ORDER = "public_order"
    CLEANING = "cleaning"
    GREENING = "greening"
    SMART_MANAGEMENT = "smart_management"


ASPECT_NAMES: dict[Aspect, str] = {
    Aspect.INTERNAL_MANAGEMENT: "内部管理",
    Aspect.PUBLIC_RELATIONS: "公共关系",
    Aspect.FACILITIES: "公共设施设备",
    Aspect.SECURITY: "安全防范",
    Aspect.PUBLIC_ORDER: "公共秩序",
    Aspect.CLEANING: "环境卫生",
    Aspect.GREENING: "绿化养护",
    Aspect.SMART_MANAGEMENT: "智慧化信息管理",
}


class InspectionKind(StrEnum):
    DAILY = "daily"  # 物业项目日常管理考核
    ANNUAL = "annual"  # 年度综合评定


class InspectionStatus(StrEnum):
    DRAFT = "draft"  # the inspector scores
    SUBMITTED = "submitted"  # the company sees it and may object until objection_due_at
    OBJECTED = "objected"  # the inspector decides
    FINISHED = "finished"  # final: the database refuses every change


class CreditPart(StrEnum):
    BASE = "base"
    GOOD = "good"
    BAD = "bad"


class CreditSource(StrEnum):
    CONTRACT = "contract"  # contract performance (履约)
    COMPLAINTS = "complaints"  # complaint handling of a quarter
    INSPECTION = "inspection"  # a finished inspection
    SANCTION = "sanction"  # an administrative sanction (行政处罚) or order to correct
    COMMENDATION = "commendation"  # a commendation by the authorities


BASE_CAP = Decimal(80)
GOOD_CAP = Decimal(40)
VALID_DAYS = 365  # "records valid one year": from its date, 365 days (a leap day does not stretch it)
GRADE_EDGES: tuple[tuple[str, Decimal], ...] = (
    ("AAA", Decimal(85)),
    ("AA", Decimal(80)),
    ("A", Decimal(70)),
    ("B", Decimal(60)),
)
LOWEST_GRADE = "C"
# The company objects within this many days of seeing the result: the default of the
# RATING_OBJECTION_DAYS setting, which the HTTP layer passes to inspections.submit
OBJECTION_DAYS = 7


# --- templates --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    text: str
    max_points: int


@dataclass(frozen=True, slots=True)
class AspectSpec:
    aspect: Aspect
    weight: int  # percent; the eight weights add up to 100
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Threshold:
    stars: int
    min_score: Decimal


def check_template(aspects: Sequence[AspectSpec], thresholds: Sequence[Threshold]) -> None:
    """The eight aspects, each once, weights adding up to 100, item codes unique, thresholds strictly
    decreasing with the stars."""
    seen = [a.aspect for a in aspects]
    if sorted(seen) != sorted(Aspect) or len(seen) != len(set(seen)):
        raise TemplateInvalid("模板须包含且仅包含八个方面各一次", details={"aspects": [str(a) for a in seen]})
    if sum(a.weight for a in aspects) != 100 or any(a.weight <= 0 for a in aspects):
        raise TemplateInvalid("八个方面的权重须为正数且合计 100")
    codes = [i.code for a in aspects for i in a.items]
    if len(codes) != len(set(codes)):
        raise TemplateInvalid("评分项编号不得重复")
    if any(not a.items for a in aspects) or any(i.max_points <= 0 for a in aspects for i in a.items):
        raise TemplateInvalid("每个方面至少一个评分项，分值须为正数")
    ordered = sorted(thresholds, key=lambda t: -t.stars)
    if not ordered or len({t.stars for t in ordered}) != len(ordered):
        raise TemplateInvalid("星级门槛须各不相同")
    for upper, lower in itertools.pairwise(ordered):
        if upper.min_score <= lower.min_score:
            raise TemplateInvalid("星级越高，门槛分数须越高")
    if any(not (1 <= t.stars <= 5) or not (0 <= t.min_score <= 100) for t in ordered):
        raise TemplateInvalid("星级为 1–5，门槛分数为 0–100")


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Scored:
    total: Decimal
    aspects: dict[str, Decimal]
    stars: int


def score(
    aspects: Sequence[AspectSpec], thresholds: Sequence[Threshold], points: Mapping[str, int]
) -> Scored:
    """Score every item of the template (``points`` by item code, each 0..max) to its total and stars.
    Every item must be scored: an unscored item is an error, not a zero."""
    known = {i.code: i for a in aspects for i in a.items}
    missing = sorted(set(known) - set(points))
    unknown = sorted(set(points) - set(known))
    if missing or unknown:
        raise ScoresInvalid(details={"missing": missing, "unknown": unknown})
    bad = sorted(c for c, p in points.items() if not (0 <= p <= known[c].max_points))
    if bad:
        raise ScoresInvalid("评分超出该项分值范围", details={"items": bad})
    by_aspect: dict[str, Decimal] = {}
    weighted = Decimal(0)
    for a in aspects:
        got = sum(points[i.code] for i in a.items)
        out_of = sum(i.max_points for i in a.items)
        share = Decimal(got) * 100 / Decimal(out_of)
        by_aspect[a.aspect.value] = _round(share)
        weighted += share * a.weight
    total = _round(weighted / 100)
    return Scored(total=total, aspects=by_aspect, stars=stars_of(total, thresholds))


def stars_of(total: Decimal, thresholds: Iterable[Threshold]) -> int:
    """The highest star grade whose threshold ``total`` reaches; 0 when below every threshold."""
    reached = [t.stars for t in thresholds if total >= t.min_score]
    return max(reached, default=0)


# --- credit -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    id: int
    part: CreditPart
    points: Decimal  # positive; the part says whether it adds or deducts
    valid_from: date


def valid_on(valid_from: date, on: date) -> bool:
    return valid_from <= on < valid_from + timedelta(days=VALID_DAYS)


def valid_until(valid_from: date) -> date:
    """The last day the record counts."""
    return valid_from + timedelta(days=VALID_DAYS - 1)


def grade_of(score: Decimal) -> str:
    for grade, edge in GRADE_EDGES:
        if score >= edge:
            return grade
    return LOWEST_GRADE


@dataclass(frozen=True, slots=True)
class Credit:
    score: Decimal
    grade: str
    base: Decimal
    additions: Decimal
    deductions: Decimal
    base_capped: bool
    additions_capped: bool
    counted: tuple[int, ...]  # ids of the records valid on the date


def credit(records: Iterable[Record], on: date) -> Credit:
    valid = [r for r in records if valid_on(r.valid_from, on)]
    base_sum = sum((r.points for r in valid if r.part is CreditPart.BASE), Decimal(0))
    good_sum = sum((r.points for r in valid if r.part is CreditPart.GOOD), Decimal(0))
    bad_sum = sum((r.points for r in valid if r.part is CreditPart.BAD), Decimal(0))
    base = min(BASE_CAP, base_sum)
    additions = min(GOOD_CAP, good_sum)
    total = _round(max(Decimal(0), base + additions - bad_sum))
    return Credit(
        score=total,
        grade=grade_of(total),
        base=_round(base),
        additions=_round(additions),
        deductions=_round(bad_sum),
        base_capped=base_sum > BASE_CAP,
        additions_capped=good_sum > GOOD_CAP,
        counted=tuple(sorted(r.id for r in valid)),
    )


# Records a finished inspection produces (part, points, why): the scheme's inspection rows.
def inspection_record(kind: InspectionKind, total: Decimal) -> tuple[CreditPart, Decimal, str] | None:
    if kind is InspectionKind.ANNUAL:
        if total >= 90:
            return CreditPart.GOOD, Decimal(10), "年度综合评定 90 分及以上"
        if total >= 80:
            return CreditPart.GOOD, Decimal(5), "年度综合评定 80–90 分"
        if total < 60:
            return CreditPart.BAD, Decimal(10), "年度综合评定不足 60 分"
        return None
    if total >= 95:
        return CreditPart.GOOD, Decimal(1), "日常考核 95 分及以上"
    if total < 60:
        return CreditPart.BAD, Decimal(3), "日常考核不足 60 分"
    return None


MIN_COMPLAINTS = 5  # fewer complaints in a quarter say nothing about handling either way
MIN_RATINGS = 5


@dataclass(frozen=True, slots=True)
class Handling:
    complaints: int
    overdue: int
    reopened: int
    ratings: int
    rating_sum: int


def complaint_records(h: Handling) -> list[tuple[CreditPart, Decimal, str]]:
    """The scheme's complaint-handling rows for one company and quarter."""
    rows: list[tuple[CreditPart, Decimal, str]] = []
    if h.complaints >= MIN_COMPLAINTS:
        overdue = Decimal(h.overdue) / h.complaints
        if overdue > Decimal("0.2"):
            rows.append((CreditPart.BAD, Decimal(5), f"投诉超时办理占比 {overdue:.0%}，超过 20%"))
        elif overdue > Decimal("0.1"):
            rows.append((CreditPart.BAD, Decimal(2), f"投诉超时办理占比 {overdue:.0%}，超过 10%"))
        reopened = Decimal(h.reopened) / h.complaints
        if reopened > Decimal("0.1"):
            rows.append((CreditPart.BAD, Decimal(3), f"投诉重新打开占比 {reopened:.0%}，超过 10%"))
    if h.ratings >= MIN_RATINGS:
        average = Decimal(h.rating_sum) / h.ratings
        if average >= Decimal("4.5"):
            rows.append((CreditPart.GOOD, Decimal(3), f"投诉处理满意度平均 {average:.2f} 分（5 分制）"))
        elif average < 3:
            rows.append((CreditPart.BAD, Decimal(3), f"投诉处理满意度平均 {average:.2f} 分，低于 3 分"))
    return rows


def booking_records(ratings: int, average: Decimal | None) -> list[tuple[CreditPart, Decimal, str]]:
    """Residents' ratings of the company's life services (bookings) in a quarter."""
    if ratings < MIN_RATINGS or average is None:
        return []
    if average >= Decimal("4.5"):
        return [(CreditPart.GOOD, Decimal(2), f"生活服务预约评价平均 {average:.2f} 分（{ratings} 条）")]
    if average < 3:
        return [
            (CreditPart.BAD, Decimal(2), f"生活服务预约评价平均 {average:.2f} 分，低于 3 分（{ratings} 条）")
        ]
    return []


# --- quarters and lists -----------------------------------------------------------------------


FIRST_YEAR, LAST_YEAR = 2000, 2099


def parse_quarter(text: str) -> tuple[int, int]:
    year, _, q = text.partition("Q")
    if len(year) != 4 or not year.isdigit() or q not in ("1", "2", "3", "4"):
        raise TemplateInvalid("季度格式应为 YYYYQn", code="quarter_invalid")
    if not FIRST_YEAR <= int(year) <= LAST_YEAR:  # year 0000 has no calendar date at all
        raise TemplateInvalid(f"季度的年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间", code="quarter_invalid")
    return int(year), int(q)


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_last_day(text: str) -> date:
    year, q = parse_quarter(text)
    if q == 4:
        return date(year, 12, 31)
    return date(year, 3 * q + 1, 1) - timedelta(days=1)


def previous_quarter(day: date) -> str:
    year, q = parse_quarter(quarter_of(day))
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


LIST_SHARE = Decimal("0.1")
LIST_RULE = (
    "按季度末信用分从高到低排名（同分同名次）；共 n 家，取 k = ⌈n × 10%⌉。"
    "红榜：名次前 k（含并列）且信用等级 AAA；黑榜：倒数名次前 k（含并列）且等级 B 或 C，"
    "以及所有 C 级企业。并列者一并列入。"
)


@dataclass(frozen=True, slots=True)
class Ranked:
    company_id: int
    score: Decimal
    grade: str
    rank: int  # competition rank from the top
    rank_from_bottom: int


@dataclass(frozen=True, slots=True)
class ListOutcome:
    red: tuple[Ranked, ...]
    black: tuple[Ranked, ...]
    ranking: tuple[Ranked, ...]
    k: int


def rank(scores: Mapping[int, Decimal]) -> list[Ranked]:
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    values = [s for _, s in ordered]
    out = []
    for company_id, value in ordered:
        higher = sum(1 for v in values if v > value)
        lower = sum(1 for v in values if v < value)
        out.append(Ranked(company_id, value, grade_of(value), higher + 1, lower + 1))
    return out


def quarterly_lists(scores: Mapping[int, Decimal], share: Decimal = LIST_SHARE) -> ListOutcome:
    ranking = rank(scores)
    k = math.ceil(len(ranking) * share) if ranking else 0
    red = tuple(r for r in ranking if r.rank <= k and r.grade == "AAA")
    black = tuple(
        r for r in ranking if (r.rank_from_bottom <= k and r.grade in ("B", "C")) or r.grade == LOWEST_GRADE
    )
    return ListOutcome(red=red, black=black, ranking=tuple(ranking), k=k)
