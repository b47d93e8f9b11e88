"""The pure math of scores: a scorecard definition in, points, score, band and reasons out.

No database here: the scorecard's definition (stored as JSON on ``scoring.Scorecard``)
is validated and compiled into a :class:`Scorecard`, which scores :class:`Features`.

A definition is::

    {"base_points": 400,
     "factors": [{"key": "on_time", "fact": "on_time_ratio_12m",
                  "label": "Bills paid on time (12 months)",
                  "reason": "Some recent bills were paid late",
                  "tip": "Pay each bill by its due date ...",
                  "history": true,            # a thin file folds it into "history is short"
                  "missing_points": 0,        # optional facts only: points when absent
                  "bins": [{"from": 0, "points": 0}, {"from": 50, "points": 30}, ...]}]}

A value falls in the last bin whose ``from`` is at most the value; the first bin starts
at the fact's minimum. Points never get worse as a fact gets better (bins are monotonic
in the fact's good direction), so improving any one fact never lowers the score.

score = base_points + the factors' points, clipped to 350..950.

Reasons: the factors that lost the most points against their maximum, at most four,
largest loss first (ties in the scorecard's order), none for a factor at its maximum.
A thin file (no event counts) gets one reason, "your history is short", in place of
the history factors, with their lost points added together.

The default scorecard, version 1 (a data migration; the README has the same table)::

    base 400
    bills paid on time, 12 months (%)  none 0 | 0: 0 | 50: 30 | 80: 60 | 90: 90 | 98: 120
    late payments, 24 months           0: 60 | 1: 35 | 2: 15 | 3+: 0
    bookings completed, 24 months      0: 0 | 1: 20 | 3: 40 | 6+: 60
    no-shows, 12 months                0: 40 | 1: 10 | 2+: 0
    unpaid claims                      0: 60 | 1: -280 | 2+: -400
    account age (days)                 0: 0 | 90: 20 | 365: 40 | 730: 60 | 1095+: 80
    identity verification              none: 0 | phone: 40 | document: 60

    new account, phone verified, no history      = 600 (good)
    three spotless years, phone verified          = 860 (excellent); document: 880
    the best possible file with one unpaid claim  = 540 (poor)

Version 2, a draft (migration 0016): version 1 with the count of bookings, which grows
with how often someone can afford to travel, replaced by the share of stays completed
well (absent below 2 stays, then scored as a share of 50%)::

    base 350
    stays completed well, 24 months (%)  fewer than 2 stays 50 | 0: 0 | 50: 50 | 100: 60
    (every other factor as in version 1)

    new account, phone verified, no history      = 600 (good)
    three spotless years, phone verified          = 810 (excellent), however many stays
    the best possible file with one unpaid claim  = 480 (poor)
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TypeGuard

from scoring.facts import FACTS, REASON_AT_VALUE, Features, band_for

SCORE_MIN = 350
SCORE_MAX = 950
MAX_REASONS = 4
MAX_FACTORS = 20
POINTS_LIMIT = 1000

THIN_FILE_CODE = "thin_file"
THIN_FILE_LABEL = "Your credit history is short"
THIN_FILE_TIP = (
    "Pay your bills through Open Sesame by their due date and complete your bookings: "
    "each commitment you keep builds your history."
)


class ScorecardInvalid(ValueError):
    """A definition that cannot be scored with; ``errors`` name each problem."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class Factor:
    key: str
    fact: str
    label: str
    reason: str
    tip: str
    bin_starts: tuple[int, ...]
    bin_points: tuple[int, ...]
    missing_points: int | None = None
    history: bool = False

    @property
    def max_points(self) -> int:
        candidates = list(self.bin_points)
        if self.missing_points is not None:
            candidates.append(self.missing_points)
        return max(candidates)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    label: str
    points_lost: int
    tip: str


@dataclass(frozen=True, slots=True)
class Result:
    score: int
    band: str
    points: tuple[int, ...]  # one per factor, in the scorecard's order
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Scorecard:
    version: int
    base_points: int
    factors: tuple[Factor, ...]

    @classmethod
    def from_definition(cls, definition: Any, *, version: int = 0) -> Scorecard:
        """Validate and compile a definition; raises :class:`ScorecardInvalid`."""
        errors = definition_errors(definition)
        if errors:
            raise ScorecardInvalid(errors)
        factors = tuple(
            Factor(
                key=raw["key"],
                fact=raw["fact"],
                label=raw["label"],
                reason=raw["reason"],
                tip=raw["tip"],
                bin_starts=tuple(b["from"] for b in raw["bins"]),
                bin_points=tuple(b["points"] for b in raw["bins"]),
                missing_points=raw.get("missing_points"),
                history=raw.get("history", False),
            )
            for raw in definition["factors"]
        )
        return cls(version=version, base_points=definition["base_points"], factors=factors)

    @cached_property
    def factor_keys(self) -> tuple[str, ...]:
        return tuple(factor.key for factor in self.factors)

    @cached_property
    def max_points(self) -> tuple[int, ...]:
        return tuple(factor.max_points for factor in self.factors)

    @cached_property
    def _results(self) -> dict[tuple[tuple[int, ...], bool], Result]:
        # Many accounts share the same points: the batch computes each combination once.
        return {}

    @cached_property
    def _lookups(self) -> tuple[tuple[Any, tuple[int, ...], tuple[int, ...], int], ...]:
        # Per factor: how to read its fact, its bins, and the points when it is absent.
        return tuple(
            (
                operator.attrgetter(factor.fact),
                factor.bin_starts,
                factor.bin_points,
                factor.missing_points or 0,
            )
            for factor in self.factors
        )

    def points(self, features: Features) -> tuple[int, ...]:
        bisect_right = bisect.bisect_right
        earned = []
        for read, starts, points, missing in self._lookups:
            value = read(features)
            if value is None:
                earned.append(missing)
            else:
                earned.append(points[max(bisect_right(starts, value) - 1, 0)])
        return tuple(earned)

    def evaluate(self, features: Features) -> Result:
        return self.result_for(self.points(features), thin_file=features.is_thin_file)

    def result_for(self, points: tuple[int, ...], *, thin_file: bool) -> Result:
        key = (points, thin_file)
        result = self._results.get(key)
        if result is None:
            total = self.base_points + sum(points)
            score = min(max(total, SCORE_MIN), SCORE_MAX)
            result = Result(score, band_for(score), points, self._reasons(points, thin_file))
            if len(self._results) < 100_000:
                self._results[key] = result
        return result

    def _reasons(self, points: tuple[int, ...], thin_file: bool) -> tuple[Reason, ...]:
        losses: list[tuple[int, int, Reason]] = []
        thin_lost = 0
        for order, (factor, earned, best) in enumerate(
            zip(self.factors, points, self.max_points, strict=True)
        ):
            lost = best - earned
            if lost <= 0:
                continue
            if thin_file and factor.history:
                thin_lost += lost
                continue
            losses.append((lost, order, Reason(factor.key, factor.reason, lost, factor.tip)))
        if thin_lost:
            thin = Reason(THIN_FILE_CODE, THIN_FILE_LABEL, thin_lost, THIN_FILE_TIP)
            losses.append((thin_lost, -1, thin))
        losses.sort(key=lambda item: (-item[0], item[1]))
        return tuple(reason for _, _, reason in losses[:MAX_REASONS])

    def reason_text(
        self, code: str, features: Mapping[str, int | None] | None = None
    ) -> tuple[str, str]:
        """(label, tip) of a reason code, for reasons stored as codes with a snapshot;
        said at the citizen's own value where the fact asks for it (``REASON_AT_VALUE``),
        given the snapshot's features."""
        if code == THIN_FILE_CODE:
            return THIN_FILE_LABEL, THIN_FILE_TIP
        for factor in self.factors:
            if factor.key == code:
                value = features.get(factor.fact) if features is not None else None
                return _reason_at(factor, value), factor.tip
        return code, ""

    def reasons_said(self, result: Result, features: Features) -> Result:
        """``result`` with its reasons said at these features' values (``REASON_AT_VALUE``):
        results are shared between accounts with the same points, their words are not."""
        by_key = {factor.key: factor for factor in self.factors}
        reasons = tuple(
            replace(reason, label=_reason_at(factor, getattr(features, factor.fact)))
            if (factor := by_key.get(reason.code)) is not None
            else reason
            for reason in result.reasons
        )
        return replace(result, reasons=reasons)


def _reason_at(factor: Factor, value: int | None) -> str:
    say = REASON_AT_VALUE.get(factor.fact)
    return say(value) if say is not None and value is not None else factor.reason


# --- Validation ------------------------------------------------------------------------

_FACTOR_KEYS = {"key", "fact", "label", "reason", "tip", "bins", "missing_points", "history"}
_TEXT_LIMITS = {"label": 120, "reason": 200, "tip": 400}


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def definition_errors(definition: Any) -> list[str]:
    """Every problem of a definition, in words staff can act on (empty when valid)."""
    if not isinstance(definition, Mapping):
        return ["The definition must be a JSON object with base_points and factors."]
    errors = [
        f"Unknown key {key!r}." for key in definition if key not in {"base_points", "factors"}
    ]
    base = definition.get("base_points")
    if not _is_int(base) or not 0 <= base <= SCORE_MAX:
        errors.append(f"base_points must be a whole number from 0 to {SCORE_MAX}.")
    factors = definition.get("factors")
    if not isinstance(factors, list) or not 1 <= len(factors) <= MAX_FACTORS:
        errors.append(f"factors must be a list of 1 to {MAX_FACTORS} factors.")
        return errors
    seen: set[str] = set()
    for index, raw in enumerate(factors):
        errors.extend(f"factors[{index}]: {problem}" for problem in _factor_errors(raw, seen))
    return errors


def _factor_errors(raw: Any, seen: set[str]) -> list[str]:
    if not isinstance(raw, Mapping):
        return ["must be an object."]
    errors = [f"unknown key {key!r}." for key in raw if key not in _FACTOR_KEYS]
    key = raw.get("key")
    if not isinstance(key, str) or not key.isidentifier() or len(key) > 40:
        errors.append("key must be a short identifier (letters, digits, underscores).")
    elif key in seen:
        errors.append(f"key {key!r} is used twice.")
    else:
        seen.add(key)
    for name, limit in _TEXT_LIMITS.items():
        text = raw.get(name)
        if not isinstance(text, str) or not text.strip() or len(text) > limit:
            errors.append(f"{name} must be a non-empty text of at most {limit} characters.")
    if not isinstance(raw.get("history", False), bool):
        errors.append("history must be true or false.")
    fact_key = raw.get("fact")
    fact = FACTS.get(fact_key) if isinstance(fact_key, str) else None
    if fact is None or not fact.scorable:
        scorable = ", ".join(sorted(k for k, f in FACTS.items() if f.scorable))
        errors.append(f"fact must be one of: {scorable}.")
        return errors
    missing = raw.get("missing_points")
    if fact.optional and not (_is_int(missing) and abs(missing) <= POINTS_LIMIT):
        errors.append(f"missing_points is required: {fact.key} may be absent.")
    if not fact.optional and missing is not None:
        errors.append(f"missing_points is not allowed: {fact.key} is always known.")
    bins_errors = _bins_errors(raw.get("bins"), fact)
    if not bins_errors and fact.missing_scored_as is not None and _is_int(missing):
        starts = [b["from"] for b in raw["bins"]]
        at = raw["bins"][max(bisect.bisect_right(starts, fact.missing_scored_as) - 1, 0)]
        if missing != at["points"]:
            errors.append(
                f"missing_points must be {at['points']}, the points of "
                f"{fact.key} = {fact.missing_scored_as}: otherwise the record that makes it "
                "count, or takes it away, could lower the score."
            )
    return errors + bins_errors


def _bins_errors(bins: Any, fact: Any) -> list[str]:
    if not isinstance(bins, list) or not bins:
        return ["bins must be a non-empty list of {from, points}."]
    errors: list[str] = []
    starts: list[int] = []
    points: list[int] = []
    for index, raw in enumerate(bins):
        if (
            not isinstance(raw, Mapping)
            or set(raw) != {"from", "points"}
            or not _is_int(raw["from"])
            or not _is_int(raw["points"])
        ):
            errors.append(f"bins[{index}] must be {{from, points}} with whole numbers.")
            continue
        if abs(raw["points"]) > POINTS_LIMIT:
            errors.append(f"bins[{index}].points must be within ±{POINTS_LIMIT}.")
        starts.append(raw["from"])
        points.append(raw["points"])
    if errors:
        return errors
    if starts[0] != fact.minimum:
        errors.append(f"the first bin must start at {fact.minimum}, the least {fact.key} can be.")
    if any(later <= earlier for earlier, later in itertools.pairwise(starts)):
        errors.append("bins must start at increasing values.")
    if fact.maximum is not None and starts[-1] > fact.maximum:
        errors.append(f"no bin may start above {fact.maximum}, the most {fact.key} can be.")
    steps = list(itertools.pairwise(points))
    if fact.higher_is_better and any(later < earlier for earlier, later in steps):
        errors.append(f"points must not go down as {fact.key} goes up (more is better).")
    if not fact.higher_is_better and any(later > earlier for earlier, later in steps):
        errors.append(f"points must not go up as {fact.key} goes up (less is better).")
    return errors


# --- What-if ---------------------------------------------------------------------------

# Actions a citizen can try; each adds N of something to their features.
ACTIONS: dict[str, str] = {
    "pay_next_bills_on_time": "Pay your next N bills on time",
    "complete_next_bookings": "Complete your next N bookings",
    "settle_unpaid_claims": "Settle N of your unpaid claims",
}
# Facts a citizen can set directly in a simulation.
SIMULATED_FACTS: tuple[str, ...] = (
    "identity_level",
    "account_age_days",
    "on_time_ratio_12m",
    "late_payments_24m",
    "bookings_completed",
    "no_shows_12m",
    "unpaid_claims",
)
_EVENT_COUNTS = (
    "on_time_payments_12m",
    "late_payments_24m",
    "bookings_completed",
    "no_shows_12m",
    "unpaid_claims",
)


def simulate(features: Features, changes: Mapping[str, int]) -> Features:
    """The features after the proposed changes: actions first, then facts set directly.

    Setting the on-time ratio to R replaces the 12-month bill counts with R on time and
    100 - R late. Completing bookings raises the share of stays completed well with their
    count; settling unpaid claims takes their stays out of it. ``history_events`` moves
    with the event counts, so a thin file that simulates paying bills stops being thin.
    """
    values = features._asdict()
    values["on_time_payments_12m"] += changes.get("pay_next_bills_on_time", 0)
    values["bookings_completed"] += changes.get("complete_next_bookings", 0)
    values["unpaid_claims"] = max(
        0, values["unpaid_claims"] - changes.get("settle_unpaid_claims", 0)
    )
    for key in SIMULATED_FACTS:
        if key in changes and key != "on_time_ratio_12m":
            values[key] = changes[key]
    if "on_time_ratio_12m" in changes:
        ratio = changes["on_time_ratio_12m"]
        values["on_time_payments_12m"], values["late_payments_12m"] = ratio, 100 - ratio
    else:  # late payments of 12 months are a part of those of 24 months
        values["late_payments_12m"] = min(values["late_payments_12m"], values["late_payments_24m"])
    # So are no-shows: those of 12 months set higher are no-shows of 24 months too; set
    # lower (a wait, as they stop counting after 12 months), they still count for 24.
    values["no_shows_24m"] = max(values["no_shows_24m"], values["no_shows_12m"])
    moved = sum(values[key] - getattr(features, key) for key in _EVENT_COUNTS)
    values["history_events"] = max(0, features.history_events + moved)
    return Features(**values)
