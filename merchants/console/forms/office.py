"""Forms of the manager's and billing clerk's pages: filters, a month, a dispute's
answer, a bill. Labels and messages are translatable; amounts are typed in major units
and handed to services in minor units (the currency's own decimals, Babel's)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.money import minor_unit_exponent
from merchants.bills.services import BILL_DUE_MIN
from merchants.console import labels
from merchants.console.labels import money
from merchants.console.selectors.office import BillingConsentChoice

NOTE_MAX = 2000
DESCRIPTION_MAX = 500
# The months the report offers: from 2000 to 9999 (a date Python can hold).
MONTH_MIN = date(2000, 1, 1)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _choices(table: dict[str, Any], everything: Any) -> list[tuple[str, Any]]:
    return [("", everything), *table.items()]


class BookingFilterForm(forms.Form):
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(labels.BOOKING_STATUS, _("Any status")),
    )
    check_in_from = forms.DateField(label=_("Check-in from"), required=False, widget=DateInput())
    check_in_until = forms.DateField(label=_("Check-in until"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("check_in_from"), data.get("check_in_until")
        if start and end and end < start:
            self.add_error("check_in_until", _("The end comes before the start."))
        return data


class ClaimFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(labels.CLAIM_STATUS, _("Any status")),
    )


class DisputeFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(labels.DISPUTE_STATUS, _("Any status")),
    )


class MonthForm(forms.Form):
    """A month as ``YYYY-MM`` (what ``<input type="month">`` sends)."""

    month = forms.CharField(label=_("Month"), required=False, max_length=7)

    def clean_month(self) -> date | None:
        value = (self.cleaned_data.get("month") or "").strip()
        if not value:
            return None
        try:
            year, month = (int(part) for part in value.split("-"))
            chosen = date(year, month, 1)
        except (ValueError, TypeError):
            raise forms.ValidationError(
                _("Enter a month as year and month, like 2026-03."), code="invalid"
            ) from None
        if chosen < MONTH_MIN:
            raise forms.ValidationError(_("Choose a month from 2000 on."), code="out_of_range")
        return chosen


class DisputeVerifyForm(forms.Form):
    note = forms.CharField(
        label=_("What confirms the record"),
        help_text=_("The citizen reads it; staff too if they escalate the dispute."),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class DisputeCorrectForm(forms.Form):
    note = forms.CharField(
        label=_("Why the record is withdrawn (optional)"),
        help_text=_("The citizen reads it."),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def consent_label(choice: BillingConsentChoice) -> str:
    consent = choice.consent
    return str(
        _("%(id)s · granted %(date)s · up to %(bill)s a bill · %(left)s left this month")
        % {
            "id": str(consent.pk)[:8],
            "date": timezone.localdate(consent.granted_at).isoformat(),
            "bill": money(consent.max_bill_amount or 0),
            "left": money(choice.left_this_month),
        }
    )


class BillForm(forms.Form):
    consent = forms.ChoiceField(
        label=_("Billing consent"),
        help_text=_("The customer's consent to be billed, with the limits they set."),
    )
    amount = forms.CharField(
        label=_("Amount"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())
    description = forms.CharField(
        label=_("What the bill is for"),
        help_text=_("The customer reads it."),
        max_length=DESCRIPTION_MAX,
    )

    def __init__(self, *args: Any, consents: list[BillingConsentChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = settings.WALLET_CURRENCY
        consent_field: Any = self.fields["consent"]
        consent_field.choices = [("", _("Choose a consent"))] + [
            (str(choice.consent.pk), consent_label(choice)) for choice in consents
        ]
        self.fields["amount"].label = _("Amount (%(currency)s)") % {"currency": self.currency}
        earliest = timezone.localdate() + BILL_DUE_MIN
        self.fields["due_date"].widget.attrs["min"] = earliest.isoformat()
        self.fields["due_date"].help_text = _("On %(date)s or later.") % {
            "date": earliest.isoformat()
        }
        if not self.is_bound:
            self.initial.setdefault("due_date", earliest + timedelta(days=7))

    def clean_amount(self) -> int:
        """Major units as typed (a comma or a point for decimals) → minor units."""
        text = self.cleaned_data["amount"].strip().replace(" ", "").replace(",", ".")
        exponent = minor_unit_exponent(self.currency)
        try:
            major = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(
                _("Enter an amount, like 120.50."), code="invalid"
            ) from None
        if not major.is_finite() or major <= 0:
            raise forms.ValidationError(_("Enter an amount above zero."), code="invalid")
        minor = major.scaleb(exponent)
        if minor != minor.to_integral_value():
            raise forms.ValidationError(
                _("At most %(digits)s decimals.") % {"digits": exponent}, code="invalid"
            )
        if minor > 10**15:
            raise forms.ValidationError(_("That amount is too large."), code="invalid")
        return int(minor)
