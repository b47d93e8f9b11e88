"""A merchant's cancel racing a check-in, or a check-in and completion, of the same stay,
on real PostgreSQL with real commits: the booking's row lock decides, and each stay ends
in one consistent outcome: cancelled (its hold released, ``booking.cancelled`` written,
nothing on the score) or started (checked in, its hold placed, no event), never both.

How we know the test can fail: the last test runs the same race with the booking read
without its lock (and a pause between the read and the write): both sides then pass
their checks on the same row, and stays end cancelled yet checked in, their hold active.

Threads are released together on a barrier, each on its own connection (closed at the
end); the clock is pinned for every thread at once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db.models import QuerySet
from django.utils import timezone

from common.domain import DomainError
from common.models import OutboxEvent
from merchants import services as merchants_services
from merchants.models import Merchant
from merchants.perks import claims
from merchants.perks import selectors as perks_selectors
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus
from scoring.facts import EventKinds
from scoring.models import CreditEvent
from tests.concurrency import run_together
from tests.merchants.conftest import assert_ledger_consistent, code_for
from tests.money import top_up_paid
from wallet.models import Hold, HoldStatus, LedgerAccount, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEPOSIT = 40_000
STAYS = 8


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(BOOKED_AT, tick=False) as traveller:
        yield traveller


def stays(citizen: User, hotel: Merchant, count: int) -> list[str]:
    """``count`` stays of ``citizen`` at ``hotel``, three days ahead (nothing held yet)."""
    consent = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    check_in = timezone.localdate() + timedelta(days=3)
    ids = []
    for index in range(count):
        decision = perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=DEPOSIT, consent_id=consent.pk
        )
        booking = perks_services.booking_create(
            merchant=hotel,
            decision_id=decision.pk,
            reference=f"R-{index}",
            check_in=check_in,
            check_out=check_in + timedelta(days=2),
            deposit_amount=DEPOSIT,
        )
        ids.append(str(booking.pk))
    return ids


def outcome(action: Callable[[], Any]) -> str:
    try:
        action()
    except DomainError as error:
        return error.code
    return "ok"


def race(hotel: Merchant, ids: list[str], *, complete: bool) -> list[tuple[str, str]]:
    """For each stay, a cancel and a check-in (then, with ``complete``, its completion as
    ``ok``) released together; returns each stay's (cancel, other side) outcomes."""

    def started(booking_id: str) -> str:
        result = outcome(
            lambda: perks_services.booking_check_in(merchant=hotel, booking_id=booking_id)
        )
        if result == "ok" and complete:
            return outcome(
                lambda: claims.booking_complete(merchant=hotel, booking_id=booking_id, outcome="ok")
            )
        return result

    def work(index: int) -> str:
        booking_id = ids[index // 2]
        if index % 2 == 0:
            return outcome(
                lambda: perks_services.booking_cancel(merchant=hotel, booking_id=booking_id)
            )
        return started(booking_id)

    results, elapsed = run_together(2 * len(ids), work)
    pairs = [(results[2 * i], results[2 * i + 1]) for i in range(len(ids))]
    print(f"\n{len(ids)} cancels against check-ins in {elapsed:.2f}s: {Counter(pairs)}")
    return pairs


def cancel_events() -> QuerySet[OutboxEvent]:
    return OutboxEvent.objects.filter(type="booking.cancelled")


def test_a_cancel_racing_a_check_in_leaves_one_outcome_per_stay(
    citizen: User, hotel: Merchant, clock: time_machine.Traveller
) -> None:
    # Given eight stays of a guest with enough for every deposit, check-in in 3 days
    top_up_paid(citizen, STAYS * DEPOSIT)
    ids = stays(citizen, hotel, STAYS)
    # When, the day before check-in (both allowed), each is cancelled and checked in at once
    clock.move_to(BOOKED_AT + timedelta(days=2))
    outcomes = race(hotel, ids, complete=False)
    # Then each stay has exactly one winner, and the loser was refused by name
    assert set(outcomes) <= {("ok", "booking_not_confirmed"), ("stay_started", "ok")}
    for booking_id, (cancelled, _) in zip(ids, outcomes, strict=True):
        booking = Booking.objects.select_related("hold").get(pk=booking_id)
        if cancelled == "ok":
            # cancelled: never checked in, nothing held, the merchant told once
            assert (booking.status, booking.cancel_reason, booking.checked_in_at) == (
                BookingStatus.CANCELLED,
                "merchant",
                None,
            )
            assert booking.hold is None or booking.hold.status == HoldStatus.RELEASED
            assert cancel_events().filter(data__id=booking_id).count() == 1
        else:
            # started: checked in, its deposit held, no cancellation
            assert (booking.status, booking.cancel_reason) == (BookingStatus.CONFIRMED, "")
            assert booking.checked_in_at is not None
            assert booking.hold is not None
            assert booking.hold.status == HoldStatus.ACTIVE
            assert not cancel_events().filter(data__id=booking_id).exists()
    started = sum(1 for cancelled, _ in outcomes if cancelled != "ok")
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (STAYS * DEPOSIT, started * DEPOSIT)
    assert cancel_events().count() == STAYS - started
    assert not CreditEvent.objects.filter(account=citizen).exists()
    assert_ledger_consistent()


def test_a_cancel_racing_a_check_in_and_completion_leaves_one_outcome_per_stay(
    citizen: User, hotel: Merchant, clock: time_machine.Traveller
) -> None:
    # Given eight stays, check-in in 3 days
    top_up_paid(citizen, STAYS * DEPOSIT)
    ids = stays(citizen, hotel, STAYS)
    # When, the day before check-in, each is cancelled while it is checked in and closed
    clock.move_to(BOOKED_AT + timedelta(days=2))
    outcomes = race(hotel, ids, complete=True)
    # Then each stay is either cancelled (the check-in refused) or completed (the cancel
    # refused: the stay had started, or was closed already)
    assert set(outcomes) <= {
        ("ok", "booking_not_confirmed"),
        ("stay_started", "ok"),
        ("booking_not_confirmed", "ok"),
    }
    completed = [booking_id for booking_id, (c, _) in zip(ids, outcomes, strict=True) if c != "ok"]
    assert sorted(
        Booking.objects.filter(status=BookingStatus.COMPLETED).values_list("id", flat=True)
    ) == sorted(Booking.objects.filter(pk__in=completed).values_list("id", flat=True))
    assert Booking.objects.filter(status=BookingStatus.CANCELLED).count() == STAYS - len(completed)
    # And only completed stays are on the score; only cancelled ones were told of
    assert sorted(CreditEvent.objects.filter(account=citizen).values_list("kind", flat=True)) == [
        EventKinds.BOOKING_COMPLETED
    ] * len(completed)
    assert sorted(cancel_events().values_list("data__id", flat=True)) == sorted(
        set(ids) - set(completed)
    )
    # And no deposit stays held: released at the cancel or at the completion
    assert not Hold.objects.filter(status=HoldStatus.ACTIVE).exists()
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (STAYS * DEPOSIT, 0)
    assert_ledger_consistent()


def test_without_the_booking_lock_a_stay_ends_cancelled_and_checked_in(
    citizen: User,
    hotel: Merchant,
    clock: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the same stays, with the booking read without its lock and a pause before
    # the write (the window the lock closes)
    top_up_paid(citizen, STAYS * DEPOSIT)
    ids = stays(citizen, hotel, STAYS)

    def booking_unlocked(*, merchant: Merchant, booking_id: Any) -> Booking:
        booking = (
            Booking.objects.select_related("citizen", "merchant__settlement", "decision__perk")
            .filter(pk=booking_id, merchant=merchant)
            .get()
        )
        time.sleep(0.2)
        return booking

    monkeypatch.setattr(perks_selectors, "booking_for_update", booking_unlocked)
    # When each is cancelled and checked in at once
    clock.move_to(BOOKED_AT + timedelta(days=2))
    outcomes = race(hotel, ids, complete=False)
    # Then both sides won for some stays: cancelled, yet checked in with a live hold
    assert ("ok", "ok") in outcomes
    broken = Booking.objects.filter(
        status=BookingStatus.CANCELLED, checked_in_at__isnull=False, hold__status="active"
    )
    assert broken.count() == outcomes.count(("ok", "ok"))
