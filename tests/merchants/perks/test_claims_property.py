"""Over random sequences of bookings, claims, accepts, disputes, staff decisions,
payments, sweeps and time passing, no guest ever pays a hotel more for one booking than
the claim, nor a claim more than the deposit agreed at booking; and nothing is taken for
a claim the guest neither accepted nor left unanswered, unless staff rejected their
dispute.

A hypothesis state machine drives the services as the API and the periodic tasks do,
on one hotel and one guest; after every step it reads what the ledger actually moved
for each claim (the claim's transfers to and from the hotel's settlement account) and
checks it against the claim, the booking and how the claim was answered. Each example
runs in a savepoint rolled back at the end, with the clock pinned and moved only by the
machine.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from common.domain import DomainError
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import Booking, BookingStatus, Claim, ClaimDispute, ClaimStatus
from scoring.subjects import claim_subject
from tests.conftest import PASSWORD
from tests.merchants.conftest import assert_ledger_consistent, code_for, make_reliable
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import Entry, User

MACHINE_SETTINGS = hypothesis_settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
START = datetime(2031, 5, 4, 10, 0, tzinfo=UTC)
DEPOSITS = st.sampled_from([5_000, 30_000, 80_000, 250_000])
# The statuses of a claim for which the guest owes nothing (yet, or ever).
NOTHING_TAKEN = {ClaimStatus.AWAITING_GUEST, ClaimStatus.DISPUTED, ClaimStatus.UPHELD}


def attempt(call: Callable[[], object], *refusals: str) -> str:
    """``ok``, or the code of a refusal the step may meet (any other fails the test)."""
    try:
        call()
    except DomainError as error:
        code = error.code
    else:
        return "ok"
    assert code in refusals, code
    return code


class ClaimsMachine(RuleBasedStateMachine):
    bookings = Bundle("bookings")
    claims = Bundle("claims")

    def __init__(self) -> None:
        super().__init__()
        self._clock = time_machine.travel(START, tick=False)
        self._traveller = self._clock.start()
        self._example = transaction.atomic()
        self._example.__enter__()
        self.hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
        self.guest = User.objects.create_user(username="guest", password=PASSWORD)
        make_reliable(self.guest, on_time_bills=0)  # 620: up to 50,000 waived
        self.staff = User.objects.create_user(username="staff", password=PASSWORD, is_staff=True)
        self.accepted: set[Any] = set()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)
        self._clock.stop()

    # --- Steps --------------------------------------------------------------------------

    @rule(target=bookings, deposit=DEPOSITS, extra=st.integers(0, 100_000))
    def book(self, deposit: int, extra: int) -> Any:
        """The guest books a stay starting today, with enough money for the hold."""
        top_up_paid(self.guest, deposit + extra)
        decision = perks_services.eligibility_decide(
            merchant=self.hotel,
            perk_kind="deposit_waiver",
            amount=deposit,
            code=code_for(self.guest),
        )
        today = timezone.localdate()
        booking = perks_services.booking_create(
            merchant=self.hotel,
            decision_id=decision.pk,
            reference=f"R-{decision.pk}",
            check_in=today,
            check_out=today + timedelta(days=2),
            deposit_amount=deposit,
        )
        return booking.pk

    @rule(
        target=claims,
        booking_id=bookings,
        amounts=st.lists(st.integers(1, 400_000), min_size=1, max_size=3),
    )
    def file(self, booking_id: Any, amounts: list[int]) -> Any:
        """The hotel claims any amount, in lines: above the deposit it is refused."""
        lines = [claims.ClaimLineInput(amount, f"Item {i}") for i, amount in enumerate(amounts)]
        outcome = attempt(
            lambda: claims.booking_complete(
                merchant=self.hotel, booking_id=booking_id, outcome="damage", lines=lines
            ),
            "claim_exceeds_deposit",
            "booking_not_confirmed",
            "report_window_closed",
        )
        booking = Booking.objects.get(pk=booking_id)
        if outcome == "claim_exceeds_deposit":
            assert sum(amounts) > booking.deposit_amount
            assert booking.status == BookingStatus.CONFIRMED
        if outcome != "ok":
            return None
        return Claim.objects.get(booking_id=booking_id).pk

    @rule(claim_id=claims)
    def accept(self, claim_id: Any) -> None:
        if claim_id is None:
            return
        outcome = attempt(
            lambda: claims.claim_accept(citizen=self.guest, claim_id=claim_id),
            "claim_not_awaiting_guest",
        )
        if outcome == "ok":
            self.accepted.add(claim_id)

    @rule(claim_id=claims)
    def dispute(self, claim_id: Any) -> None:
        if claim_id is None:
            return
        attempt(
            lambda: claims.claim_dispute_open(
                citizen=self.guest, claim_id=claim_id, reason="Not me."
            ),
            "claim_not_awaiting_guest",
            "already_disputed",
        )

    @rule(claim_id=claims, upheld=st.booleans())
    def staff_decide(self, claim_id: Any, upheld: bool) -> None:
        dispute = ClaimDispute.objects.filter(claim_id=claim_id).first()
        if dispute is None:
            return
        attempt(
            lambda: claims.claim_dispute_resolve(
                dispute=dispute, upheld=upheld, note="Decided.", resolved_by=self.staff
            ),
            "dispute_not_open",
        )

    @rule(claim_id=claims, top_up=st.integers(0, 300_000))
    def pay(self, claim_id: Any, top_up: int) -> None:
        if claim_id is None:
            return
        if top_up:
            top_up_paid(self.guest, top_up)
        attempt(
            lambda: claims.claim_pay(citizen=self.guest, claim_id=claim_id),
            "claim_not_payable",
            "claim_disputed",
            "insufficient_funds",
        )

    @rule(hours=st.integers(1, 24 * 40))
    def time_passes(self, hours: int) -> None:
        self._traveller.shift(timedelta(hours=hours))

    @rule()
    def sweeps(self) -> None:
        claims.claims_charge_unanswered()
        wallet_services.holds_expire_due()

    @rule(amount=st.integers(1, 200_000))
    def spend(self, amount: int) -> None:
        """The guest moves money out, so that charges find less than the claim."""
        wallet = wallet_services.wallet_open(user=self.guest)
        if 0 < amount <= wallet.available:
            wallet_services.transfer_funds(
                source=wallet,
                destination=self.hotel.settlement,
                amount=amount,
                kind="payment",
                description="Room service",
            )

    # --- What must always hold ------------------------------------------------------------

    @invariant()
    def no_claim_takes_more_than_it_may(self) -> None:
        for claim in Claim.objects.select_related("booking"):
            taken = (
                Entry.objects.filter(
                    account_id=self.hotel.settlement_id,
                    transfer__reference=claim_subject(claim.pk),
                ).aggregate(total=Sum("amount"))["total"]
                or 0
            )
            # Never more than the claim, nor a claim more than the deposit agreed
            assert 0 <= taken == claim.paid_amount - claim.refunded_amount
            assert claim.paid_amount <= claim.amount <= claim.booking.deposit_amount
            assert claim.amount == sum(claim.lines.values_list("amount", flat=True))
            # Nothing without the guest's acceptance, their silence or staff's rejection
            if claim.status in NOTHING_TAKEN:
                assert taken == 0, claim.status
                assert claim.charged_at is None
            else:
                assert claim.charged_at is not None
                answered = claim.pk in self.accepted
                unanswered = claim.respond_by is not None and claim.charged_at >= claim.respond_by
                rejected = claim.status == ClaimStatus.REJECTED
                assert answered or unanswered or rejected, claim.status
                assert (claim.accepted_at is not None) == answered

    @invariant()
    def the_ledger_adds_up(self) -> None:
        assert_ledger_consistent()


@pytest.mark.django_db
def test_no_guest_pays_more_than_the_claim_or_the_deposit_without_their_say() -> None:
    run_state_machine_as_test(ClaimsMachine, settings=MACHINE_SETTINGS)
