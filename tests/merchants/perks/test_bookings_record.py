"""Bookings have one implementation (``services._bookings_check`` and
``services._bookings_write``): a booking made now and the same booking recorded in a
history are the same row, and both refuse the same bad input with the same error."""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from common.domain import DomainError
from merchants.models import Merchant
from merchants.perks import services
from merchants.perks.models import Booking, BookingOutcome, Decision
from tests.merchants.conftest import code_for
from wallet.models import Hold, LedgerAccount, User

pytestmark = pytest.mark.django_db

# Every column but the booking's own identity, its decision, its hold and its moment
_COMPARED = tuple(
    column
    for column in services._BOOKING_COLUMNS
    if column not in ("id", "decision_id", "hold_id", "created_at")
)


def _decision(hotel: Merchant, citizen: User, amount: int = 10_000) -> Decision:
    return services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=amount, code=code_for(citizen)
    )


def _record(hotel: Merchant, decision: Decision, **changes: Any) -> services.BookingRecord:
    today = timezone.localdate()
    fields: dict[str, Any] = {
        "merchant": hotel,
        "decision": decision,
        "consent": decision.consent,
        "reference": "R-1",
        "check_in": today + timedelta(days=2),
        "check_out": today + timedelta(days=4),
        "deposit_amount": decision.requested_amount,
        "created_at": timezone.now(),
    }
    return services.BookingRecord(**(fields | changes))


def _with_hold(record: services.BookingRecord, wallet: LedgerAccount) -> services.BookingRecord:
    """The record with the hold ``booking_create`` would have placed for it."""
    _, held = services.booking_split(decision=record.decision, deposit_amount=record.deposit_amount)
    hold = services.wallet_services.hold_place(
        account=wallet,
        amount=held,
        expires_at=record.hold_expires_at,
        reference=record.hold_reference,
        description=record.hold_description,
    )
    return replace(record, hold_id=hold.pk)


def test_a_booking_now_and_the_same_booking_in_a_history_are_the_same_row(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given a citizen with no record (the deposit is held, at once: check-in is two days
    # away) and two decisions
    wallet = funded(50_000)
    made_now, in_history = _decision(hotel, citizen), _decision(hotel, citizen)
    today = timezone.localdate()
    # When one books now and the other is recorded as the same booking
    now = services.booking_create(
        merchant=hotel,
        decision_id=made_now.pk,
        reference="R-1",
        check_in=today + timedelta(days=2),
        check_out=today + timedelta(days=4),
        deposit_amount=10_000,
    )
    record = _with_hold(_record(hotel, in_history), wallet)
    assert services.bookings_record(bookings=[record]) == 1
    # Then the rows agree, and so do their holds
    rows = Booking.objects.in_bulk([now.pk, record.id])
    assert [getattr(rows[now.pk], n) for n in _COMPARED] == [
        getattr(rows[record.id], n) for n in _COMPARED
    ]
    assert rows[now.pk].hold_amount == 10_000
    holds = Hold.objects.in_bulk([now.hold_id, record.hold_id])
    for booking in rows.values():
        hold = holds[booking.hold_id]
        assert hold.reference == services.booking_subject(booking.pk)
        assert hold.description == "Deposit for Harbour Hotel, booking R-1"
        assert hold.expires_at == services.booking_hold_expiry(
            check_out=booking.check_out, claim_window_days=14
        )
    # ... and the booking returned is the row
    assert [getattr(now, n) for n in _COMPARED] == [getattr(rows[now.pk], n) for n in _COMPARED]


def test_a_booking_not_yet_held_now_and_in_a_history_are_the_same_row(
    citizen: User, hotel: Merchant, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given a citizen with no record (the deposit is to be held) and two decisions
    funded(50_000)
    made_now, in_history = _decision(hotel, citizen), _decision(hotel, citizen)
    today = timezone.localdate()
    # When one books a stay three days away now and the other is recorded without a hold
    now = services.booking_create(
        merchant=hotel,
        decision_id=made_now.pk,
        reference="R-1",
        check_in=today + timedelta(days=3),
        check_out=today + timedelta(days=5),
        deposit_amount=10_000,
    )
    record = _record(
        hotel, in_history, check_in=today + timedelta(days=3), check_out=today + timedelta(days=5)
    )
    assert services.bookings_record(bookings=[record]) == 1
    # Then the rows agree: confirmed, 10,000 to hold and no hold yet
    rows = Booking.objects.in_bulk([now.pk, record.id])
    assert [getattr(rows[now.pk], n) for n in _COMPARED] == [
        getattr(rows[record.id], n) for n in _COMPARED
    ]
    assert [(b.status, b.hold_amount, b.hold_id) for b in rows.values()] == [
        ("confirmed", 10_000, None)
    ] * 2
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"deposit_amount": 10_001}, "invalid_amount"),
        ({"check_out": "before check-in"}, "invalid"),
        ({"check_in": "two years ago"}, "invalid"),
        ({"check_in": "91 days ahead"}, "check_in_too_far"),
        ({"check_out": "31 nights"}, "stay_too_long"),
        ({"expired": True}, "decision_expired"),
        ({"used": True}, "decision_used"),
    ],
    ids=[
        "deposit-above-decision",
        "out-of-order",
        "too-long-ago",
        "too-far-ahead",
        "too-long",
        "expired",
        "used",
    ],
)
def test_a_bad_booking_is_refused_now_and_in_a_history_alike(
    citizen: User,
    hotel: Merchant,
    funded: Callable[[int], LedgerAccount],
    changes: dict[str, Any],
    error: str,
) -> None:
    # Given a decision, and the booking's fields made bad one way
    wallet = funded(50_000)
    decision = _decision(hotel, citizen)
    today = timezone.localdate()
    fields: dict[str, Any] = {
        "reference": "R-1",
        "check_in": today + timedelta(days=3),
        "check_out": today + timedelta(days=5),
        "deposit_amount": 10_000,
    }
    if changes.get("check_out") == "before check-in":
        fields["check_out"] = today + timedelta(days=1)
    if changes.get("check_out") == "31 nights":
        fields["check_out"] = today + timedelta(days=3 + 31)
    if changes.get("check_in") == "two years ago":
        fields["check_in"] = today - timedelta(days=800)
        fields["check_out"] = today - timedelta(days=799)
    if changes.get("check_in") == "91 days ahead":
        fields["check_in"] = today + timedelta(days=91)
        fields["check_out"] = today + timedelta(days=92)
    if "deposit_amount" in changes:
        fields["deposit_amount"] = changes["deposit_amount"]
    if changes.get("expired"):
        Decision.objects.filter(pk=decision.pk).update(expires_at=timezone.now())
        decision.refresh_from_db()
    if changes.get("used"):
        services.booking_create(merchant=hotel, decision_id=decision.pk, **fields)
    before = Booking.objects.count()
    # When it is booked now, and recorded in a history
    with pytest.raises(DomainError) as now:
        services.booking_create(merchant=hotel, decision_id=decision.pk, **fields)
    record = _record(hotel, decision, **fields)
    with pytest.raises(DomainError) as history:
        services.bookings_record(bookings=[replace(record, hold_id=None)])
    # Then both refuse it with the same error, and nothing is written
    assert now.value.code == history.value.code == error
    assert str(now.value) == str(history.value)
    assert Booking.objects.count() == before
    assert wallet.pk


@pytest.mark.parametrize(
    "changes",
    [
        {"hold_id": None},
        {"outcome": BookingOutcome.OK},
        {"completed_at": "now"},
        {"outcome": "lost", "completed_at": "later"},
    ],
    ids=["held-without-hold", "outcome-not-completed", "completed-without-outcome", "unknown"],
)
def test_a_history_refuses_a_booking_the_services_never_write(
    citizen: User,
    hotel: Merchant,
    funded: Callable[[int], LedgerAccount],
    changes: dict[str, Any],
) -> None:
    # Given a booking recorded with its hold, then made inconsistent one way
    record = _with_hold(_record(hotel, _decision(hotel, citizen)), funded(50_000))
    moments = {"now": timezone.now(), "later": timezone.now() + timedelta(days=9)}
    record = replace(record, **{k: moments.get(v, v) for k, v in changes.items()})
    # Then it is refused, and nothing is written
    with pytest.raises(ValueError, match=r"booking|outcome"):
        services.bookings_record(bookings=[record])
    assert not Booking.objects.exists()
