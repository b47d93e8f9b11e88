"""A perk's eligibility rules: data in, a decision the merchant may see out.

No database here. A merchant's perk (a deposit waiver) stores its rules as JSON, which
staff edit in the admin; this module validates them, evaluates them against a citizen's
facts, and says them in plain words for the citizen before they consent: a merchant
has no hidden admission criteria. Rules are::

    {"conditions": [
        {"fact": "score", "op": ">=", "value": 600,
         "message": "A score of at least 600 is needed."},
        {"fact": "unpaid_claims", "op": "==", "value": 0,
         "message": "No damage claim may be left unpaid.", "code": "unpaid_claims"}],
     "tiers": [{"band": "good", "max_amount": 50000},
               {"band": "excellent", "max_amount": 200000}]}

Conditions read only the facts of ``scoring.facts.FACTS`` (the reviewed vocabulary), and
all of them must hold; each carries the message shown when it fails. Tiers say how much
of a deposit may be waived in each band; a band without a tier gets nothing waived.
Amounts are whole numbers of minor units (50000 is 500.00).

What a merchant reads (the reasons of an :class:`Outcome`) never contains the raw score
or the band: the merchant learns only what was waived and which conditions failed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

from common.amounts import ABSURD_AMOUNT
from common.money import format_money
from scoring.facts import BAND_CODES, BAND_LABELS, FACTS

OPERATORS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}

BAND_FACT = "band"
MESSAGE_MAX_LENGTH = 200
CODE_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,49}")

NO_WAIVER_CODE = "no_waiver_for_band"
DEPOSIT_WAIVED_CODE = "deposit_waived"
PARTIAL_WAIVER_CODE = "partial_waiver"
# Says neither the band nor the score: the merchant must not learn them from a refusal.
NO_WAIVER_MESSAGE = "No part of the deposit can be waived at the guest's current level."

# What each identity level means, for the citizen reading the requirements.
IDENTITY_LEVEL_NAMES: dict[int, str] = {
    0: "none",
    1: "phone verified",
    2: "identity document verified",
}

# "Identity level at least N", as the citizen reads it.
IDENTITY_AT_LEAST: dict[int, str] = {
    1: "A verified phone number (or identity document)",
    2: "A verified identity document",
}

_RULES_KEYS = ("conditions", "tiers")
_CONDITION_KEYS = ("fact", "op", "value", "message", "code")
_CONDITION_REQUIRED = ("fact", "op", "value", "message")
_TIER_KEYS = ("band", "max_amount")

# The operator in words, for numbers and for bands (a band is better, not more).
_OP_WORDS: dict[str, str] = {
    ">=": "at least",
    "<=": "at most",
    "==": "exactly",
    ">": "more than",
    "<": "less than",
}
_BAND_OP_WORDS: dict[str, str] = {
    **_OP_WORDS,
    ">": "better than",
    "<": "worse than",
}


class RulesInvalid(ValueError):
    """Rules that cannot be evaluated; ``errors`` name each problem and its place."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True, slots=True)
class Condition:
    fact: str
    op: str
    value: int | str  # a band code for the band fact, a whole number otherwise
    message: str
    code: str


@dataclass(frozen=True, slots=True)
class Tier:
    band: str
    max_amount: int


@dataclass(frozen=True, slots=True)
class Rules:
    conditions: tuple[Condition, ...]
    tiers: tuple[Tier, ...]

    @classmethod
    def from_data(cls, data: Any) -> Rules:
        """Validate and compile rules data; raises :class:`RulesInvalid` with every error."""
        errors = rules_errors(data)
        if errors:
            raise RulesInvalid(errors)
        conditions = tuple(
            Condition(
                fact=raw["fact"],
                op=raw["op"],
                value=raw["value"],
                message=raw["message"],
                code=raw.get("code", default_code(raw["fact"])),
            )
            for raw in data["conditions"]
        )
        tiers = tuple(Tier(band=raw["band"], max_amount=raw["max_amount"]) for raw in data["tiers"])
        return cls(conditions=conditions, tiers=tiers)

    def as_data(self) -> dict[str, Any]:
        """The JSON to store; every code is written out, so a default stays what it was."""
        return {
            "conditions": [
                {
                    "fact": condition.fact,
                    "op": condition.op,
                    "value": condition.value,
                    "message": condition.message,
                    "code": condition.code,
                }
                for condition in self.conditions
            ],
            "tiers": [{"band": tier.band, "max_amount": tier.max_amount} for tier in self.tiers],
        }

    def fact_keys(self) -> tuple[str, ...]:
        """The facts an evaluation reads (the consent screen lists them), each once."""
        keys = [condition.fact for condition in self.conditions] + [BAND_FACT]
        return tuple(dict.fromkeys(keys))

    def cap_for_band(self, band: str) -> int:
        """The most that may be waived in that band: 0 when no tier names it."""
        for tier in self.tiers:
            if tier.band == band:
                return tier.max_amount
        return 0


def default_code(fact: str) -> str:
    return f"{fact}_not_met"


# --- Validation ------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    # JSON true is a bool, and bool is an int in Python: refuse it as a number.
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A value as staff typed it in the JSON (true, "600", 600), for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _known(keys: Iterable[str]) -> str:
    return ", ".join(keys)


def _range_text(minimum: int, maximum: int | None) -> str:
    return f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"


def rules_errors(data: Any) -> list[str]:
    """Every problem of rules data, each naming its place and what would be valid.

    Empty when the data is valid. Errors are collected rather than stopping at the first,
    so staff editing the JSON in the admin can fix everything in one go.
    """
    if not isinstance(data, Mapping):
        return [
            f"rules: must be a JSON object with the keys conditions and tiers, got {_shown(data)}."
        ]
    errors = [
        f"{key}: unknown key; allowed keys: {_known(_RULES_KEYS)}."
        for key in data
        if key not in _RULES_KEYS
    ]
    conditions = data.get("conditions")
    if not isinstance(conditions, list):
        errors.append(
            "conditions: must be a list of conditions ([] for none), got "
            f"{'nothing' if 'conditions' not in data else _shown(conditions)}."
        )
    else:
        errors.extend(_conditions_errors(conditions))
    tiers = data.get("tiers")
    if not isinstance(tiers, list):
        errors.append(
            "tiers: must be a list of tiers ({band, max_amount}), got "
            f"{'nothing' if 'tiers' not in data else _shown(tiers)}."
        )
    else:
        errors.extend(_tiers_errors(tiers))
    return errors


def _conditions_errors(conditions: list[Any]) -> list[str]:
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(conditions):
        place = f"conditions[{index}]"
        if not isinstance(raw, Mapping):
            errors.append(
                f"{place}: must be an object with fact, op, value, message (and optional "
                f"code), got {_shown(raw)}."
            )
            continue
        errors.extend(
            f"{place}.{key}: unknown key; allowed keys: {_known(_CONDITION_KEYS)}."
            for key in raw
            if key not in _CONDITION_KEYS
        )
        errors.extend(
            f"{place}.{key}: missing; a condition needs {_known(_CONDITION_REQUIRED)}."
            for key in _CONDITION_REQUIRED
            if key not in raw
        )
        fact_ok = op_ok = False
        fact, op = raw.get("fact"), raw.get("op")
        if "fact" in raw:
            fact_ok = isinstance(fact, str) and fact in FACTS
            if not fact_ok:
                shown = repr(fact) if isinstance(fact, str) else _shown(fact)
                errors.append(f"{place}.fact: {shown} is not a fact; known facts: {_known(FACTS)}.")
        if "op" in raw:
            op_ok = isinstance(op, str) and op in OPERATORS
            if not op_ok:
                shown = repr(op) if isinstance(op, str) else _shown(op)
                errors.append(
                    f"{place}.op: {shown} is not an operator; use one of: {_known(OPERATORS)}."
                )
        if fact_ok and "value" in raw:
            problem = _value_problem(cast(str, fact), raw["value"])  # fact_ok: a known fact
            if problem:
                errors.append(f"{place}.value: {problem}")
        if "message" in raw:
            message = raw["message"]
            if not isinstance(message, str) or not message.strip():
                errors.append(
                    f"{place}.message: must be a non-empty text of at most "
                    f"{MESSAGE_MAX_LENGTH} characters (shown when the condition fails), "
                    f"got {_shown(message) if not isinstance(message, str) else 'an empty text'}."
                )
            elif len(message) > MESSAGE_MAX_LENGTH:
                errors.append(
                    f"{place}.message: {len(message)} characters is too long; at most "
                    f"{MESSAGE_MAX_LENGTH} are allowed."
                )
        if "code" in raw:
            code = raw["code"]
            if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
                shown = repr(code) if isinstance(code, str) else _shown(code)
                errors.append(
                    f"{place}.code: {shown} is not a valid code; use 1 to 50 lowercase "
                    "letters, digits and underscores, starting with a letter (or leave it "
                    "out for the default <fact>_not_met)."
                )
        if fact_ok and op_ok:
            # fact_ok and op_ok: a known fact and operator, both texts
            earlier = seen.setdefault((cast(str, fact), cast(str, op)), index)
            if earlier != index:
                errors.append(
                    f"{place}: repeats {fact} {op} of conditions[{earlier}]; keep one "
                    "condition per fact and operator."
                )
    return errors


def _value_problem(fact_key: str, value: Any) -> str | None:
    """What is wrong with a condition's value for that fact, or None."""
    fact = FACTS[fact_key]
    if fact_key == BAND_FACT:
        if isinstance(value, str) and value in BAND_CODES:
            return None
        shown = repr(value) if isinstance(value, str) else _shown(value)
        return f"{shown} is not a band; use one of: {_known(BAND_CODES)}."
    expected = f"{fact_key} takes a whole number {_range_text(fact.minimum, fact.maximum)}"
    if isinstance(value, str) and value in BAND_CODES:
        return f"{value!r} is a band, which only the band fact takes; {expected}."
    if not _is_int(value):
        return f"{expected}, got {_shown(value)}."
    if value < fact.minimum or (fact.maximum is not None and value > fact.maximum):
        return f"{value} is out of range; {expected}."
    return None


def _tiers_errors(tiers: list[Any]) -> list[str]:
    if not tiers:
        return [
            "tiers: at least one tier is needed ({band, max_amount}); without one nothing "
            "can ever be waived."
        ]
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(tiers):
        place = f"tiers[{index}]"
        if not isinstance(raw, Mapping):
            errors.append(
                f"{place}: must be an object with band and max_amount, got {_shown(raw)}."
            )
            continue
        errors.extend(
            f"{place}.{key}: unknown key; allowed keys: {_known(_TIER_KEYS)}."
            for key in raw
            if key not in _TIER_KEYS
        )
        errors.extend(
            f"{place}.{key}: missing; a tier needs {_known(_TIER_KEYS)}."
            for key in _TIER_KEYS
            if key not in raw
        )
        if "band" in raw:
            band = raw["band"]
            if not isinstance(band, str) or band not in BAND_CODES:
                shown = repr(band) if isinstance(band, str) else _shown(band)
                errors.append(
                    f"{place}.band: {shown} is not a band; use one of: {_known(BAND_CODES)}."
                )
            else:
                earlier = seen.setdefault(band, index)
                if earlier != index:
                    errors.append(
                        f"{place}.band: {band!r} already has a tier at tiers[{earlier}]; "
                        "give each band one tier."
                    )
        if "max_amount" in raw:
            amount = raw["max_amount"]
            if not _is_int(amount) or not 0 <= amount <= ABSURD_AMOUNT:
                errors.append(
                    f"{place}.max_amount: must be a whole number of minor units from 0 to "
                    f"{ABSURD_AMOUNT} (50000 is 500.00), got {_shown(amount)}."
                )
    return errors


# --- Evaluation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Outcome:
    eligible: bool
    waived_amount: int
    held_amount: int  # the rest of the deposit, held on the citizen's wallet
    reasons: tuple[Reason, ...]


def condition_met(condition: Condition, facts: Mapping[str, int | str | None]) -> bool:
    """Whether the facts meet one condition. An absent fact does not: it cannot be confirmed.

    A band compares by its position in BAND_CODES (worst first), so ``>= good`` means
    good, very good or excellent.
    """
    actual = facts.get(condition.fact)
    if actual is None:
        return False
    compare = OPERATORS[condition.op]
    if condition.fact == BAND_FACT:
        if not isinstance(actual, str) or actual not in BAND_CODES:
            raise ValueError(f"band: {actual!r} is not a band; expected one of {BAND_CODES}.")
        return compare(BAND_CODES.index(actual), BAND_CODES.index(cast(str, condition.value)))
    if not _is_int(actual):
        raise ValueError(f"{condition.fact}: expected a whole number or None, got {actual!r}.")
    return compare(actual, cast(int, condition.value))


def evaluate(
    rules: Rules,
    facts: Mapping[str, int | str | None],
    *,
    requested: int,
    max_amount: int,
    currency: str,
) -> Outcome:
    """Decide how much of a deposit of ``requested`` may be waived.

    ``max_amount`` is the perk's own ceiling, on top of the tiers. Failed conditions are
    all reported, in the rules' order, so the citizen learns everything to work on at
    once; nothing is waived then, whatever the band.
    """
    if not _is_int(requested) or requested <= 0:
        raise ValueError(f"requested must be a positive whole number of minor units: {requested!r}")
    if not _is_int(max_amount) or max_amount < 0:
        raise ValueError(f"max_amount must be a whole number of 0 or more: {max_amount!r}")
    failed = tuple(
        Reason(condition.code, condition.message)
        for condition in rules.conditions
        if not condition_met(condition, facts)
    )
    if failed:
        return Outcome(eligible=False, waived_amount=0, held_amount=requested, reasons=failed)
    band = facts.get(BAND_FACT)
    if band is not None and band not in BAND_CODES:
        raise ValueError(f"band: {band!r} is not a band; expected one of {BAND_CODES}.")
    # No band (no score yet) cannot be confirmed: nothing is waived.
    cap = 0 if band is None else min(rules.cap_for_band(cast(str, band)), max_amount)
    if cap == 0:
        refusal = Reason(NO_WAIVER_CODE, NO_WAIVER_MESSAGE)
        return Outcome(eligible=False, waived_amount=0, held_amount=requested, reasons=(refusal,))
    waived = min(requested, cap)
    held = requested - waived
    if held == 0:
        reason = Reason(
            DEPOSIT_WAIVED_CODE,
            f"The whole deposit of {format_money(requested, currency)} is waived.",
        )
    else:
        reason = Reason(
            PARTIAL_WAIVER_CODE,
            f"Up to {format_money(waived, currency)} of the deposit can be waived; "
            f"{format_money(held, currency)} will be held.",
        )
    return Outcome(eligible=True, waived_amount=waived, held_amount=held, reasons=(reason,))


# --- In plain words --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Requirement:
    """One line of a perk's rules for the citizen: the words, and the same line as data
    (so a client can say it in the citizen's own language)."""

    fact: str
    text: str
    kind: str  # "condition" (must hold) or "tier" (what a band waives)
    op: str | None = None  # a condition's operator
    threshold: int | None = None  # a numeric condition's value
    band: str | None = None  # a band condition's value, or a tier's band
    amount: int | None = None  # a tier's most waived, capped by the perk's maximum


def requirements(rules: Rules, *, max_amount: int, currency: str) -> list[Requirement]:
    """The rules as the citizen reads them before consenting, thresholds included.

    One line per condition, then one per tier (its amount capped by the perk's
    ``max_amount``, since that is what can really be waived).
    """
    lines = [
        Requirement(
            condition.fact,
            _condition_text(condition),
            kind="condition",
            op=condition.op,
            threshold=None if condition.fact == BAND_FACT else cast(int, condition.value),
            band=cast(str, condition.value) if condition.fact == BAND_FACT else None,
        )
        for condition in rules.conditions
    ]
    for tier in rules.tiers:
        amount = min(tier.max_amount, max_amount)
        waived = (
            f"up to {format_money(amount, currency)} waived" if amount > 0 else "nothing waived"
        )
        lines.append(
            Requirement(
                BAND_FACT,
                f"{FACTS[BAND_FACT].label} {BAND_LABELS[tier.band]}: {waived}",
                kind="tier",
                band=tier.band,
                amount=amount,
            )
        )
    return lines


def _condition_text(condition: Condition) -> str:
    fact = FACTS[condition.fact]
    if fact.key == BAND_FACT:
        band = cast(str, condition.value)
        return f"{fact.label} {_BAND_OP_WORDS[condition.op]} {BAND_LABELS[band]}"
    value = cast(int, condition.value)
    if fact.kind == "count" and (condition.op, value) in {("==", 0), ("<=", 0), ("<", 1)}:
        return f"{fact.label}: none"
    if fact.key == "identity_level":
        # What was verified, in words; never "level 1", which means nothing to a citizen.
        at_least = value if condition.op == ">=" else value + 1 if condition.op == ">" else None
        if at_least in IDENTITY_AT_LEAST:
            return IDENTITY_AT_LEAST[at_least]
        shown = IDENTITY_LEVEL_NAMES.get(value, "unknown")
    elif fact.kind == "percent":
        shown = f"{value}%"
    elif fact.kind == "days":
        shown = f"{value} days" if value != 1 else "1 day"
    else:
        shown = str(value)
    return f"{fact.label} {_OP_WORDS[condition.op]} {shown}"


DEFAULT_RULES: dict[str, Any] = {
    "conditions": [
        {
            "fact": "score",
            "op": ">=",
            "value": 600,
            "message": "A score of at least 600 is needed.",
        },
        {
            "fact": "unpaid_claims",
            "op": "==",
            "value": 0,
            "message": "No damage claim may be left unpaid.",
            "code": "unpaid_claims",
        },
        {
            "fact": "identity_level",
            "op": ">=",
            "value": 1,
            "message": "A verified phone number is needed.",
        },
    ],
    "tiers": [
        {"band": "good", "max_amount": 50000},
        {"band": "very_good", "max_amount": 100000},
        {"band": "excellent", "max_amount": 200000},
    ],
}
