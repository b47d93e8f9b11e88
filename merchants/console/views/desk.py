"""The front desk (``/merchant/desk/``): the guest's one-time code (typed, or scanned with
the tablet's camera by ``console/desk.js``) and the deposit give the decision as the
merchant may see it (waived or held, and why; never the score); the booking is made from
it; today's arrivals and departures. The booking page (``/merchant/bookings/<id>/``):
check-in, check-out (``ok``, ``no_show``, or a damage claim with its lines and evidence)
and cancelling before check-in.

Thin views: forms read the input, ``merchants.console.services.desk`` writes, and every
refusal of the domain is a form message in the member's language (``refusal_message``),
never a 500."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, to_locale
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.domain import DomainError, NotFound, TooManyAttempts
from common.money import format_money, minor_unit_exponent
from common.throttling import client_address
from merchants.console.access import DESK, console_view
from merchants.console.selectors import desk as selectors
from merchants.console.services import desk as services
from merchants.models import MerchantMember
from merchants.perks.api.claims import evidence_download
from merchants.perks.claims import CLAIM_LINE_DESCRIPTION_MAX, ClaimLineInput
from merchants.perks.models import Booking, BookingOutcome, Decision
from merchants.perks.rules import DEPOSIT_WAIVED_CODE, NO_WAIVER_CODE, PARTIAL_WAIVER_CODE
from merchants.services import code_normalize

# Claim lines the check-out form offers (empty ones are left out).
CLAIM_LINES_SHOWN = 5


def _member(request: HttpRequest) -> MerchantMember:
    member: MerchantMember = request.member  # type: ignore[attr-defined]
    return member


def _currency() -> str:
    return str(settings.WALLET_CURRENCY)


def _minor(amount: Decimal) -> int:
    return int(amount.scaleb(minor_unit_exponent(_currency())))


def _money_field(label: Any, *, required: bool = True) -> forms.DecimalField:
    places = minor_unit_exponent(_currency())
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(1).scaleb(-places),
        max_digits=12,
        decimal_places=places,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )


# --- Forms -------------------------------------------------------------------------------


class DecideForm(forms.Form):
    """The guest's code, the deposit, the merchant's reference and the stay."""

    code = forms.CharField(
        label=gettext_lazy("Guest's one-time code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "class": "code-input",
            }
        ),
    )
    deposit = _money_field(gettext_lazy("Deposit"))
    reference = forms.CharField(label=gettext_lazy("Your reference"), max_length=100)
    check_in = forms.DateField(
        label=gettext_lazy("Check-in"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    check_out = forms.DateField(
        label=gettext_lazy("Check-out"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["deposit"].label = _("Deposit (%(currency)s)") % {"currency": _currency()}

    def clean_code(self) -> str:
        return code_normalize(self.cleaned_data["code"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_in, check_out = data.get("check_in"), data.get("check_out")
        if check_in and check_out and check_out < check_in:
            self.add_error("check_out", _("Check-out is on or after check-in."))
        return data


class BookForm(forms.Form):
    """The booking made from a decision (the stay as entered with the code)."""

    decision_id = forms.UUIDField(widget=forms.HiddenInput)
    deposit = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reference = forms.CharField(max_length=100, widget=forms.HiddenInput)
    check_in = forms.DateField(widget=forms.HiddenInput)
    check_out = forms.DateField(widget=forms.HiddenInput)
    check_in_now = forms.BooleanField(label=gettext_lazy("Check the guest in now"), required=False)


class CheckOutForm(forms.Form):
    """How the stay ended; a damage claim's lines and its evidence files."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("How did the stay end?"),
        choices=[
            (BookingOutcome.OK, gettext_lazy("Without a problem")),
            (BookingOutcome.NO_SHOW, gettext_lazy("The guest did not come (no-show)")),
            (BookingOutcome.DAMAGE, gettext_lazy("Damage: claim from the deposit")),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(
        self, *args: Any, files_given: list[UploadedFile] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.files_given = files_given or []
        for index in range(CLAIM_LINES_SHOWN):
            self.fields[f"line_{index}_description"] = forms.CharField(
                label=_("Item %(number)s") % {"number": index + 1},
                max_length=CLAIM_LINE_DESCRIPTION_MAX,
                required=False,
            )
            self.fields[f"line_{index}_amount"] = _money_field(
                _("Amount of item %(number)s (%(currency)s)")
                % {"number": index + 1, "currency": _currency()},
                required=False,
            )

    def line_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"line_{index}_description"], self[f"line_{index}_amount"])
            for index in range(CLAIM_LINES_SHOWN)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lines = []
        for index in range(CLAIM_LINES_SHOWN):
            description = (data.get(f"line_{index}_description") or "").strip()
            amount = data.get(f"line_{index}_amount")
            if not description and amount is None:
                continue
            if not description:
                self.add_error(f"line_{index}_description", _("Say what this amount is for."))
            elif amount is None:
                self.add_error(f"line_{index}_amount", _("Give this item's amount."))
            else:
                lines.append(ClaimLineInput(_minor(amount), description))
        if data.get("outcome") == BookingOutcome.DAMAGE:
            if not lines and not self.errors:
                self.add_error(None, _("A damage claim needs at least one item with its amount."))
        elif lines or self.files_given:
            self.add_error(
                "outcome", _("Items and files go with a damage claim only; choose Damage.")
            )
        data["lines"] = lines
        return data


# --- The domain's refusals, in the member's words ---------------------------------------

_REFUSALS: dict[str, Any] = {
    "code_invalid": gettext_lazy(
        "This code is not valid: it may be mistyped, expired, already used or meant for "
        "another business. Ask the guest for a new code."
    ),
    "code_used": gettext_lazy("You already used this code. Ask the guest for a new code."),
    "consent_revoked": gettext_lazy(
        "The guest withdrew their consent. Ask the guest for a new code."
    ),
    "consent_expired": gettext_lazy("The guest's consent expired. Ask the guest for a new code."),
    "consent_scope": gettext_lazy(
        "This code is not for a deposit waiver. Ask the guest for a deposit-waiver code."
    ),
    "perk_unavailable": gettext_lazy(
        "Your business offers no deposit waiver right now. Contact Open Sesame's staff."
    ),
    "decision_expired": gettext_lazy(
        "The decision expired (a decision is valid for 15 minutes). Ask the guest for a new code."
    ),
    "decision_used": gettext_lazy("A booking was already made from this decision."),
    "insufficient_funds": gettext_lazy(
        "The guest's wallet cannot cover the part of the deposit that is held. Nothing was booked."
    ),
    "invalid_amount": gettext_lazy("This amount is not valid."),
    "booking_not_confirmed": gettext_lazy(
        "This booking is no longer open: it was completed or cancelled."
    ),
    "too_early_to_check_in": gettext_lazy(
        "Too early to check in: a guest is checked in from two days before check-in on."
    ),
    "too_late_to_check_in": gettext_lazy("Too late to check in: the stay is over."),
    "stay_not_started": gettext_lazy("The stay has not started yet."),
    "report_window_closed": gettext_lazy(
        "Too late: how the stay ended had to be reported within the claim window after check-out."
    ),
    "evidence_invalid": gettext_lazy(
        "A file was not accepted: evidence is a JPEG, PNG or WebP image or a PDF, not "
        "empty and not too large, at most 10 files a claim."
    ),
    "stay_started": gettext_lazy("Too late to cancel: the stay has started."),
    "no_active_scorecard": gettext_lazy(
        "Decisions cannot be made right now. Try again in a few minutes."
    ),
    "unavailable": gettext_lazy("This cannot be done right now. Try again in a few minutes."),
}

# Where the domain's field names go on the forms.
_FIELDS = {
    "check_in": "check_in",
    "check_out": "check_out",
    "deposit_amount": "deposit",
    "code": "code",
}


def refusal_message(error: DomainError) -> str:
    """The refusal in the member's language; what the domain does not name gets a
    sentence with its code (still never a 500)."""
    code = error.code
    extras = dict(error.extras)
    if isinstance(error, TooManyAttempts):
        return _("Too many codes failed. Try again in %(seconds)s seconds.") % {
            "seconds": error.retry_after
        }
    if code == "check_in_too_far":
        return _("Check-in is at most %(limit)s days ahead.") % {"limit": extras.get("limit")}
    if code == "stay_too_long":
        return _("A stay is at most %(limit)s nights.") % {"limit": extras.get("limit")}
    if code == "claim_exceeds_deposit":
        return _("The claim is more than the deposit agreed at booking.")
    if code == "invalid":
        fields = {problem.field for problem in error.errors}
        if "check_in" in fields:
            return _("Check-in is at most one day before today.")
        if "check_out" in fields:
            return _("Check-out is on or after check-in.")
        if any(field.startswith("lines") for field in fields):
            return _("A claim has 1 to 20 items, each with a description.")
    if code == "invalid_amount" and any(p.field == "deposit_amount" for p in error.errors):
        return _("The deposit is at most the amount the decision was made for.")
    if code in _REFUSALS:
        return str(_REFUSALS[code])
    return _("This could not be done (%(code)s).") % {"code": code}


def _form_refusal(form: forms.Form, error: DomainError) -> None:
    """The refusal on the field it is about, or on the whole form."""
    message = refusal_message(error)
    for problem in error.errors:
        name = _FIELDS.get(problem.field)
        field = form.fields.get(name or "")
        if field is not None and not isinstance(field.widget, forms.HiddenInput):
            form.add_error(name, message)
            return
    form.add_error(None, message)


# --- The decision as the merchant may see it --------------------------------------------


@dataclass(frozen=True)
class ShownDecision:
    decision: Decision
    waived: bool  # anything waived at all
    reasons: list[str]


def _reason_text(code: str, stored: str, decision: Decision) -> str:
    money = _money_formatter()
    if code == DEPOSIT_WAIVED_CODE:
        return _("The whole deposit of %(amount)s is waived.") % {
            "amount": money(decision.requested_amount)
        }
    if code == PARTIAL_WAIVER_CODE:
        return _("Up to %(waived)s of the deposit is waived; %(held)s will be held.") % {
            "waived": money(decision.waived_amount),
            "held": money(decision.held_amount),
        }
    known = {
        NO_WAIVER_CODE: _("No part of the deposit can be waived at the guest's current level."),
        "score_not_met": _("The guest's record does not meet your conditions yet."),
        "unpaid_claims": _("The guest has a damage claim left unpaid."),
        "identity_level_not_met": _("The guest has not verified their identity enough."),
    }
    return known.get(code, stored)


def _money_formatter() -> Any:
    locale = to_locale(get_language() or "en")
    currency = _currency()
    return lambda amount: format_money(amount, currency, locale)


def _shown(decision: Decision) -> ShownDecision:
    return ShownDecision(
        decision=decision,
        waived=decision.waived_amount > 0,
        reasons=[
            _reason_text(str(reason.get("code", "")), str(reason.get("message", "")), decision)
            for reason in decision.reasons
        ],
    )


# --- Views -------------------------------------------------------------------------------


def _today_context(request: HttpRequest) -> dict[str, Any]:
    merchant = _member(request).merchant
    today = timezone.localdate()
    return {
        "today": today,
        "arrivals": selectors.desk_arrivals(merchant=merchant, on=today),
        "departures": selectors.desk_departures(merchant=merchant, on=today),
    }


def _desk_page(
    request: HttpRequest,
    form: DecideForm,
    *,
    shown: ShownDecision | None = None,
    book_form: BookForm | None = None,
    book_error: str = "",
) -> HttpResponse:
    context = {
        "form": form,
        "shown": shown,
        "book_form": book_form,
        "book_error": book_error,
        **_today_context(request),
    }
    if getattr(request, "htmx", False):
        return render(request, "console/desk/_decision.html", context)
    return render(request, "console/desk/desk.html", context)


@console_view(DESK)
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    """The desk; a POST asks for the decision (htmx: just the decision, under the form)."""
    if request.method != "POST":
        today = timezone.localdate()
        form = DecideForm(initial={"check_in": today, "check_out": today + timedelta(days=1)})
        return _desk_page(request, form)
    form = DecideForm(request.POST)
    if not form.is_valid():
        return _desk_page(request, form)
    data = form.cleaned_data
    try:
        decision = services.desk_decide(
            member=_member(request),
            code=data["code"],
            deposit_amount=_minor(data["deposit"]),
            address=client_address(request),
        )
    except DomainError as error:
        _form_refusal(form, error)
        return _desk_page(request, form)
    book_form = BookForm(
        initial={
            "decision_id": decision.pk,
            "deposit": decision.requested_amount,
            "reference": data["reference"],
            "check_in": data["check_in"],
            "check_out": data["check_out"],
            "check_in_now": data["check_in"] <= timezone.localdate(),
        }
    )
    return _desk_page(request, form, shown=_shown(decision), book_form=book_form)


@console_view(DESK)
@require_POST
def desk_book(request: HttpRequest) -> HttpResponse:
    """Make the booking from the decision (and check the guest in, if asked)."""
    form = BookForm(request.POST)
    if not form.is_valid():
        return _desk_page(request, DecideForm(), book_error=_("The booking form was incomplete."))
    data = form.cleaned_data
    try:
        booking = services.desk_book(
            member=_member(request),
            decision_id=data["decision_id"],
            reference=data["reference"],
            check_in=data["check_in"],
            check_out=data["check_out"],
            deposit_amount=data["deposit"],
            check_in_now=data["check_in_now"],
        )
    except NotFound:
        raise Http404 from None
    except DomainError as error:
        again = DecideForm(
            initial={
                "reference": data["reference"],
                "check_in": data["check_in"],
                "check_out": data["check_out"],
                "deposit": Decimal(data["deposit"]).scaleb(-minor_unit_exponent(_currency())),
            }
        )
        return _desk_page(request, again, book_error=refusal_message(error))
    if booking.checked_in_at is not None:
        messages.success(request, _("Booked, and the guest is checked in."))
    else:
        messages.success(request, _("Booked."))
    return redirect("console:booking", booking_id=booking.pk)


@console_view(DESK)
@require_GET
def desk_today(request: HttpRequest) -> HttpResponse:
    """Today's arrivals and departures (the desk refreshes them with htmx)."""
    return render(request, "console/desk/_today.html", _today_context(request))


def _booking_or_404(request: HttpRequest, booking_id: Any) -> Booking:
    try:
        return selectors.desk_booking(merchant=_member(request).merchant, booking_id=booking_id)
    except NotFound:
        raise Http404 from None


def _booking_page(
    request: HttpRequest,
    booking: Booking,
    *,
    check_out_form: CheckOutForm | None = None,
    action_error: str = "",
    evidence_error: str = "",
) -> HttpResponse:
    actions = selectors.desk_actions(booking=booking)
    if check_out_form is not None and not actions.check_out and not action_error:
        # (refused because the stay can no longer be checked out: the form is gone)
        action_error = " ".join(str(error) for error in check_out_form.non_field_errors())
    return render(
        request,
        "console/desk/booking.html",
        {
            "booking": booking,
            "claim": getattr(booking, "claim", None),
            "actions": actions,
            "check_out_form": check_out_form or CheckOutForm(),
            "action_error": action_error,
            "evidence_error": evidence_error,
        },
    )


@console_view(DESK)
@require_GET
def booking(request: HttpRequest, booking_id: Any) -> HttpResponse:
    return _booking_page(request, _booking_or_404(request, booking_id))


@console_view(DESK)
@require_POST
def booking_check_in(request: HttpRequest, booking_id: Any) -> HttpResponse:
    booking = _booking_or_404(request, booking_id)
    try:
        services.desk_check_in(member=_member(request), booking_id=booking.pk)
    except DomainError as error:
        return _booking_page(request, booking, action_error=refusal_message(error))
    messages.success(request, _("The guest is checked in."))
    return redirect("console:booking", booking_id=booking.pk)


@console_view(DESK)
@require_POST
def booking_check_out(request: HttpRequest, booking_id: Any) -> HttpResponse:
    booking = _booking_or_404(request, booking_id)
    files = request.FILES.getlist("evidence")
    form = CheckOutForm(request.POST, files_given=files)
    if not form.is_valid():
        return _booking_page(request, booking, check_out_form=form)
    try:
        services.desk_check_out(
            member=_member(request),
            booking_id=booking.pk,
            outcome=form.cleaned_data["outcome"],
            lines=form.cleaned_data["lines"],
            files=files,
        )
    except DomainError as error:
        form.add_error(None, refusal_message(error))
        return _booking_page(request, booking, check_out_form=form)
    outcome = form.cleaned_data["outcome"]
    if outcome == BookingOutcome.DAMAGE:
        messages.success(request, _("Checked out. The claim now awaits the guest's answer."))
    else:
        messages.success(request, _("Checked out."))
    return redirect("console:booking", booking_id=booking.pk)


@console_view(DESK)
@require_POST
def booking_cancel(request: HttpRequest, booking_id: Any) -> HttpResponse:
    booking = _booking_or_404(request, booking_id)
    try:
        services.desk_cancel(member=_member(request), booking_id=booking.pk)
    except DomainError as error:
        return _booking_page(request, booking, action_error=refusal_message(error))
    messages.success(request, _("The booking is cancelled and the deposit's hold released."))
    return redirect("console:booking", booking_id=booking.pk)


@console_view(DESK)
@require_POST
def booking_evidence_add(request: HttpRequest, booking_id: Any) -> HttpResponse:
    booking = _booking_or_404(request, booking_id)
    files = request.FILES.getlist("evidence")
    if not files:
        return _booking_page(request, booking, evidence_error=_("Choose at least one file."))
    try:
        services.desk_evidence_add(member=_member(request), booking_id=booking.pk, files=files)
    except DomainError as error:
        return _booking_page(request, booking, evidence_error=refusal_message(error))
    messages.success(request, _("The files are added to the claim."))
    return redirect("console:booking", booking_id=booking.pk)


@console_view(DESK)
@require_GET
def booking_evidence(request: HttpRequest, booking_id: Any, evidence_id: Any) -> HttpResponse:
    try:
        evidence = selectors.desk_evidence(
            merchant=_member(request).merchant, booking_id=booking_id, evidence_id=evidence_id
        )
    except NotFound:
        raise Http404 from None
    # (a file streams: console_view's views are typed as answering HttpResponse)
    return cast(HttpResponse, evidence_download(evidence))


urlpatterns: list[URLPattern] = [
    path("desk/", desk, name="desk"),
    path("desk/book/", desk_book, name="desk_book"),
    path("desk/today/", desk_today, name="desk_today"),
    path("bookings/<uuid:booking_id>/", booking, name="booking"),
    path("bookings/<uuid:booking_id>/check-in/", booking_check_in, name="booking_check_in"),
    path("bookings/<uuid:booking_id>/check-out/", booking_check_out, name="booking_check_out"),
    path("bookings/<uuid:booking_id>/cancel/", booking_cancel, name="booking_cancel"),
    path("bookings/<uuid:booking_id>/evidence/", booking_evidence_add, name="booking_evidence_add"),
    path(
        "bookings/<uuid:booking_id>/evidence/<uuid:evidence_id>/",
        booking_evidence,
        name="booking_evidence",
    ),
]
