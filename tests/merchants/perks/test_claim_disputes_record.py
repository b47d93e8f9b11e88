"""Disputes of claims have one implementation (``claims._claim_disputes_check`` and
``claims._claim_disputes_write``, ending through ``scoring.services.dispute_transition``):
a dispute opened now and the same dispute recorded in a history are the same row, and
both refuse a claim disputed twice with the same error."""

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from common.domain import DomainError
from merchants.models import Merchant
from merchants.perks import claims, services
from merchants.perks.models import BookingOutcome, Claim, ClaimDispute, ClaimStatus
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import DisputeResolution, DisputeStatus
from scoring.subjects import claim_subject, claim_unpaid_source
from tests.merchants.conftest import code_for
from wallet.models import LedgerAccount, User

pytestmark = pytest.mark.django_db

_COMPARED = (
    "citizen_id",
    "reason",
    "status",
    "record_dispute_id",
    "resolution",
    "resolution_note",
    "resolved_by_id",
)


def _booking_id(hotel: Merchant, citizen: User, reference: str) -> uuid.UUID:
    """A stay booked today (its deposit of 10,000 held: the citizen has no record)."""
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
    ).pk


def _claim_now(hotel: Merchant, citizen: User, reference: str = "R-1") -> Claim:
    """A claim of 4,000 filed now, awaiting the guest."""
    booking_id = _booking_id(hotel, citizen, reference)
    claims.booking_complete(
        merchant=hotel,
        booking_id=booking_id,
        outcome=BookingOutcome.DAMAGE,
        claim_amount=4_000,
        description="Broken lamp",
    )
    return Claim.objects.get(booking_id=booking_id)


def _claim_recorded(
    hotel: Merchant, citizen: User, status: str, reference: str = "R-2", *, charged: bool = True
) -> Any:
    """A claim of 4,000 recorded in a history and left in ``status``: charged and paid in
    full when filed, as claims were before guests had a say; or (not ``charged``) filed
    with a deadline to answer, uncharged."""
    moment = timezone.now() - timedelta(days=2)
    if not charged:
        record = claims.ClaimRecord(
            booking_id=_booking_id(hotel, citizen, reference),
            merchant_id=hotel.pk,
            citizen_id=citizen.pk,
            amount=4_000,
            description="Broken lamp",
            created_at=moment,
            status=status,
            respond_by=moment + timedelta(hours=72),
        )
        claims.claims_record(claims=[record])
        return record.id
    record = claims.ClaimRecord(
        booking_id=_booking_id(hotel, citizen, reference),
        merchant_id=hotel.pk,
        citizen_id=citizen.pk,
        amount=4_000,
        description="Broken lamp",
        created_at=moment,
        paid_amount=4_000,
        refunded_amount=4_000 if status == ClaimStatus.CANCELLED else 0,
        status=status,
        paid_at=moment,
    )
    claims.claims_record(claims=[record])
    return record.id


def test_a_dispute_now_and_the_same_dispute_in_a_history_are_the_same_row(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given a claim made now, and one recorded as disputed
    funded(50_000)
    claim = _claim_now(hotel, citizen)
    recorded = _claim_recorded(hotel, citizen, ClaimStatus.DISPUTED, charged=False)
    # When the first is disputed now and the second's dispute is recorded
    now = claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="It was old.")
    record = claims.ClaimDisputeRecord(
        claim_id=recorded, citizen_id=citizen.pk, reason="It was old.", opened_at=timezone.now()
    )
    assert claims.claim_disputes_record(disputes=[record]) == 1
    # Then the rows agree, and so does the dispute returned
    rows = ClaimDispute.objects.in_bulk([now.pk, record.id])
    assert [getattr(rows[now.pk], n) for n in _COMPARED] == [
        getattr(rows[record.id], n) for n in _COMPARED
    ]
    assert [getattr(now, n) for n in _COMPARED] == [getattr(rows[now.pk], n) for n in _COMPARED]
    assert now.status == DisputeStatus.OPEN


@pytest.mark.parametrize("together", [False, True], ids=["stored", "within-history"])
def test_a_claim_disputed_twice_is_refused_now_and_in_a_history_alike(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount], together: bool
) -> None:
    # Given a claim disputed once
    funded(50_000)
    claim = _claim_now(hotel, citizen)
    claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="It was old.")
    record = claims.ClaimDisputeRecord(
        claim_id=claim.pk, citizen_id=citizen.pk, reason="Again.", opened_at=timezone.now()
    )
    # When it is disputed again now, and in a history
    with pytest.raises(DomainError) as now:
        claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="Again.")
    if together:
        other = _claim_recorded(hotel, citizen, ClaimStatus.DISPUTED)
        record = claims.ClaimDisputeRecord(
            claim_id=other, citizen_id=citizen.pk, reason="Again.", opened_at=timezone.now()
        )
    with pytest.raises(DomainError) as history:
        claims.claim_disputes_record(disputes=[record, record] if together else [record])
    # Then both refuse it with the same error, and nothing is written
    assert now.value.code == history.value.code == "already_disputed"
    assert str(now.value) == str(history.value)
    assert ClaimDispute.objects.count() == 1


@pytest.mark.parametrize(
    ("claim_status", "changes"),
    [
        (ClaimStatus.CANCELLED, {"status": DisputeStatus.UPHELD, "resolved_at": "before"}),
        (ClaimStatus.PAID, {"status": DisputeStatus.REJECTED, "resolution": "automatic"}),
        (ClaimStatus.CANCELLED, {"status": DisputeStatus.UPHELD, "resolution": "by hand"}),
        (ClaimStatus.CANCELLED, {"status": DisputeStatus.UPHELD, "resolved_at": None}),
        (ClaimStatus.DISPUTED, {"resolved_at": "later"}),
        (ClaimStatus.DISPUTED, {"status": "withdrawn", "resolved_at": "later"}),
        (ClaimStatus.PAID, {}),
        (ClaimStatus.DISPUTED, {"status": DisputeStatus.UPHELD, "resolved_at": "later"}),
        (ClaimStatus.CANCELLED, {"status": DisputeStatus.REJECTED, "resolved_at": "later"}),
        (ClaimStatus.DISPUTED, {"record_dispute_id": "another claim's"}),
    ],
    ids=[
        "resolved-before-opened",
        "automatic-rejects",
        "unknown-resolution",
        "ended-without-moment",
        "open-with-moment",
        "unknown-end",
        "open-but-claim-paid",
        "upheld-but-claim-disputed",
        "rejected-but-claim-cancelled",
        "linked-to-another-record",
    ],
)
def test_a_history_refuses_a_claim_dispute_the_services_never_write(
    citizen: User,
    hotel: Merchant,
    funded: Callable[[int], LedgerAccount],
    claim_status: str,
    changes: dict[str, Any],
) -> None:
    # Given a claim recorded in a status, and its dispute made inconsistent one way
    funded(50_000)
    claim_id = _claim_recorded(hotel, citizen, claim_status)
    opened_at = timezone.now() - timedelta(days=1)
    moments = {"before": opened_at - timedelta(hours=1), "later": opened_at + timedelta(hours=1)}
    fields: dict[str, Any] = {"resolution": DisputeResolution.STAFF, "resolved_at": "later"}
    fields = fields if changes.get("status") else {}
    fields |= changes
    if fields.get("record_dispute_id"):
        # An open dispute of another claim's "claim unpaid" record
        elsewhere = uuid.uuid4()
        event = scoring_services.record_event(
            account=citizen,
            kind=EventKinds.CLAIM_UNPAID,
            occurred_at=opened_at - timedelta(days=1),
            source=claim_unpaid_source(elsewhere),
            subject=claim_subject(elsewhere),
            amount=100,
            currency=settings.WALLET_CURRENCY,
        )
        fields["record_dispute_id"] = scoring_services.dispute_open(
            citizen=citizen, event=event, reason="Not mine."
        ).pk
    given: dict[str, Any] = {
        k: moments.get(v, v) if isinstance(v, str) else v for k, v in fields.items()
    }
    record = claims.ClaimDisputeRecord(
        claim_id=claim_id, citizen_id=citizen.pk, reason="It was old.", opened_at=opened_at, **given
    )
    # Then it is refused, and nothing is written
    with pytest.raises(ValueError, match=r"[Dd]ispute|claim|resolv"):
        claims.claim_disputes_record(disputes=[record])
    assert not ClaimDispute.objects.exists()
