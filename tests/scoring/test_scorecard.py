"""The pure scorecard: no database. Properties with hypothesis, calibration by example."""

import importlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scoring.facts import FACTS, Features, band_for
from scoring.scorecard import (
    MAX_REASONS,
    SCORE_MAX,
    SCORE_MIN,
    THIN_FILE_CODE,
    Scorecard,
    ScorecardInvalid,
    definition_errors,
    simulate,
)

DEFAULT_V1 = importlib.import_module(
    "scoring.migrations.0002_default_scorecard_and_guards"
).DEFAULT_V1
V1 = Scorecard.from_definition(DEFAULT_V1, version=1)


def features(**overrides: int) -> Features:
    values = {
        "identity_level": 1,
        "account_age_days": 0,
        "on_time_payments_12m": 0,
        "late_payments_12m": 0,
        "late_payments_24m": 0,
        "bookings_completed": 0,
        "no_shows_12m": 0,
        "unpaid_claims": 0,
        "open_disputes": 0,
        "history_events": 0,
    }
    values.update(overrides)
    return Features(**values)


@st.composite
def any_features(draw: st.DrawFn) -> Features:
    late_24m = draw(st.integers(0, 8))
    on_time = draw(st.integers(0, 30))
    bookings = draw(st.integers(0, 10))
    no_shows = draw(st.integers(0, 4))
    no_shows_24m = no_shows + draw(st.integers(0, 2))
    unpaid = draw(st.integers(0, 3))
    counted = on_time + late_24m + bookings + no_shows + unpaid
    history = counted + draw(st.integers(0, 5)) if counted else draw(st.sampled_from([0, 3]))
    return Features(
        identity_level=draw(st.integers(0, 2)),
        account_age_days=draw(st.integers(0, 2_000)),
        on_time_payments_12m=on_time,
        late_payments_12m=draw(st.integers(0, late_24m)),
        late_payments_24m=late_24m,
        bookings_completed=bookings,
        no_shows_12m=no_shows,
        unpaid_claims=unpaid,
        open_disputes=draw(st.integers(0, 3)),
        history_events=history,
        no_shows_24m=no_shows_24m,
    )


@st.composite
def any_definition(draw: st.DrawFn) -> dict:
    """A random valid definition: monotonic bins over the scorable facts."""
    scorable = sorted(key for key, fact in FACTS.items() if fact.scorable)
    chosen = draw(st.lists(st.sampled_from(scorable), min_size=1, max_size=7, unique=True))
    factors = []
    for index, key in enumerate(chosen):
        fact = FACTS[key]
        top = fact.maximum if fact.maximum is not None else 40
        starts = sorted(
            {fact.minimum, *draw(st.lists(st.integers(fact.minimum + 1, top), max_size=4))}
        )
        steps = draw(st.lists(st.integers(0, 120), min_size=len(starts), max_size=len(starts)))
        first = draw(st.integers(-300, 100))
        running, points = first, []
        for step in steps:
            running += step if fact.higher_is_better else -step
            points.append(max(min(running, 1000), -1000))
        factor = {
            "key": f"f{index}",
            "fact": key,
            "label": f"Factor {index}",
            "reason": f"Reason {index}",
            "tip": f"Tip {index}",
            "history": draw(st.booleans()),
            "bins": [{"from": s, "points": p} for s, p in zip(starts, points, strict=True)],
        }
        if fact.missing_scored_as is not None:  # as its bins score that value
            at = sum(1 for start in starts if start <= fact.missing_scored_as) - 1
            factor["missing_points"] = points[max(at, 0)]
        elif fact.optional:
            factor["missing_points"] = draw(st.integers(-100, 100))
        factors.append(factor)
    return {"base_points": draw(st.integers(0, 950)), "factors": factors}


def improvements(base: Features) -> list[Features]:
    """Each way of making exactly one fact better than it is."""
    better = [
        base._replace(identity_level=min(base.identity_level + 1, 2)),
        base._replace(account_age_days=base.account_age_days + 200),
        base._replace(bookings_completed=base.bookings_completed + 2),
        # One no-show fewer: of the last 12 months (so of 24 months too), or older.
        base._replace(
            no_shows_12m=max(base.no_shows_12m - 1, 0),
            no_shows_24m=base.no_shows_24m - (1 if base.no_shows_12m else 0),
        ),
        base._replace(no_shows_24m=max(base.no_shows_24m - 1, base.no_shows_12m)),
        base._replace(unpaid_claims=max(base.unpaid_claims - 1, 0)),
    ]
    if base.late_payments_24m:
        # One bill paid on time instead of late. (Not "one bill fewer": a year with no
        # bills at all has no on-time share, and is not a better record than one late bill.)
        fewer = base.late_payments_24m - 1
        fewer_12m = min(base.late_payments_12m, fewer)
        better.append(
            base._replace(
                late_payments_24m=fewer,
                late_payments_12m=fewer_12m,
                on_time_payments_12m=base.on_time_payments_12m
                + (base.late_payments_12m - fewer_12m),
            )
        )
    if base.on_time_ratio_12m is not None:  # a better on-time share: one more bill on time
        better.append(base._replace(on_time_payments_12m=base.on_time_payments_12m + 1))
    return better


# --- Properties ------------------------------------------------------------------------


@given(definition=any_definition(), values=any_features())
@settings(max_examples=300)
def test_every_score_is_within_350_to_950_and_banded(definition, values):
    card = Scorecard.from_definition(definition)
    result = card.evaluate(values)
    assert SCORE_MIN <= result.score <= SCORE_MAX
    assert result.band == band_for(result.score)


# Found by the property once: one late bill paid on time instead must not cost the points
# of a 0% on-time share (a year with no bills has no share at all).
ONE_LATE_BILL = Features(
    identity_level=0,
    account_age_days=0,
    on_time_payments_12m=0,
    late_payments_12m=1,
    late_payments_24m=1,
    bookings_completed=0,
    no_shows_12m=0,
    unpaid_claims=0,
    open_disputes=0,
    history_events=1,
)
ON_TIME_SHARE_ONLY = {
    "base_points": 350,
    "factors": [
        {
            "key": "f0",
            "fact": "on_time_ratio_12m",
            "label": "Factor 0",
            "reason": "Reason 0",
            "tip": "Tip 0",
            "history": False,
            "bins": [{"from": 0, "points": 1}],
            "missing_points": 0,
        }
    ],
}


@given(definition=any_definition(), values=any_features())
@example(definition=ON_TIME_SHARE_ONLY, values=ONE_LATE_BILL)
@settings(max_examples=300)
def test_improving_any_one_fact_never_lowers_the_score(definition, values):
    card = Scorecard.from_definition(definition)
    score = card.evaluate(values).score
    for better in improvements(values):
        assert card.evaluate(better).score >= score, better


@given(definition=any_definition(), values=any_features())
@settings(max_examples=300)
def test_reasons_are_at_most_four_sorted_by_loss_and_never_for_a_factor_at_its_maximum(
    definition, values
):
    card = Scorecard.from_definition(definition)
    result = card.evaluate(values)
    lost = [reason.points_lost for reason in result.reasons]
    assert len(result.reasons) <= MAX_REASONS
    assert lost == sorted(lost, reverse=True)
    assert all(points > 0 for points in lost)
    by_key = {factor.key: factor for factor in card.factors}
    earned = dict(zip(card.factor_keys, result.points, strict=True))
    for reason in result.reasons:
        if reason.code == THIN_FILE_CODE:
            assert values.is_thin_file
            continue
        factor = by_key[reason.code]
        assert earned[reason.code] < factor.max_points
        assert reason.points_lost == factor.max_points - earned[reason.code]
        assert not (values.is_thin_file and factor.history)


@given(values=any_features())
def test_the_default_scorecard_keeps_its_properties(values):
    result = V1.evaluate(values)
    assert SCORE_MIN <= result.score <= SCORE_MAX
    for better in improvements(values):
        assert V1.evaluate(better).score >= result.score


# --- The default scorecard's calibration -----------------------------------------------


def test_a_new_account_with_a_verified_phone_lands_at_600_good():
    result = V1.evaluate(features(identity_level=1))
    assert (result.score, result.band) == (600, "good")


def test_a_thin_file_says_the_history_is_short_and_its_score_follows_identity_and_age():
    # Given no events at all
    young = V1.evaluate(features(identity_level=0))
    old = V1.evaluate(features(identity_level=2, account_age_days=800))
    # Then identity and age decide the score, and the first reason is the short history
    assert (young.score, old.score) == (560, 680)
    assert young.reasons[0].code == THIN_FILE_CODE
    assert young.reasons[0].points_lost == 120 + 60  # on-time share and bookings
    assert [reason.code for reason in young.reasons] == [
        "thin_file",
        "account_age",
        "identity",
    ]


def test_three_spotless_years_land_above_850():
    spotless = features(
        identity_level=1,
        account_age_days=3 * 365,
        on_time_payments_12m=12,
        bookings_completed=6,
        history_events=30,
    )
    result = V1.evaluate(spotless)
    assert (result.score, result.band) == (860, "excellent")
    assert V1.evaluate(spotless._replace(identity_level=2)).score == 880


@given(values=any_features())
def test_one_unpaid_claim_pulls_anyone_below_550(values):
    with_claim = values._replace(unpaid_claims=max(values.unpaid_claims, 1))
    assert V1.evaluate(with_claim).score < 550


def test_the_best_file_with_one_unpaid_claim_scores_540_with_the_claim_as_first_reason():
    best = features(
        identity_level=2,
        account_age_days=4_000,
        on_time_payments_12m=24,
        bookings_completed=10,
        unpaid_claims=1,
        history_events=40,
    )
    result = V1.evaluate(best)
    assert result.score == 540
    assert [(r.code, r.points_lost) for r in result.reasons] == [("unpaid_claims", 340)]


def test_scores_never_use_wealth_or_anything_outside_the_facts():
    assert {factor.fact for factor in V1.factors} <= {
        key for key, fact in FACTS.items() if fact.scorable
    }
    assert not {"balance", "income", "age", "contacts"} & set(FACTS)


# --- Validation ------------------------------------------------------------------------


def _with_factor(**changes: object) -> dict:
    definition = {**DEFAULT_V1, "factors": [dict(DEFAULT_V1["factors"][1])]}
    definition["factors"][0].update(changes)
    return definition


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (_with_factor(fact="balance"), "fact must be one of"),
        (_with_factor(fact="score"), "fact must be one of"),
        (
            _with_factor(bins=[{"from": 0, "points": 0}, {"from": 2, "points": 30}]),
            "points must not go up as late_payments_24m goes up",
        ),
        (_with_factor(bins=[{"from": 1, "points": 0}]), "the first bin must start at 0"),
        (
            _with_factor(bins=[{"from": 0, "points": 5}, {"from": 0, "points": 1}]),
            "increasing values",
        ),
        (_with_factor(bins=[{"from": 0, "points": 1.5}]), "whole numbers"),
        (_with_factor(missing_points=3), "missing_points is not allowed"),
        (_with_factor(tip=""), "tip must be a non-empty text"),
        (_with_factor(colour="red"), "unknown key 'colour'"),
        ({**DEFAULT_V1, "base_points": "400"}, "base_points must be a whole number"),
        ({**DEFAULT_V1, "factors": []}, "factors must be a list of 1 to 20"),
        ([], "must be a JSON object"),
    ],
)
def test_invalid_definitions_are_refused_with_a_message(definition, message):
    errors = definition_errors(definition)
    assert any(message in error for error in errors), errors
    with pytest.raises(ScorecardInvalid):
        Scorecard.from_definition(definition)


def test_an_optional_fact_needs_points_for_when_it_is_absent():
    on_time = {k: v for k, v in DEFAULT_V1["factors"][0].items() if k != "missing_points"}
    errors = definition_errors({**DEFAULT_V1, "factors": [on_time]})
    assert errors == ["factors[0]: missing_points is required: on_time_ratio_12m may be absent."]


def test_the_default_definition_is_valid():
    assert definition_errors(DEFAULT_V1) == []


# --- What-if ---------------------------------------------------------------------------


def test_simulating_bills_paid_on_time_raises_the_ratio_and_ends_a_thin_file():
    thin = features()
    after = simulate(thin, {"pay_next_bills_on_time": 3})
    assert (after.on_time_payments_12m, after.on_time_ratio_12m) == (3, 100)
    assert not after.is_thin_file
    assert V1.evaluate(after).score == 600 + 120


def test_simulated_facts_override_and_settle_claims():
    base = features(unpaid_claims=2, late_payments_24m=3, late_payments_12m=2, history_events=5)
    after = simulate(base, {"settle_unpaid_claims": 1, "late_payments_24m": 1})
    assert (after.unpaid_claims, after.late_payments_24m, after.late_payments_12m) == (1, 1, 1)
    ratio = simulate(base, {"on_time_ratio_12m": 90})
    assert ratio.on_time_ratio_12m == 90
