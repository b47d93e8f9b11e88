"""A perk's rules, pure: validation staff can act on, decisions, plain words. No database."""

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.amounts import ABSURD_AMOUNT
from common.money import format_money
from merchants.perks.rules import (
    BAND_FACT,
    DEFAULT_RULES,
    OPERATORS,
    Condition,
    Outcome,
    Reason,
    Requirement,
    Rules,
    RulesInvalid,
    Tier,
    evaluate,
    requirements,
    rules_errors,
)
from scoring.facts import BAND_CODES, BAND_LABELS, FACTS, band_for

DEFAULTS = Rules.from_data(DEFAULT_RULES)
KNOWN_FACTS = (
    "score, band, identity_level, account_age_days, on_time_ratio_12m, late_payments_24m, "
    "bookings_completed, stays_completed_well_24m, no_shows_12m, unpaid_claims, open_disputes"
)
BANDS = "poor, fair, good, very_good, excellent"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NO_WAIVER = Reason(
    "no_waiver_for_band", "No part of the deposit can be waived at the guest's current level."
)


def facts(**overrides: int | str | None) -> dict[str, int | str | None]:
    """A guest who meets the default rules, in the excellent band."""
    values: dict[str, int | str | None] = {
        "score": 734,
        "band": "excellent",
        "identity_level": 1,
        "account_age_days": 400,
        "on_time_ratio_12m": 100,
        "late_payments_24m": 0,
        "bookings_completed": 2,
        "no_shows_12m": 0,
        "unpaid_claims": 0,
        "open_disputes": 0,
    }
    values.update(overrides)
    return values


def changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    """A deep copy of the default rules data, changed in place by ``change``."""
    data = copy.deepcopy(DEFAULT_RULES)
    change(data)
    return data


def condition(fact: str, op: str, value: int | str, message: str = "Not met.") -> dict[str, Any]:
    return {"fact": fact, "op": op, "value": value, "message": message}


# --- The defaults ----------------------------------------------------------------------


def test_default_rules_are_valid() -> None:
    # given the default rules data
    # when it is validated
    errors = rules_errors(DEFAULT_RULES)
    # then there is nothing to fix
    assert errors == []


def test_default_rules_compile_with_default_and_explicit_codes() -> None:
    # given / when the default rules are compiled
    rules = Rules.from_data(DEFAULT_RULES)
    # then the conditions keep their order, and a condition without code gets <fact>_not_met
    assert rules.conditions == (
        Condition("score", ">=", 600, "A score of at least 600 is needed.", "score_not_met"),
        Condition("unpaid_claims", "==", 0, "No damage claim may be left unpaid.", "unpaid_claims"),
        Condition(
            "identity_level",
            ">=",
            1,
            "A verified phone number is needed.",
            "identity_level_not_met",
        ),
    )
    assert rules.tiers == (
        Tier("good", 50000),
        Tier("very_good", 100000),
        Tier("excellent", 200000),
    )


def test_default_rules_round_trip() -> None:
    # given the compiled defaults
    # when they are written out as data and read back
    data = DEFAULTS.as_data()
    again = Rules.from_data(data)
    # then nothing changed, and the data spells every code out
    assert again == DEFAULTS
    assert [raw["code"] for raw in data["conditions"]] == [
        "score_not_met",
        "unpaid_claims",
        "identity_level_not_met",
    ]
    assert data["tiers"] == DEFAULT_RULES["tiers"]


def test_fact_keys_of_the_defaults_end_with_the_band() -> None:
    # given / when / then each condition's fact in order, then the band for the tiers
    assert DEFAULTS.fact_keys() == ("score", "unpaid_claims", "identity_level", "band")


def test_fact_keys_name_each_fact_once_in_first_use_order() -> None:
    # given rules that read the score twice and the band in a condition
    rules = Rules.from_data(
        {
            "conditions": [
                condition("score", ">=", 600),
                condition("band", ">=", "good"),
                condition("score", "<=", 900),
                condition("no_shows_12m", "<=", 1),
            ],
            "tiers": [{"band": "good", "max_amount": 100}],
        }
    )
    # when / then
    assert rules.fact_keys() == ("score", "band", "no_shows_12m")


def test_cap_for_band_is_the_tier_amount_or_zero() -> None:
    # given the defaults: good, very good and excellent have tiers
    # when / then
    assert DEFAULTS.cap_for_band("good") == 50000
    assert DEFAULTS.cap_for_band("very_good") == 100000
    assert DEFAULTS.cap_for_band("excellent") == 200000
    assert DEFAULTS.cap_for_band("fair") == 0
    assert DEFAULTS.cap_for_band("poor") == 0


def test_operators_are_the_five_comparisons() -> None:
    # given / when / then
    assert list(OPERATORS) == [">=", "<=", "==", ">", "<"]
    assert [OPERATORS[op](2, 2) for op in OPERATORS] == [True, True, True, False, False]
    assert [OPERATORS[op](3, 2) for op in OPERATORS] == [True, False, False, True, False]


# --- Validation ------------------------------------------------------------------------


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


def _append(key: str, item: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data[key].append(item)

    return change


INVALID: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "unknown fact wealth": (
        _set(("conditions", 0, "fact"), "wealth"),
        f"conditions[0].fact: 'wealth' is not a fact; known facts: {KNOWN_FACTS}.",
    ),
    "unknown fact balance": (
        _set(("conditions", 2, "fact"), "balance"),
        f"conditions[2].fact: 'balance' is not a fact; known facts: {KNOWN_FACTS}.",
    ),
    "fact not a text": (
        _set(("conditions", 1, "fact"), 7),
        f"conditions[1].fact: 7 is not a fact; known facts: {KNOWN_FACTS}.",
    ),
    "value as text": (
        _set(("conditions", 0, "value"), "600"),
        "conditions[0].value: score takes a whole number from 350 to 950, got the text '600'.",
    ),
    "value as bool": (
        _set(("conditions", 1, "value"), False),
        "conditions[1].value: unpaid_claims takes a whole number of 0 or more, got false.",
    ),
    "value as float": (
        _set(("conditions", 0, "value"), 600.0),
        "conditions[0].value: score takes a whole number from 350 to 950, got 600.0.",
    ),
    "value above the maximum": (
        _set(("conditions", 0, "value"), 1000),
        "conditions[0].value: 1000 is out of range; score takes a whole number from 350 to 950.",
    ),
    "value below the minimum": (
        _set(("conditions", 1, "value"), -1),
        "conditions[1].value: -1 is out of range; unpaid_claims takes a whole number of 0 or more.",
    ),
    "identity level above 2": (
        _set(("conditions", 2, "value"), 3),
        "conditions[2].value: 3 is out of range; identity_level takes a whole number from 0 to 2.",
    ),
    "band value for a non-band fact": (
        _set(("conditions", 0, "value"), "good"),
        "conditions[0].value: 'good' is a band, which only the band fact takes; "
        "score takes a whole number from 350 to 950.",
    ),
    "unknown band for the band fact": (
        _append("conditions", condition("band", ">=", "great")),
        f"conditions[3].value: 'great' is not a band; use one of: {BANDS}.",
    ),
    "number for the band fact": (
        _append("conditions", condition("band", ">=", 2)),
        f"conditions[3].value: 2 is not a band; use one of: {BANDS}.",
    ),
    "unknown op": (
        _set(("conditions", 0, "op"), "=>"),
        "conditions[0].op: '=>' is not an operator; use one of: >=, <=, ==, >, <.",
    ),
    "empty message": (
        _set(("conditions", 1, "message"), ""),
        "conditions[1].message: must be a non-empty text of at most 200 characters "
        "(shown when the condition fails), got an empty text.",
    ),
    "blank message": (
        _set(("conditions", 1, "message"), "   "),
        "conditions[1].message: must be a non-empty text of at most 200 characters "
        "(shown when the condition fails), got an empty text.",
    ),
    "message not a text": (
        _set(("conditions", 0, "message"), None),
        "conditions[0].message: must be a non-empty text of at most 200 characters "
        "(shown when the condition fails), got null.",
    ),
    "message too long": (
        _set(("conditions", 0, "message"), "x" * 201),
        "conditions[0].message: 201 characters is too long; at most 200 are allowed.",
    ),
    "invalid code": (
        _set(("conditions", 1, "code"), "Unpaid-Claims"),
        "conditions[1].code: 'Unpaid-Claims' is not a valid code; use 1 to 50 lowercase "
        "letters, digits and underscores, starting with a letter (or leave it out for the "
        "default <fact>_not_met).",
    ),
    "code with a trailing newline": (
        _set(("conditions", 1, "code"), "unpaid\n"),
        "conditions[1].code: 'unpaid\\n' is not a valid code; use 1 to 50 lowercase "
        "letters, digits and underscores, starting with a letter (or leave it out for the "
        "default <fact>_not_met).",
    ),
    "unknown key in a condition": (
        _set(("conditions", 2, "colour"), "red"),
        "conditions[2].colour: unknown key; allowed keys: fact, op, value, message, code.",
    ),
    "missing key in a condition": (
        _delete(("conditions", 0, "message")),
        "conditions[0].message: missing; a condition needs fact, op, value, message.",
    ),
    "condition not an object": (
        _set(("conditions", 0), "score >= 600"),
        "conditions[0]: must be an object with fact, op, value, message (and optional code), "
        "got the text 'score >= 600'.",
    ),
    "same fact and op twice": (
        _append("conditions", condition("score", ">=", 650)),
        "conditions[3]: repeats score >= of conditions[0]; "
        "keep one condition per fact and operator.",
    ),
    "unknown top-level key": (
        _set(("perk",), "deposit"),
        "perk: unknown key; allowed keys: conditions, tiers.",
    ),
    "conditions not a list": (
        _set(("conditions",), {"fact": "score"}),
        "conditions: must be a list of conditions ([] for none), got an object.",
    ),
    "no conditions key": (
        _delete(("conditions",)),
        "conditions: must be a list of conditions ([] for none), got nothing.",
    ),
    "no tiers key": (
        _delete(("tiers",)),
        "tiers: must be a list of tiers ({band, max_amount}), got nothing.",
    ),
    "no tiers": (
        _set(("tiers",), []),
        "tiers: at least one tier is needed ({band, max_amount}); "
        "without one nothing can ever be waived.",
    ),
    "duplicate band": (
        _set(("tiers", 1, "band"), "good"),
        "tiers[1].band: 'good' already has a tier at tiers[0]; give each band one tier.",
    ),
    "unknown band in a tier": (
        _set(("tiers", 0, "band"), "gold"),
        f"tiers[0].band: 'gold' is not a band; use one of: {BANDS}.",
    ),
    "negative tier": (
        _set(("tiers", 0, "max_amount"), -1),
        "tiers[0].max_amount: must be a whole number of minor units from 0 to "
        "1000000000000 (50000 is 500.00), got -1.",
    ),
    "tier above the absurd amount": (
        _set(("tiers", 2, "max_amount"), ABSURD_AMOUNT + 1),
        "tiers[2].max_amount: must be a whole number of minor units from 0 to "
        "1000000000000 (50000 is 500.00), got 1000000000001.",
    ),
    "tier amount as bool": (
        _set(("tiers", 0, "max_amount"), True),
        "tiers[0].max_amount: must be a whole number of minor units from 0 to "
        "1000000000000 (50000 is 500.00), got true.",
    ),
    "tier amount as text": (
        _set(("tiers", 0, "max_amount"), "500.00"),
        "tiers[0].max_amount: must be a whole number of minor units from 0 to "
        "1000000000000 (50000 is 500.00), got the text '500.00'.",
    ),
    "unknown key in a tier": (
        _set(("tiers", 1, "min_amount"), 0),
        "tiers[1].min_amount: unknown key; allowed keys: band, max_amount.",
    ),
    "missing key in a tier": (
        _delete(("tiers", 1, "max_amount")),
        "tiers[1].max_amount: missing; a tier needs band, max_amount.",
    ),
    "tier not an object": (
        _set(("tiers", 0), 50000),
        "tiers[0]: must be an object with band and max_amount, got 50000.",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_each_invalid_rule_is_named_at_its_place(case: str) -> None:
    # given the defaults with one mistake
    change, expected = INVALID[case]
    data = changed(change)
    # when they are validated
    errors = rules_errors(data)
    # then that one mistake is reported, naming its place and what would be valid
    assert errors == [expected]
    with pytest.raises(RulesInvalid) as raised:
        Rules.from_data(data)
    assert raised.value.errors == [expected]
    assert str(raised.value) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "rules: must be a JSON object with the keys conditions and tiers, got a list."),
        (None, "rules: must be a JSON object with the keys conditions and tiers, got null."),
        (
            '{"conditions": []}',
            "rules: must be a JSON object with the keys conditions and tiers, "
            "got the text '{\"conditions\": []}'.",
        ),
        (42, "rules: must be a JSON object with the keys conditions and tiers, got 42."),
    ],
)
def test_rules_that_are_not_an_object_are_refused(data: Any, expected: str) -> None:
    # given / when / then
    assert rules_errors(data) == [expected]


def test_every_error_is_reported_at_once() -> None:
    # given rules with a mistake in a condition, in a tier and at the top
    data = {
        "conditions": [
            condition("wealth", ">=", 10),
            condition("score", "~", "600", ""),
        ],
        "tiers": [{"band": "good", "max_amount": -5}, {"band": "good", "max_amount": 1}],
        "version": 2,
    }
    # when
    with pytest.raises(RulesInvalid) as raised:
        Rules.from_data(data)
    # then each is named, top level first, then conditions and tiers in order
    assert raised.value.errors == [
        "version: unknown key; allowed keys: conditions, tiers.",
        f"conditions[0].fact: 'wealth' is not a fact; known facts: {KNOWN_FACTS}.",
        "conditions[1].op: '~' is not an operator; use one of: >=, <=, ==, >, <.",
        "conditions[1].value: score takes a whole number from 350 to 950, got the text '600'.",
        "conditions[1].message: must be a non-empty text of at most 200 characters "
        "(shown when the condition fails), got an empty text.",
        "tiers[0].max_amount: must be a whole number of minor units from 0 to "
        "1000000000000 (50000 is 500.00), got -5.",
        "tiers[1].band: 'good' already has a tier at tiers[0]; give each band one tier.",
    ]


def test_edge_values_are_valid() -> None:
    # given no conditions, a 200-character message, a 50-character code, a zero tier
    data = {
        "conditions": [
            {
                "fact": "score",
                "op": "<",
                "value": 950,
                "message": "x" * 200,
                "code": "a" * 50,
            },
            condition("account_age_days", ">=", 10**6),
        ],
        "tiers": [{"band": "poor", "max_amount": 0}, {"band": "fair", "max_amount": ABSURD_AMOUNT}],
    }
    # when / then
    assert rules_errors(data) == []
    assert rules_errors({"conditions": [], "tiers": [{"band": "good", "max_amount": 1}]}) == []


def test_same_fact_with_another_op_is_allowed() -> None:
    # given a score range: at least 600 and at most 900
    data = changed(_append("conditions", condition("score", "<=", 900)))
    # when / then
    assert rules_errors(data) == []


# --- Evaluation ------------------------------------------------------------------------


def test_all_met_in_the_excellent_band_waives_the_whole_deposit() -> None:
    # given a guest who meets every default condition, excellent band
    # when a deposit of 300.00 is asked for
    outcome = evaluate(DEFAULTS, facts(), requested=30000, max_amount=500000, currency="CNY")
    # then all of it is waived
    assert outcome == Outcome(
        eligible=True,
        waived_amount=30000,
        held_amount=0,
        reasons=(Reason("deposit_waived", "The whole deposit of 300.00 CNY is waived."),),
    )


def test_a_deposit_above_the_tier_is_waived_in_part_and_the_rest_held() -> None:
    # given a guest in the good band (tier 500.00)
    guest = facts(score=620, band="good")
    # when a deposit of 1,200.00 is asked for
    outcome = evaluate(DEFAULTS, guest, requested=120000, max_amount=500000, currency="CNY")
    # then 500.00 is waived and 700.00 held
    assert outcome == Outcome(
        eligible=True,
        waived_amount=50000,
        held_amount=70000,
        reasons=(
            Reason(
                "partial_waiver",
                "Up to 500.00 CNY of the deposit can be waived; 700.00 CNY will be held.",
            ),
        ),
    )


def test_the_perks_max_amount_caps_the_tier() -> None:
    # given an excellent guest (tier 2,000.00) and a perk that waives at most 800.00
    # when a deposit of 1,500.00 is asked for
    outcome = evaluate(DEFAULTS, facts(), requested=150000, max_amount=80000, currency="EUR")
    # then 800.00 is waived and 700.00 held
    assert outcome == Outcome(
        eligible=True,
        waived_amount=80000,
        held_amount=70000,
        reasons=(
            Reason(
                "partial_waiver",
                "Up to 800.00 EUR of the deposit can be waived; 700.00 EUR will be held.",
            ),
        ),
    )


def test_a_failing_score_gives_the_conditions_message() -> None:
    # given a guest below the 600 the defaults need
    guest = facts(score=580, band="fair")
    # when
    outcome = evaluate(DEFAULTS, guest, requested=30000, max_amount=500000, currency="CNY")
    # then nothing is waived and the reason is the condition's own
    assert outcome == Outcome(
        eligible=False,
        waived_amount=0,
        held_amount=30000,
        reasons=(Reason("score_not_met", "A score of at least 600 is needed."),),
    )


def test_several_failures_are_all_given_in_rule_order() -> None:
    # given a guest who fails all three default conditions
    guest = facts(score=412, band="poor", unpaid_claims=2, identity_level=0)
    # when
    outcome = evaluate(DEFAULTS, guest, requested=30000, max_amount=500000, currency="CNY")
    # then each failure is a reason, in the rules' order
    assert outcome == Outcome(
        eligible=False,
        waived_amount=0,
        held_amount=30000,
        reasons=(
            Reason("score_not_met", "A score of at least 600 is needed."),
            Reason("unpaid_claims", "No damage claim may be left unpaid."),
            Reason("identity_level_not_met", "A verified phone number is needed."),
        ),
    )


def test_a_missing_optional_fact_does_not_meet_its_condition() -> None:
    # given rules that want bills paid on time, and a guest with no bills in 12 months
    rules = Rules.from_data(
        changed(
            _append(
                "conditions",
                condition("on_time_ratio_12m", ">=", 90, "Most recent bills must be paid on time."),
            )
        )
    )
    guest = facts(on_time_ratio_12m=None)
    # when
    outcome = evaluate(rules, guest, requested=30000, max_amount=500000, currency="CNY")
    # then it cannot be confirmed, so it fails
    assert outcome == Outcome(
        eligible=False,
        waived_amount=0,
        held_amount=30000,
        reasons=(Reason("on_time_ratio_12m_not_met", "Most recent bills must be paid on time."),),
    )


def test_an_absent_fact_does_not_meet_its_condition() -> None:
    # given a guest with no score yet (neither score nor band known)
    guest = facts()
    del guest["score"]
    guest["band"] = None
    # when
    outcome = evaluate(DEFAULTS, guest, requested=30000, max_amount=500000, currency="CNY")
    # then the score condition fails
    assert outcome.reasons == (Reason("score_not_met", "A score of at least 600 is needed."),)
    assert (outcome.eligible, outcome.waived_amount, outcome.held_amount) == (False, 0, 30000)


@pytest.mark.parametrize(
    ("op", "value", "band", "met"),
    [
        (">=", "good", "fair", False),
        (">=", "good", "good", True),
        (">=", "good", "very_good", True),
        (">=", "good", "excellent", True),
        (">", "good", "good", False),
        (">", "good", "very_good", True),
        ("<=", "good", "poor", True),
        ("<=", "good", "very_good", False),
        ("<", "fair", "poor", True),
        ("<", "fair", "fair", False),
        ("==", "very_good", "very_good", True),
        ("==", "very_good", "excellent", False),
    ],
)
def test_a_band_condition_compares_by_rank_worst_first(
    op: str, value: str, band: str, met: bool
) -> None:
    # given rules with one band condition and a tier for every band
    rules = Rules.from_data(
        {
            "conditions": [condition("band", op, value, "The band is not right.")],
            "tiers": [{"band": code, "max_amount": 10000} for code in BAND_CODES],
        }
    )
    # when
    outcome = evaluate(rules, facts(band=band), requested=5000, max_amount=10000, currency="CNY")
    # then
    assert outcome.eligible is met
    if not met:
        assert outcome.reasons == (Reason("band_not_met", "The band is not right."),)


def test_a_band_without_a_tier_waives_nothing_without_naming_it() -> None:
    # given rules that admit a fair score, but with tiers only from good up
    rules = Rules.from_data(changed(_set(("conditions", 0, "value"), 550)))
    guest = facts(score=575, band="fair")
    # when
    outcome = evaluate(rules, guest, requested=30000, max_amount=500000, currency="CNY")
    # then nothing is waived, for a reason that names neither band nor score
    assert (outcome.eligible, outcome.waived_amount, outcome.held_amount) == (False, 0, 30000)
    (reason,) = outcome.reasons
    assert reason.code == NO_WAIVER.code
    assert "575" not in reason.message
    assert "fair" not in reason.message.lower()


def test_a_zero_max_amount_waives_nothing() -> None:
    # given an excellent guest and a perk whose ceiling is 0
    # when
    outcome = evaluate(DEFAULTS, facts(), requested=30000, max_amount=0, currency="CNY")
    # then
    assert outcome == Outcome(
        eligible=False, waived_amount=0, held_amount=30000, reasons=(NO_WAIVER,)
    )


def test_an_unknown_band_waives_nothing() -> None:
    # given rules without conditions and a guest with no band (no score yet)
    rules = Rules.from_data({"conditions": [], "tiers": [{"band": "poor", "max_amount": 100}]})
    # when
    outcome = evaluate(rules, {"band": None}, requested=500, max_amount=100, currency="CNY")
    # then
    assert outcome == Outcome(
        eligible=False, waived_amount=0, held_amount=500, reasons=(NO_WAIVER,)
    )


@pytest.mark.parametrize(
    ("score", "band", "requested"),
    [
        (734, "excellent", 30000),  # whole deposit waived
        (655, "very_good", 250000),  # partial waiver
        (601, "good", 80000),  # partial waiver
        (575, "fair", 30000),  # fails the score condition
    ],
)
def test_reasons_never_contain_the_score_or_the_band(score: int, band: str, requested: int) -> None:
    # given a guest with that score
    guest = facts(score=score, band=band)
    # when
    outcome = evaluate(DEFAULTS, guest, requested=requested, max_amount=500000, currency="CNY")
    # then no reason shows the score's digits or the band
    for reason in outcome.reasons:
        assert str(score) not in reason.message
        assert band not in reason.message.lower()
        assert BAND_LABELS[band].lower() not in reason.message.lower()


@pytest.mark.parametrize(
    ("requested", "max_amount"),
    [(0, 100), (-1, 100), (True, 100), (100, -1), (100, False)],
)
def test_evaluate_refuses_impossible_amounts(requested: int, max_amount: int) -> None:
    # given / when / then
    with pytest.raises(ValueError, match="must be a"):
        evaluate(DEFAULTS, facts(), requested=requested, max_amount=max_amount, currency="CNY")


def test_evaluate_refuses_facts_of_the_wrong_type() -> None:
    # given / when / then: a bug in the caller is loud, never a silent refusal
    with pytest.raises(ValueError, match="score: expected a whole number"):
        evaluate(DEFAULTS, facts(score="734"), requested=100, max_amount=100, currency="CNY")
    with pytest.raises(ValueError, match="band: 'gold' is not a band"):
        evaluate(DEFAULTS, facts(band="gold"), requested=100, max_amount=100, currency="CNY")


# --- Properties ------------------------------------------------------------------------


def _fact_values(key: str) -> st.SearchStrategy[int | str]:
    fact = FACTS[key]
    if key == BAND_FACT:
        return st.sampled_from(BAND_CODES)
    upper = fact.maximum if fact.maximum is not None else fact.minimum + 1000
    return st.integers(fact.minimum, upper)


@st.composite
def guests(draw: st.DrawFn) -> dict[str, int | str | None]:
    """Facts as the scoring app gives them: any fact may be unknown, the band follows the
    score (both absent before a first score)."""
    values: dict[str, int | str | None] = {}
    for key in FACTS:
        if key != BAND_FACT:
            values[key] = draw(st.one_of(st.none(), _fact_values(key)))
    score = values["score"]
    values[BAND_FACT] = band_for(score) if isinstance(score, int) else None
    return values


@st.composite
def rules_data(draw: st.DrawFn) -> dict[str, Any]:
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(FACTS)), st.sampled_from(sorted(OPERATORS))),
            unique=True,
            max_size=6,
        )
    )
    conditions = []
    for fact, op in pairs:
        raw = condition(fact, op, draw(_fact_values(fact)), f"{fact} {op} is not met.")
        if draw(st.booleans()):
            raw["code"] = draw(st.sampled_from(LETTERS)) + draw(
                st.text(LETTERS + "0123456789_", max_size=49)
            )
        conditions.append(raw)
    bands = draw(st.lists(st.sampled_from(BAND_CODES), unique=True, min_size=1))
    tiers = [{"band": band, "max_amount": draw(st.integers(0, 10**7))} for band in bands]
    return {"conditions": conditions, "tiers": tiers}


def _met(raw: Condition, guest: dict[str, int | str | None]) -> bool:
    """The oracle: a condition, decided the long way."""
    actual = guest.get(raw.fact)
    if actual is None:
        return False
    if raw.fact == BAND_FACT:
        left, right = BAND_CODES.index(str(actual)), BAND_CODES.index(str(raw.value))
    else:
        left, right = int(actual), int(raw.value)
    if raw.op == ">=":
        return left >= right
    if raw.op == "<=":
        return left <= right
    if raw.op == ">":
        return left > right
    if raw.op == "<":
        return left < right
    return left == right


@settings(max_examples=300)
@given(rules_data())
def test_generated_rules_are_valid_and_round_trip(data: dict[str, Any]) -> None:
    # given any rules built within the documented limits
    # when they are validated and compiled
    # then there is nothing to fix, and data → rules → data → rules changes nothing
    assert rules_errors(data) == []
    rules = Rules.from_data(data)
    assert Rules.from_data(rules.as_data()) == rules


@settings(max_examples=500)
@given(
    data=rules_data(),
    guest=guests(),
    requested=st.integers(1, 10**8),
    max_amount=st.integers(0, 10**8),
)
def test_decisions_always_add_up(
    data: dict[str, Any],
    guest: dict[str, int | str | None],
    requested: int,
    max_amount: int,
) -> None:
    # given any valid rules, facts and amounts
    rules = Rules.from_data(data)
    # when
    outcome = evaluate(rules, guest, requested=requested, max_amount=max_amount, currency="CNY")
    # then the deposit is split, never over-waived, and eligibility is exactly
    # "every condition met and something to waive"
    failed = [raw for raw in rules.conditions if not _met(raw, guest)]
    band = guest[BAND_FACT]
    cap = min(rules.cap_for_band(band), max_amount) if isinstance(band, str) else 0
    assert outcome.waived_amount + outcome.held_amount == requested
    assert 0 <= outcome.waived_amount <= min(requested, max_amount)
    assert outcome.eligible == (not failed and cap > 0)
    if not outcome.eligible:
        assert outcome.waived_amount == 0
    if failed:
        assert [reason.code for reason in outcome.reasons] == [raw.code for raw in failed]
        assert [reason.message for reason in outcome.reasons] == [raw.message for raw in failed]
    else:
        assert len(outcome.reasons) == 1
        assert outcome.reasons[0].code in {"deposit_waived", "partial_waiver", "no_waiver_for_band"}
        words = outcome.reasons[0].message.lower()
        assert not any(label.lower() in words for label in BAND_LABELS.values())
        assert not any(code in words for code in BAND_CODES)


@settings(max_examples=300)
@given(guest=guests(), requested=st.integers(1, 10**8), max_amount=st.integers(0, 10**8))
def test_default_rules_waive_only_within_their_tiers(
    guest: dict[str, int | str | None], requested: int, max_amount: int
) -> None:
    # given the defaults and any guest
    # when
    outcome = evaluate(DEFAULTS, guest, requested=requested, max_amount=max_amount, currency="CNY")
    # then a waiver needs a score of 600 or more, and stays within its band's tier
    if outcome.eligible:
        assert isinstance(guest["score"], int)
        assert guest["score"] >= 600
        assert outcome.waived_amount <= DEFAULTS.cap_for_band(str(guest[BAND_FACT]))
    else:
        assert outcome.waived_amount == 0


# --- In plain words --------------------------------------------------------------------


def test_requirements_of_the_defaults() -> None:
    # given the defaults and a perk that waives up to 5,000.00
    # when
    lines = requirements(DEFAULTS, max_amount=500000, currency="CNY")
    # then each condition, then each tier, in words with the thresholds
    assert lines == [
        Requirement("score", "Score at least 600", "condition", op=">=", threshold=600),
        Requirement("unpaid_claims", "Unpaid claims: none", "condition", op="==", threshold=0),
        Requirement(
            "identity_level",
            "A verified phone number (or identity document)",
            "condition",
            op=">=",
            threshold=1,
        ),
        Requirement(
            "band", "Band Good: up to 500.00 CNY waived", "tier", band="good", amount=50000
        ),
        Requirement(
            "band",
            "Band Very good: up to 1,000.00 CNY waived",
            "tier",
            band="very_good",
            amount=100000,
        ),
        Requirement(
            "band",
            "Band Excellent: up to 2,000.00 CNY waived",
            "tier",
            band="excellent",
            amount=200000,
        ),
    ]


def test_a_band_condition_is_given_as_its_band_not_a_threshold() -> None:
    # given rules that ask for a band rather than a number
    rules = Rules.from_data(
        {
            "conditions": [
                {"fact": "band", "op": ">=", "value": "very_good", "message": "Very good."}
            ],
            "tiers": [{"band": "excellent", "max_amount": 0}],
        }
    )
    # when / then the band is data a client can translate, and a tier of 0 waives nothing
    assert requirements(rules, max_amount=50000, currency="CNY") == [
        Requirement(
            "band",
            "Band at least Very good",
            "condition",
            op=">=",
            threshold=None,
            band="very_good",
        ),
        Requirement("band", "Band Excellent: nothing waived", "tier", band="excellent", amount=0),
    ]


def test_requirements_cap_each_tier_by_the_perks_max_amount() -> None:
    # given / when a perk that waives up to 800.00
    lines = requirements(DEFAULTS, max_amount=80000, currency="EUR")
    # then the tiers above it read 800.00
    assert [line.text for line in lines[3:]] == [
        "Band Good: up to 500.00 EUR waived",
        "Band Very good: up to 800.00 EUR waived",
        "Band Excellent: up to 800.00 EUR waived",
    ]
    # and a ceiling of 0 waives nothing
    assert (
        requirements(DEFAULTS, max_amount=0, currency="EUR")[3].text == "Band Good: nothing waived"
    )


def test_requirements_of_every_kind_of_fact() -> None:
    # given a condition on each kind of fact
    rules = Rules.from_data(
        {
            "conditions": [
                condition("band", ">=", "very_good"),
                condition("band", "<", "excellent"),
                condition("identity_level", "==", 2),
                condition("identity_level", "<", 1),
                condition("on_time_ratio_12m", ">=", 90),
                condition("account_age_days", ">", 90),
                condition("no_shows_12m", "<=", 1),
                condition("late_payments_24m", "<", 1),
                condition("bookings_completed", ">=", 3),
                condition("open_disputes", "<=", 0),
                condition("score", "<", 900),
            ],
            "tiers": [{"band": "poor", "max_amount": 5}],
        }
    )
    # when
    lines = requirements(rules, max_amount=100, currency="CNY")
    # then
    assert [(line.fact, line.text) for line in lines] == [
        ("band", "Band at least Very good"),
        ("band", "Band worse than Excellent"),
        ("identity_level", "Identity verification exactly identity document verified"),
        ("identity_level", "Identity verification less than phone verified"),
        ("on_time_ratio_12m", "Bills paid on time (12 months) at least 90%"),
        ("account_age_days", "Account age more than 90 days"),
        ("no_shows_12m", "No-shows (12 months) at most 1"),
        ("late_payments_24m", "Late payments (24 months): none"),
        ("bookings_completed", "Bookings completed (24 months) at least 3"),
        ("open_disputes", "Open disputes: none"),
        ("score", "Score less than 900"),
        ("band", "Band Poor: up to 0.05 CNY waived"),
    ]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "0.00 CNY"),
        (5, "0.05 CNY"),
        (100, "1.00 CNY"),
        (50000, "500.00 CNY"),
        (123456, "1,234.56 CNY"),
        (123456789, "1,234,567.89 CNY"),
        (-150, "-1.50 CNY"),
    ],
)
def test_format_amount(amount: int, expected: str) -> None:
    # given / when / then: the server's one money formatter keeps the text of CNY amounts
    assert format_money(amount, "CNY") == expected
