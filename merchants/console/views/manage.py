"""The manager's pages: bookings, claims, disputes of the merchant's records, and a
month's report. Thin: a form validates, a selector reads, a service writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from merchants.console import charts
from merchants.console.access import MANAGE, console_view
from merchants.console.forms.office import (
    BookingFilterForm,
    ClaimFilterForm,
    DisputeCorrectForm,
    DisputeFilterForm,
    DisputeVerifyForm,
    MonthForm,
)
from merchants.console.selectors import office as selectors
from merchants.console.services import office as services
from merchants.console.views.office_common import (
    member_of,
    page_of,
    query_without_page,
)
from merchants.errors import NotFound
from merchants.perks.api.claims import evidence_download
from merchants.perks.models import ClaimStatus
from scoring.errors import DisputeNotOpen
from scoring.models import RecordDisputeStatus

# --- Bookings ----------------------------------------------------------------------------


@console_view(MANAGE)
@require_GET
def bookings(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    form = BookingFilterForm(request.GET)
    context: dict[str, Any] = {"form": form, "query": query_without_page(request)}
    status = 200
    if form.is_valid():
        context["page"] = page_of(
            request, selectors.bookings_of(merchant=member.merchant, **form.cleaned_data)
        )
    else:
        status = 400
    template = (
        "console/office/_bookings_results.html"
        if getattr(request, "htmx", False)
        else "console/office/bookings.html"
    )
    return render(request, template, context, status=status)


# --- Claims ------------------------------------------------------------------------------


@console_view(MANAGE)
@require_GET
def claims(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    form = ClaimFilterForm(request.GET)
    context: dict[str, Any] = {"form": form, "query": query_without_page(request)}
    if not form.is_valid():
        return render(request, "console/office/claims.html", context, status=400)
    context["page"] = page_of(
        request, selectors.claims_of(merchant=member.merchant, status=form.cleaned_data["status"])
    )
    return render(request, "console/office/claims.html", context)


@console_view(MANAGE)
@require_GET
def claim(request: HttpRequest, pk: Any) -> HttpResponse:
    member = member_of(request)
    try:
        found = selectors.claim_of(merchant=member.merchant, claim_id=pk)
    except NotFound as error:
        raise Http404(str(error)) from error
    awaiting = found.status == ClaimStatus.AWAITING_GUEST
    return render(
        request,
        "console/office/claim.html",
        {
            "claim": found,
            "booking": found.booking,
            "dispute": getattr(found, "dispute", None),
            "days_left": selectors.days_left(found.respond_by, now=timezone.now())
            if awaiting
            else None,
        },
    )


@console_view(MANAGE)
@require_GET
def claim_evidence(request: HttpRequest, pk: Any) -> HttpResponse:
    member = member_of(request)
    try:
        evidence = selectors.claim_evidence_of(merchant=member.merchant, evidence_id=pk)
    except NotFound as error:
        raise Http404(str(error)) from error
    # A streamed file: console_view's signature names HttpResponse, which it only passes on.
    return cast(HttpResponse, evidence_download(evidence))


# --- Disputes ----------------------------------------------------------------------------


@console_view(MANAGE)
@require_GET
def disputes(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    form = DisputeFilterForm(request.GET)
    context: dict[str, Any] = {"form": form, "query": query_without_page(request)}
    if not form.is_valid():
        return render(request, "console/office/disputes.html", context, status=400)
    page = page_of(
        request,
        selectors.disputes_of(merchant=member.merchant, status=form.cleaned_data["status"]),
    )
    now = timezone.now()
    context["page"] = page
    context["rows"] = [
        (
            dispute,
            selectors.days_left(dispute.respond_by, now=now)
            if dispute.status == RecordDisputeStatus.OPEN
            else None,
        )
        for dispute in page
    ]
    return render(request, "console/office/disputes.html", context)


# What the page says after an answer (the answer's redirect names it).
DONE = {
    "verify": gettext_lazy("You verified the record: it stands."),
    "correct": gettext_lazy("You corrected the record: it is removed."),
}


@console_view(MANAGE)
@require_http_methods(["GET", "POST"])
def dispute(request: HttpRequest, pk: Any) -> HttpResponse:
    member = member_of(request)
    try:
        found = selectors.dispute_of(merchant=member.merchant, dispute_id=pk)
    except NotFound as error:
        raise Http404(str(error)) from error
    verify_form = DisputeVerifyForm(prefix="verify")
    correct_form = DisputeCorrectForm(prefix="correct")
    refusal = ""
    status = 200
    if request.method == "POST":
        answer = request.POST.get("answer")
        try:
            if answer == "verify":
                verify_form = DisputeVerifyForm(request.POST, prefix="verify")
                if verify_form.is_valid():
                    services.dispute_verify(
                        member=member, dispute_id=found.pk, note=verify_form.cleaned_data["note"]
                    )
                    return redirect(f"{reverse('console:dispute', args=[found.pk])}?done=verify")
            elif answer == "correct":
                correct_form = DisputeCorrectForm(request.POST, prefix="correct")
                if correct_form.is_valid():
                    services.dispute_correct(
                        member=member, dispute_id=found.pk, note=correct_form.cleaned_data["note"]
                    )
                    return redirect(f"{reverse('console:dispute', args=[found.pk])}?done=correct")
            else:
                refusal = _("Choose an answer: verify or correct.")
        except DisputeNotOpen:
            refusal = _(
                "This dispute can no longer be answered: it was answered already, or the time "
                "to answer ended and the record was removed."
            )
            status = 409
            found = selectors.dispute_of(merchant=member.merchant, dispute_id=pk)
        else:
            status = 400
    return render(
        request,
        "console/office/dispute.html",
        {
            "dispute": found,
            "event": found.event,
            "is_open": found.status == RecordDisputeStatus.OPEN,
            "days_left": selectors.days_left(found.respond_by, now=timezone.now()),
            "verify_form": verify_form,
            "correct_form": correct_form,
            "refusal": refusal,
            "done": DONE.get(request.GET.get("done", "")) if request.method == "GET" else None,
        },
        status=status,
    )


# --- The month's report ------------------------------------------------------------------


@console_view(MANAGE)
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    form = MonthForm(request.GET)
    today = timezone.localdate()
    month = (form.cleaned_data.get("month") if form.is_valid() else None) or today.replace(day=1)
    figures = selectors.month_report(merchant=member.merchant, month=month)
    chart = charts.bar_chart(
        [str(day.day.day) for day in figures.days],
        [[day.first for day in figures.days], [day.second for day in figures.days]],
    )
    previous = (month.replace(day=1) - timedelta(days=1)).replace(day=1)
    return render(
        request,
        "console/office/report.html",
        {
            "form": form,
            "report": figures,
            "chart": chart,
            "month_value": month.strftime("%Y-%m"),
            "previous_month": previous.strftime("%Y-%m"),
            "next_month": selectors.next_month(month).strftime("%Y-%m"),
        },
        status=200 if form.is_valid() else 400,
    )


urlpatterns: list[URLPattern] = [
    path("bookings/", bookings, name="bookings"),
    path("claims/", claims, name="claims"),
    path("claims/<uuid:pk>/", claim, name="claim"),
    path("claims/evidence/<uuid:pk>/", claim_evidence, name="claim_evidence"),
    path("disputes/", disputes, name="disputes"),
    path("disputes/<uuid:pk>/", dispute, name="dispute"),
    path("report/", report, name="report"),
]
