"""The pure fitter (``scoring.fitting``): no database. A synthetic population whose true
bad probability is known, properties with hypothesis, and the validation figures by
hand-computed examples."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from scoring.facts import FACTOR_WORDS, FACTS, Features
from scoring.fitting import (
    SAME_POINTS,
    SINGLE_BIN,
    WRONG_SIGN,
    ColumnSpec,
    FitError,
    FitOptions,
    FittedModel,
    _binned,
    band_rates,
    decile_rates,
    fit,
    metrics,
    out_of_time_split,
    psi,
    roc_curve_points,
    selection_ratio,
)
from scoring.scorecard import MAX_REASONS, SCORE_MAX, SCORE_MIN, Scorecard

FACT_KEYS = (
    "on_time_ratio_12m",
    "late_payments_24m",
    "no_shows_12m",
    "account_age_days",
    "identity_level",
    "unpaid_claims",
    "stays_completed_well_24m",
)


def population(rows: int, rng: np.random.Generator, *, strength: float = 1.0):
    """Facts drawn as they spread among citizens, and a bad outcome drawn from a known
    logistic model over them, monotone in each fact's good direction. Returns the
    facts, the outcomes and the true bad probabilities."""
    bills = rng.integers(0, 13, rows)
    on_time = rng.binomial(bills, rng.beta(6, 1.2, rows))
    ratio = np.where(bills > 0, 100 * on_time // np.maximum(bills, 1), np.nan)
    late = rng.poisson(0.6, rows)
    no_shows = rng.poisson(0.25, rows)
    age = rng.integers(0, 1500, rows)
    identity = rng.choice([0, 1, 2], rows, p=[0.2, 0.5, 0.3])
    unpaid = rng.binomial(1, 0.08, rows) * rng.integers(1, 3, rows)
    stays = rng.integers(0, 8, rows)
    kept = rng.binomial(stays, 0.85)
    share = np.where(stays >= 2, 100 * kept // np.maximum(stays, 1), np.nan)
    logit = -1.2 + strength * (
        -0.025 * (np.nan_to_num(ratio, nan=75) - 80)
        + 0.5 * np.minimum(late, 2)
        + 0.8 * np.minimum(no_shows, 1)
        - 0.0007 * np.minimum(age, 1000)
        - 0.3 * identity
        + 0.9 * np.minimum(unpaid, 1)
        - 0.01 * (np.nan_to_num(share, nan=50) - 50)
    )
    probability = 1 / (1 + np.exp(-logit))
    facts = pd.DataFrame(
        {
            "on_time_ratio_12m": ratio,
            "late_payments_24m": late,
            "no_shows_12m": no_shows,
            "account_age_days": age,
            "identity_level": identity,
            "unpaid_claims": unpaid,
            "stays_completed_well_24m": share,
        }
    ).astype(float)
    return facts, rng.random(rows) < probability, probability


def specs(keys=FACT_KEYS) -> list[ColumnSpec]:
    return [ColumnSpec.from_fact(key) for key in keys]


def features_with(facts: dict) -> Features:
    """Features whose facts are ``facts`` (a fact left out takes a plain value; None is
    absent). The share of stays is ``completed`` of 100 stays, or of too few to count."""
    ratio = facts.get("on_time_ratio_12m", 90)
    share = facts.get("stays_completed_well_24m", 100)
    unpaid = int(facts.get("unpaid_claims", 0))
    if share is None:
        completed, no_shows_24m = 0, 0 if unpaid else 1
    else:
        completed, no_shows_24m = int(share), 100 - int(share) - unpaid
    return Features(
        identity_level=int(facts.get("identity_level", 1)),
        account_age_days=int(facts.get("account_age_days", 400)),
        on_time_payments_12m=0 if ratio is None else int(ratio),
        late_payments_12m=0 if ratio is None else 100 - int(ratio),
        late_payments_24m=int(facts.get("late_payments_24m", 0)),
        bookings_completed=completed,
        no_shows_12m=int(facts.get("no_shows_12m", 0)),
        unpaid_claims=unpaid,
        open_disputes=0,
        history_events=int(facts.get("history_events", 5)),
        no_shows_24m=no_shows_24m,
    )


def facts_frame(features: list[Features], keys) -> pd.DataFrame:
    return pd.DataFrame({key: [getattr(f, key) for f in features] for key in keys}, dtype=float)


@pytest.fixture(scope="module")
def fitted() -> tuple[FittedModel, pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20260101)
    train, train_bad, _ = population(40_000, rng)
    test, test_bad, test_probability = population(40_000, rng)
    model = fit(train, train_bad, specs())
    return model, test, test_bad, test_probability


# --- On a population whose truth is known ---------------------------------------------


def test_the_fitted_scorecard_ranks_nearly_as_well_as_the_true_model(fitted):
    # Given a model fitted on 40,000 rows of a known logistic truth
    model, test, test_bad, test_probability = fitted
    # When both rank the 40,000 test rows
    true_auc = roc_auc_score(~test_bad, -test_probability)
    fitted_auc = metrics(model.score(test), test_bad).auc
    # Then the scorecard's AUC is within 0.01 of the best any model can do
    assert true_auc - 0.01 <= fitted_auc <= true_auc + 0.01, (true_auc, fitted_auc)
    # and every fact separates (none dropped)
    assert [c.name for c in model.columns] == list(FACT_KEYS)
    assert model.dropped == ()


def test_every_factor_is_monotone_in_its_facts_good_direction(fitted):
    model = fitted[0]
    for column in model.columns:
        points = [b.points for b in column.bins]
        starts = [b.start for b in column.bins]
        assert starts == sorted(set(starts)), column.name
        assert starts[0] == FACTS[column.name].minimum
        steps = np.diff(points)
        if FACTS[column.name].higher_is_better:
            assert (steps >= 0).all(), (column.name, points)
        else:
            assert (steps <= 0).all(), (column.name, points)
        # the worst bin earns 0 (the base stayed in range, nothing moved)
        worst = min(points + ([column.missing.points] if column.missing else []))
        assert worst == 0
        # and the fact separates: its best bin earns more than its worst
        assert max(points) > 0
        assert all(isinstance(b.start, float) and b.start.is_integer() for b in column.bins)


def test_points_follow_the_stated_scale(fitted):
    # A bin earns -factor * coefficient * woe, shifted so the worst bin earns 0.
    model = fitted[0]
    factor = 40 / math.log(2)
    for column in model.columns:
        assert column.coefficient < 0
        raw = [-factor * column.coefficient * b.woe for b in column.bins]
        if column.missing is not None:
            worst = min([*raw, -factor * column.coefficient * column.missing.woe])
        else:
            worst = min(raw)
        assert [b.points for b in column.bins] == [round(r - worst) for r in raw], column.name


def test_absent_values_score_as_the_registry_says(fitted):
    model = fitted[0]
    by_name = {c.name: c for c in model.columns}
    # The share of stays, absent, earns what a share of 50% earns.
    share = by_name["stays_completed_well_24m"]
    fifty = [b for b in share.bins if b.start is not None and b.start <= 50][-1]
    assert share.missing is not None
    assert share.missing.points == fifty.points
    assert share.missing.count > 0
    # The on-time ratio, absent, has its own bin, with its own weight.
    ratio = by_name["on_time_ratio_12m"]
    assert ratio.missing is not None
    assert ratio.missing.count > 0
    # Always-known facts have none.
    assert by_name["late_payments_24m"].missing is None


def test_the_definition_validates_and_scores_as_the_model_does(fitted):
    # Given the fitted model's definition
    model = fitted[0]
    definition = model.definition()
    scorecard = Scorecard.from_definition(definition)
    assert 0 <= definition["base_points"] <= SCORE_MAX
    for factor, column in zip(definition["factors"], model.columns, strict=True):
        words = FACTOR_WORDS[column.name]
        assert (factor["key"], factor["label"], factor["reason"], factor["tip"]) == (
            words.key,
            words.label,
            words.reason,
            words.tip,
        )
        assert factor["history"] is words.history
        assert ("missing_points" in factor) is FACTS[column.name].optional
    # When features hit every bin of every factor (at its start, one below it, and absent)
    features = [features_with({})]
    for column in model.columns:
        for fitted_bin in column.bins:
            start = int(fitted_bin.start)
            for value in {start, max(start - 1, FACTS[column.name].minimum)}:
                features.append(features_with({column.name: value}))
        if FACTS[column.name].optional:
            features.append(features_with({column.name: None}))
    features.append(features_with({"history_events": 0, "unpaid_claims": 2}))
    # Then the model and the scorecard give every one the same score
    expected = [scorecard.evaluate(f).score for f in features]
    assert model.score(facts_frame(features, FACT_KEYS)).tolist() == expected
    # and they are not all the same
    assert len(set(expected)) > 10


def test_the_features_hit_the_bins_they_are_meant_to():
    # (``features_with``: a fact set is the fact read back)
    f = features_with({"on_time_ratio_12m": 37, "stays_completed_well_24m": 64, "unpaid_claims": 1})
    assert (f.on_time_ratio_12m, f.stays_completed_well_24m, f.unpaid_claims) == (37, 64, 1)
    f = features_with({"on_time_ratio_12m": None, "stays_completed_well_24m": None})
    assert (f.on_time_ratio_12m, f.stays_completed_well_24m) == (None, None)


# --- Properties -------------------------------------------------------------------------


def step_better(key: str, value: float) -> float:
    fact = FACTS[key]
    if fact.higher_is_better:
        return value + 1 if fact.maximum is None else min(value + 1, fact.maximum)
    return max(value - 1, fact.minimum)


@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(400, 1_200),
    strength=st.floats(0.5, 3.0),
    keys=st.lists(st.sampled_from(FACT_KEYS), min_size=1, max_size=7, unique=True),
    max_bins=st.integers(2, 6),
)
@settings(max_examples=25, deadline=None, derandomize=True)
def test_a_fit_always_validates_and_never_punishes_a_better_fact(
    seed, rows, strength, keys, max_bins
):
    # Given a small population and any facts to fit
    rng = np.random.default_rng(seed)
    table, bad, _ = population(rows, rng, strength=strength)
    options = FitOptions(max_bins=max_bins)
    try:
        model = fit(table, bad, specs(keys), options)
    except FitError as error:
        # only when nothing the fit was given separates good from bad
        message = str(error)
    else:
        message = ""
    event("fitted" if not message else "nothing separates")
    if message:
        assert message == "no column separates good from bad"
        return
    # Then its definition validates
    scorecard = Scorecard.from_definition(model.definition())
    scores = model.score(table)
    assert ((scores >= SCORE_MIN) & (scores <= SCORE_MAX)).all()
    fitted_keys = [c.name for c in model.columns]
    assert all(c.coefficient < 0 for c in model.columns)
    assert set(fitted_keys) | {d.name for d in model.dropped} == set(keys)
    # and improving any one fact one step never lowers the score (rows with the fact)
    sample = table.iloc[:60]
    before = model.score(sample)
    for key in fitted_keys:
        better = sample.copy()
        better[key] = [step_better(key, v) if not np.isnan(v) else v for v in sample[key]]
        assert (model.score(better) >= before).all(), key
    # and the scorecard agrees with the model, with at most four reasons
    features = [
        features_with({k: (None if np.isnan(v) else v) for k, v in row._asdict().items()})
        for row in sample[fitted_keys].itertuples(index=False)
    ]
    results = [scorecard.evaluate(f) for f in features]
    assert all(len(result.reasons) <= MAX_REASONS for result in results)
    frame = facts_frame(features, fitted_keys)
    assert model.score(frame).tolist() == [result.score for result in results]


# --- The fit's rules --------------------------------------------------------------------


def test_column_spec_of_a_fact():
    assert ColumnSpec.from_fact("stays_completed_well_24m") == ColumnSpec(
        "stays_completed_well_24m",
        direction="higher_is_better",
        integer=True,
        minimum=0,
        maximum=100,
        missing_as=50,
        optional=True,
    )
    assert ColumnSpec.from_fact("late_payments_24m").direction == "lower_is_better"
    with pytest.raises(ValueError, match="not a scorable fact"):
        ColumnSpec.from_fact("score")
    with pytest.raises(ValueError, match="not a scorable fact"):
        ColumnSpec.from_fact("shoe_size")


def test_data_the_fit_cannot_use():
    rng = np.random.default_rng(1)
    table, bad, _ = population(1_000, rng)
    with pytest.raises(FitError, match="only one value"):
        fit(table, np.zeros(1_000, bool), specs())
    with pytest.raises(FitError, match="fewer than 200 rows"):
        fit(table.iloc[:199], bad[:199], specs())
    noise = pd.DataFrame({"same": np.ones(1_000)})
    with pytest.raises(FitError, match="no column separates good from bad"):
        fit(noise, bad, [ColumnSpec("same")])
    with pytest.raises(FitError, match="no column 'missing'"):
        fit(table, bad, [ColumnSpec("missing")])
    with pytest.raises(FitError, match="at least 2 bins"):
        fit(table, bad, specs(), FitOptions(max_bins=1))
    with pytest.raises(FitError, match="must be above 0"):
        fit(table, bad, specs(), FitOptions(pdo=0))


def test_a_column_that_says_nothing_is_dropped():
    rng = np.random.default_rng(2)
    table, bad, _ = population(4_000, rng)
    table["constant"] = 7.0
    table["unknown"] = np.nan
    model = fit(
        table,
        bad,
        [ColumnSpec("constant"), *specs(("late_payments_24m",)), ColumnSpec("unknown")],
    )
    assert [c.name for c in model.columns] == ["late_payments_24m"]
    assert sorted((d.name, d.iv, d.why) for d in model.dropped) == [
        ("constant", 0.0, SINGLE_BIN),
        ("unknown", 0.0, SINGLE_BIN),
    ]


def test_a_column_whose_weight_comes_out_the_wrong_way_is_dropped():
    # Given two correlated columns, each better when higher on its own, but the second
    # worse once the first is known (it carries the first, and some harm of its own)
    rng = np.random.default_rng(3)
    strong = rng.normal(size=20_000)
    echo = strong + 0.5 * rng.normal(size=20_000)
    logit = -1.0 - 2.0 * strong + 0.8 * echo
    bad = rng.random(20_000) < 1 / (1 + np.exp(-logit))
    table = pd.DataFrame({"strong": strong, "echo": echo})
    # (on its own, the echo does rank the good higher)
    assert roc_auc_score(~bad, echo) > 0.55
    # When both are fitted
    model = fit(
        table,
        bad,
        [ColumnSpec("strong", "higher_is_better"), ColumnSpec("echo", "higher_is_better")],
    )
    # Then the echo is dropped for its sign, and the regression fitted without it
    assert [c.name for c in model.columns] == ["strong"]
    assert [(d.name, d.why) for d in model.dropped] == [("echo", WRONG_SIGN)]
    assert model.columns[0].coefficient < 0


def test_whole_number_bins_start_within_the_facts_range():
    # Given a whole-number column allowed only 2..5 whose data (wrongly) spreads 0..9
    rng = np.random.default_rng(4)
    values = rng.integers(0, 10, 10_000).astype(float)
    bad = rng.random(10_000) < 1 / (1 + np.exp(-(-1 + 0.4 * (values - 4))))
    spec = ColumnSpec("count", "lower_is_better", integer=True, minimum=2, maximum=5)
    model = fit(pd.DataFrame({"count": values}), bad, [spec], FitOptions(max_bins=8))
    column = model.columns[0]
    starts = [b.start for b in column.bins]
    # Then the bins start at the minimum, at whole values, never above the maximum
    assert starts[0] == 2
    assert all(s.is_integer() for s in starts)
    assert starts == sorted(set(starts))
    assert starts[-1] <= 5
    points = [b.points for b in column.bins]
    assert all(later <= earlier for earlier, later in itertools.pairwise(points))
    # and the counts are of the rows each bin scores (below 2 in the first, above 5 in the last)
    assert sum(b.count for b in column.bins) == 10_000
    assert column.bins[0].count == int((values < starts[1]).sum())


def test_categories_are_grouped_by_their_weight_of_evidence():
    rng = np.random.default_rng(5)
    names = np.array([f"c{i}" for i in range(8)])
    category = names[rng.integers(0, 8, 8_000)]
    risky = np.isin(category, ["c0", "c1", "c2"])
    bad = rng.random(8_000) < np.where(risky, 0.35, 0.1)
    table = pd.DataFrame({"kind": category})
    model = fit(table, bad, [ColumnSpec("kind", categorical=True)])
    column = model.columns[0]
    groups = [set(b.categories or ()) for b in column.bins]
    # Then at most five groups hold the eight categories, the risky ones worst
    assert len(groups) <= 5
    assert set().union(*groups) == set(names)
    worst = min(column.bins, key=lambda b: b.points)
    assert set(worst.categories or ()) <= {"c0", "c1", "c2"}
    # an unseen category earns the points of the missing bin
    assert column.missing is not None
    frame = pd.DataFrame({"kind": ["c0", "c7", "zz", None]})
    by_category = {c: b.points for b in column.bins for c in b.categories or ()}
    assert model.score(frame).tolist() == [
        min(max(model.base_points + p, SCORE_MIN), SCORE_MAX)
        for p in (
            by_category["c0"],
            by_category["c7"],
            column.missing.points,
            column.missing.points,
        )
    ]


@pytest.mark.parametrize(("base_score", "base_odds"), [(0, 9.0), (950, 0.1)])
def test_a_base_out_of_range_moves_into_the_columns(base_score, base_odds):
    # Given options that would put the base below 0 or above 950
    rng = np.random.default_rng(6)
    table, bad, _ = population(6_000, rng)
    keys = ("late_payments_24m", "no_shows_12m", "unpaid_claims")
    usual = fit(table, bad, specs(keys), FitOptions(base_odds=9.0))
    moved = fit(table, bad, specs(keys), FitOptions(base_score=base_score, base_odds=base_odds))
    # Then the definition still validates, with the base at the edge of its range
    Scorecard.from_definition(moved.definition())
    assert moved.base_points == (0 if base_score == 0 else SCORE_MAX)

    def totals(model):
        return model.base_points + sum(c.points_of(table[c.name]) for c in model.columns)

    # and every total is the usual one moved by the same amount (the same ranking)
    shift = totals(moved) - totals(usual)
    assert len(set(shift.tolist())) == 1
    factor = 40 / math.log(2)
    offsets = (base_score - factor * math.log(base_odds)) - (600 - factor * math.log(9))
    assert abs(shift[0] - offsets) <= 1
    # and a column's worst bin no longer earns 0
    assert min(b.points for c in moved.columns for b in c.bins) != 0


def test_the_base_odds_are_the_training_rows_own_unless_stated():
    # Given a population where about half the rows are bad (as broad an outcome as "any
    # overdue bill in a year" can be)
    rng = np.random.default_rng(8)
    table, bad, _ = population(6_000, rng)
    bad = bad | (rng.random(len(bad)) < 0.4)
    keys = ("late_payments_24m", "no_shows_12m", "unpaid_claims")
    # When fitted with the default options
    model = fit(table, bad, specs(keys))
    # Then the points are scaled to the rows' own odds of good to bad
    odds = (~bad).sum() / bad.sum()
    assert 0.8 < odds < 1.6
    assert model.base_odds == pytest.approx(odds)
    assert model.options.base_odds is None
    assert (
        model.definition() == fit(table, bad, specs(keys), FitOptions(base_odds=odds)).definition()
    )
    # so that the scores sit around the base score, where a stated odds of 9 would put
    # almost every row below it
    assert 520 < np.median(model.score(table)) < 700
    stated = fit(table, bad, specs(keys), FitOptions(base_odds=9.0))
    assert stated.base_odds == 9.0
    assert np.mean(stated.score(table) < 600) > 0.9


def test_a_column_whose_points_round_to_one_value_is_dropped():
    # Given a scale so narrow (0.6 points to double the odds) that a weak fact's bins
    # all round to the same whole points
    rng = np.random.default_rng(0)
    table, bad, _ = population(6_000, rng)
    keys = ("late_payments_24m", "no_shows_12m", "account_age_days", "identity_level")
    model = fit(table, bad, specs(keys), FitOptions(pdo=0.6))
    # Then that fact is listed as dropped, as changing no score
    assert [(d.name, d.why) for d in model.dropped] == [("identity_level", SAME_POINTS)]
    # and every factor left changes some score
    for column in model.columns:
        points = {b.points for b in column.bins}
        assert len(points) > 1, column.name
    definition = model.definition()
    Scorecard.from_definition(definition)
    assert [f["fact"] for f in definition["factors"]] == list(keys[:3])
    # And when every fact rounds to one value, the last is kept: a scorecard scores
    # at least one factor
    flat = fit(table, bad, specs(keys), FitOptions(pdo=0.3))
    assert len(flat.columns) == 1
    assert [d.why for d in flat.dropped] == [SAME_POINTS] * 3
    Scorecard.from_definition(flat.definition())


def test_as_json_says_the_model():
    rng = np.random.default_rng(7)
    table, bad, _ = population(5_000, rng)
    model = fit(table, bad, specs(("on_time_ratio_12m", "late_payments_24m")))
    said = model.as_json()
    assert said["base_points"] == model.base_points
    ratio, late = said["columns"]
    assert ratio["name"] == "on_time_ratio_12m"
    assert ratio["bins"][0]["from"] == 0
    assert isinstance(ratio["bins"][0]["from"], int)
    assert [b["points"] for b in ratio["bins"]] == [b.points for b in model.columns[0].bins]
    assert ratio["missing_points"] == model.columns[0].missing.points
    assert "missing_points" not in late
    assert said["options"]["pdo"] == 40.0


def test_definition_refuses_a_column_that_is_not_a_fact():
    rng = np.random.default_rng(8)
    late = rng.poisson(1, 2_000).astype(float)
    bad = rng.random(2_000) < 0.1 + 0.1 * np.minimum(late, 2)
    model = fit(pd.DataFrame({"debts": late}), bad, [ColumnSpec("debts")])
    with pytest.raises(ValueError, match="'debts' is not a scorable fact"):
        model.definition()


# --- Validation figures, by hand --------------------------------------------------------


def test_metrics_by_hand():
    # goods at 2 and 4, bads at 1 and 3: 3 of the 4 good-bad pairs rank the good higher
    figures = metrics(np.array([1, 2, 3, 4]), np.array([True, False, True, False]))
    assert (figures.count, figures.bad) == (4, 2)
    assert figures.auc == pytest.approx(0.75)
    assert figures.gini == pytest.approx(0.5)
    # at or below 1: half the bads, none of the goods
    assert figures.ks == pytest.approx(0.5)
    assert metrics(np.array([1, 2]), np.array([False, False])).auc == 0.5


def test_deciles_by_hand():
    scores = np.arange(1, 101)
    rows = decile_rates(scores, scores <= 20)
    assert [(r.label, r.low, r.high, r.count, r.bad) for r in rows] == [
        (str(k + 1), 10 * k + 1, 10 * k + 10, 10, 10 if k < 2 else 0) for k in range(10)
    ]
    assert rows[0].bad_rate == 1.0
    assert rows[5].bad_rate == 0.0
    # Rows with the same score stay together
    tied = np.array([500] * 50 + [700] * 50)
    rows = decile_rates(tied, tied == 500)
    assert [r.count for r in rows] == [50, 0, 0, 0, 0, 50, 0, 0, 0, 0]
    assert (rows[0].low, rows[0].high, rows[5].low, rows[5].high) == (500, 500, 700, 700)


def test_bands_by_hand():
    rows = band_rates(
        np.array([400, 560, 560, 620, 660, 800]), np.array([True, True, False, False, False, False])
    )
    assert [(r.label, r.low, r.high, r.count, r.bad) for r in rows] == [
        ("poor", 350, 549, 1, 1),
        ("fair", 550, 599, 2, 1),
        ("good", 600, 649, 1, 0),
        ("very_good", 650, 699, 1, 0),
        ("excellent", 700, 950, 1, 0),
    ]


def test_roc_curve_by_hand():
    # the two bads score lowest: found before any good
    points = roc_curve_points(np.array([1, 2, 3, 4]), np.array([True, True, False, False]))
    assert points[0] == (0.0, 0.0)
    assert (0.0, 1.0) in points
    assert points[-1] == (1.0, 1.0)
    rng = np.random.default_rng(9)
    scores = rng.integers(350, 950, 5_000)
    thinned = roc_curve_points(scores, rng.random(5_000) < 0.2, most=21)
    assert len(thinned) <= 21
    assert thinned[0] == (0.0, 0.0)
    assert thinned[-1] == (1.0, 1.0)
    assert thinned == sorted(thinned)


def test_psi_by_hand():
    everyone_poor = np.array([400] * 10)
    half_fair = np.array([400] * 5 + [560] * 5)
    expected = (0.5 - 1) * math.log(0.5) + (0.5 - 0.0001) * math.log(0.5 / 0.0001)
    assert psi(everyone_poor, half_fair) == pytest.approx(expected)
    assert psi(half_fair, half_fair) == 0.0


def test_selection_ratio_by_hand():
    scores = np.arange(10, 0, -1)
    groups = ["a"] * 5 + ["b"] * 5
    # 7 of 10 approved: scores 10..4, all of a and 2 of b
    assert selection_ratio(scores, groups) == (pytest.approx(0.4), {"a": 1.0, "b": 0.4})
    assert selection_ratio(scores, groups, approval=0.5) == (0.0, {"a": 1.0, "b": 0.0})
    # ties at the threshold are all approved; rows without a group are left out
    ratio, rates = selection_ratio(
        np.array([5, 5, 5, 1, 9, 9]), ["x", "y", "y", "y", None, float("nan")], approval=0.5
    )
    assert rates == {"x": 1.0, "y": pytest.approx(2 / 3)}
    assert ratio == pytest.approx(2 / 3)
    assert selection_ratio(np.array([1, 2]), ["", None]) == (1.0, {})


def test_out_of_time_split_by_hand():
    taken = np.array([100, 0, 50, 74, 75, 10])
    assert out_of_time_split(taken).tolist() == [True, False, False, False, True, False]
    assert out_of_time_split(taken, test_share=0.5).tolist() == [
        True,
        False,
        True,
        True,
        True,
        False,
    ]
    assert out_of_time_split(np.array([5, 5])).tolist() == [False, False]


def test_an_absent_share_is_fitted_as_the_value_it_is_scored_as():
    # Given shares of stays where many are absent (too few stays)
    rng = np.random.default_rng(10)
    table, bad, _ = population(6_000, rng)
    spec = ColumnSpec.from_fact("stays_completed_well_24m")
    assert table[spec.name].isna().mean() > 0.2
    # When optbinning bins the column for the regression
    (binned,) = _binned(table, bad, [spec], FitOptions())
    # Then the absent rows take the weight of evidence of the rows at 50%, which they
    # are scored as; none falls in a missing bin of its own
    absent = table[spec.name].isna().to_numpy()
    at_fifty = (table[spec.name] == 50).to_numpy()
    assert at_fifty.any()
    assert set(binned.row_woe[absent]) == set(binned.row_woe[at_fifty])
    assert (binned.bin_index(binned.values) >= 0).all()
