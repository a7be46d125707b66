"""The pure rules: a template scored to its grade, credit at each grade edge, a record expiring after
a year, the quarterly list rule on a ranking with ties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ratings.errors import ScoresInvalid, TemplateInvalid
from ratings.rules import (
    AspectSpec,
    CreditPart,
    InspectionKind,
    Record,
    booking_records,
    check_template,
    credit,
    grade_of,
    inspection_record,
    quarter_last_day,
    quarterly_lists,
    score,
    stars_of,
)
from tests.ratings.conftest import THRESHOLDS, WEIGHTS, all_codes, aspect_specs


def test_a_template_is_scored_to_its_star_grade() -> None:
    # given every item full except aspect 1 (weight 15) at half and aspect 2 (weight 10) at zero
    points = dict.fromkeys(all_codes(), 10)
    points.update({"1a": 5, "1b": 5, "2a": 0, "2b": 0})
    result = score(aspect_specs(), THRESHOLDS, points)
    # then 100 - 15 * 0.5 - 10 = 82.5: four stars
    assert result.total == Decimal("82.50")
    assert result.aspects["internal_management"] == Decimal("50.00")
    assert result.aspects["public_relations"] == Decimal("0.00")
    assert result.stars == 4
    # at the edge: exactly 90 is five stars, just under is four
    assert stars_of(Decimal("90.00"), THRESHOLDS) == 5
    assert stars_of(Decimal("89.99"), THRESHOLDS) == 4
    assert stars_of(Decimal("49.99"), THRESHOLDS) == 0


def test_every_item_must_be_scored_within_its_points() -> None:
    points = dict.fromkeys(all_codes(), 10)
    del points["8b"]
    with pytest.raises(ScoresInvalid):
        score(aspect_specs(), THRESHOLDS, points)
    points["8b"] = 11
    with pytest.raises(ScoresInvalid):
        score(aspect_specs(), THRESHOLDS, points)


def test_a_template_needs_the_eight_aspects_and_weights_of_100() -> None:
    specs = aspect_specs()
    check_template(specs, THRESHOLDS)
    with pytest.raises(TemplateInvalid):
        check_template(specs[:7], THRESHOLDS)
    heavier = [AspectSpec(specs[0].aspect, specs[0].weight + 1, specs[0].items), *specs[1:]]
    with pytest.raises(TemplateInvalid):
        check_template(heavier, THRESHOLDS)
    with pytest.raises(TemplateInvalid):  # five stars must need more than four
        check_template(specs, [THRESHOLDS[1], THRESHOLDS[0].__class__(5, THRESHOLDS[1].min_score)])
    assert sum(WEIGHTS) == 100


DAY = date(2026, 6, 30)


def _records(*parts: tuple[CreditPart, str], valid_from: date = DAY) -> list[Record]:
    return [Record(i, part, Decimal(points), valid_from) for i, (part, points) in enumerate(parts, start=1)]


@pytest.mark.parametrize(
    ("good", "bad", "grade"),
    [
        ("5", "0", "AAA"),  # 85.00
        ("4.99", "0", "AA"),  # 84.99
        ("0", "0", "AA"),  # 80.00
        ("0", "0.01", "A"),  # 79.99
        ("0", "10", "A"),  # 70.00
        ("0", "10.01", "B"),  # 69.99
        ("0", "20", "B"),  # 60.00
        ("0", "20.01", "C"),  # 59.99
    ],
)
def test_credit_at_each_grade_edge(good: str, bad: str, grade: str) -> None:
    result = credit(_records((CreditPart.BASE, "80"), (CreditPart.GOOD, good), (CreditPart.BAD, bad)), DAY)
    assert result.score == Decimal(80) + Decimal(good) - Decimal(bad)
    assert result.grade == grade == grade_of(result.score)


def test_base_and_additions_are_capped_deductions_are_not() -> None:
    result = credit(
        _records(
            (CreditPart.BASE, "80"), (CreditPart.BASE, "80"), (CreditPart.GOOD, "30"), (CreditPart.GOOD, "30")
        ),
        DAY,
    )
    assert (result.base, result.additions, result.score, result.grade) == (
        Decimal(80),
        Decimal(40),
        Decimal(120),
        "AAA",
    )
    assert result.base_capped and result.additions_capped
    sunk = credit(_records((CreditPart.BASE, "30"), (CreditPart.BAD, "40")), DAY)
    assert (sunk.score, sunk.grade) == (Decimal(0), "C")


def test_a_record_expiring_after_a_year_changes_the_grade() -> None:
    base = Record(1, CreditPart.BASE, Decimal(80), DAY)
    good = Record(2, CreditPart.GOOD, Decimal(6), date(2025, 7, 1))
    records = [base, good]
    # the good record of 1 July 2025 counts for 365 days: through 30 June 2026
    last = credit(records, date(2026, 6, 30))
    after = credit(records, date(2026, 7, 1))
    assert (last.score, last.grade, last.counted) == (Decimal(86), "AAA", (1, 2))
    assert (after.score, after.grade, after.counted) == (Decimal(80), "AA", (1,))
    # and the base record of 30 June 2026 itself runs out a year later
    assert credit(records, DAY + timedelta(days=365)).counted == ()


def test_inspection_records_follow_the_scheme() -> None:
    assert inspection_record(InspectionKind.ANNUAL, Decimal("90.00")) == (
        CreditPart.GOOD,
        Decimal(10),
        "年度综合评定 90 分及以上",
    )
    assert inspection_record(InspectionKind.ANNUAL, Decimal("75")) is None
    assert inspection_record(InspectionKind.ANNUAL, Decimal("59.99"))[:2] == (CreditPart.BAD, Decimal(10))  # type: ignore[index]
    assert inspection_record(InspectionKind.DAILY, Decimal("59.99"))[:2] == (CreditPart.BAD, Decimal(3))  # type: ignore[index]


def test_quarterly_lists_on_a_ranking_with_ties() -> None:
    # given 20 companies: k = ceil(20 x 10%) = 2
    scores = {i: Decimal(75) for i in range(1, 21)}
    scores.update({1: Decimal(95), 2: Decimal(88), 3: Decimal(88)})  # a tie at the red boundary
    scores.update({4: Decimal(84)})  # AA: high but not AAA
    scores.update({18: Decimal(62), 19: Decimal(62), 20: Decimal(55)})  # a tie at the black boundary, one C
    outcome = quarterly_lists(scores)
    assert outcome.k == 2
    by_id = {r.company_id: r for r in outcome.ranking}
    assert [by_id[i].rank for i in (1, 2, 3, 4)] == [1, 2, 2, 4]  # competition ranking
    # red: rank <= 2 and AAA; both tied at rank 2 are in (three companies for k = 2)
    assert [r.company_id for r in outcome.red] == [1, 2, 3]
    # black: from the bottom 20 is 1st, 18 and 19 share 2nd: all in; C is in anyway
    assert sorted(r.company_id for r in outcome.black) == [18, 19, 20]
    assert {by_id[i].rank_from_bottom for i in (18, 19)} == {2}


def test_the_list_rule_needs_the_grade_too() -> None:
    # ten companies, k = 1: the best has only AA, so no red list; the worst has A, so no black list...
    scores = {i: Decimal(75) for i in range(1, 11)}
    scores[1] = Decimal(82)
    outcome = quarterly_lists(scores)
    assert outcome.k == 1
    assert outcome.red == ()
    assert outcome.black == ()
    # ... but every C is on the black list whatever its rank (all tied at 50: all C, all black)
    assert len(quarterly_lists(dict.fromkeys(range(1, 6), Decimal(50))).black) == 5
    assert quarterly_lists({}).k == 0


def test_quarters() -> None:
    assert quarter_last_day("2026Q1") == date(2026, 3, 31)
    assert quarter_last_day("2026Q3") == date(2026, 9, 30)
    assert quarter_last_day("2026Q4") == date(2026, 12, 31)


def test_booking_ratings_add_or_deduct_only_with_enough_of_them() -> None:
    assert booking_records(5, Decimal("4.60"))[0][:2] == (CreditPart.GOOD, Decimal(2))
    assert booking_records(5, Decimal("2.99"))[0][:2] == (CreditPart.BAD, Decimal(2))
    assert booking_records(5, Decimal("4.00")) == []
    assert booking_records(4, Decimal("5.00")) == []
    assert booking_records(0, None) == []


def test_a_quarter_outside_the_calendar_years_we_keep_is_refused_not_a_crash() -> None:
    from ratings.rules import parse_quarter, quarter_last_day

    assert quarter_last_day("2026Q1") == date(2026, 3, 31) and quarter_last_day("2026Q4") == date(
        2026, 12, 31
    )
    for bad in ("0000Q1", "1999Q4", "2100Q1", "2026Q5", "2026q1", "26Q1"):
        with pytest.raises(TemplateInvalid) as refused:
            parse_quarter(bad)
        assert refused.value.error_code == "quarter_invalid"
