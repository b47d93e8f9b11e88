"""Reads of perks, decisions, bookings and claims. Every merchant-facing read is filtered
by the merchant (another merchant's object is simply not found) and every
citizen-facing read by the citizen."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import QuerySet

from merchants.errors import NotFound
from merchants.models import Merchant
from merchants.perks.models import Booking, Claim, Decision, Perk
from scoring import selectors as scoring_selectors
from scoring.models import CreditEvent
from scoring.subjects import claim_unpaid_source
from wallet.models import User

# Read once in every eligibility request: as SQL, because compiling the ORM's query cost
# several times what running it did (bench/eligibility.py). At most one row matches (a
# partial unique index).
_PERK_ACTIVE_SQL = """
SELECT id, merchant_id, kind, max_amount, rules, is_active, created_at, updated_at
  FROM merchants_perk
 WHERE merchant_id = %s AND kind = %s AND is_active
"""


def perk_active(*, merchant: Merchant, kind: str) -> Perk | None:
    merchant_id = Perk._meta.get_field("merchant").get_db_prep_value(merchant.pk, connection)
    return next(iter(Perk.objects.raw(_PERK_ACTIVE_SQL, [merchant_id, kind])), None)


def decision_for_update(*, merchant: Merchant, decision_id: Any) -> Decision:
    """Lock the merchant's decision (404 for anyone else's)."""
    decision = (
        Decision.objects.select_for_update(of=("self",))
        .select_related("consent", "citizen")
        .filter(pk=decision_id, merchant=merchant)
        .first()
    )
    if decision is None:
        raise NotFound("No such decision.")
    return decision


def booking_for_update(*, merchant: Merchant, booking_id: Any) -> Booking:
    """Lock the merchant's booking (404 for anyone else's)."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("citizen", "merchant__settlement")
        .filter(pk=booking_id, merchant=merchant)
        .first()
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def claim_for_update(*, citizen: User, claim_id: Any) -> Claim:
    """Lock the citizen's claim (404 for anyone else's)."""
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("merchant__settlement", "citizen")
        .filter(pk=claim_id, citizen=citizen)
        .first()
    )
    if claim is None:
        raise NotFound("No such claim.")
    return claim


def claim_unpaid_record(*, claim: Claim) -> CreditEvent | None:
    """The "claim unpaid" credit record a claim left, if it left one."""
    return (
        scoring_selectors.events_for(account=claim.citizen)
        .filter(source=claim_unpaid_source(claim.pk))
        .first()
    )


# --- Lists -----------------------------------------------------------------------------


def bookings_for_merchant(*, merchant: Merchant) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(merchant=merchant)
        .select_related("claim")
        .order_by("-created_at", "-id")
    )


def bookings_for_citizen(*, citizen: User) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(citizen=citizen)
        .select_related("merchant", "claim")
        .order_by("-created_at", "-id")
    )


def claims_for_citizen(*, citizen: User) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(citizen=citizen)
        .select_related("merchant", "booking", "dispute")
        .order_by("-created_at", "-id")
    )
