"""Reads of the manager's and billing clerk's pages: every read is filtered by the
member's merchant (another merchant's object is simply not found), and every page costs
a fixed number of queries whatever it holds (the month's report included: one grouped
query per table, never one per row or per day)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from merchants.bills.models import Bill, BillStatus, overdue_due_before, overdue_on
from merchants.errors import NotFound
from merchants.models import Consent, ConsentScope, Merchant, MerchantCategory
from merchants.perks.models import Booking, BookingOutcome, BookingStatus, Claim, ClaimEvidence
from scoring import selectors as scoring_selectors
from scoring.models import Dispute

STAY_CATEGORIES = frozenset({MerchantCategory.HOTEL, MerchantCategory.RENTAL})


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- Bookings ----------------------------------------------------------------------------


def bookings_of(
    *,
    merchant: Merchant,
    reference: str = "",
    status: str = "",
    check_in_from: date | None = None,
    check_in_until: date | None = None,
) -> QuerySet[Booking]:
    """The merchant's bookings, latest check-in first, with their claims (one query):
    ``reference`` matches part of the merchant's reference (any case), ``status`` one
    booking status, the dates bound check-in (both included)."""
    rows = Booking.objects.filter(merchant=merchant)
    if reference:
        rows = rows.filter(reference__icontains=reference)
    if status:
        rows = rows.filter(status=status)
    if check_in_from is not None:
        rows = rows.filter(check_in__gte=check_in_from)
    if check_in_until is not None:
        rows = rows.filter(check_in__lte=check_in_until)
    return rows.select_related("claim").order_by("-check_in", "-created_at", "-id")


# --- Claims ------------------------------------------------------------------------------


def claims_of(*, merchant: Merchant, status: str = "") -> QuerySet[Claim]:
    """The merchant's claims, newest first, with their bookings and disputes."""
    rows = Claim.objects.filter(merchant=merchant)
    if status:
        rows = rows.filter(status=status)
    return rows.select_related("booking", "dispute").order_by("-created_at", "-id")


def claim_of(*, merchant: Merchant, claim_id: Any) -> Claim:
    """One claim of the merchant, whole (its lines and evidence); ``NotFound`` for any
    other merchant's, or no such claim."""
    claim = (
        claims_of(merchant=merchant)
        .prefetch_related("lines", "evidence")
        .filter(pk=claim_id)
        .first()
        if _is_uuid(claim_id)
        else None
    )
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def claim_evidence_of(*, merchant: Merchant, evidence_id: Any) -> ClaimEvidence:
    """A file of one of the merchant's claims (``NotFound`` for anyone else's)."""
    evidence = ClaimEvidence.objects.filter(pk=evidence_id, claim__merchant=merchant).first()
    if evidence is None:
        raise NotFound("No such evidence.")
    return evidence


# --- Disputes of the records the merchant furnished --------------------------------------


def disputes_of(*, merchant: Merchant, status: str = "") -> QuerySet[Dispute]:
    """Disputes of the records the merchant furnished, newest first, with their records;
    nothing else about the citizen."""
    rows = scoring_selectors.disputes_furnished_by(furnisher_id=merchant.pk)
    return rows.filter(status=status) if status else rows


def dispute_of(*, merchant: Merchant, dispute_id: Any) -> Dispute:
    dispute = (
        disputes_of(merchant=merchant).filter(pk=dispute_id).first()
        if _is_uuid(dispute_id)
        else None
    )
    if dispute is None:
        raise NotFound("No such dispute.")
    return dispute


def days_left(respond_by: datetime | None, *, now: datetime) -> int | None:
    """Whole days (rounded up) left before ``respond_by``; 0 once it has passed; None
    without a deadline."""
    if respond_by is None:
        return None
    return max(0, math.ceil((respond_by - now) / timedelta(days=1)))


# --- A month's report --------------------------------------------------------------------


def month_start(month: date) -> datetime:
    """The first moment of ``month`` (its first day, local time)."""
    return datetime.combine(month.replace(day=1), time.min, tzinfo=timezone.get_current_timezone())


def next_month(month: date) -> date:
    first = month.replace(day=1)
    return (first + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day of the month in the chart: for stays, the decisions and those with a
    waiver; for bills, the bills issued and those paid."""

    day: date
    first: int
    second: int


@dataclass(frozen=True, slots=True)
class MonthReport:
    """A month of the merchant's activity, local dates. Stays (hotels, rentals):
    ``decisions`` made, ``decisions_eligible``; ``waivers`` granted (bookings made in the
    month with part or all of the deposit waived, cancelled ones left out) and
    ``waived_total``; ``deposits_held`` (bookings made with a part to hold) and
    ``held_total``; ``no_shows`` (stays closed as no-shows in the month); ``claims_filed``
    in the month, ``claimed_total`` and ``recovered_total`` (collected from those claims
    so far, less refunds). Bills (billers): ``bills_issued`` and ``billed_total``,
    ``bills_paid`` and ``paid_total`` (paid in the month), ``bills_overdue`` (reported
    overdue in the month). Every merchant: ``disputes_opened`` of its records."""

    month: date
    is_stays: bool
    currency: str
    days: tuple[DayFigures, ...]
    decisions: int = 0
    decisions_eligible: int = 0
    waivers: int = 0
    waived_total: int = 0
    deposits_held: int = 0
    held_total: int = 0
    no_shows: int = 0
    claims_filed: int = 0
    claimed_total: int = 0
    recovered_total: int = 0
    bills_issued: int = 0
    billed_total: int = 0
    bills_paid: int = 0
    paid_total: int = 0
    bills_overdue: int = 0
    disputes_opened: int = 0


def _per_day(rows: Sequence[dict[str, Any]], key: str) -> dict[date, dict[str, Any]]:
    return {row[key]: row for row in rows}


def _month_days(month: date) -> list[date]:
    first, end = month.replace(day=1), next_month(month)
    return [first + timedelta(days=n) for n in range((end - first).days)]


def month_report(*, merchant: Merchant, month: date) -> MonthReport:
    """The report of ``month`` (any day of it): four queries for a hotel or a rental,
    four for a biller, whatever the month holds."""
    start, end = month_start(month), month_start(next_month(month))
    zone = timezone.get_current_timezone()
    days = _month_days(month)
    disputes_opened = Dispute.objects.filter(
        furnisher_id=merchant.pk, opened_at__gte=start, opened_at__lt=end
    ).count()
    common = {
        "month": month.replace(day=1),
        "currency": settings.WALLET_CURRENCY,
        "disputes_opened": disputes_opened,
    }
    if merchant.category in STAY_CATEGORIES:
        return _stays_report(merchant, start, end, zone, days, common)
    return _bills_report(merchant, start, end, zone, days, common)


def _stays_report(
    merchant: Merchant,
    start: datetime,
    end: datetime,
    zone: Any,
    days: list[date],
    common: dict[str, Any],
) -> MonthReport:
    decided = _per_day(
        list(
            merchant.decisions.filter(created_at__gte=start, created_at__lt=end)
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(
                made=Count("pk"),
                eligible=Count("pk", filter=Q(eligible=True)),
                waiving=Count("pk", filter=Q(waived_amount__gt=0)),
            )
            .order_by()
        ),
        "day",
    )
    made_in_month = Q(created_at__gte=start, created_at__lt=end) & ~Q(
        status=BookingStatus.CANCELLED
    )
    no_show = Q(completed_at__gte=start, completed_at__lt=end, outcome=BookingOutcome.NO_SHOW)
    waived = made_in_month & Q(waived_amount__gt=0)
    held = made_in_month & Q(hold_amount__gt=0)
    bookings = Booking.objects.filter(merchant=merchant).aggregate(
        waivers=Count("pk", filter=waived),
        waived_total=Coalesce(Sum("waived_amount", filter=waived), 0),
        deposits_held=Count("pk", filter=held),
        held_total=Coalesce(Sum("hold_amount", filter=held), 0),
        no_shows=Count("pk", filter=no_show),
    )
    claims = Claim.objects.filter(
        merchant=merchant, created_at__gte=start, created_at__lt=end
    ).aggregate(
        claims_filed=Count("pk"),
        claimed_total=Coalesce(Sum("amount"), 0),
        paid=Coalesce(Sum("paid_amount"), 0),
        refunded=Coalesce(Sum("refunded_amount"), 0),
    )
    return MonthReport(
        is_stays=True,
        days=tuple(
            DayFigures(
                day,
                decided.get(day, {}).get("made", 0),
                decided.get(day, {}).get("waiving", 0),
            )
            for day in days
        ),
        decisions=sum(row["made"] for row in decided.values()),
        decisions_eligible=sum(row["eligible"] for row in decided.values()),
        waivers=bookings["waivers"],
        waived_total=bookings["waived_total"],
        deposits_held=bookings["deposits_held"],
        held_total=bookings["held_total"],
        no_shows=bookings["no_shows"],
        claims_filed=claims["claims_filed"],
        claimed_total=claims["claimed_total"],
        recovered_total=claims["paid"] - claims["refunded"],
        **common,
    )


def _bills_report(
    merchant: Merchant,
    start: datetime,
    end: datetime,
    zone: Any,
    days: list[date],
    common: dict[str, Any],
) -> MonthReport:
    bills = Bill.objects.filter(merchant=merchant)
    issued = _per_day(
        list(
            bills.filter(issued_at__gte=start, issued_at__lt=end)
            .annotate(day=TruncDate("issued_at", tzinfo=zone))
            .values("day")
            .annotate(count=Count("pk"), total=Sum("amount"))
            .order_by()
        ),
        "day",
    )
    paid = _per_day(
        list(
            bills.filter(paid_at__gte=start, paid_at__lt=end)
            .annotate(day=TruncDate("paid_at", tzinfo=zone))
            .values("day")
            .annotate(count=Count("pk"), total=Sum("amount"))
            .order_by()
        ),
        "day",
    )
    overdue = bills.filter(overdue_recorded_at__gte=start, overdue_recorded_at__lt=end).count()
    return MonthReport(
        is_stays=False,
        days=tuple(
            DayFigures(day, issued.get(day, {}).get("count", 0), paid.get(day, {}).get("count", 0))
            for day in days
        ),
        bills_issued=sum(row["count"] for row in issued.values()),
        billed_total=sum(row["total"] for row in issued.values()),
        bills_paid=sum(row["count"] for row in paid.values()),
        paid_total=sum(row["total"] for row in paid.values()),
        bills_overdue=overdue,
        **common,
    )


# --- Bills -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillingConsentChoice:
    """A live billing consent the clerk may bill under, with what is left of its monthly
    limit in the current month."""

    consent: Consent
    billed_this_month: int

    @property
    def left_this_month(self) -> int:
        return max((self.consent.max_monthly_amount or 0) - self.billed_this_month, 0)


def billing_consents_live(
    *, merchant: Merchant, at: datetime | None = None
) -> list[BillingConsentChoice]:
    """The merchant's billing consents not revoked (billing consents do not expire, but
    one with an expiry past is left out too), newest first, with what each billed in the
    calendar month of ``at`` (local): two queries."""
    at = at or timezone.now()
    consents = list(
        Consent.objects.filter(
            merchant=merchant, scope=ConsentScope.BILLING, revoked_at__isnull=True
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))
        .order_by("-granted_at", "-id")
    )
    billed = dict(
        Bill.objects.filter(
            consent__in=[consent.pk for consent in consents],
            issued_at__gte=month_start(timezone.localdate(at)),
        )
        .values("consent_id")
        .annotate(total=Sum("amount"))
        .values_list("consent_id", "total")
        .order_by()
    )
    return [BillingConsentChoice(consent, billed.get(consent.pk, 0)) for consent in consents]


@dataclass(frozen=True, slots=True)
class BillLists:
    """The clerk's bills: the latest ``limit`` of each list and how many each has.
    ``open`` bills are unpaid and not (yet) reported overdue (some may be past due);
    ``overdue`` ones are unpaid 30 days after their due date (reported)."""

    open: list[Bill]
    overdue: list[Bill]
    paid: list[Bill]
    open_count: int
    overdue_count: int
    paid_count: int


def bills_lists(*, merchant: Merchant, today: date | None = None, limit: int = 25) -> BillLists:
    """Four queries: the counts, then each list."""
    today = today or timezone.localdate()
    bills = Bill.objects.filter(merchant=merchant)
    overdue = overdue_on(today)
    still_open = Q(status=BillStatus.OPEN, due_date__gte=overdue_due_before(today))
    counts = bills.aggregate(
        open=Count("pk", filter=still_open),
        overdue=Count("pk", filter=overdue),
        paid=Count("pk", filter=Q(status=BillStatus.PAID)),
    )
    return BillLists(
        open=list(bills.filter(still_open).order_by("due_date", "-issued_at", "-id")[:limit]),
        overdue=list(bills.filter(overdue).order_by("due_date", "-issued_at", "-id")[:limit]),
        paid=list(bills.filter(status=BillStatus.PAID).order_by("-paid_at", "-id")[:limit]),
        open_count=counts["open"],
        overdue_count=counts["overdue"],
        paid_count=counts["paid"],
    )


def bill_of(*, merchant: Merchant, bill_id: Any) -> Bill | None:
    """One of the merchant's bills, or None (anyone else's, or no such bill)."""
    return Bill.objects.filter(merchant=merchant, pk=bill_id).first() if _is_uuid(bill_id) else None
