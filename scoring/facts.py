"""The facts: the only inputs that scorecards and merchants' rules may use.

This registry is the closed, reviewed vocabulary of the score (README, "Scores"). Adding a
fact is a change to this file, reviewed like any other: protected attributes (sex, age,
ethnicity, religion, nationality, health), balances and income, social relations and
opinions are not facts and must never become one. No database here.

Credit events fade: each kind counts for a window after it happened (365 days for
"12 months", 730 days for "24 months"; days, so that Python and SQL agree to the day).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

DAYS_12_MONTHS = 365
DAYS_24_MONTHS = 730
# The share of stays completed well counts only from this many stays (24 months) on:
# one stay says too little either way. Below it the fact is absent, which a scorecard
# scores with its ``missing_points`` (and a thin file folds into "history is short").
MIN_STAYS_FOR_SHARE = 2
# How a scorecard must score that absence: as a share of 50%. One stay of two is 50%
# whichever way it went, so the first stays that make the share count, like taking a bad
# stay away from two, then never lower the score (a scorecard's validation checks it).
MISSING_SHARE_SCORED_AS = 100 // MIN_STAYS_FOR_SHARE


class EventKinds:
    """Kinds of credit event (stable codes stored in the database)."""

    BILL_PAID_ON_TIME = "bill_paid_on_time"
    BILL_PAID_LATE = "bill_paid_late"
    BILL_OVERDUE = "bill_overdue"
    BOOKING_COMPLETED = "booking_completed"
    NO_SHOW = "no_show"
    CLAIM_PAID = "claim_paid"
    CLAIM_UNPAID = "claim_unpaid"


# How long each kind counts after it happened.
EVENT_WINDOW_DAYS: dict[str, int] = {
    EventKinds.BILL_PAID_ON_TIME: DAYS_12_MONTHS,
    EventKinds.BILL_PAID_LATE: DAYS_24_MONTHS,
    EventKinds.BILL_OVERDUE: DAYS_24_MONTHS,
    EventKinds.BOOKING_COMPLETED: DAYS_24_MONTHS,
    EventKinds.NO_SHOW: DAYS_12_MONTHS,
    EventKinds.CLAIM_PAID: DAYS_24_MONTHS,
    EventKinds.CLAIM_UNPAID: DAYS_24_MONTHS,
}

# A later event about the same subject settles an earlier one: paying an unpaid claim
# ends it being unpaid; paying an overdue bill late turns the overdue record into the
# late payment (one late payment, never two).
SETTLES: dict[str, str] = {
    EventKinds.CLAIM_PAID: EventKinds.CLAIM_UNPAID,
    EventKinds.BILL_PAID_LATE: EventKinds.BILL_OVERDUE,
}

# The facts each kind of credit event feeds: what a record of that kind tells whoever
# opens it (a staff read of the record is logged as a read of these facts).
EVENT_FACTS: dict[str, tuple[str, ...]] = {
    EventKinds.BILL_PAID_ON_TIME: ("on_time_ratio_12m",),
    EventKinds.BILL_PAID_LATE: ("on_time_ratio_12m", "late_payments_24m"),
    EventKinds.BILL_OVERDUE: ("late_payments_24m",),
    EventKinds.BOOKING_COMPLETED: ("bookings_completed", "stays_completed_well_24m"),
    EventKinds.NO_SHOW: ("no_shows_12m", "stays_completed_well_24m"),
    EventKinds.CLAIM_PAID: ("unpaid_claims", "stays_completed_well_24m"),
    EventKinds.CLAIM_UNPAID: ("unpaid_claims", "stays_completed_well_24m"),
}


FactKind = Literal["count", "percent", "level", "days", "score", "band"]


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    kind: FactKind
    minimum: int
    maximum: int | None
    higher_is_better: bool
    description: str
    # Scorecards may score it (the score and band are results, not inputs).
    scorable: bool = True
    # May be absent (the on-time ratio of someone who had no bills in 12 months).
    optional: bool = False
    # Absent, it must earn what this value would (``missing_points`` equal to the points
    # of this value's bin): None when any points will do.
    missing_scored_as: int | None = None


FACTS: dict[str, Fact] = {
    fact.key: fact
    for fact in (
        Fact(
            "score",
            "Score",
            "score",
            350,
            950,
            True,
            "The current score, 350 to 950.",
            scorable=False,
        ),
        Fact(
            "band",
            "Band",
            "band",
            0,
            4,
            True,
            "The band of the score: poor, fair, good, very good, excellent.",
            scorable=False,
        ),
        Fact(
            "identity_level",
            "Identity verification",
            "level",
            0,
            2,
            True,
            "0 none, 1 phone verified, 2 identity document verified.",
        ),
        Fact(
            "account_age_days",
            "Account age",
            "days",
            0,
            None,
            True,
            "Days since the account was opened.",
        ),
        Fact(
            "on_time_ratio_12m",
            "Bills paid on time (12 months)",
            "percent",
            0,
            100,
            True,
            "Share of bills of the last 12 months paid by their due date, in percent.",
            optional=True,
        ),
        Fact(
            "late_payments_24m",
            "Late payments (24 months)",
            "count",
            0,
            None,
            False,
            "Bills paid after their due date, or still overdue, in the last 24 months.",
        ),
        Fact(
            "bookings_completed",
            "Bookings completed (24 months)",
            "count",
            0,
            None,
            True,
            "Stays and rentals completed without a problem in the last 24 months.",
        ),
        Fact(
            "stays_completed_well_24m",
            "Stays completed well (24 months)",
            "percent",
            0,
            100,
            True,
            "Share of the stays and rentals of the last 24 months that ended well "
            "(completed, no claim left unpaid), in percent; absent before "
            f"{MIN_STAYS_FOR_SHARE} stays. A share, not a count: it does not grow with how "
            "often someone can afford to travel.",
            optional=True,
            missing_scored_as=MISSING_SHARE_SCORED_AS,
        ),
        Fact(
            "no_shows_12m",
            "No-shows (12 months)",
            "count",
            0,
            None,
            False,
            "Bookings not turned up to in the last 12 months.",
        ),
        Fact(
            "unpaid_claims",
            "Unpaid claims",
            "count",
            0,
            None,
            False,
            "Damage claims left unpaid (paid ones, and those a dispute removed, do not count).",
        ),
        Fact(
            "open_disputes",
            "Open disputes",
            "count",
            0,
            None,
            False,
            "Records the citizen disputes that await an answer (from the merchant that "
            "reported them, or from staff); they count meanwhile.",
            scorable=False,
        ),
    )
}


@dataclass(frozen=True)
class FactorWords:
    """How a scorecard factor scoring a fact speaks to the citizen, whatever its bins: the
    factor's key (the code of its reason, which the app translates), label, reason and
    tip, and whether a thin file folds it into "your history is short". A scorecard fitted
    from outcomes takes its words from here (``scoring.fitting``)."""

    key: str
    label: str
    reason: str
    tip: str
    history: bool = False


# One entry per scorable fact, with the keys and words of the scorecards written by hand
# (version 1 and 2), minus what named their bins: fitted bins fall where the data says.
FACTOR_WORDS: dict[str, FactorWords] = {
    "on_time_ratio_12m": FactorWords(
        "on_time_payments",
        "Bills paid on time (12 months)",
        "Not all of your recent bills were paid on time",
        "Pay each bill by its due date; your on-time share counts the last 12 months.",
        history=True,
    ),
    "late_payments_24m": FactorWords(
        "late_payments",
        "Late payments (24 months)",
        "You have late payments in the last 24 months",
        "Each late payment stops counting 24 months after it; paying on time from now on "
        "keeps new ones away.",
    ),
    "bookings_completed": FactorWords(
        "bookings_completed",
        "Bookings completed (24 months)",
        "Few completed bookings so far",
        "Stays and rentals you complete without a problem add to your score.",
        history=True,
    ),
    "stays_completed_well_24m": FactorWords(
        "stays_completed_well",
        "Stays completed well (24 months)",
        "Some of your recent stays did not end well",
        "Turn up to the stays you book and settle any damage claim: the share of your "
        "stays that end well counts, not how many you can afford.",
        history=True,
    ),
    "no_shows_12m": FactorWords(
        "no_shows",
        "No-shows (12 months)",
        "You missed a booking in the last 12 months",
        "Cancel a booking you cannot keep; a no-show stops counting after 12 months.",
    ),
    "unpaid_claims": FactorWords(
        "unpaid_claims",
        "Unpaid claims",
        "You have an unpaid damage claim",
        "Pay the claim from your wallet, or dispute it if it is wrong: a claim the "
        "dispute finds wrong stops counting.",
    ),
    "account_age_days": FactorWords(
        "account_age",
        "Account age",
        "Your account is new",
        "This grows by itself: an account gains points as it ages.",
    ),
    "identity_level": FactorWords(
        "identity",
        "Identity verification",
        "Your identity is not fully verified",
        "Verify your phone, then an identity document, in the app.",
    ),
}


@dataclass(frozen=True)
class NeverFact:
    """Something that may never become a fact, whatever it would predict: what it is,
    and why in one sentence (shown on the public transparency page)."""

    key: str
    label: str
    why: str


# What may never be a fact (this registry's own rule, published as it is written here).
NEVER_FACTS: tuple[NeverFact, ...] = (
    NeverFact(
        "sex",
        "Sex or gender",
        "Who you are is not how reliably you keep your commitments; a score must not "
        "treat women and men differently.",
    ),
    NeverFact(
        "age",
        "Age or date of birth",
        "Being young or old says nothing about whether you pay your bills; only how long "
        "your account has been open counts.",
    ),
    NeverFact(
        "ethnicity",
        "Ethnicity or origin",
        "A score that read someone's ethnic origin would turn prejudice into a number.",
    ),
    NeverFact(
        "religion",
        "Religion or belief",
        "What you believe is your own business and never a reason to trust you more or less.",
    ),
    NeverFact(
        "nationality",
        "Nationality or residence status",
        "Newcomers keep their commitments as well as anyone; a passport is not a record.",
    ),
    NeverFact(
        "health",
        "Health or disability",
        "Illness and disability are protected, and often the reason a plan had to change.",
    ),
    NeverFact(
        "wealth",
        "Balances, income or wealth",
        "Money would buy the better score, and the deposit waiver would go to those who "
        "need it least.",
    ),
    NeverFact(
        "social",
        "Social relations",
        "Your friends, family, contacts and followers are not you, and you are not "
        "answerable for them.",
    ),
    NeverFact(
        "opinions",
        "Opinions",
        "What you say, read, like or vote for must never cost you a deposit.",
    ),
)
NEVER_FACT_KEYS: frozenset[str] = frozenset(never.key for never in NEVER_FACTS)

BANDS: tuple[tuple[int, str, str], ...] = (
    # (lowest score, code, label), best first
    (700, "excellent", "Excellent"),
    (650, "very_good", "Very good"),
    (600, "good", "Good"),
    (550, "fair", "Fair"),
    (350, "poor", "Poor"),
)
BAND_CODES: tuple[str, ...] = tuple(code for _, code, _ in reversed(BANDS))  # worst first
BAND_LABELS: dict[str, str] = {code: label for _, code, label in BANDS}


def band_for(score: int) -> str:
    for lowest, code, _ in BANDS:
        if score >= lowest:
            return code
    return BANDS[-1][1]


def duration_in_words(days: int) -> str:
    """How long a number of days is, as a person says it: "2 years", "5 months",
    "12 days" (whole units, rounded down; a year is 365 days, a month 30)."""
    for unit, size in (("year", 365), ("month", 30), ("day", 1)):
        if days >= size or unit == "day":
            count = max(days, 0) // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    raise AssertionError("unreachable")  # pragma: no cover


def _account_age_reason(days: int) -> str:
    return (
        f"Your account has been open for {duration_in_words(days)}: "
        "accounts gain points as they age"
    )


# Facts whose reason is said at the citizen's own value, whatever a scorecard's words:
# "Your account is new" is wrong of an account open for two years, which still lacks
# the points of a third. Clients say the same in their language from the factor's value.
REASON_AT_VALUE: dict[str, Callable[[int], str]] = {
    "account_age_days": _account_age_reason,
}


class Features(NamedTuple):
    """What the score is computed from, for one account at one moment.

    Besides the facts it carries the counts the on-time ratio and the share of stays
    completed well come from, so that a simulation ("pay the next 3 bills on time",
    "complete the next 2 bookings") can change them and recompute the shares.
    ``history_events`` counts every event that counts now: zero means a thin file.
    (A named tuple: the nightly batch makes one per account.)

    Fields added later come last, each with a default, so that the features stored with
    an older snapshot still load (``from_dict``).
    """

    identity_level: int
    account_age_days: int
    on_time_payments_12m: int
    late_payments_12m: int
    late_payments_24m: int
    bookings_completed: int
    no_shows_12m: int
    unpaid_claims: int
    open_disputes: int
    history_events: int
    # No-shows of 24 months (those of 12 months are a part of them): the stays' share.
    no_shows_24m: int = 0

    @property
    def on_time_ratio_12m(self) -> int | None:
        return on_time_ratio(self.on_time_payments_12m, self.late_payments_12m)

    @property
    def stays_completed_well_24m(self) -> int | None:
        return stays_well_share(self.bookings_completed, self.no_shows_24m, self.unpaid_claims)

    @property
    def is_thin_file(self) -> bool:
        return self.history_events == 0

    def as_dict(self) -> dict[str, int | None]:
        """Every field and fact, as stored with a snapshot."""
        return {
            **self._asdict(),
            "on_time_ratio_12m": self.on_time_ratio_12m,
            "stays_completed_well_24m": self.stays_completed_well_24m,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Features:
        """The features stored with a snapshot (JSON, as ``as_dict`` wrote them). A
        snapshot older than a field lacks it: its default, except the no-shows of 24
        months, which are at least those of 12 months (the best a snapshot that kept only
        those says)."""
        values = {key: data[key] for key in cls._fields if key in data}
        for field_name, stand_in in FEATURE_STAND_INS.items():
            if field_name not in values:
                values[field_name] = data.get(stand_in, 0)
        return cls(**values)


# Fields added after snapshots were first stored, each with the stored field that stands
# in for it in an older snapshot (``Features.from_dict``; the audit's SQL reads them so).
FEATURE_STAND_INS: dict[str, str] = {"no_shows_24m": "no_shows_12m"}

# The facts that are computed from the fields (properties of ``Features``), in the order
# a snapshot's JSON lists them after the fields.
DERIVED_FACTS: tuple[str, ...] = ("on_time_ratio_12m", "stays_completed_well_24m")


def on_time_ratio(on_time: int, late: int) -> int | None:
    """Whole percent of bills paid on time, rounded down; None without any bill."""
    total = on_time + late
    if total == 0:
        return None
    return 100 * on_time // total


def stays_well_share(completed: int, no_shows: int, unpaid_claims: int) -> int | None:
    """Whole percent of the stays of 24 months that ended well, rounded down: completed
    ones out of completed, no-shows and those whose damage claim is unpaid. None below
    ``MIN_STAYS_FOR_SHARE`` stays. (A claim paid in full ends its stay's record as a
    kept commitment: such a stay counts neither way.)"""
    stays = completed + no_shows + unpaid_claims
    if stays < MIN_STAYS_FOR_SHARE:
        return None
    return 100 * completed // stays
