"""The billing clerk's page: issue a bill under a live billing consent, within the
limits the customer set; the paid, open and overdue bills. A refusal of the bills
service is a form error in the page's language, never a 500."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from common.domain import DomainError
from merchants.bills.errors import BillOverLimit, BillPeriod, DueDateTooSoon
from merchants.bills.services import BILL_DUE_MIN, BILL_DUE_WITHIN
from merchants.console.access import BILLING, console_view
from merchants.console.forms.office import BillForm
from merchants.console.labels import money
from merchants.console.selectors import office as selectors
from merchants.console.services import office as services
from merchants.console.views.office_common import member_of
from merchants.errors import ConsentExpired, ConsentRevoked, ConsentScopeMismatch, NotFound


def bill_refusal_to_form(form: BillForm, error: DomainError) -> None:
    """The bills service's refusal as an error of the field it is about, in words."""
    today = timezone.localdate()
    if isinstance(error, BillOverLimit):
        if error.period == BillPeriod.BILL:
            text = _("The customer allows bills of at most %(limit)s under this consent.")
        else:
            text = _(
                "The customer allows at most %(limit)s a month under this consent: this bill "
                "would pass it."
            )
        form.add_error("amount", text % {"limit": money(error.limit)})
    elif isinstance(error, DueDateTooSoon):
        form.add_error(
            "due_date",
            _("A bill is due at least %(days)s days after it is issued: on %(date)s or later.")
            % {"days": BILL_DUE_MIN.days, "date": (today + BILL_DUE_MIN).isoformat()},
        )
    elif any(field.field == "due_date" for field in error.errors):
        form.add_error(
            "due_date",
            _("The due date must be on %(date)s or before.")
            % {"date": (today + BILL_DUE_WITHIN).isoformat()},
        )
    elif isinstance(error, ConsentRevoked | ConsentExpired | ConsentScopeMismatch | NotFound):
        form.add_error("consent", _("This consent no longer allows billing: choose another."))
    else:
        form.add_error(None, _("The bill was refused (%(code)s).") % {"code": error.code})


@console_view(BILLING)
@require_http_methods(["GET", "POST"])
def bills(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    consents = selectors.billing_consents_live(merchant=member.merchant)
    status = 200
    if request.method == "POST":
        form = BillForm(request.POST, consents=consents)
        if form.is_valid():
            data = form.cleaned_data
            try:
                bill = services.bill_issue(
                    member=member,
                    consent_id=data["consent"],
                    amount=data["amount"],
                    due_date=data["due_date"],
                    description=data["description"],
                )
            except DomainError as error:
                bill_refusal_to_form(form, error)
            else:
                return redirect(f"{reverse('console:bills')}?issued={bill.pk}")
        status = 400
    else:
        form = BillForm(consents=consents)
    lists = selectors.bills_lists(merchant=member.merchant)
    issued = (
        selectors.bill_of(merchant=member.merchant, bill_id=request.GET["issued"])
        if request.method == "GET" and "issued" in request.GET
        else None
    )
    context: dict[str, Any] = {
        "form": form,
        "lists": lists,
        "has_consents": bool(consents),
        "issued": issued,
    }
    return render(request, "console/office/bills.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("bills/", bills, name="bills"),
]
