"""The distance to a perk, pure: no database.

The main property is checked against a brute force. For random features, scorecards,
rules and small bounds, every plan within the bounds is simulated end to end (the
what-if, the scorecard, the facts as ``scoring.selectors.facts_of`` builds them, the
rules): the planner's plan must flip the decision and be the cheapest that does, and
when it says nothing flips it, nothing must.
"""

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from merchants.perks.qualify import (
    BLOCKED_FACTS,
    BOOKING_COST,
    CLAIM_COST,
    IDENTITY_COSTS,
    Bounds,
    FadingRecord,
    OpenDispute,
    Planner,
    Qualification,
    QualifyStatus,
    Situation,
    Step,
    StepCode,
    UnpaidClaim,
    _ScoreTest,
    merged_changes,
    outcome_simulated,
    requested_amount,
    simulated_facts,
)
from merchants.perks.rules import DEFAULT_RULES, OPERATORS, Rules, condition_met, evaluate
from scoring.facts import BAND_CODES, FACTS, Features, band_for
from scoring.scorecard import SCORE_MAX, SCORE_MIN, Scorecard, simulate
from scoring.selectors import facts_of
from tests.scoring.test_scorecard import any_definition, any_features

DEFAULT_V1 = importlib.import_module(
    "scoring.migrations.0002_default_scorecard_and_guards"
).DEFAULT_V1
V1 = Scorecard.from_definition(DEFAULT_V1, version=1)
DEFAULTS = Rules.from_data(DEFAULT_RULES)
NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
HOTEL_MAX = 200_000
SMALL = Bounds(bills=4, bookings=3, claims=2, waits=3)


def features(**overrides: int) -> Features:
    """A new account with nothing: identity none, no history."""
    values = {
        "identity_level": 0,
        "account_age_days": 10,
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


def situation(values: Features, **extra: Any) -> Situation:
    return Situation(
        features=values,
        account_opened_at=NOW - timedelta(days=values.account_age_days, hours=3),
        now=NOW,
        **extra,
    )


def plan(
    values: Features,
    rules: Rules = DEFAULTS,
    *,
    max_amount: int = HOTEL_MAX,
    card: Scorecard = V1,
    **extra: Any,
) -> Qualification:
    return Planner(situation(values, **extra), card, currency="CNY").plan(
        rules, max_amount=max_amount
    )


def outline(qualification: Qualification) -> list[tuple[str, str, dict[str, int]]]:
    return [(step.code, step.text, dict(step.changes)) for step in qualification.steps]


def with_condition(**condition: Any) -> Rules:
    return Rules.from_data(
        {"conditions": [*DEFAULT_RULES["conditions"], condition], "tiers": DEFAULT_RULES["tiers"]}
    )


def claim(amount: int, merchant: str, days_ago: int = 5) -> UnpaidClaim:
    return UnpaidClaim(
        amount=amount,
        currency="CNY",
        merchant_name=merchant,
        recorded_at=NOW - timedelta(days=days_ago),
        claim_id=f"claim-{merchant}",
    )


def decided(card: Scorecard, values: Features, changes: Mapping[str, int], rules: Rules, top: int):
    """The rules' decision after ``changes``, put together from the what-if, the
    scorecard and the facts as the scoring selectors build them."""
    simulated = simulate(values, changes)
    result = card.evaluate(simulated)
    facts = facts_of(score=result.score, band=result.band, features=simulated.as_dict())
    return evaluate(rules, facts, requested=requested_amount(top), max_amount=top, currency="CNY")


# --- Examples with the default scorecard and rules -------------------------------------


def test_a_thin_file_verifies_a_phone_number() -> None:
    # 560 and no verified identity: a phone number makes 600 and meets the condition
    answer = plan(features())
    assert answer.status == QualifyStatus.REACHABLE
    assert outline(answer) == [
        ("identity_level", "Verify your phone number", {"identity_level": 1})
    ]
    assert (answer.note, answer.note_code) == ("", "")


def test_unpaid_claims_are_named_smallest_first() -> None:
    # Given two unpaid claims, and rules that allow none
    values = features(identity_level=2, on_time_payments_12m=3, unpaid_claims=2, history_events=5)
    claims = (claim(30_000, "Hill Hotel", days_ago=2), claim(12_000, "Harbour Hotel"))
    # Then both are to be settled, the smaller named first
    answer = plan(values, unpaid_claims=claims)
    assert outline(answer) == [
        (
            "settle_unpaid_claims",
            "Settle the unpaid claims of 120.00 CNY from Harbour Hotel and of 300.00 CNY "
            "from Hill Hotel",
            {"settle_unpaid_claims": 2},
        )
    ]
    assert [c.merchant_name for c in answer.steps[0].claims] == ["Harbour Hotel", "Hill Hotel"]


def test_only_the_smallest_claim_is_settled_when_one_is_enough() -> None:
    # Given rules that allow one unpaid claim and a scorecard where only the count
    # matters
    rules = Rules.from_data(
        {
            "conditions": [
                {"fact": "unpaid_claims", "op": "<=", "value": 1, "message": "One at most."}
            ],
            "tiers": [{"band": "poor", "max_amount": 100}],
        }
    )
    values = features(unpaid_claims=2, history_events=2)
    claims = (claim(30_000, "Hill Hotel"), claim(12_000, "Harbour Hotel"))
    # Then one claim, the smaller
    answer = plan(values, rules, max_amount=100, unpaid_claims=claims)
    assert outline(answer) == [
        (
            "settle_unpaid_claims",
            "Settle the unpaid claim of 120.00 CNY from Harbour Hotel",
            {"settle_unpaid_claims": 1},
        )
    ]


def test_a_claim_without_a_merchant_is_named_by_its_date() -> None:
    values = features(identity_level=2, on_time_payments_12m=3, unpaid_claims=1, history_events=4)
    record = UnpaidClaim(
        amount=None, currency="CNY", merchant_name="", recorded_at=datetime(2026, 2, 3, tzinfo=UTC)
    )
    answer = plan(values, unpaid_claims=(record,))
    assert outline(answer) == [
        (
            "settle_unpaid_claims",
            "Settle the unpaid claim recorded on 3 February 2026",
            {"settle_unpaid_claims": 1},
        )
    ]


def test_bills_are_counted_to_the_one_that_is_enough() -> None:
    # Two late payments (0% on time, 575): two bills on time make 50% (605)
    values = features(
        identity_level=2,
        account_age_days=30,
        late_payments_12m=2,
        late_payments_24m=2,
        history_events=2,
    )
    answer = plan(values)
    assert outline(answer) == [
        ("pay_next_bills_on_time", "Pay your next 2 bills on time", {"pay_next_bills_on_time": 2})
    ]
    assert decided(V1, values, {"pay_next_bills_on_time": 2}, DEFAULTS, HOTEL_MAX).eligible
    assert not decided(V1, values, {"pay_next_bills_on_time": 1}, DEFAULTS, HOTEL_MAX).eligible


def test_acting_now_is_preferred_to_waiting() -> None:
    # 590 with a no-show that fades in a month: a bill on time is enough today
    values = features(identity_level=2, no_shows_12m=1, history_events=1)
    fading = (FadingRecord("no_shows_12m", NOW - timedelta(days=335), NOW + timedelta(days=30)),)
    answer = plan(values, fading_records=fading)
    assert outline(answer) == [
        ("pay_next_bills_on_time", "Pay your next bill on time", {"pay_next_bills_on_time": 1})
    ]


def test_a_no_show_only_time_removes_is_waited_for() -> None:
    # Given rules that allow no no-show, and one that stops counting on 31 March 2026
    rules = with_condition(fact="no_shows_12m", op="==", value=0, message="No no-shows.")
    values = features(identity_level=2, on_time_payments_12m=2, no_shows_12m=1, history_events=3)
    ends = datetime(2026, 3, 31, 9, 15, tzinfo=UTC)
    fading = (FadingRecord("no_shows_12m", ends - timedelta(days=365), ends),)
    # Then the plan waits until the next day starts, and says why
    answer = plan(values, rules, fading_records=fading)
    assert answer.status == QualifyStatus.REACHABLE
    assert outline(answer) == [
        (
            "wait_until",
            "Wait until 1 April 2026: by then your no-show of 31 March 2025 no longer counts",
            {"account_age_days": 40, "no_shows_12m": 0},
        )
    ]
    assert answer.steps[0].on == date(2026, 4, 1)
    # (what the wait brings about, as facts: the age is not what is waited for)
    assert answer.steps[0].waits_for == ("no_shows_12m",)
    # And the wait, simulated, flips the decision
    assert decided(V1, values, answer.changes, rules, HOTEL_MAX).eligible
    assert not decided(V1, values, {"account_age_days": 40}, rules, HOTEL_MAX).eligible


def test_an_account_age_condition_waits_for_the_age_and_nothing_longer() -> None:
    rules = with_condition(fact="account_age_days", op=">=", value=90, message="90 days.")
    values = features(identity_level=2, on_time_payments_12m=1, history_events=1)
    answer = plan(values, rules)
    (step,) = answer.steps
    opened = NOW - timedelta(days=10, hours=3)  # 09:30 on 19 February 2026
    assert step.code == StepCode.WAIT_UNTIL
    assert step.on == (opened + timedelta(days=90)).date() + timedelta(days=1)
    assert step.changes == {"account_age_days": 90}
    assert step.text == "Wait until 21 May 2026: by then your account is 90 days old"
    assert step.waits_for == ("account_age_days",)


def test_an_open_dispute_is_out_of_reach_with_the_plan_for_the_rest() -> None:
    # Given rules that allow no open dispute, a citizen with one, and a score too low
    rules = with_condition(fact="open_disputes", op="==", value=0, message="No open disputes.")
    values = features(identity_level=2, open_disputes=1, late_payments_24m=2, history_events=2)
    opened = datetime(2026, 2, 20, 10, tzinfo=UTC)
    dispute = OpenDispute(opened_at=opened, resolved_by=opened + timedelta(days=30))
    # Then the steps for the rest, then when the dispute is answered at the latest
    answer = plan(values, rules, open_disputes=(dispute,))
    assert answer.status == QualifyStatus.OUT_OF_REACH
    assert [(step.code, dict(step.changes), step.on) for step in answer.steps] == [
        ("pay_next_bills_on_time", {"pay_next_bills_on_time": 1}, None),
        ("await_dispute_resolution", {}, date(2026, 3, 22)),
    ]
    assert answer.steps[1].text == (
        "Your dispute of 20 February 2026 is answered by 22 March 2026 at the latest: the "
        "merchant verifies or corrects the record, or it is removed"
    )
    assert answer.note == (
        "These steps are not enough on their own. No open disputes. Only how your open "
        "dispute ends can change that: the merchant that reported the record answers it "
        "within 30 days (or the record is removed), and staff decide it if you escalate it."
    )
    assert answer.note_code == "blocked_by_dispute"


def test_an_open_dispute_alone_in_the_way_is_said_plainly() -> None:
    # Everything else is met: no step, only the dispute's resolution
    rules = with_condition(fact="open_disputes", op="==", value=0, message="No open disputes.")
    values = features(identity_level=2, open_disputes=1, on_time_payments_12m=1, history_events=1)
    opened = datetime(2026, 2, 20, 10, tzinfo=UTC)
    dispute = OpenDispute(opened_at=opened, resolved_by=opened + timedelta(days=30))
    answer = plan(values, rules, open_disputes=(dispute,))
    assert [step.code for step in answer.steps] == ["await_dispute_resolution"]
    assert answer.note == (
        "No open disputes. Only how your open dispute ends can change that: the merchant "
        "that reported the record answers it within 30 days (or the record is removed), and "
        "staff decide it if you escalate it."
    )
    assert answer.note_code == "blocked_by_dispute"


def test_nothing_within_reach_says_so() -> None:
    rules = with_condition(fact="score", op=">", value=899, message="Above 899 only.")
    answer = plan(features(), rules)
    assert answer == Qualification(
        status=QualifyStatus.OUT_OF_REACH,
        note=(
            "Nothing within reach flips this decision: paying your next 24 bills on time, "
            "completing 12 bookings, settling your unpaid claims, verifying your identity "
            "and waiting up to 3 years would not be enough."
        ),
        note_code="out_of_reach",
    )


def test_a_perk_that_waives_nothing_has_no_plan() -> None:
    answer = plan(features(identity_level=2, on_time_payments_12m=1), max_amount=0)
    assert (answer.status, answer.steps) == (QualifyStatus.OUT_OF_REACH, ())
    assert answer.note == "This perk waives no part of a deposit at any level at the moment."
    assert answer.note_code == "no_tier_waives"


def test_a_score_about_to_be_recomputed_needs_no_step() -> None:
    # The planner simulates with the active scorecard: features it already accepts (a
    # snapshot made by a retired scorecard refused them) need no step.
    answer = plan(features(identity_level=2, on_time_payments_12m=1, history_events=1))
    assert (answer.status, answer.steps) == (QualifyStatus.REACHABLE, ())
    assert answer.note.startswith("Your score is being brought up to date")
    assert answer.note_code == "rescoring"


# --- Ties and costs, on a scorecard made for them --------------------------------------


def tie_card() -> Scorecard:
    """590 for a citizen with no bills, no bookings and one unpaid claim; a bill on time,
    a settled claim each add 5 and a booking adds 10."""

    def factor(key: str, fact: str, bins: list[tuple[int, int]], **extra: Any) -> dict:
        return {
            "key": key,
            "fact": fact,
            "label": key,
            "reason": key,
            "tip": key,
            "bins": [{"from": start, "points": points} for start, points in bins],
            **extra,
        }

    return Scorecard.from_definition(
        {
            "base_points": 590,
            "factors": [
                factor("bills", "on_time_ratio_12m", [(0, 0), (100, 5)], missing_points=0),
                factor("claims", "unpaid_claims", [(0, 5), (1, 0)]),
                factor("bookings", "bookings_completed", [(0, 0), (1, 10)]),
            ],
        }
    )


def test_at_equal_cost_fewer_kinds_of_step_win() -> None:
    # A booking (cost 2, one kind) or a bill and a claim (cost 2, two kinds) both make 600
    rules = Rules.from_data(
        {
            "conditions": [{"fact": "score", "op": ">=", "value": 600, "message": "600."}],
            "tiers": [{"band": "good", "max_amount": 100}],
        }
    )
    values = features(unpaid_claims=1, history_events=1)
    answer = plan(
        values, rules, max_amount=100, card=tie_card(), unpaid_claims=(claim(500, "Inn"),)
    )
    assert outline(answer) == [
        (
            "complete_next_bookings",
            "Complete your next booking without a problem",
            {"complete_next_bookings": 1},
        )
    ]


def test_merged_changes_are_a_union_of_disjoint_steps() -> None:
    steps = [
        Step(code="a", text="a", changes={"pay_next_bills_on_time": 2}),
        Step(code="b", text="b"),
        Step(code="c", text="c", changes={"identity_level": 1}),
    ]
    assert merged_changes(steps) == {"pay_next_bills_on_time": 2, "identity_level": 1}
    with pytest.raises(ValueError, match="share"):
        merged_changes([*steps, Step(code="d", text="d", changes={"identity_level": 2})])


def test_open_disputes_are_the_only_fact_no_step_moves() -> None:
    assert frozenset({"open_disputes"}) == BLOCKED_FACTS


# --- Against a brute force -------------------------------------------------------------


# Values a condition may ask for, near where citizens are (so that plans exist often).
CONDITION_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "score": st.integers(500, 760),
    "band": st.sampled_from(BAND_CODES),
    "identity_level": st.integers(0, 2),
    "account_age_days": st.integers(0, 500),
    "on_time_ratio_12m": st.integers(0, 100),
    "late_payments_24m": st.integers(0, 4),
    "bookings_completed": st.integers(0, 4),
    "no_shows_12m": st.integers(0, 2),
    "unpaid_claims": st.integers(0, 2),
    "stays_completed_well_24m": st.integers(0, 100),
    "open_disputes": st.integers(0, 1),
}


@st.composite
def any_condition(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly in the fact's good direction ("at least" what is good, "at most" what is
    bad), sometimes any operator at all."""
    key = draw(st.sampled_from(sorted(FACTS)))
    good = (">=", ">") if FACTS[key].higher_is_better else ("<=", "<", "==")
    op = draw(
        st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(sorted(OPERATORS)))
    )
    value = draw(CONDITION_VALUES[key])
    if op == "<" and key != "band":
        value = max(value, FACTS[key].minimum + 1)  # "< 0" says nothing worth testing
    return {"fact": key, "op": op, "value": value, "message": f"{key} {op} {value}."}


@st.composite
def any_rules(draw: st.DrawFn) -> Rules:
    conditions = draw(st.lists(any_condition(), max_size=3))
    unique = list({(c["fact"], c["op"]): c for c in conditions}.values())
    # Mostly a tier for every band from one up, as real rules have; sometimes any bands.
    lowest = draw(st.integers(1, len(BAND_CODES) - 1))
    bands = draw(
        st.one_of(
            st.just(list(BAND_CODES[lowest:])),
            st.just(list(BAND_CODES[lowest:])),
            st.lists(st.sampled_from(BAND_CODES), min_size=1, max_size=5, unique=True),
        )
    )
    tiers = [
        {"band": band, "max_amount": draw(st.sampled_from([1_500, 1_000, 500, 0]))}
        for band in bands
    ]
    return Rules.from_data({"conditions": unique, "tiers": tiers})


@dataclass(frozen=True)
class Case:
    situation: Situation
    card: Scorecard
    rules: Rules
    max_amount: int


@st.composite
def any_case(draw: st.DrawFn) -> Case:
    values = draw(any_features())
    values = values._replace(account_age_days=min(values.account_age_days, 1_200))
    no_shows = tuple(
        FadingRecord(
            "no_shows_12m",
            NOW - timedelta(days=365 - days),
            NOW + timedelta(days=days, hours=draw(st.integers(0, 23))),
        )
        for days in draw(
            st.lists(
                st.integers(1, 364), min_size=values.no_shows_12m, max_size=values.no_shows_12m
            )
        )
    )
    late = tuple(
        FadingRecord(
            "late_payments_24m", NOW - timedelta(days=730 - days), NOW + timedelta(days=days)
        )
        for days in draw(
            st.lists(
                st.integers(1, 729),
                min_size=values.late_payments_24m,
                max_size=values.late_payments_24m,
            )
        )
    )
    claims = tuple(
        claim(draw(st.integers(100, 50_000)), f"Hotel {index}")
        for index in range(values.unpaid_claims)
    )
    disputes = tuple(
        OpenDispute(NOW - timedelta(days=1), NOW + timedelta(days=29))
        for _ in range(values.open_disputes)
    )
    case_situation = Situation(
        features=values,
        account_opened_at=NOW - timedelta(days=values.account_age_days, hours=2),
        now=NOW,
        unpaid_claims=claims,
        fading_records=no_shows + late,
        open_disputes=disputes,
    )
    card = draw(
        st.one_of(st.just(V1), st.just(V1), any_definition().map(Scorecard.from_definition))
    )
    return Case(case_situation, card, draw(any_rules()), draw(st.sampled_from([2_000, 1_000, 0])))


def wait_changes(case: Case, at: datetime) -> dict[str, int]:
    """What time moves by ``at``, worked out here from the records."""
    values = case.situation.features
    changes = {"account_age_days": (at - case.situation.account_opened_at).days}
    for fact in ("no_shows_12m", "late_payments_24m"):
        gone = sum(
            1
            for record in case.situation.fading_records
            if record.fact == fact and record.counts_until <= at
        )
        if gone:
            changes[fact] = getattr(values, fact) - gone
    return changes


def brute_force(case: Case, rules: Rules, moments: list[datetime]) -> tuple | None:
    """The key of the cheapest plan within SMALL that flips the decision, trying them
    all: (wait, cost, kinds, bookings, identity level, claims, bills)."""
    values = case.situation.features
    claims_top = min(SMALL.claims, values.unpaid_claims, len(case.situation.unpaid_claims))
    best = None
    for index, at in enumerate([None, *moments]):
        wait = {} if at is None else wait_changes(case, at)
        for level in range(values.identity_level, 3):
            for claims in range(claims_top + 1):
                for bookings in range(SMALL.bookings + 1):
                    for bills in range(SMALL.bills + 1):
                        changes = {
                            **wait,
                            "pay_next_bills_on_time": bills,
                            "complete_next_bookings": bookings,
                            "settle_unpaid_claims": claims,
                            "identity_level": level,
                        }
                        outcome = decided(case.card, values, changes, rules, case.max_amount)
                        if not outcome.eligible:
                            continue
                        raised = level != values.identity_level
                        cost = (
                            bills
                            + BOOKING_COST * bookings
                            + CLAIM_COST * claims
                            + (IDENTITY_COSTS[level] if raised else 0)
                        )
                        kinds = (bills > 0) + (bookings > 0) + (claims > 0) + raised
                        key = (index, cost, kinds, bookings, level, claims, bills)
                        best = key if best is None or key < best else best
        if best is not None:
            return best
    return None


def key_of(case: Case, steps: tuple[Step, ...], moments: list[datetime]) -> tuple:
    """The same key, read from the planner's steps."""
    values, changes = case.situation.features, merged_changes(steps)
    bills = changes.get("pay_next_bills_on_time", 0)
    bookings = changes.get("complete_next_bookings", 0)
    claims = changes.get("settle_unpaid_claims", 0)
    level = changes.get("identity_level", values.identity_level)
    raised = level != values.identity_level
    waits = [step.on for step in steps if step.code == StepCode.WAIT_UNTIL]
    # a wait always says the day it ends
    index = [moment.date() for moment in moments].index(cast(date, waits[0])) + 1 if waits else 0
    cost = bills + BOOKING_COST * bookings + CLAIM_COST * claims
    cost += IDENTITY_COSTS[level] if raised else 0
    kinds = (bills > 0) + (bookings > 0) + (claims > 0) + raised
    return (index, cost, kinds, bookings, level, claims, bills)


@given(case=any_case())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_plan_is_the_cheapest_that_flips_the_decision(case: Case) -> None:
    # Given a refusal (a plan is asked for refusals only)
    values = case.situation.features
    assume(not decided(case.card, values, {}, case.rules, case.max_amount).eligible)
    planner = Planner(case.situation, case.card, currency="CNY", bounds=SMALL)
    # When the planner plans, and every plan within the bounds is tried
    answer = planner.plan(case.rules, max_amount=case.max_amount)
    moments = planner.wait_moments(case.rules)
    facts = simulated_facts(case.card, values)
    blocked = [c for c in case.rules.conditions if c.fact in BLOCKED_FACTS]
    failing = [c for c in blocked if not condition_met(c, facts)]
    searched = Rules(
        conditions=tuple(c for c in case.rules.conditions if c not in failing),
        tiers=case.rules.tiers,
    )
    best = brute_force(case, searched, moments)
    acting = tuple(s for s in answer.steps if s.code != StepCode.AWAIT_DISPUTE_RESOLUTION)
    # Then the planner found the cheapest plan, or rightly none
    if best is None:
        assert acting == ()
        assert answer.status == QualifyStatus.OUT_OF_REACH
    else:
        assert key_of(case, acting, moments) == best
    if failing:
        assert answer.status == QualifyStatus.OUT_OF_REACH
        assert len(answer.steps) - len(acting) == len(case.situation.open_disputes)
    elif best is not None:
        # And its steps, merged and simulated, flip the decision
        assert answer.status == QualifyStatus.REACHABLE
        outcome = outcome_simulated(
            case.card, values, answer.changes, case.rules, max_amount=case.max_amount, currency="X"
        )
        assert outcome.eligible
        assert decided(case.card, values, answer.changes, case.rules, case.max_amount).eligible


@given(values=any_features(), definition=any_definition())
@settings(max_examples=200, deadline=None)
def test_simulated_facts_are_built_as_the_scoring_selectors_build_them(
    values: Features, definition: dict
) -> None:
    card = Scorecard.from_definition(definition)
    result = card.evaluate(values)
    assert simulated_facts(card, values) == facts_of(
        score=result.score, band=result.band, features=values.as_dict()
    )


def test_answers_are_shared_by_perks_with_the_same_rules() -> None:
    planner = Planner(situation(features()), V1, currency="CNY")
    first = planner.plan(DEFAULTS, max_amount=HOTEL_MAX)
    assert planner.plan(Rules.from_data(DEFAULT_RULES), max_amount=HOTEL_MAX) is first


def test_the_start_of_the_next_day_is_the_moment_waited_for() -> None:
    # A record that stops counting exactly at midnight is waited for until then, not a
    # day later
    values = features(identity_level=2, on_time_payments_12m=2, no_shows_12m=1, history_events=3)
    ends = datetime.combine(date(2026, 4, 1), time.min, tzinfo=UTC)
    fading = (FadingRecord("no_shows_12m", ends - timedelta(days=365), ends),)
    rules = with_condition(fact="no_shows_12m", op="==", value=0, message="No no-shows.")
    planner = Planner(situation(values, fading_records=fading), V1, currency="CNY")
    assert ends in planner.wait_moments(rules)
    assert planner.plan(rules, max_amount=HOTEL_MAX).steps[0].on == date(2026, 4, 1)


def test_more_than_a_score_is_more_than_it() -> None:
    # "more than 600": a phone number (600) is not enough, a document (620) is
    rules = Rules.from_data(
        {
            "conditions": [
                {"fact": "score", "op": ">", "value": 600, "message": "More than 600."},
                *DEFAULT_RULES["conditions"][1:],
            ],
            "tiers": DEFAULT_RULES["tiers"],
        }
    )
    answer = plan(features(), rules)
    assert outline(answer) == [
        ("identity_level", "Verify an identity document", {"identity_level": 2})
    ]


@st.composite
def score_rules(draw: st.DrawFn) -> Rules:
    """Rules on the score and band only, with any operator, and any tiers."""
    conditions = [
        {"fact": fact, "op": op, "value": draw(CONDITION_VALUES[fact]), "message": "Needed."}
        for fact, op in draw(
            st.lists(
                st.tuples(st.sampled_from(["score", "band"]), st.sampled_from(sorted(OPERATORS))),
                max_size=3,
                unique=True,
            )
        )
    ]
    bands = draw(st.lists(st.sampled_from(BAND_CODES), min_size=1, max_size=5, unique=True))
    tiers = [{"band": band, "max_amount": draw(st.sampled_from([1_000, 0]))} for band in bands]
    return Rules.from_data({"conditions": conditions, "tiers": tiers})


@given(rules=score_rules(), max_amount=st.sampled_from([2_000, 1_000, 0]))
@settings(max_examples=300, deadline=None)
def test_the_scores_the_search_accepts_are_those_the_rules_accept(
    rules: Rules, max_amount: int
) -> None:
    # The search tests a score against ranges worked out once per perk; every score
    # from 350 to 950 must get the answer the rules themselves give
    on_score = [c for c in rules.conditions if c.fact in ("score", "band")]
    accepts = _ScoreTest(on_score, rules, max_amount)
    for score in range(SCORE_MIN, SCORE_MAX + 1):
        facts: dict[str, int | str | None] = {"score": score, "band": band_for(score)}
        expected = all(condition_met(c, facts) for c in on_score) and (
            min(rules.cap_for_band(band_for(score)), max_amount) > 0
        )
        assert accepts(score) is expected, score
