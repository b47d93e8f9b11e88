"""Claims have one implementation (``claims._claims_check`` and
``claims._claims_write``): a claim made now and the same claim recorded in a history
are the same row, and both refuse the same bad amount with the same error."""

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.domain import DomainError
from merchants.models import Merchant
from merchants.perks import claims, services
from merchants.perks.models import Booking, BookingOutcome, Claim, ClaimStatus
from tests.merchants.conftest import code_for
from wallet.models import LedgerAccount, User

pytestmark = pytest.mark.django_db

# Every column but the claim's own identity, its booking and its moments
_COMPARED = tuple(
    column
    for column in claims._CLAIM_COLUMNS
    if column
    not in ("id", "booking_id", "created_at", "respond_by", "accepted_at", "charged_at", "paid_at")
)


def _booking(hotel: Merchant, citizen: User, reference: str = "R-1") -> Booking:
    """A stay booked today (the deposit of 10,000 held: the citizen has no record)."""
    decision = services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=10_000, code=code_for(citizen)
    )
    today = timezone.localdate()
    return services.booking_create(
        merchant=hotel,
        decision_id=decision.pk,
        reference=reference,
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=10_000,
    )


def _record(booking: Booking, **changes: Any) -> claims.ClaimRecord:
    fields: dict[str, Any] = {
        "booking_id": booking.pk,
        "merchant_id": booking.merchant_id,
        "citizen_id": booking.citizen_id,
        "amount": 4_000,
        "description": "Broken lamp",
        "created_at": timezone.now(),
    }
    return claims.ClaimRecord(**(fields | changes))


def test_a_claim_now_and_the_same_claim_in_a_history_are_the_same_row(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given two stays of a citizen whose deposit covers the damage
    funded(50_000)
    made_now, in_history = _booking(hotel, citizen, "R-1"), _booking(hotel, citizen, "R-2")
    # When one is closed with a claim now, which the guest accepts, and the other's
    # claim is recorded as accepted and paid
    claims.booking_complete(
        merchant=hotel,
        booking_id=made_now.pk,
        outcome=BookingOutcome.DAMAGE,
        claim_amount=4_000,
        description="Broken lamp",
    )
    claims.claim_accept(citizen=citizen, claim_id=Claim.objects.get(booking=made_now).pk)
    moment = timezone.now()
    record = _record(
        in_history,
        paid_amount=4_000,
        status=ClaimStatus.PAID,
        paid_at=moment,
        created_at=moment - timedelta(hours=1),
        respond_by=moment + timedelta(hours=71),
        accepted_at=moment,
        charged_at=moment,
    )
    assert claims.claims_record(claims=[record]) == 1
    # Then the rows agree
    now, recorded = Claim.objects.get(booking=made_now), Claim.objects.get(pk=record.id)
    assert [getattr(now, n) for n in _COMPARED] == [getattr(recorded, n) for n in _COMPARED]
    assert (now.status, now.paid_amount) == ("paid", 4_000)
    assert now.paid_at == now.accepted_at == now.charged_at
    assert now.respond_by == now.created_at + timedelta(hours=72)
    assert list(now.lines.values_list("position", "amount", "description")) == list(
        recorded.lines.values_list("position", "amount", "description")
    )


@pytest.mark.parametrize("amount", [0, -500])
def test_a_claim_for_nothing_is_refused_now_and_in_a_history_alike(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount], amount: int
) -> None:
    # Given a stay
    funded(50_000)
    booking = _booking(hotel, citizen)
    # When a claim for nothing is made now, and recorded in a history
    with pytest.raises(DomainError) as now:
        claims.booking_complete(
            merchant=hotel,
            booking_id=booking.pk,
            outcome=BookingOutcome.DAMAGE,
            claim_amount=amount,
            description="Nothing",
        )
    with pytest.raises(DomainError) as history:
        claims.claims_record(claims=[_record(booking, amount=amount)])
    # Then both refuse it with the same error, and nothing is written
    assert now.value.code == history.value.code == "invalid_amount"
    assert str(now.value) == str(history.value)
    assert not Claim.objects.exists()
    booking.refresh_from_db()
    assert booking.status == "confirmed"


@pytest.mark.parametrize(
    "changes",
    [
        {"paid_amount": 4_001},
        {"paid_amount": -1},
        {"paid_amount": 1_000, "refunded_amount": 1_001, "status": ClaimStatus.CANCELLED},
        {"paid_amount": 1_000, "refunded_amount": 1_000},
        {"paid_amount": 1_000, "status": ClaimStatus.CANCELLED},
        {"paid_amount": 1_000, "status": ClaimStatus.PAID},
        {"paid_amount": 4_000, "status": ClaimStatus.UNPAID, "paid_at": "now"},
        {"paid_amount": 4_000, "status": ClaimStatus.PAID},
        {"paid_at": "now"},
        {"paid_amount": 4_000, "status": ClaimStatus.PAID, "paid_at": "before"},
        {"status": "lost"},
        {"status": ClaimStatus.AWAITING_GUEST, "respond_by": "later", "paid_amount": 1_000},
        {"status": ClaimStatus.AWAITING_GUEST, "respond_by": "later", "charged_at": "now"},
        {"status": ClaimStatus.UNPAID, "respond_by": "later"},
        {"status": ClaimStatus.AWAITING_GUEST, "respond_by": "before"},
        {"status": ClaimStatus.UNPAID, "accepted_at": "now"},
        {"amount": 5_000},
    ],
    ids=[
        "over-collected",
        "negative",
        "over-refunded",
        "refunded-not-cancelled",
        "cancelled-not-refunded",
        "paid-not-in-full",
        "unpaid-in-full",
        "paid-without-moment",
        "moment-not-in-full",
        "paid-before-made",
        "unknown-status",
        "awaiting-but-collected",
        "awaiting-but-charged",
        "answered-not-charged",
        "answer-due-before-made",
        "accepted-not-charged",
        "lines-do-not-add-up",
    ],
)
def test_a_history_refuses_a_claim_the_services_never_write(
    citizen: User,
    hotel: Merchant,
    funded: Callable[[int], LedgerAccount],
    changes: dict[str, Any],
) -> None:
    # Given a stay, and its claim made inconsistent one way
    funded(50_000)
    now = timezone.now()
    moments = {
        "now": now,
        "before": now - timedelta(hours=1),
        "later": now + timedelta(hours=72),
    }
    record = _record(
        _booking(hotel, citizen),
        created_at=now,
        **{k: moments.get(v, v) if isinstance(v, str) else v for k, v in changes.items()},
    )
    if "amount" in changes:
        record = replace(record, lines=(claims.ClaimLineInput(4_000, "Broken lamp"),))
    # Then it is refused, and nothing is written
    with pytest.raises(ValueError, match=r"claim"):
        claims.claims_record(claims=[record])
    assert not Claim.objects.exists()


def test_a_history_refuses_a_claim_above_the_deposit_as_a_claim_now_is(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount]
) -> None:
    funded(50_000)
    booking = _booking(hotel, citizen)
    with pytest.raises(DomainError) as history:
        claims.claims_record(claims=[_record(booking, amount=10_001)])
    assert history.value.code == "claim_exceeds_deposit"
    assert not Claim.objects.exists()


def test_a_booking_has_one_claim_within_a_history_and_against_the_stored_ones(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given a stay
    funded(50_000)
    record = _record(_booking(hotel, citizen))
    # When two claims of it are recorded together, it is refused
    with pytest.raises(ValueError, match="one claim"):
        claims.claims_record(claims=[record, replace(record, id=uuid.uuid4())])
    assert not Claim.objects.exists()
    # And once one is stored, the booking's unique constraint refuses another
    claims.claims_record(claims=[record])
    with pytest.raises(IntegrityError), transaction.atomic():
        claims.claims_record(claims=[replace(record, id=uuid.uuid4())])
    assert Claim.objects.count() == 1
