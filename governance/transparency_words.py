"""The transparency page's words in the visitor's language (English, Spanish, Chinese).

The registry's fixed words (the facts' labels and descriptions, the band labels, what may
never be a fact) are English constants in ``scoring``; they are translated here by their
English text, which the ``gettext_noop`` markers below put in governance's catalogs (a
test checks that every one of them is translated). Words written by people (a merchant's
condition message, a scorecard's own factor label when it is not its fact's, an approval's
justification) stay as written.

A perk's rules are said from their typed lines (``merchants.perks.rules.Requirement``:
fact, operator, threshold, band, amount), as the citizen app says them, never from the
English text those lines also carry.
"""

from __future__ import annotations

from babel.numbers import format_decimal, format_percent
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from merchants.console.labels import money
from merchants.perks.rules import BAND_FACT, Requirement
from scoring.facts import BAND_LABELS, FACTS

# The registry's constants, so that makemessages finds them (scoring.facts says them in
# English; ``registry_text`` translates them by that English text).
REGISTRY_WORDS: tuple[str, ...] = (
    # Facts: labels
    gettext_noop("Score"),
    gettext_noop("Band"),
    gettext_noop("Identity verification"),
    gettext_noop("Account age"),
    gettext_noop("Bills paid on time (12 months)"),
    gettext_noop("Late payments (24 months)"),
    gettext_noop("Bookings completed (24 months)"),
    gettext_noop("Stays completed well (24 months)"),
    gettext_noop("No-shows (12 months)"),
    gettext_noop("Unpaid claims"),
    gettext_noop("Open disputes"),
    # Facts: descriptions
    gettext_noop("The current score, 350 to 950."),
    gettext_noop("The band of the score: poor, fair, good, very good, excellent."),
    gettext_noop("0 none, 1 phone verified, 2 identity document verified."),
    gettext_noop("Days since the account was opened."),
    gettext_noop("Share of bills of the last 12 months paid by their due date, in percent."),
    gettext_noop("Bills paid after their due date, or still overdue, in the last 24 months."),
    gettext_noop("Stays and rentals completed without a problem in the last 24 months."),
    gettext_noop(
        "Share of the stays and rentals of the last 24 months that ended well (completed, "
        "no claim left unpaid), in percent; absent before 2 stays. A share, not a count: it "
        "does not grow with how often someone can afford to travel."
    ),
    gettext_noop("Bookings not turned up to in the last 12 months."),
    gettext_noop(
        "Damage claims left unpaid (paid ones, and those a dispute removed, do not count)."
    ),
    gettext_noop(
        "Records the citizen disputes that await an answer (from the merchant that "
        "reported them, or from staff); they count meanwhile."
    ),
    # Bands
    gettext_noop("Poor"),
    gettext_noop("Fair"),
    gettext_noop("Good"),
    gettext_noop("Very good"),
    gettext_noop("Excellent"),
    # What may never be a fact: labels
    gettext_noop("Sex or gender"),
    gettext_noop("Age or date of birth"),
    gettext_noop("Ethnicity or origin"),
    gettext_noop("Religion or belief"),
    gettext_noop("Nationality or residence status"),
    gettext_noop("Health or disability"),
    gettext_noop("Balances, income or wealth"),
    gettext_noop("Social relations"),
    gettext_noop("Opinions"),
    # ... and why
    gettext_noop(
        "Who you are is not how reliably you keep your commitments; a score must not "
        "treat women and men differently."
    ),
    gettext_noop(
        "Being young or old says nothing about whether you pay your bills; only how long "
        "your account has been open counts."
    ),
    gettext_noop("A score that read someone's ethnic origin would turn prejudice into a number."),
    gettext_noop(
        "What you believe is your own business and never a reason to trust you more or less."
    ),
    gettext_noop("Newcomers keep their commitments as well as anyone; a passport is not a record."),
    gettext_noop(
        "Illness and disability are protected, and often the reason a plan had to change."
    ),
    gettext_noop(
        "Money would buy the better score, and the deposit waiver would go to those who "
        "need it least."
    ),
    gettext_noop(
        "Your friends, family, contacts and followers are not you, and you are not "
        "answerable for them."
    ),
    gettext_noop("What you say, read, like or vote for must never cost you a deposit."),
    # The thin-file reason (scoring.scorecard.THIN_FILE_LABEL)
    gettext_noop("Your credit history is short"),
)


def registry_text(english: str) -> str:
    """A registry constant in the page's language (itself when the catalog lacks it)."""
    return gettext(english) if english else english


def fact_label(fact: str) -> str:
    known = FACTS.get(fact)
    return registry_text(known.label) if known is not None else fact


def band_label(band: str) -> str:
    return registry_text(BAND_LABELS.get(band, band))


# --- The audit's dimensions and groups ------------------------------------------------

DIMENSIONS: dict[str, Promise] = {
    "wealth_quintile": _("Wealth (average wallet balance over 90 days)"),
    "identity_level": _("Identity verification"),
    "account_age_band": _("Account age"),
    "age_band": _("Age band (volunteered)"),
    "sex": _("Sex (volunteered)"),
}

GROUPS: dict[tuple[str, str], Promise] = {
    ("wealth_quintile", "q1"): _("Lowest fifth"),
    ("wealth_quintile", "q2"): _("Second fifth"),
    ("wealth_quintile", "q3"): _("Middle fifth"),
    ("wealth_quintile", "q4"): _("Fourth fifth"),
    ("wealth_quintile", "q5"): _("Highest fifth"),
    ("identity_level", "0"): _("Not verified"),
    ("identity_level", "1"): _("Phone verified"),
    ("identity_level", "2"): _("Identity document verified"),
    ("account_age_band", "<90d"): _("Under 90 days"),
    ("account_age_band", "90d-1y"): _("90 days to 1 year"),
    ("account_age_band", "1-2y"): _("1 to 2 years"),
    ("account_age_band", "2y+"): _("2 years or more"),
    ("age_band", "18-24"): _("18 to 24"),
    ("age_band", "25-34"): _("25 to 34"),
    ("age_band", "35-44"): _("35 to 44"),
    ("age_band", "45-54"): _("45 to 54"),
    ("age_band", "55-64"): _("55 to 64"),
    ("age_band", "65+"): _("65 or older"),
    ("sex", "female"): _("Female"),
    ("sex", "male"): _("Male"),
    ("sex", "other"): _("Another answer"),
}

RATES: dict[str, Promise] = {
    "good_or_better": _("Band good or better"),
    "waiver_any": _("Some of the deposit waived"),
    "waiver_full": _("The whole deposit waived"),
}

PERK_KINDS: dict[str, Promise] = {
    "deposit_waiver": _("Deposit waiver"),
}


def dimension_label(key: str, stored: str) -> str:
    word = DIMENSIONS.get(key)
    return str(word) if word is not None else stored or key


def group_label(dimension: str, key: str, stored: str) -> str:
    word = GROUPS.get((dimension, key))
    return str(word) if word is not None else stored or key


def rate_label(key: str) -> str:
    word = RATES.get(key)
    return str(word) if word is not None else key.replace("_", " ")


def perk_kind_label(kind: str) -> str:
    word = PERK_KINDS.get(kind)
    return str(word) if word is not None else kind.replace("_", " ")


# --- A scorecard's bins ---------------------------------------------------------------

IDENTITY_LEVELS: dict[int, Promise] = {
    0: _("Not verified"),
    1: _("Phone verified"),
    2: _("Identity document verified"),
}


def _locale() -> str:
    return translation.to_locale(translation.get_language() or "en")


def percent(value: int) -> str:
    """A whole percent (50 -> "50%" / "50 %")."""
    return format_percent(value / 100, locale=_locale())


def number(value: int) -> str:
    """A whole number as read in the page's language (1095 -> "1,095" / "1095")."""
    return format_decimal(value, locale=_locale())


def value_text(fact: str, value: int) -> str:
    """One value of a fact in its own unit: a level's name, a percent, days, a number."""
    known = FACTS.get(fact)
    if fact == "identity_level" and value in IDENTITY_LEVELS:
        return str(IDENTITY_LEVELS[value])
    if known is not None and known.kind == "percent":
        return percent(value)
    if known is not None and known.kind == "days":
        return ngettext("%(count)s day", "%(count)s days", value) % {"count": number(value)}
    return number(value)


def bin_range(fact: str, low: int, high: int | None) -> str:
    """The values of one bin: "3", "50% to 79%", "1,095 days or more"."""
    if high is None:
        return gettext("%(value)s or more") % {"value": value_text(fact, low)}
    if high == low:
        return value_text(fact, low)
    known = FACTS.get(fact)
    if known is not None and known.kind == "days":
        return gettext("%(low)s to %(high)s days") % {"low": number(low), "high": number(high)}
    if known is not None and known.kind == "level":
        # Levels are names: each of them, not a range.
        return ", ".join(value_text(fact, level) for level in range(low, high + 1))
    return gettext("%(low)s to %(high)s") % {
        "low": value_text(fact, low),
        "high": value_text(fact, high),
    }


def missing_text(fact: str) -> str:
    """The row of an optional fact's points when it has no value."""
    if fact == "on_time_ratio_12m":
        return gettext("No bill in the last 12 months")
    return gettext("No value")


# --- A perk's rules -------------------------------------------------------------------

_OPS: dict[str, Promise] = {
    ">=": _("at least"),
    "<=": _("at most"),
    "==": _("exactly"),
    ">": _("more than"),
    "<": _("less than"),
}


def _band_op(op: str) -> str:
    # Bands are better or worse, not more or less (and some languages say them apart).
    words = {
        ">=": pgettext("band comparison", "at least"),
        "<=": pgettext("band comparison", "at most"),
        "==": pgettext("band comparison", "exactly"),
        ">": pgettext("band comparison", "better than"),
        "<": pgettext("band comparison", "worse than"),
    }
    return words.get(op, op)


_ZERO: dict[str, Promise] = {
    "unpaid_claims": _("No unpaid claims"),
    "open_disputes": _("No open disputes"),
    "late_payments_24m": _("No late payments in the last 24 months"),
    "no_shows_12m": _("No no-shows in the last 12 months"),
}

_IDENTITY_AT_LEAST: dict[int, Promise] = {
    1: _("A verified phone number (or identity document)"),
    2: _("A verified identity document"),
}


def _is_none_required(requirement: Requirement) -> bool:
    known = FACTS.get(requirement.fact)
    return (
        known is not None
        and known.kind == "count"
        and (requirement.op, requirement.threshold) in {("==", 0), ("<=", 0), ("<", 1)}
    )


def requirement_text(requirement: Requirement, currency: str) -> str:
    """One line of a perk's rules in the page's language; the English line as the rules
    module wrote it when the line is of a shape this page cannot say."""
    if requirement.kind == "tier":
        if requirement.band is None or requirement.amount is None:
            return requirement.text
        if requirement.amount > 0:
            return gettext("Band %(band)s: up to %(amount)s waived") % {
                "band": band_label(requirement.band),
                "amount": money(requirement.amount, currency),
            }
        return gettext("Band %(band)s: nothing waived") % {"band": band_label(requirement.band)}
    op = requirement.op or ""
    if requirement.fact == BAND_FACT:
        if requirement.band is None:
            return requirement.text
        return gettext("%(fact)s: %(op)s %(value)s") % {
            "fact": fact_label(BAND_FACT),
            "op": _band_op(op),
            "value": band_label(requirement.band),
        }
    threshold = requirement.threshold
    if threshold is None or op not in _OPS or requirement.fact not in FACTS:
        return requirement.text
    if _is_none_required(requirement):
        zero = _ZERO.get(requirement.fact)
        if zero is not None:
            return str(zero)
        return gettext("%(fact)s: none") % {"fact": fact_label(requirement.fact)}
    if requirement.fact == "identity_level":
        at_least = threshold if op == ">=" else threshold + 1 if op == ">" else None
        if at_least in _IDENTITY_AT_LEAST:
            return str(_IDENTITY_AT_LEAST[at_least])
    return gettext("%(fact)s: %(op)s %(value)s") % {
        "fact": fact_label(requirement.fact),
        "op": str(_OPS[op]),
        "value": value_text(requirement.fact, threshold),
    }
