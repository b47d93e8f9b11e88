"""The front desk's reads: today's arrivals and departures, one booking with what the
desk may do with it now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from common.domain import NotFound
from merchants.models import Merchant
from merchants.perks.claims import report_deadline
from merchants.perks.models import Booking, BookingStatus, ClaimEvidence, hold_due_on

# Bookings still expected at the desk.
_OPEN = (BookingStatus.CONFIRMED, BookingStatus.HOLD_FAILED)


def _bookings(merchant: Merchant) -> QuerySet[Booking]:
    return Booking.objects.filter(merchant=merchant).select_related("decision__perk")


def desk_arrivals(*, merchant: Merchant, on: date) -> list[Booking]:
    """The stays starting on the local day ``on`` not cancelled, by reference."""
    return list(
        _bookings(merchant)
        .filter(check_in=on)
        .exclude(status=BookingStatus.CANCELLED)
        .order_by("reference", "id")
    )


def desk_departures(*, merchant: Merchant, on: date) -> list[Booking]:
    """The stays ending on the local day ``on`` not cancelled, by reference."""
    return list(
        _bookings(merchant)
        .filter(check_out=on)
        .exclude(status=BookingStatus.CANCELLED)
        .order_by("reference", "id")
    )


def desk_booking(*, merchant: Merchant, booking_id: Any) -> Booking:
    """The merchant's booking with its claim, lines and evidence (``NotFound`` for any
    other merchant's, or none)."""
    booking = (
        _bookings(merchant)
        .select_related("claim", "claim__dispute", "hold")
        .prefetch_related("claim__lines", "claim__evidence")
        .filter(pk=booking_id)
        .first()
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def desk_evidence(*, merchant: Merchant, booking_id: Any, evidence_id: Any) -> ClaimEvidence:
    """A file of the claim on the merchant's booking (``NotFound`` otherwise)."""
    evidence = (
        ClaimEvidence.objects.select_related("claim")
        .filter(pk=evidence_id, claim__booking_id=booking_id, claim__merchant=merchant)
        .first()
    )
    if evidence is None:
        raise NotFound("No such evidence.")
    return evidence


@dataclass(frozen=True, slots=True)
class DeskActions:
    """What the desk may do with a booking now (the services refuse the rest anyway)."""

    check_in: bool
    check_out: bool
    cancel: bool
    add_evidence: bool
    check_in_from: date
    report_by: datetime


def desk_actions(*, booking: Booking, now: datetime | None = None) -> DeskActions:
    """Which forms the booking page offers: check-in from ``HOLD_LEAD_DAYS`` before
    check-in until check-out day; check-out once the stay started and until the perk's
    claim window closes; cancel before check-in; evidence while
    the claim awaits the guest or staff."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    confirmed = booking.status == BookingStatus.CONFIRMED
    report_by = report_deadline(
        booking=booking, window_days=booking.decision.perk.claim_window_days
    )
    started = booking.checked_in_at is not None or today >= booking.check_in
    claim = getattr(booking, "claim", None)
    return DeskActions(
        check_in=confirmed
        and booking.checked_in_at is None
        and hold_due_on(booking.check_in) <= today <= booking.check_out,
        check_out=confirmed and started and now <= report_by,
        cancel=booking.status in _OPEN
        and booking.checked_in_at is None
        and today < booking.check_in,
        add_evidence=claim is not None and claim.status in ("awaiting_guest", "disputed"),
        check_in_from=hold_due_on(booking.check_in),
        report_by=report_by,
    )
