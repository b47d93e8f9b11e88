"""Reads of the merchants app. Every merchant-facing read is filtered by the merchant
(another merchant's object is simply not found) and every citizen-facing read by the
citizen."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model, QuerySet
from django.utils import timezone

from merchants.errors import (
    ConsentExpired,
    ConsentRevoked,
    ConsentScopeMismatch,
    NotFound,
)
from merchants.models import (
    ApiKey,
    Bill,
    BillStatus,
    Booking,
    Claim,
    Consent,
    Decision,
    Merchant,
    Perk,
)
from scoring import selectors as scoring_selectors
from scoring.models import CreditEvent
from wallet.models import User

Row = TypeVar("Row", bound=Model)


def _only_row(queryset: QuerySet[Row]) -> Row | None:
    """The one row a unique lookup finds, or None. Without the ORDER BY that ``first()``
    adds: on the merchant endpoints' hot path, compiling it cost more than the database
    took to run the query."""
    return next(iter(queryset.order_by()[:1]), None)


def api_key_by_prefix(*, prefix: str) -> ApiKey | None:
    return _only_row(ApiKey.objects.select_related("merchant").filter(prefix=prefix))


def consent_live_for(*, merchant: Merchant, consent_id: Any) -> Consent:
    """The merchant's consent (404 for anyone else's), checked live: not revoked, not
    expired. Scope is checked by :func:`consent_check`."""
    consent = _only_row(Consent.objects.filter(pk=consent_id, merchant=merchant))
    if consent is None:
        raise NotFound("No such consent.")
    return consent


def consent_check(*, consent: Consent, scope: str) -> None:
    """Refuse a consent that no longer allows the merchant to ask for ``scope``."""
    if consent.revoked_at is not None:
        raise ConsentRevoked()
    if consent.expires_at <= timezone.now():
        raise ConsentExpired()
    if consent.scope != scope:
        raise ConsentScopeMismatch()


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
        .filter(source=f"claim:{claim.pk}:unpaid")
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


def consents_for_citizen(*, citizen: User) -> QuerySet[Consent]:
    return (
        Consent.objects.filter(citizen=citizen)
        .select_related("merchant")
        .order_by("-granted_at", "-id")
    )


def bills_for_citizen(*, citizen: User, status: str | None = None) -> QuerySet[Bill]:
    rows = Bill.objects.select_related("merchant").filter(citizen=citizen)
    return rows.filter(status=status) if status else rows


def bills_for_merchant(*, merchant: Merchant) -> QuerySet[Bill]:
    return Bill.objects.filter(merchant=merchant)


def bill_for_update(*, citizen: User, bill_id: Any) -> Bill:
    """The citizen's bill, locked (404 for anyone else's)."""
    bill = (
        Bill.objects.select_for_update(of=("self",))
        .select_related("merchant__settlement")
        .filter(pk=bill_id, citizen=citizen)
        .first()
    )
    if bill is None:
        raise NotFound("No such bill.")
    return bill


def bills_overdue_unrecorded(*, today: date) -> list[Any]:
    """Ids of the bills unpaid after their due date whose overdue record is not written
    yet, oldest due first (a partial index covers exactly these rows)."""
    return list(
        Bill.objects.filter(
            status=BillStatus.OPEN, overdue_recorded_at__isnull=True, due_date__lt=today
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
