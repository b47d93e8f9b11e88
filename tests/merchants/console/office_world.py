"""Seeding for the manager's and billing clerk's pages: stays, claims, disputes and
bills made through the real services (money through the ledger, records through
scoring), as they would be in life."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.utils import timezone

from merchants.models import Merchant
from merchants.perks import claims as claims_services
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingOutcome, Claim
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import Dispute
from scoring.subjects import bill_overdue_source, bill_subject
from tests.merchants.conftest import code_for
from wallet.models import User

DEPOSIT = 10_000


def stay(
    merchant: Merchant,
    citizen: User,
    reference: str,
    *,
    deposit: int = DEPOSIT,
    check_in: date | None = None,
    nights: int = 2,
) -> Booking:
    """A stay booked now from a fresh decision (the citizen's wallet must hold what is
    not waived when check-in is near)."""
    decision = perks_services.eligibility_decide(
        merchant=merchant, perk_kind="deposit_waiver", amount=deposit, code=code_for(citizen)
    )
    check_in = check_in or timezone.localdate()
    return perks_services.booking_create(
        merchant=merchant,
        decision_id=decision.pk,
        reference=reference,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        deposit_amount=deposit,
    )


def damage(merchant: Merchant, booking: Booking, lines: list[tuple[int, str]]) -> Claim:
    """Close the stay with a damage claim of ``lines`` (amount, what), awaiting the guest."""
    claims_services.booking_complete(
        merchant=merchant,
        booking_id=booking.pk,
        outcome=BookingOutcome.DAMAGE,
        lines=[claims_services.ClaimLineInput(amount, what) for amount, what in lines],
    )
    return Claim.objects.get(booking=booking)


def close(merchant: Merchant, booking: Booking, outcome: str) -> None:
    claims_services.booking_complete(merchant=merchant, booking_id=booking.pk, outcome=outcome)


def disputed_record(
    merchant: Merchant,
    citizen: User,
    *,
    reason: str = "I paid it at the desk.",
    amount: int = 12_000,
) -> Dispute:
    """A "bill overdue" record the merchant furnished, 20 days old, disputed now by the
    citizen: open, awaiting the merchant's answer for 30 days."""
    bill_id = uuid.uuid4()
    event = scoring_services.record_event(
        account=citizen,
        kind=EventKinds.BILL_OVERDUE,
        occurred_at=timezone.now() - timedelta(days=20),
        source=bill_overdue_source(bill_id),
        subject=bill_subject(bill_id),
        amount=amount,
        currency="CNY",
        description=f"{merchant.name} bill",
        furnisher_id=merchant.pk,
    )
    return scoring_services.dispute_open(citizen=citizen, event=event, reason=reason)
