"""The task that places deposit holds near check-in, under concurrent runs, on real
PostgreSQL with real commits: each booking's hold is placed once however many runs race
for it (``skip_locked`` on the booking, then the wallet's lock), and a revocation racing
the runs leaves no hold of a cancelled stay active.

Threads are released together on a barrier, each on its own connection (closed at the
end); the clock is pinned for every thread at once.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from merchants import services as merchants_services
from merchants.models import Consent, Merchant
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus
from tests.concurrency import run_together
from tests.merchants.conftest import assert_ledger_consistent, code_for
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import Hold, HoldStatus, LedgerAccount, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEPOSIT = 40_000
RUNNERS = 6


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(BOOKED_AT, tick=False) as traveller:
        yield traveller


def stays(citizen: User, hotel: Merchant, count: int, *, days_ahead: int = 10) -> list[Booking]:
    """``count`` stays of ``citizen`` at ``hotel`` under one consent, ``days_ahead`` days
    from today, each with its whole deposit still to be held."""
    consent = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    check_in = timezone.localdate() + timedelta(days=days_ahead)
    bookings = []
    for index in range(count):
        decision = perks_services.eligibility_decide(
            merchant=hotel, perk_kind="deposit_waiver", amount=DEPOSIT, consent_id=consent.pk
        )
        assert decision.held_amount == DEPOSIT
        bookings.append(
            perks_services.booking_create(
                merchant=hotel,
                decision_id=decision.pk,
                reference=f"R-{index}",
                check_in=check_in,
                check_out=check_in + timedelta(days=2),
                deposit_amount=DEPOSIT,
            )
        )
    assert not Hold.objects.exists()
    return bookings


def test_concurrent_runs_of_the_task_place_each_hold_once(
    citizen: User,
    other_citizen: User,
    hotel: Merchant,
    clock: time_machine.Traveller,
) -> None:
    # Given three stays of a guest with 100,000 (two can be held, not three) and two of
    # a guest with 100,000 (both can be), all ten days ahead
    top_up_paid(citizen, 100_000)
    top_up_paid(other_citizen, 100_000)
    stays(citizen, hotel, 3)
    stays(other_citizen, hotel, 2)
    # When their holds fall due and six runs of the task start at the same instant
    clock.move_to(BOOKED_AT + timedelta(days=8))
    placed, elapsed = run_together(RUNNERS, lambda index: perks_services.bookings_place_due_holds())
    print(f"\n{RUNNERS} runs of the task: {placed} placed in {elapsed:.2f}s")
    # Then four holds were placed in all, one per booking, and one booking failed its hold
    assert sum(placed) == 4
    holds = list(Hold.objects.all())
    assert len(holds) == 4
    assert {hold.status for hold in holds} == {HoldStatus.ACTIVE}
    assert sorted(Booking.objects.values_list("status", flat=True)) == sorted(
        [BookingStatus.CONFIRMED] * 4 + [BookingStatus.HOLD_FAILED]
    )
    assert Booking.objects.filter(hold__isnull=False).count() == 4
    assert [
        (account.balance, account.held)
        for account in LedgerAccount.objects.filter(user__in=[citizen, other_citizen]).order_by(
            "user_id"
        )
    ] == [(100_000, 2 * DEPOSIT), (100_000, 2 * DEPOSIT)]
    # When the task runs again
    assert perks_services.bookings_place_due_holds() == 0
    # Then nothing more is held
    assert Hold.objects.count() == 4
    assert_ledger_consistent()


def test_a_revocation_racing_the_task_leaves_no_hold_of_a_cancelled_stay(
    citizen: User, hotel: Merchant, clock: time_machine.Traveller
) -> None:
    # Given five stays of a guest with 500,000 under one consent, three days ahead
    wallet = top_up_paid(citizen, 500_000)
    bookings = stays(citizen, hotel, 5, days_ahead=3)
    consent = Consent.objects.get(pk=bookings[0].decision.consent_id)
    # When their holds fall due, and the guest revokes the consent while the task runs
    clock.move_to(BOOKED_AT + timedelta(days=1))

    def work(index: int) -> object:
        if index == 0:
            return perks_services.consent_revoke(citizen=citizen, consent=consent).revoked_at
        return perks_services.bookings_place_due_holds()

    run_together(RUNNERS, work)
    # Then every stay is cancelled, and none of them holds anything
    assert set(Booking.objects.values_list("status", "cancel_reason")) == {
        (BookingStatus.CANCELLED, "consent_revoked")
    }
    assert not Hold.objects.filter(status=HoldStatus.ACTIVE).exists()
    assert set(Hold.objects.values_list("status", flat=True)) <= {HoldStatus.RELEASED}
    account = LedgerAccount.objects.get(pk=wallet_services.wallet_open(user=citizen).pk)
    assert (account.balance, account.held) == (500_000, 0)
    assert wallet is not None
    assert_ledger_consistent()
