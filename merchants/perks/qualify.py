"""Distance to a perk: the cheapest plan that turns a refusal into a waiver.

No database here. Given a citizen's features, what they could act on (their unpaid
claims, the negative records that will stop counting, their open disputes), the active
scorecard and a perk's rules, :class:`Planner` finds the plan the citizen's perks view
shows as ``to_qualify``: the steps that, done together, make the merchant's rules waive
some of the deposit. It uses the same pieces the merchant's decision and the what-if
use (``scoring.scorecard.simulate``, the scorecard, ``merchants.perks.rules``), so a plan it
shows really flips the decision in the simulation, and it checks that before showing it.

Steps, each with the simulation changes a client can merge (their keys never overlap)
and post to ``/api/v1/me/score/simulate``:

=========================  ==========================================  ==============
code                       changes                                     cost
=========================  ==========================================  ==============
``settle_unpaid_claims``   ``{"settle_unpaid_claims": n}``             1 a claim
``identity_level``         ``{"identity_level": 1 or 2}``              3 phone, 4 document
``pay_next_bills_on_time`` ``{"pay_next_bills_on_time": n}``           1 a bill
``complete_next_bookings`` ``{"complete_next_bookings": n}``           2 a booking
``wait_until``             ``account_age_days`` and, if any record     time (see below)
                           stops counting by then, ``no_shows_12m`` /
                           ``late_payments_24m``
=========================  ==========================================  ==============

Costs are rough effort: a bill is paid in passing each month; a booking needs a stay;
settling a claim is one payment (the smallest claims are named first); verifying a
phone number or a document means a check by staff, a document more so. Claims are
settled smallest first, since any one of them moves the facts as much as another.

A plan is compared by (how long it waits, its cost, how many kinds of step it has,
then fewer bookings, a lower identity level, fewer claims, fewer bills): the citizen is
asked to wait only when nothing they can do now is enough, and then as briefly as
possible. Time is simulated only through the facts it moves by itself (the account's
age, no-shows and late payments stopping to count); the other records are taken as they
are, so a wait assumes the citizen keeps their positive record up.

How the search stays fast. A scorecard factor reads one fact and each kind of step
moves its own facts, so a plan's score is a fixed part plus one number per kind of
step; the one fact two kinds move, the share of stays completed well (completed bookings
raise it, settled claims take their stays out of it), adds one number per pair of
bookings and claims counts (``_JOINT_FACTS``). For each moment (now, then each date on
which something fades or the account reaches an age that matters) the planner
simulates every value of every kind of step once, with the real ``simulate`` and
scorecard, and keeps the facts and points of each (the pairs only for a scorecard or
rules that read a joint fact).
A perk's search then needs only additions and look-ups: at most 3 identity levels x 11
claim counts x 13 booking counts, each scanning up to 25 bill counts for the first that
is enough, cheapest first and stopping as soon as nothing cheaper can remain; a moment
whose best and worst scores are all refused is skipped without a scan. The simulations
of a moment are shared by every perk of the request, and perks with the same rules and
maximum share their answer.

What the simulation cannot change (an open dispute; only its resolution can) is stated
apart: the plan for everything else, an information step saying by when the dispute is
resolved at the latest, and a note. A decision nothing within the bounds flips gets no
plan and a note saying so.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from common.money import format_money
from merchants.perks.rules import (
    BAND_FACT,
    Condition,
    Outcome,
    Rules,
    condition_met,
    evaluate,
)
from scoring.facts import BANDS, FACTS, Features
from scoring.scorecard import SCORE_MAX, SCORE_MIN, Scorecard, simulate

logger = logging.getLogger(__name__)

SCORE_FACT = "score"


class StepCode:
    """Stable codes of the steps of a plan."""

    SETTLE_UNPAID_CLAIMS = "settle_unpaid_claims"
    IDENTITY_LEVEL = "identity_level"
    PAY_NEXT_BILLS_ON_TIME = "pay_next_bills_on_time"
    COMPLETE_NEXT_BOOKINGS = "complete_next_bookings"
    WAIT_UNTIL = "wait_until"
    # Information only (no changes): by when an open dispute is resolved at the latest.
    AWAIT_DISPUTE_RESOLUTION = "await_dispute_resolution"


STEP_CODES: tuple[str, ...] = (
    StepCode.SETTLE_UNPAID_CLAIMS,
    StepCode.IDENTITY_LEVEL,
    StepCode.PAY_NEXT_BILLS_ON_TIME,
    StepCode.COMPLETE_NEXT_BOOKINGS,
    StepCode.WAIT_UNTIL,
    StepCode.AWAIT_DISPUTE_RESOLUTION,
)


class QualifyStatus:
    ELIGIBLE = "eligible"  # nothing to do
    REACHABLE = "reachable"  # the steps' changes, simulated, flip the decision
    OUT_OF_REACH = "out_of_reach"  # they do not (or there are none); the note says why


class NoteCode:
    """Which note a qualification carries (``Qualification.note_code``)."""

    RESCORING = "rescoring"  # reachable with no steps: the score is being brought up to date
    BLOCKED_BY_DISPUTE = "blocked_by_dispute"  # a condition only a dispute's end can meet
    NO_TIER_WAIVES = "no_tier_waives"  # no band waives any part of a deposit
    OUT_OF_REACH = "out_of_reach"  # nothing within the bounds flips the decision


NOTE_CODES: tuple[str, ...] = (
    "",
    NoteCode.RESCORING,
    NoteCode.BLOCKED_BY_DISPUTE,
    NoteCode.NO_TIER_WAIVES,
    NoteCode.OUT_OF_REACH,
)
# What a wait can bring about (``Step.waits_for``), in the order its text names them.
WAITS_FOR: tuple[str, ...] = ("no_shows_12m", "late_payments_24m", "account_age_days")

QUALIFY_STATUSES: tuple[str, ...] = (
    QualifyStatus.ELIGIBLE,
    QualifyStatus.REACHABLE,
    QualifyStatus.OUT_OF_REACH,
)

BILL_COST = 1
BOOKING_COST = 2
CLAIM_COST = 1
# What reaching each identity level costs: a phone check, an identity document check.
IDENTITY_COSTS: dict[int, int] = {1: 3, 2: 4}
IDENTITY_STEP_TEXTS: dict[int, str] = {
    1: "Verify your phone number",
    2: "Verify an identity document",
}

# The facts each kind of step moves (what ``simulate`` changes for its action). Every
# other fact stays as it is in a plan made now; those of _TIME_FACTS move with a wait.
_BILLS, _BOOKINGS, _CLAIMS, _IDENTITY = "bills", "bookings", "claims", "identity"
_STEP_FACTS: dict[str, frozenset[str]] = {
    _BILLS: frozenset({"on_time_ratio_12m"}),
    _BOOKINGS: frozenset({"bookings_completed"}),
    _CLAIMS: frozenset({"unpaid_claims"}),
    _IDENTITY: frozenset({"identity_level"}),
}
# Facts that bookings and claims move together: the share of stays completed well (a
# completed booking raises it, a settled claim takes its stay out of it). Their factors'
# points and their conditions are worked out per pair of amounts (``_Moment.joint``).
_JOINT = "bookings_and_claims"
_JOINT_FACTS: frozenset[str] = frozenset({"stays_completed_well_24m"})
# The what-if's actions (``scoring.scorecard.ACTIONS``) the counted kinds of step are.
_ACTION_KEYS: dict[str, str] = {
    _BILLS: "pay_next_bills_on_time",
    _BOOKINGS: "complete_next_bookings",
    _CLAIMS: "settle_unpaid_claims",
}
_TIME_FACTS = ("account_age_days", "no_shows_12m", "late_payments_24m")
# The time facts a kind of step's facts depend on: the 12-month late count behind the
# on-time ratio is capped by the 24-month one.
_WAIT_FACTS_READ: dict[str, tuple[str, ...]] = {_BILLS: ("late_payments_24m",)}
# Facts that nothing the citizen does or waits for moves in a simulation (open disputes:
# only their resolution does).
BLOCKED_FACTS: frozenset[str] = frozenset(
    key
    for key in FACTS
    if key not in (SCORE_FACT, BAND_FACT, *_TIME_FACTS, *_JOINT_FACTS)
    and not any(key in facts for facts in _STEP_FACTS.values())
)


def _step_moving(fact: str) -> str | None:
    """The kind of step that moves ``fact`` (``_JOINT`` for bookings and claims
    together), if one does."""
    if fact in _JOINT_FACTS:
        return _JOINT
    return next((kind for kind, facts in _STEP_FACTS.items() if fact in facts), None)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Bounds:
    """How far a plan may go: anything further is out of reach."""

    bills: int = 24
    bookings: int = 12
    claims: int = 10
    waits: int = 12  # moments to wait for, earliest first
    horizon_days: int = 3 * 365 + 1  # the account-age factor's last bin is at 3 years


# --- What the planner knows about the citizen ------------------------------------------


@dataclass(frozen=True, slots=True)
class UnpaidClaim:
    """An unpaid claim whose record counts now. ``claim_id`` is the claim the citizen can
    pay (``/api/v1/me/claims/{id}/pay``), when there is one."""

    amount: int | None
    currency: str
    merchant_name: str
    recorded_at: datetime
    claim_id: str | None = None


@dataclass(frozen=True, slots=True)
class FadingRecord:
    """A negative record that counts now and stops counting at ``counts_until``;
    ``fact`` is what it counts towards (``no_shows_12m`` or ``late_payments_24m``)."""

    fact: str
    occurred_at: datetime
    counts_until: datetime


@dataclass(frozen=True, slots=True)
class OpenDispute:
    opened_at: datetime
    resolved_by: datetime  # answered by then, or its record is removed


@dataclass(frozen=True)
class Situation:
    """The citizen as the planner sees them: the features a merchant's decision reads,
    and what a plan can name."""

    features: Features
    account_opened_at: datetime
    now: datetime
    unpaid_claims: tuple[UnpaidClaim, ...] = ()
    fading_records: tuple[FadingRecord, ...] = ()
    open_disputes: tuple[OpenDispute, ...] = ()


# --- What it answers -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    code: str
    text: str
    changes: Mapping[str, int] = field(default_factory=dict)
    on: date | None = None  # the day a wait ends, or a dispute is resolved at the latest
    claims: tuple[UnpaidClaim, ...] = ()
    waits_for: tuple[str, ...] = ()  # a wait's: the facts it brings about (WAITS_FOR)


@dataclass(frozen=True, slots=True)
class Qualification:
    status: str
    steps: tuple[Step, ...] = ()
    note: str = ""
    note_code: str = ""  # one of NOTE_CODES: which note ``note`` is

    @property
    def changes(self) -> dict[str, int]:
        return merged_changes(self.steps)


ELIGIBLE = Qualification(status=QualifyStatus.ELIGIBLE)


def merged_changes(steps: Iterable[Step]) -> dict[str, int]:
    """Every step's changes as one what-if. Steps never share a key, so this is a plain
    union (a client may do the same)."""
    merged: dict[str, int] = {}
    for step in steps:
        overlap = merged.keys() & step.changes.keys()
        if overlap:
            raise ValueError(f"Steps share the changes {sorted(overlap)}.")
        merged.update(step.changes)
    return merged


def requested_amount(max_amount: int) -> int:
    """The deposit a perk is evaluated for: its maximum. A perk whose maximum is 0 waives
    nothing whatever is asked, and the rules need a positive request: ask for 0.01."""
    return max(max_amount, 1)


def simulated_facts(card: Scorecard, features: Features) -> dict[str, int | str | None]:
    """The facts the rules would read for these features under ``card``, built as
    ``scoring.selectors.facts_of`` builds them for a decision."""
    result = card.evaluate(features)
    values = features.as_dict()
    return {
        key: result.score if key == SCORE_FACT else result.band if key == BAND_FACT else values[key]
        for key in FACTS
    }


def outcome_simulated(
    card: Scorecard,
    features: Features,
    changes: Mapping[str, int],
    rules: Rules,
    *,
    max_amount: int,
    currency: str,
) -> Outcome:
    """What the merchant's rules would decide after the changes: the real simulation,
    scorecard and rules, end to end."""
    facts = simulated_facts(card, simulate(features, changes))
    return evaluate(
        rules,
        facts,
        requested=requested_amount(max_amount),
        max_amount=max_amount,
        currency=currency,
    )


# --- The search ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Option:
    """One amount of one kind of step at one moment: its cost, the facts it gives and
    what the factors reading those facts earn."""

    amount: int
    cost: int
    facts: Mapping[str, int | None]
    points: int


@dataclass(frozen=True)
class _Moment:
    """The citizen at one moment (now, or the end of a wait) and the options of each kind
    of step there, simulated once and shared by every perk."""

    at: datetime | None
    wait_changes: Mapping[str, int]
    facts: Mapping[str, int | str | None]  # the facts no step moves
    fixed_points: int  # base points and the points of factors no step moves
    options: Mapping[str, tuple[_Option, ...]]


@dataclass(frozen=True, slots=True)
class _Choice:
    key: tuple[int, ...]
    amounts: Mapping[str, int]


class Planner:
    """Finds the cheapest plan for each perk of one citizen. Make one per request: the
    simulations it runs are kept and shared by every perk asked about."""

    def __init__(
        self,
        situation: Situation,
        card: Scorecard,
        *,
        currency: str,
        tz: tzinfo = UTC,
        bounds: Bounds | None = None,
    ) -> None:
        self.situation = situation
        self.card = card
        self.currency = currency
        self.tz = tz
        self.bounds = bounds or Bounds()
        features = situation.features
        self.claims = tuple(
            sorted(
                situation.unpaid_claims,
                key=lambda claim: (claim.amount is None, claim.amount or 0, claim.recorded_at),
            )
        )[: min(self.bounds.claims, features.unpaid_claims)]
        self._moments: dict[datetime | None, _Moment] = {}
        # Per moment, the joint facts' points and values per (claims, bookings) amounts
        # (``_joint``): worked out only for a scorecard or rules that read one.
        self._joints: dict[datetime | None, Mapping[tuple[int, int], tuple[int, Any]]] = {}
        self._options: dict[tuple[str, int, tuple[int | None, ...]], _Option] = {}
        self._answers: dict[tuple[Rules, int], Qualification] = {}
        # Which kind of step moves the fact each factor reads (None: no step moves it).
        self._factor_steps = tuple(_step_moving(factor.fact) for factor in card.factors)

    # -- The answer for one perk --

    def plan(self, rules: Rules, *, max_amount: int) -> Qualification:
        """The cheapest plan that makes ``rules`` waive part of a deposit of
        ``max_amount``. Call it for a refusal: an eligible citizen needs no plan."""
        key = (rules, max_amount)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = self._plan(rules, max_amount)
        return answer

    def _plan(self, rules: Rules, max_amount: int) -> Qualification:
        now = self._moment(None)
        blocked = tuple(
            condition
            for condition in rules.conditions
            if condition.fact in BLOCKED_FACTS and not condition_met(condition, now.facts)
        )
        conditions = tuple(c for c in rules.conditions if c not in blocked)
        score_ok = _ScoreTest(
            [c for c in conditions if c.fact in (SCORE_FACT, BAND_FACT)], rules, max_amount
        )
        age_marks = self._age_marks(rules)
        steps: tuple[Step, ...] | None = None
        for at in (None, *self.wait_moments(rules)):
            moment = self._moment(at)
            choice = self._cheapest(moment, conditions, score_ok)
            if choice is not None:
                steps = self._steps(moment, choice, age_marks)
                break
        if blocked:
            return Qualification(
                status=QualifyStatus.OUT_OF_REACH,
                steps=(steps or ()) + self._dispute_steps(),
                note=self._blocked_note(blocked, steps),
                note_code=NoteCode.BLOCKED_BY_DISPUTE,
            )
        if steps is None:
            return self._unreachable(rules, max_amount)
        outcome = outcome_simulated(
            self.card,
            self.situation.features,
            merged_changes(steps),
            rules,
            max_amount=max_amount,
            currency=self.currency,
        )
        if not outcome.eligible:  # the search and the simulation disagree: promise nothing
            logger.error("perk plan does not flip the decision", extra={"steps": len(steps)})
            return self._unreachable(rules, max_amount)
        note = (
            ""
            if steps
            else "Your score is being brought up to date under the current scorecard; the "
            "perk opens once it is."
        )
        return Qualification(
            status=QualifyStatus.REACHABLE,
            steps=steps,
            note=note,
            note_code=NoteCode.RESCORING if note else "",
        )

    def _unreachable(self, rules: Rules, max_amount: int) -> Qualification:
        no_tier = all(min(tier.max_amount, max_amount) == 0 for tier in rules.tiers)
        return Qualification(
            status=QualifyStatus.OUT_OF_REACH,
            note=self._unreachable_note(rules, max_amount),
            note_code=NoteCode.NO_TIER_WAIVES if no_tier else NoteCode.OUT_OF_REACH,
        )

    def _cheapest(
        self, moment: _Moment, conditions: Sequence[Condition], score_ok: _ScoreTest
    ) -> _Choice | None:
        """The cheapest choice of amounts at this moment that the rules accept, or None."""
        by_kind: dict[str, list[Condition]] = {kind: [] for kind in (*_STEP_FACTS, _JOINT)}
        for condition in conditions:
            if condition.fact in (SCORE_FACT, BAND_FACT):
                continue  # score_ok's
            kind = _step_moving(condition.fact)
            if kind is not None:
                by_kind[kind].append(condition)
            elif not condition_met(condition, moment.facts):
                return None  # a fact only time moves, not there yet
        allowed = {
            kind: [
                option
                for option in moment.options[kind]
                if all(condition_met(condition, option.facts) for condition in by_kind[kind])
            ]
            for kind in _STEP_FACTS
        }
        if not all(allowed.values()):
            return None
        joint: dict[tuple[int, int], int] | None = None
        if by_kind[_JOINT] or any(owner == _JOINT for owner in self._factor_steps):
            joint = {
                pair: points
                for pair, (points, facts) in self._joint(moment).items()
                if all(condition_met(condition, facts) for condition in by_kind[_JOINT])
            }
            if not joint:
                return None
        fixed = moment.fixed_points
        lowest = fixed + sum(min(option.points for option in opts) for opts in allowed.values())
        highest = fixed + sum(max(option.points for option in opts) for opts in allowed.values())
        if joint is not None:
            lowest, highest = lowest + min(joint.values()), highest + max(joint.values())
        if not score_ok.any_between(_clip(lowest), _clip(highest)):
            return None
        return _search(moment, allowed, score_ok, self.situation.features.identity_level, joint)

    # -- Moments --

    def _moment(self, at: datetime | None) -> _Moment:
        moment = self._moments.get(at)
        if moment is None:
            moment = self._moments[at] = self._simulate_moment(at)
        return moment

    def _joint(self, moment: _Moment) -> Mapping[tuple[int, int], tuple[int, Any]]:
        """Per (claims, bookings) amounts at this moment: the points of the factors that
        read a joint fact, and the joint facts (each pair simulated once)."""
        joint = self._joints.get(moment.at)
        if joint is None:
            joint = self._joints[moment.at] = {
                (claims.amount, bookings.amount): self._simulate_joint(
                    moment.wait_changes, claims.amount, bookings.amount
                )
                for claims in moment.options[_CLAIMS]
                for bookings in moment.options[_BOOKINGS]
            }
        return joint

    def _simulate_joint(
        self, wait: Mapping[str, int], claims: int, bookings: int
    ) -> tuple[int, Mapping[str, int | None]]:
        changes = {**wait, **self._changes(_CLAIMS, claims), **self._changes(_BOOKINGS, bookings)}
        simulated = simulate(self.situation.features, changes)
        points = sum(
            earned
            for earned, owner in zip(self.card.points(simulated), self._factor_steps, strict=True)
            if owner == _JOINT
        )
        values = simulated.as_dict()
        return points, {fact: values[fact] for fact in _JOINT_FACTS}

    def _simulate_moment(self, at: datetime | None) -> _Moment:
        features, bounds = self.situation.features, self.bounds
        wait = self._wait_changes(at) if at is not None else {}
        base = simulate(features, wait)
        base_points = self.card.points(base)
        fixed = self.card.base_points + sum(
            points
            for points, kind in zip(base_points, self._factor_steps, strict=True)
            if kind is None
        )
        top_level = FACTS["identity_level"].maximum or 0
        amounts: dict[str, Iterable[int]] = {
            _BILLS: range(bounds.bills + 1),
            _BOOKINGS: range(bounds.bookings + 1),
            _CLAIMS: range(len(self.claims) + 1),
            _IDENTITY: range(features.identity_level, max(top_level, features.identity_level) + 1),
        }
        options = {
            kind: tuple(self._option(kind, amount, wait) for amount in values)
            for kind, values in amounts.items()
        }
        facts = simulated_facts(self.card, base)
        return _Moment(
            at=at,
            wait_changes=wait,
            facts={key: facts[key] for key in FACTS if key not in (SCORE_FACT, BAND_FACT)},
            fixed_points=fixed,
            options=options,
        )

    def _option(self, kind: str, amount: int, wait: Mapping[str, int]) -> _Option:
        """One option, simulated once per request and shared by the waits that leave its
        facts alone (only the on-time ratio depends on a wait: late payments that stop
        counting leave fewer in its 12-month count)."""
        key = (kind, amount, tuple(wait.get(fact) for fact in _WAIT_FACTS_READ.get(kind, ())))
        option = self._options.get(key)
        if option is None:
            option = self._options[key] = self._simulate_option(kind, amount, wait)
        return option

    def _simulate_option(self, kind: str, amount: int, wait: Mapping[str, int]) -> _Option:
        simulated = simulate(self.situation.features, {**wait, **self._changes(kind, amount)})
        points = sum(
            earned
            for earned, owner in zip(self.card.points(simulated), self._factor_steps, strict=True)
            if owner == kind
        )
        values = simulated.as_dict()
        return _Option(
            amount=amount,
            cost=self._cost(kind, amount),
            facts={fact: values[fact] for fact in _STEP_FACTS[kind]},
            points=points,
        )

    def _changes(self, kind: str, amount: int) -> dict[str, int]:
        features = self.situation.features
        if kind == _IDENTITY:
            return {} if amount == features.identity_level else {"identity_level": amount}
        return {_ACTION_KEYS[kind]: amount} if amount else {}

    def _cost(self, kind: str, amount: int) -> int:
        if kind == _IDENTITY:
            return 0 if amount == self.situation.features.identity_level else IDENTITY_COSTS[amount]
        return amount * {_BILLS: BILL_COST, _BOOKINGS: BOOKING_COST, _CLAIMS: CLAIM_COST}[kind]

    # -- Waiting --

    def _age_marks(self, rules: Rules) -> frozenset[int]:
        """The account ages that matter: where an account-age factor's bins start, and
        what an account-age condition asks for."""
        return frozenset(
            {
                start
                for factor in self.card.factors
                if factor.fact == "account_age_days"
                for start in factor.bin_starts
            }
            | {
                int(condition.value) + (1 if condition.op == ">" else 0)
                for condition in rules.conditions
                if condition.fact == "account_age_days" and condition.op in (">=", ">")
            }
        )

    def wait_moments(self, rules: Rules) -> list[datetime]:
        """The moments a plan for ``rules`` may wait for, earliest first: each negative
        record stops counting, and the account reaches each age that matters. Each is
        moved to the start of the next day, so that the whole day a step names is past
        it. At most ``bounds.waits`` of them, within ``bounds.horizon_days``."""
        situation = self.situation
        candidates = {record.counts_until for record in situation.fading_records} | {
            situation.account_opened_at + timedelta(days=age)
            for age in self._age_marks(rules)
            if age > situation.features.account_age_days
        }
        horizon = situation.now + timedelta(days=self.bounds.horizon_days)
        moments = sorted(
            {self._next_day(moment) for moment in candidates if situation.now < moment <= horizon}
        )
        return moments[: self.bounds.waits]

    def _next_day(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.tz)
        if local.time() == time.min:
            return local
        return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=self.tz)

    def _wait_changes(self, at: datetime) -> dict[str, int]:
        """The facts time moves by ``at``; the others are taken as they are."""
        features = self.situation.features
        faded = dict.fromkeys(_TIME_FACTS, 0)
        for record in self.situation.fading_records:
            if record.counts_until <= at:
                faded[record.fact] += 1
        changes = {"account_age_days": max((at - self.situation.account_opened_at).days, 0)}
        for fact in ("no_shows_12m", "late_payments_24m"):
            if faded[fact]:
                changes[fact] = max(getattr(features, fact) - faded[fact], 0)
        return changes

    # -- In words --

    def _steps(
        self, moment: _Moment, choice: _Choice, age_marks: frozenset[int]
    ) -> tuple[Step, ...]:
        features, amounts = self.situation.features, choice.amounts
        steps: list[Step] = []
        if amounts[_CLAIMS]:
            named = self.claims[: amounts[_CLAIMS]]
            steps.append(
                Step(
                    code=StepCode.SETTLE_UNPAID_CLAIMS,
                    text=_claims_text(named, self.tz),
                    changes=self._changes(_CLAIMS, amounts[_CLAIMS]),
                    claims=named,
                )
            )
        if amounts[_IDENTITY] != features.identity_level:
            steps.append(
                Step(
                    code=StepCode.IDENTITY_LEVEL,
                    text=IDENTITY_STEP_TEXTS[amounts[_IDENTITY]],
                    changes=self._changes(_IDENTITY, amounts[_IDENTITY]),
                )
            )
        if amounts[_BILLS]:
            count = amounts[_BILLS]
            steps.append(
                Step(
                    code=StepCode.PAY_NEXT_BILLS_ON_TIME,
                    text=(
                        "Pay your next bill on time"
                        if count == 1
                        else f"Pay your next {count} bills on time"
                    ),
                    changes=self._changes(_BILLS, count),
                )
            )
        if amounts[_BOOKINGS]:
            count = amounts[_BOOKINGS]
            steps.append(
                Step(
                    code=StepCode.COMPLETE_NEXT_BOOKINGS,
                    text=(
                        "Complete your next booking without a problem"
                        if count == 1
                        else f"Complete your next {count} bookings without a problem"
                    ),
                    changes=self._changes(_BOOKINGS, count),
                )
            )
        if moment.at is not None:
            steps.append(self._wait_step(moment.at, moment.wait_changes, age_marks))
        return tuple(steps)

    def _wait_step(
        self, at: datetime, changes: Mapping[str, int], age_marks: frozenset[int]
    ) -> Step:
        features, situation = self.situation.features, self.situation
        clauses, waits_for = [], []
        for fact, name in (("no_shows_12m", "no-show"), ("late_payments_24m", "late payment")):
            gone = sorted(
                record.occurred_at
                for record in situation.fading_records
                if record.fact == fact and situation.now < record.counts_until <= at
            )
            if gone and fact in changes:
                days = _and_list([_day(moment, self.tz) for moment in gone])
                plural = "s" if len(gone) > 1 else ""
                verb = "no longer count" if len(gone) > 1 else "no longer counts"
                clauses.append(f"your {name}{plural} of {days} {verb}")
                waits_for.append(fact)
        age = changes["account_age_days"]
        if any(features.account_age_days < mark <= age for mark in age_marks):
            clauses.append(f"your account is {age} days old")
            waits_for.append("account_age_days")
        when = at.astimezone(self.tz).date()
        text = f"Wait until {_date_text(when)}"
        if clauses:
            text += f": by then {_and_list(clauses)}"
        return Step(
            code=StepCode.WAIT_UNTIL,
            text=text,
            changes=dict(changes),
            on=when,
            waits_for=tuple(waits_for),
        )

    def _dispute_steps(self) -> tuple[Step, ...]:
        return tuple(
            Step(
                code=StepCode.AWAIT_DISPUTE_RESOLUTION,
                text=(
                    f"Your dispute of {_day(dispute.opened_at, self.tz)} is answered by "
                    f"{_day(dispute.resolved_by, self.tz)} at the latest: the merchant "
                    "verifies or corrects the record, or it is removed"
                ),
                on=dispute.resolved_by.astimezone(self.tz).date(),
            )
            for dispute in sorted(self.situation.open_disputes, key=lambda d: d.resolved_by)
        )

    def _blocked_note(self, blocked: Sequence[Condition], steps: tuple[Step, ...] | None) -> str:
        if steps:
            lead = "These steps are not enough on their own. "
        elif steps is None:
            lead = "Nothing within reach flips this decision. "
        else:
            lead = ""
        needs = " ".join(condition.message for condition in blocked)
        return (
            f"{lead}{needs} Only how your open dispute ends can change that: the merchant "
            "that reported the record answers it within 30 days (or the record is "
            "removed), and staff decide it if you escalate it."
        )

    def _unreachable_note(self, rules: Rules, max_amount: int) -> str:
        if all(min(tier.max_amount, max_amount) == 0 for tier in rules.tiers):
            return "This perk waives no part of a deposit at any level at the moment."
        bounds = self.bounds
        return (
            "Nothing within reach flips this decision: paying your next "
            f"{bounds.bills} bills on time, completing {bounds.bookings} bookings, settling "
            "your unpaid claims, verifying your identity and waiting up to "
            f"{bounds.horizon_days // 365} years would not be enough."
        )


class _ScoreTest:
    """Whether the rules accept a score: its conditions on the score and the band, and a
    tier that waives something in its band. Worked out once per perk as a few ranges of
    scores (one per band at most), so that a test is a comparison or two."""

    def __init__(self, conditions: Sequence[Condition], rules: Rules, max_amount: int) -> None:
        lowest, highest = SCORE_MIN, SCORE_MAX
        for condition in conditions:
            if condition.fact != SCORE_FACT:
                continue
            value = int(condition.value)
            if condition.op in (">=", ">", "=="):
                lowest = max(lowest, value + (1 if condition.op == ">" else 0))
            if condition.op in ("<=", "<", "=="):
                highest = min(highest, value - (1 if condition.op == "<" else 0))
        on_band = [condition for condition in conditions if condition.fact == BAND_FACT]
        self.ranges: list[tuple[int, int]] = []
        band_top = SCORE_MAX
        for band_bottom, band, _ in BANDS:  # best first
            accepted = (
                all(condition_met(condition, {BAND_FACT: band}) for condition in on_band)
                and min(rules.cap_for_band(band), max_amount) > 0
            )
            low, high = max(band_bottom, lowest), min(band_top, highest)
            if accepted and low <= high:
                self.ranges.append((low, high))
            band_top = band_bottom - 1

    def __call__(self, score: int) -> bool:
        return any(low <= score <= high for low, high in self.ranges)

    def any_between(self, lowest: int, highest: int) -> bool:
        return any(low <= highest and lowest <= high for low, high in self.ranges)


def _clip(total: int) -> int:
    return min(max(total, SCORE_MIN), SCORE_MAX)


def _search(
    moment: _Moment,
    allowed: Mapping[str, Sequence[_Option]],
    score_ok: Callable[[int], bool],
    identity_now: int,
    joint: Mapping[tuple[int, int], int] | None = None,
) -> _Choice | None:
    """The cheapest accepted combination: claims, identity and bookings cheapest first,
    each with the fewest bills that are enough; it stops once nothing cheaper remains.
    ``joint``: the points of the factors bookings and claims move together, per pair of
    amounts the rules accept (None: no such factor or condition)."""
    combos = sorted(
        itertools.product(allowed[_CLAIMS], allowed[_IDENTITY], allowed[_BOOKINGS]),
        key=lambda combo: sum(option.cost for option in combo),
    )
    best: _Choice | None = None
    for claims, identity, bookings in combos:
        partial = claims.cost + identity.cost + bookings.cost
        if best is not None and partial > best.key[0]:
            break
        points = moment.fixed_points + claims.points + identity.points + bookings.points
        if joint is not None:
            pair = joint.get((claims.amount, bookings.amount))
            if pair is None:
                continue  # a joint fact's condition is not met
            points += pair
        for bills in allowed[_BILLS]:
            cost = partial + bills.cost
            if best is not None and cost > best.key[0]:
                break
            if not score_ok(_clip(points + bills.points)):
                continue
            kinds = sum(
                (
                    claims.amount > 0,
                    identity.amount != identity_now,
                    bookings.amount > 0,
                    bills.amount > 0,
                )
            )
            key = (cost, kinds, bookings.amount, identity.amount, claims.amount, bills.amount)
            if best is None or key < best.key:
                best = _Choice(
                    key=key,
                    amounts={
                        _CLAIMS: claims.amount,
                        _IDENTITY: identity.amount,
                        _BOOKINGS: bookings.amount,
                        _BILLS: bills.amount,
                    },
                )
            break  # more bills for the same combination only cost more
    return best


# --- Words -----------------------------------------------------------------------------


def _date_text(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _day(moment: datetime, tz: tzinfo) -> str:
    return _date_text(moment.astimezone(tz).date())


def _and_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _claims_text(claims: Sequence[UnpaidClaim], tz: tzinfo) -> str:
    phrases = []
    for claim in claims:
        words = []
        if claim.amount is not None:
            words.append(f"of {format_money(claim.amount, claim.currency)}")
        if claim.merchant_name:
            words.append(f"from {claim.merchant_name}")
        else:
            words.append(f"recorded on {_day(claim.recorded_at, tz)}")
        phrases.append(" ".join(words))
    noun = "claim" if len(claims) == 1 else "claims"
    return f"Settle the unpaid {noun} {_and_list(phrases)}"
