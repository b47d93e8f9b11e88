"""The perk rules as staff edit them: conditions and tiers as rows of a form, amounts in
major units with the currency shown, every problem said on its row.

The rows are a view of the rules' one stored form (``merchants.perks.rules``): they are
built from it (:func:`rules_as_rows`), turned back into it (:func:`rules_from_rows`) and
checked by its one validation (``rules.rules_errors``), whose messages are put on the
row (and field) they name. Amounts are typed in major units ("500.00") and kept exact:
parsed as decimals, never floats, into whole minor units (:func:`minor_from_major`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString

from common.amounts import ABSURD_AMOUNT
from common.money import minor_unit_exponent, to_major
from merchants.perks import rules as rules_module
from scoring.facts import BAND_CODES, BAND_LABELS, FACTS

BLANK = ("", "---------")

_AMOUNT = re.compile(r"\d+(?:\.\d+)?")
_WHOLE = re.compile(r"[+-]?\d+")
_PLACE = re.compile(r"^(conditions|tiers)\[(\d+)\](?:\.(\w+))?: ")
_PLACE_ANYWHERE = re.compile(r"(conditions|tiers)\[(\d+)\]")

# What each operator reads as, in the operator's select.
OPERATOR_CHOICES = [
    (">=", "≥ at least"),
    ("<=", "≤ at most"),
    ("==", "= exactly"),
    (">", "> more than (better than, for a band)"),
    ("<", "< less than (worse than, for a band)"),
]
if [op for op, _ in OPERATOR_CHOICES] != list(rules_module.OPERATORS):  # pragma: no cover
    raise RuntimeError("Every operator of the rules needs its words here.")


# --- Amounts in major units ------------------------------------------------------------


def major_text(amount_minor: int, currency: str) -> str:
    """Minor units as typed in a form: 50000 CNY -> "500.00", 5000 JPY -> "5000"."""
    return f"{to_major(amount_minor, currency):.{minor_unit_exponent(currency)}f}"


def minor_from_major(text: str, currency: str) -> int:
    """An amount typed in major units ("500", "500.5", "1,500.00", "500.00 CNY") as whole
    minor units, exactly (``Decimal``, never a float). ``ValidationError`` for anything
    else: a negative or malformed amount, more decimals than the currency has."""
    cleaned = text.strip()
    if cleaned.upper().endswith(currency.upper()):
        cleaned = cleaned[: -len(currency)].strip()
    cleaned = cleaned.replace(",", "").replace(" ", "")
    example = major_text(50_000 * 10 ** max(minor_unit_exponent(currency) - 2, 0), currency)
    if cleaned.startswith("-"):
        raise forms.ValidationError("An amount is 0 or more.", code="negative")
    if not _AMOUNT.fullmatch(cleaned):
        raise forms.ValidationError(
            f"Enter an amount in {currency}, like {example}.", code="invalid_amount"
        )
    exponent = minor_unit_exponent(currency)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as error:  # pragma: no cover (the pattern admits only numbers)
        raise forms.ValidationError("Enter an amount.", code="invalid_amount") from error
    places = -int(amount.as_tuple().exponent)
    if places > exponent:
        raise forms.ValidationError(
            f"{currency} has no smaller unit than {major_text(1, currency)}: at most "
            f"{exponent} decimal places."
            if exponent
            else f"{currency} is counted in whole units: no decimals.",
            code="too_precise",
        )
    return int(amount.scaleb(exponent))


class MoneyInput(forms.TextInput):
    """A text input followed by its currency's code ("500.00 CNY")."""

    def __init__(self, currency: str, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"size": 14, "inputmode": "decimal", **(attrs or {})})
        self.currency = currency

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        field = super().render(name, value, attrs, renderer)
        return format_html('{} <span class="currency">{}</span>', field, self.currency)


class MajorAmountField(forms.CharField):
    """An amount typed in major units of ``currency``, cleaned to whole minor units
    within ``0..maximum`` (:func:`minor_from_major`); shown again in major units."""

    def __init__(self, *, currency: str, maximum: int = ABSURD_AMOUNT, **kwargs: Any) -> None:
        self.currency = currency
        self.maximum = maximum
        kwargs.setdefault("widget", MoneyInput(currency))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return major_text(value, self.currency)
        return value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        amount = minor_from_major(text, self.currency)
        if amount > self.maximum:
            raise forms.ValidationError(
                f"At most {major_text(self.maximum, self.currency)} {self.currency}.",
                code="too_large",
            )
        return amount

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != self.to_python(self.prepare_value(initial))
        except forms.ValidationError:
            return True


# --- Rows ------------------------------------------------------------------------------


def _band_of(text: str) -> str | None:
    """A band typed by its label or its code ("Very good", "very_good"), or None."""
    wanted = text.strip().casefold()
    for code in BAND_CODES:
        if wanted in (code, BAND_LABELS[code].casefold()):
            return code
    return None


class ConditionRowForm(forms.Form):
    """One condition: the fact it reads, how it compares, with what, and what the
    citizen is told when it fails (with the code the merchant's API gets)."""

    # What each column means is said above the table (rules_rows.html), not per cell.
    fact = forms.ChoiceField(choices=[BLANK, *((key, fact.label) for key, fact in FACTS.items())])
    op = forms.ChoiceField(choices=[BLANK, *OPERATOR_CHOICES], label="Operator")
    value = forms.CharField(max_length=50, widget=forms.TextInput(attrs={"size": 10}))
    message = forms.CharField(
        max_length=rules_module.MESSAGE_MAX_LENGTH, widget=forms.TextInput(attrs={"size": 45})
    )
    code = forms.CharField(
        max_length=50, required=False, widget=forms.TextInput(attrs={"size": 18})
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        fact, value = cleaned.get("fact"), cleaned.get("value")
        if not fact or value is None:
            return cleaned
        if fact == rules_module.BAND_FACT:
            band = _band_of(value)
            if band is None:
                labels = ", ".join(BAND_LABELS[code] for code in BAND_CODES)
                self.add_error("value", f"Not a band; use one of: {labels}.")
            else:
                cleaned["value"] = band
        elif _WHOLE.fullmatch(value.strip()):
            cleaned["value"] = int(value)
        else:
            self.add_error("value", f"{FACTS[fact].label} takes a whole number, like 600.")
        return cleaned


class TierRowForm(forms.Form):
    """One tier: the most a band may have waived, in major units."""

    band = forms.ChoiceField(choices=[BLANK, *((code, BAND_LABELS[code]) for code in BAND_CODES)])

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["max_amount"] = MajorAmountField(currency=currency, label="Up to")


ConditionRows = forms.formset_factory(ConditionRowForm, extra=2, can_delete=True)
TierRows = forms.formset_factory(TierRowForm, extra=1, can_delete=True, max_num=len(BAND_CODES))


def rules_as_rows(
    rules: Mapping[str, Any], currency: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Stored rules as the rows' initial values: conditions (a band by its label, a
    number as typed) and tiers (the amount in minor units, which the field shows in
    major units)."""
    conditions = [
        {
            "fact": raw["fact"],
            "op": raw["op"],
            "value": BAND_LABELS.get(raw["value"], raw["value"])
            if raw["fact"] == rules_module.BAND_FACT
            else str(raw["value"]),
            "message": raw["message"],
            "code": raw.get("code", ""),
        }
        for raw in rules.get("conditions", [])
    ]
    tiers = [
        {"band": raw["band"], "max_amount": raw["max_amount"]} for raw in rules.get("tiers", [])
    ]
    return conditions, tiers


def _kept(rows: forms.BaseFormSet[Any]) -> list[forms.Form]:
    """The rows kept of valid rows, in their order: those it started with and the new
    ones filled in, but not those marked for deletion."""
    return [
        form
        for index, form in enumerate(rows.forms)
        if (index < rows.initial_form_count() or form.has_changed())
        and not form.cleaned_data.get("DELETE")
    ]


def rules_from_rows(
    conditions: Sequence[Mapping[str, Any]], tiers: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Rows' cleaned values as rules data (a condition's empty code left out: the
    default is written out when stored)."""
    return {
        "conditions": [
            {
                "fact": row["fact"],
                "op": row["op"],
                "value": row["value"],
                "message": row["message"],
                **({"code": row["code"]} if row.get("code") else {}),
            }
            for row in conditions
        ],
        "tiers": [{"band": row["band"], "max_amount": row["max_amount"]} for row in tiers],
    }


class RulesRows:
    """A perk's rules as two sets of rows (``conditions-*`` and ``tiers-*`` in the
    posted data), bound or not, with their validation."""

    def __init__(
        self, data: Mapping[str, Any] | None, *, rules: Mapping[str, Any] | None, currency: str
    ) -> None:
        # Posted rows are compared with nothing: a row is new when it has values, and the
        # rows it started with (the management form says how many) are kept unless deleted.
        condition_rows, tier_rows = (
            rules_as_rows(rules or {}, currency) if data is None else ([], [])
        )
        self.currency = currency
        self.conditions = ConditionRows(data, initial=condition_rows, prefix="conditions")
        self.tiers = TierRows(
            data, initial=tier_rows, prefix="tiers", form_kwargs={"currency": currency}
        )
        self.errors: list[str] = []
        """Problems of the rules as a whole (no tier at all), and the management data."""

    def clean(self) -> dict[str, Any] | None:
        """The rules, validated and in their stored form; None when any row (or the
        whole) has a problem, each said on its row and field, or in ``errors``."""
        self.errors = []
        valid = [self.conditions.is_valid(), self.tiers.is_valid()]
        for rows in (self.conditions, self.tiers):
            self.errors.extend(str(error) for error in rows.non_form_errors())
        if not all(valid):
            return None
        kept = {"conditions": _kept(self.conditions), "tiers": _kept(self.tiers)}
        data = rules_from_rows(
            [form.cleaned_data for form in kept["conditions"]],
            [form.cleaned_data for form in kept["tiers"]],
        )
        problems = rules_module.rules_errors(data)
        for problem in problems:
            self._place(problem, kept)
        if problems:
            return None
        return rules_module.Rules.from_data(data).as_data()

    def _place(self, problem: str, kept: Mapping[str, list[forms.Form]]) -> None:
        """Put one of ``rules_errors``' messages on the row (and field) it names, its
        places said as row numbers; a problem of the whole goes to ``errors``."""

        def row_number(match: re.Match[str]) -> str:
            form = kept[match[1]][int(match[2])]
            rows: list[Any] = (self.conditions if match[1] == "conditions" else self.tiers).forms
            return f"row {rows.index(form) + 1}"

        place = _PLACE.match(problem)
        if place is None:
            self.errors.append(problem.removeprefix("tiers: ").removeprefix("conditions: "))
            return
        form = kept[place[1]][int(place[2])]
        message = _PLACE_ANYWHERE.sub(row_number, problem[place.end() :])
        field = place[3] if place[3] in form.fields else None
        form.add_error(field, message)
