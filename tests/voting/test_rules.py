"""Owners' assembly counting (Civil Code art. 278): roll building, tallies, boundaries, 从多, elections."""

from __future__ import annotations

import hashlib
import json
import random
from decimal import Decimal
from fractions import Fraction

import pytest

from voting.errors import (
    BallotDuplicateCandidate,
    BallotTooManyCandidates,
    BallotUnknownCandidate,
    CoOwnedUnitWithoutVoter,
    VoterNotOnRoll,
    VotingRollInvalid,
)
from voting.roll import Roll, RollUnit, UnitOwner, Weight, build_roll
from voting.rules import (
    AT_LEAST_THREE_QUARTERS,
    MORE_THAN_HALF,
    Choice,
    Matter,
    Threshold,
    format_percent,
    tally,
    tally_election,
)

AGREE, OPPOSE, ABSTAIN = Choice.AGREE, Choice.OPPOSE, Choice.ABSTAIN


def unit(
    unit_id: int,
    area: str,
    *owner_ids: int,
    developer: bool = False,
    designated: int | None = None,
    kind: str = "flat",
) -> RollUnit:
    return RollUnit(
        unit_id=unit_id,
        room=f"1-{unit_id}",
        area=Decimal(area),
        kind=kind,
        owners=tuple(UnitOwner(o, developer_held=developer) for o in owner_ids),
        designated_voter=designated,
    )


def one_unit_each(*areas: str) -> Roll:
    """Owner ``n`` holds unit ``100 + n`` alone, for n = 1, 2, ..."""
    return build_roll(unit(100 + n, area, n) for n, area in enumerate(areas, start=1))


# --- the roll --------------------------------------------------------------------------------------


def test_owner_with_several_units_counts_once_with_summed_area() -> None:
    # given owner 1 holds a flat and a parking space, owner 2 one flat
    units = [unit(101, "89.35", 1), unit(102, "12.50", 1, kind="parking"), unit(103, "120.00", 2)]

    # when
    roll = build_roll(units)

    # then
    assert [(v.voter_id, v.weight) for v in roll.voters] == [(1, Weight(10185, 1)), (2, Weight(12000, 1))]
    assert roll.total == Weight(22185, 2)
    assert roll.total.area == Decimal("221.85")


def test_developer_held_units_count_as_one_voter() -> None:
    # given three unsold units held by the developer (owner 900) and one sold flat
    units = [unit(101 + i, "100.00", 900, developer=True) for i in range(3)] + [unit(201, "80.00", 1)]

    # when
    roll = build_roll(units)

    # then
    developer = roll.voter(900)
    assert developer.is_developer
    assert developer.weight == Weight(30000, 1)
    assert [u.unit_id for u in developer.units] == [101, 102, 103]
    assert roll.total == Weight(38000, 2)


def test_co_owned_unit_votes_once_through_the_designated_co_owner() -> None:
    # given a flat co-owned by spouses 1 and 2 who designated 2, and owner 3's flat
    units = [unit(101, "95.00", 1, 2, designated=2), unit(102, "60.00", 3)]

    # when
    roll = build_roll(units)

    # then the flat counts once, through 2; 1 is not a separate voter
    assert [(v.voter_id, v.weight) for v in roll.voters] == [(2, Weight(9500, 1)), (3, Weight(6000, 1))]
    assert 1 not in roll


def test_co_owned_units_without_a_designated_voter_are_refused_all_listed() -> None:
    # given two co-owned flats without a designated voter and one that is fine
    units = [unit(101, "90.00", 1, 2), unit(102, "90.00", 3), unit(103, "70.00", 4, 5)]

    # when
    with pytest.raises(CoOwnedUnitWithoutVoter) as caught:
        build_roll(units)

    # then
    assert caught.value.error_code == "co_owned_unit_without_voter"
    assert caught.value.details == {
        "units": [{"unit_id": 101, "room": "1-101"}, {"unit_id": 103, "room": "1-103"}]
    }
    assert "1-101、1-103" in caught.value.user_message


@pytest.mark.parametrize(
    ("units", "problem"),
    [
        ([unit(101, "90.005", 1)], "bad_area"),
        ([unit(101, "0.00", 1)], "bad_area"),
        ([unit(101, "90.00")], "no_owner"),
        ([unit(101, "90.00", 1, 2, designated=3)], "designated_voter_not_an_owner"),
        ([unit(101, "90.00", 1), unit(101, "90.00", 2)], "duplicate_unit"),
        (
            [unit(101, "90.00", 8, developer=True), unit(102, "90.00", 9, developer=True)],
            "several_developers",
        ),
    ],
)
def test_inconsistent_units_are_refused(units: list[RollUnit], problem: str) -> None:
    with pytest.raises(VotingRollInvalid) as caught:
        build_roll(units)

    assert caught.value.error_code == "voting_roll_invalid"
    assert [p["problem"] for p in caught.value.details["problems"]] == [problem]


def test_float_area_is_refused_rather_than_rounded() -> None:
    bad = RollUnit(unit_id=101, room="1-101", area=90.1, kind="flat", owners=(UnitOwner(1),))  # type: ignore[arg-type]

    with pytest.raises(VotingRollInvalid):
        build_roll([bad])


def test_roll_digest_is_pinned_and_independent_of_input_order_and_decimal_spelling() -> None:
    # given the same units in two orders, one spelling an area "90.5" instead of "90.50"
    units = [
        unit(101, "90.50", 1),
        unit(102, "12.00", 1, kind="parking"),
        unit(103, "88.88", 2, 3, designated=3),
    ]
    shuffled = [*units[1:], unit(101, "90.5", 1)]
    random.Random(7).shuffle(shuffled)

    # when
    digest = build_roll(units).digest

    # then
    assert build_roll(shuffled).digest == digest
    # and it is SHA-256 over this documented encoding, so it can be recomputed without our code
    document = {
        "scheme": "wuye-voting-roll/1",
        "voters": [
            {
                "voter_id": 1,
                "is_developer": False,
                "area": "102.50",
                "units": [
                    {"unit_id": 101, "room": "1-101", "kind": "flat", "area": "90.50"},
                    {"unit_id": 102, "room": "1-102", "kind": "parking", "area": "12.00"},
                ],
            },
            {
                "voter_id": 3,
                "is_developer": False,
                "area": "88.88",
                "units": [{"unit_id": 103, "room": "1-103", "kind": "flat", "area": "88.88"}],
            },
        ],
    }
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert digest == hashlib.sha256(encoded).hexdigest()
    assert digest == "167cafb2e010ab75b12281315ddcfcc61a11e404aeab71284068df8a11f9f384"
    changed = [unit(101, "90.51", 1), *units[1:]]
    assert build_roll(changed).digest != digest


# --- matters and thresholds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matter", "item", "threshold"),
    [
        (Matter.RULES_OF_PROCEDURE, 1, MORE_THAN_HALF),
        (Matter.MANAGEMENT_RULES, 2, MORE_THAN_HALF),
        (Matter.ELECT_COMMITTEE, 3, MORE_THAN_HALF),
        (Matter.HIRE_PROPERTY_COMPANY, 4, MORE_THAN_HALF),
        (Matter.USE_MAINTENANCE_FUND, 5, MORE_THAN_HALF),
        (Matter.RAISE_MAINTENANCE_FUND, 6, AT_LEAST_THREE_QUARTERS),
        (Matter.REBUILD, 7, AT_LEAST_THREE_QUARTERS),
        (Matter.CHANGE_COMMON_PARTS_USE, 8, AT_LEAST_THREE_QUARTERS),
        (Matter.OTHER_MAJOR_MATTER, 9, MORE_THAN_HALF),
    ],
)
def test_each_matter_has_its_article_278_threshold(matter: Matter, item: int, threshold: Threshold) -> None:
    assert matter.item == item
    assert matter.threshold == threshold
    assert matter.label


def test_same_ballots_pass_a_majority_matter_but_fail_a_three_quarter_matter() -> None:
    # given five equal owners, three agree and two oppose (3/5)
    roll = one_unit_each("100.00", "100.00", "100.00", "100.00", "100.00")
    ballots = {1: AGREE, 2: AGREE, 3: AGREE, 4: OPPOSE, 5: OPPOSE}

    # when
    use_fund = tally(Matter.USE_MAINTENANCE_FUND, roll, ballots)
    raise_fund = tally(Matter.RAISE_MAINTENANCE_FUND, roll, ballots)

    # then
    assert use_fund.agreement_area.ratio == Fraction(3, 5)
    assert use_fund.passed
    assert not raise_fund.passed


def test_participation_below_two_thirds_by_area_only_fails_despite_unanimity() -> None:
    # given owners of 100, 50 and 50 m²; the two small ones vote: 2/3 of heads but 1/2 of area
    roll = one_unit_each("100.00", "50.00", "50.00")

    # when
    result = tally(Matter.OTHER_MAJOR_MATTER, roll, {2: AGREE, 3: AGREE})

    # then
    assert result.participation_headcount.ratio == Fraction(2, 3)
    assert result.participation_headcount.passed
    assert result.participation_area.ratio == Fraction(1, 2)
    assert not result.participation_area.passed
    assert result.agreement_area.ratio == 1
    assert not result.passed


def test_participation_below_two_thirds_by_headcount_only_fails_despite_unanimity() -> None:
    # given one large owner and three small ones; the large one and one small one vote
    roll = one_unit_each("300.00", "50.00", "50.00", "50.00")

    # when
    result = tally(Matter.OTHER_MAJOR_MATTER, roll, {1: AGREE, 2: AGREE})

    # then: 350/450 of the area, but only 2 of 4 owners
    assert result.participation_area.ratio == Fraction(7, 9)
    assert result.participation_area.passed
    assert result.participation_headcount.ratio == Fraction(1, 2)
    assert not result.participation_headcount.passed
    assert not result.passed


def test_participation_of_exactly_two_thirds_is_enough_and_abstention_counts() -> None:
    # given three equal owners; one agrees, one abstains, one stays away
    roll = one_unit_each("100.00", "100.00", "100.00")

    # when
    result = tally(Matter.MANAGEMENT_RULES, roll, {1: AGREE, 2: ABSTAIN})

    # then: quorate at exactly 2/3, but 1 of 2 participants is not more than half
    assert result.participating == Weight(20000, 2)
    assert result.participation_area.ratio == Fraction(2, 3)
    assert result.participation_area.passed and result.participation_headcount.passed
    assert result.agreement_headcount.ratio == Fraction(1, 2)
    assert not result.passed


def test_agreement_of_exactly_one_half_fails_more_than_half_and_one_hundredth_more_passes() -> None:
    # given agreeing owners hold exactly half the participating area but 3 of 4 heads
    exactly_half = one_unit_each("50.00", "50.00", "100.00", "200.00")
    just_over = one_unit_each("50.00", "50.00", "100.01", "200.00")
    ballots = {1: AGREE, 2: AGREE, 3: AGREE, 4: OPPOSE}

    # when
    at_boundary = tally(Matter.HIRE_PROPERTY_COMPANY, exactly_half, ballots)
    above = tally(Matter.HIRE_PROPERTY_COMPANY, just_over, ballots)

    # then
    assert at_boundary.agreement_area.ratio == Fraction(1, 2)
    assert not at_boundary.agreement_area.passed
    assert at_boundary.agreement_headcount.passed
    assert not at_boundary.passed
    assert above.passed


def test_agreement_of_exactly_three_quarters_passes_at_least_three_quarters() -> None:
    # given four equal owners, three agree; then the same with one agreeing owner 0.01 m² smaller
    exact = tally(
        Matter.REBUILD, one_unit_each("100.00", "100.00", "100.00", "100.00"), _three_agree_one_oppose()
    )
    short = tally(
        Matter.REBUILD, one_unit_each("100.00", "100.00", "99.99", "100.00"), _three_agree_one_oppose()
    )

    assert exact.agreement_area.ratio == Fraction(3, 4)
    assert exact.agreement_headcount.ratio == Fraction(3, 4)
    assert exact.passed
    assert not short.agreement_area.passed
    assert not short.passed


def _three_agree_one_oppose() -> dict[int, Choice]:
    return {1: AGREE, 2: AGREE, 3: AGREE, 4: OPPOSE}


def test_float_sums_misjudge_exactly_three_quarters_but_exact_arithmetic_does_not() -> None:
    # given three agreeing owners whose areas sum to exactly three times the one opposing owner's
    areas = ["114.44", "146.50", "55.65", "105.53"]
    assert sum(Decimal(a) for a in areas[:3]) == 3 * Decimal(areas[3])
    roll = one_unit_each(*areas)

    # when counted in float, as a naive implementation would
    agree_float = float(areas[0]) + float(areas[1]) + float(areas[2])
    float_ratio = agree_float / (agree_float + float(areas[3]))
    # and by the rules
    result = tally(Matter.RAISE_MAINTENANCE_FUND, roll, _three_agree_one_oppose())

    # then float says 0.7499999999999999 and would refuse the fund; the law says exactly 3/4 passes
    assert float_ratio < 0.75
    assert result.agreement_area.ratio == Fraction(3, 4)
    assert result.passed


def test_ballot_from_someone_not_on_the_roll_is_refused() -> None:
    roll = one_unit_each("100.00", "100.00")

    with pytest.raises(VoterNotOnRoll) as caught:
        tally(Matter.OTHER_MAJOR_MATTER, roll, {1: AGREE, 7: AGREE})

    assert caught.value.details == {"voter_ids": [7]}


# --- 从多 (non-voters follow the majority) --------------------------------------------------------


def test_follow_majority_never_raises_participation() -> None:
    # given three equal owners and only one votes
    roll = one_unit_each("100.00", "100.00", "100.00")

    # when
    plain = tally(Matter.OTHER_MAJOR_MATTER, roll, {1: AGREE})
    followed = tally(Matter.OTHER_MAJOR_MATTER, roll, {1: AGREE}, follow_majority=True)

    # then non-voters join the agreeing side, yet the vote stays inquorate
    assert followed.followed is AGREE
    assert followed.agreement_area.ratio == 1
    assert followed.participation_area == plain.participation_area
    assert followed.participation_headcount.ratio == Fraction(1, 3)
    assert not followed.passed


def test_follow_majority_adds_non_voters_to_the_agreeing_majority_and_to_the_denominator() -> None:
    # given nine equal owners; six vote: three agree, two oppose, one abstains
    roll = one_unit_each(*["100.00"] * 9)
    ballots = {1: AGREE, 2: AGREE, 3: AGREE, 4: OPPOSE, 5: OPPOSE, 6: ABSTAIN}

    # when
    plain = tally(Matter.OTHER_MAJOR_MATTER, roll, ballots)
    followed = tally(Matter.OTHER_MAJOR_MATTER, roll, ballots, follow_majority=True)

    # then 3/6 is not more than half; with the three non-voters agreeing it is (3+3)/(6+3)
    assert plain.agreement_area.ratio == Fraction(1, 2)
    assert not plain.passed
    assert followed.agreement_area.ratio == Fraction(2, 3)
    assert followed.agreement_headcount.ratio == Fraction(2, 3)
    assert followed.participation_area.ratio == Fraction(2, 3)
    assert followed.passed


def test_follow_majority_with_an_opposing_majority_dilutes_agreement_over_the_whole_roll() -> None:
    roll = one_unit_each(*["100.00"] * 9)
    ballots = {1: AGREE, 2: AGREE, 3: OPPOSE, 4: OPPOSE, 5: OPPOSE, 6: ABSTAIN}

    result = tally(Matter.OTHER_MAJOR_MATTER, roll, ballots, follow_majority=True)

    assert result.followed is OPPOSE
    assert result.agreement_area.ratio == Fraction(2, 9)


def test_follow_majority_without_a_majority_on_both_measures_leaves_non_voters_out() -> None:
    # given agreeing voters hold more area but fewer heads than opposing ones
    roll = one_unit_each("300.00", "100.00", "100.00", "100.00")
    ballots = {1: AGREE, 2: OPPOSE, 3: OPPOSE}

    result = tally(Matter.OTHER_MAJOR_MATTER, roll, ballots, follow_majority=True)

    assert result.followed is None
    assert result.agreement_area.ratio == Fraction(3, 5)
    assert result.agreement_headcount.ratio == Fraction(1, 3)


# --- serialisation ---------------------------------------------------------------------------------


def test_tally_serialises_ratios_as_fractions_and_half_up_percentages() -> None:
    roll = one_unit_each("100.00", "100.00", "100.00")

    data = tally(Matter.RULES_OF_PROCEDURE, roll, {1: AGREE, 2: AGREE}).to_dict()

    assert data["matter"] == "rules_of_procedure"
    assert data["matter_label"] == "制定和修改业主大会议事规则"
    assert data["total"] == {"area": "300.00", "headcount": 3}
    assert data["participation_area"] == {
        "ratio": "2/3",
        "percent": "66.67",
        "threshold": ">=2/3",
        "passed": True,
    }
    assert data["agreement_headcount"] == {
        "ratio": "1/1",
        "percent": "100.00",
        "threshold": ">1/2",
        "passed": True,
    }
    assert data["followed"] is None
    assert data["passed"] is True


@pytest.mark.parametrize(
    ("ratio", "percent"),
    [(Fraction(1, 800), "0.13"), (Fraction(1, 3), "33.33"), (Fraction(0), "0.00"), (Fraction(5, 8), "62.50")],
)
def test_percent_rounds_half_up_from_the_exact_fraction(ratio: Fraction, percent: str) -> None:
    assert format_percent(ratio) == percent


# --- elections -------------------------------------------------------------------------------------

A, B, C = 11, 12, 13
ELECTION_BALLOTS = {1: [A, B], 2: [A, B], 3: [A, B], 4: [A, C], 5: [A, C], 6: [A, C], 7: [B, C]}


def test_election_ranks_passing_candidates_by_headcount_then_area() -> None:
    # given seven owners (the seventh holds 500 m²) and two seats; all three candidates pass
    roll = one_unit_each("100.00", "100.00", "100.00", "100.00", "100.00", "90.00", "500.00")

    # when
    result = tally_election(roll, [A, B, C], 2, ELECTION_BALLOTS)

    # then A has the most heads though the least area; B beats C on area at equal heads
    assert [(c.candidate_id, c.votes) for c in result.candidates] == [
        (A, Weight(59000, 6)),
        (B, Weight(80000, 4)),
        (C, Weight(79000, 4)),
    ]
    assert all(c.passed for c in result.candidates)
    assert result.elected == (A, B)
    assert (result.tied, result.tied_seats, result.vacant_seats) == ((), 0, 0)


def test_election_tie_at_the_last_seat_is_reported_not_decided() -> None:
    # given B and C equal in heads and area for the second seat
    roll = one_unit_each("100.00", "100.00", "100.00", "100.00", "100.00", "100.00", "500.00")

    # when
    result = tally_election(roll, [A, B, C], 2, ELECTION_BALLOTS)

    # then
    assert result.elected == (A,)
    assert result.tied == (B, C)
    assert (result.tied_seats, result.vacant_seats) == (1, 0)
    assert result.to_dict()["tied"] == [B, C]


def test_election_candidate_without_more_than_half_leaves_the_seat_vacant() -> None:
    # given four equal owners, two seats; B gets exactly half the heads and area
    roll = one_unit_each("100.00", "100.00", "100.00", "100.00")

    # when
    result = tally_election(roll, [A, B], 2, {1: [A, B], 2: [A, B], 3: [A], 4: []})

    # then the empty ballot still participates
    assert result.participating == Weight(40000, 4)
    assert result.elected == (A,)
    assert (result.tied_seats, result.vacant_seats) == (0, 1)


def test_inquorate_election_elects_nobody() -> None:
    roll = one_unit_each("100.00", "100.00", "100.00", "100.00")

    result = tally_election(roll, [A, B], 1, {1: [A], 2: [A]})

    assert not result.quorate
    assert (result.elected, result.vacant_seats) == ((), 1)


@pytest.mark.parametrize(
    ("selection", "error", "code"),
    [
        ([A, A], BallotDuplicateCandidate, "ballot_duplicate_candidate"),
        ([A, 99], BallotUnknownCandidate, "ballot_unknown_candidate"),
        ([A, B, C], BallotTooManyCandidates, "ballot_too_many_candidates"),
    ],
)
def test_election_ballot_that_cannot_be_counted_is_refused(
    selection: list[int], error: type[Exception], code: str
) -> None:
    roll = one_unit_each("100.00", "100.00")

    with pytest.raises(error) as caught:
        tally_election(roll, [A, B, C], 2, {1: selection})

    assert getattr(caught.value, "error_code", None) == code
