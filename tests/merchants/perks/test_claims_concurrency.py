"""A claim awaiting its guest under concurrent answers, on real PostgreSQL with real
commits: every answer and the sweep lock the claim first, so a claim ends in exactly one
state and is charged at most once, and every loser gets the domain's own refusal.
"""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from merchants.models import Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.errors import ClaimAlreadyDisputed, ClaimNotAwaitingGuest
from merchants.perks.models import Claim, ClaimDispute, ClaimStatus
from tests.concurrency import run_together
from tests.merchants.conftest import assert_ledger_consistent, code_for, make_reliable
from tests.money import top_up_paid
from wallet.models import Hold, HoldStatus, LedgerAccount, Transfer, TransferKind, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
DEPOSIT = 80_000
CLAIMED = 60_000
REFUSALS = (ClaimNotAwaitingGuest, ClaimAlreadyDisputed)


def outcome_of(call: Callable[[], object]) -> str:
    """``ok``, the refusal's code, or the unexpected error's name and text."""
    try:
        call()
    except REFUSALS as error:
        return error.code
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


def awaiting_claim(hotel: Merchant, guest: User, reference: str) -> Claim:
    """A claim of 60,000 awaiting the guest, on a stay of a deposit of 80,000 of which a
    good guest has 50,000 waived and 30,000 held."""
    decision = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=DEPOSIT, code=code_for(guest)
    )
    today = timezone.localdate()
    booking = perks_services.booking_create(
        merchant=hotel,
        decision_id=decision.pk,
        reference=reference,
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=DEPOSIT,
    )
    claims.booking_complete(
        merchant=hotel,
        booking_id=booking.pk,
        outcome="damage",
        claim_amount=CLAIMED,
        description="Broken lamp",
    )
    return Claim.objects.get(booking=booking)


def charges(claim: Claim) -> int:
    return Transfer.objects.filter(
        kind=TransferKind.CLAIM, reference__endswith=str(claim.pk)
    ).count()


def answer_both_at_once(guest: User, claim: Claim) -> list[str]:
    """The guest accepts the claim and disputes it at the same instant (two tabs)."""
    work: list[Callable[[], object]] = [
        lambda: claims.claim_accept(citizen=guest, claim_id=claim.pk),
        lambda: claims.claim_dispute_open(citizen=guest, claim_id=claim.pk, reason="No."),
    ]
    outcomes, _ = run_together(2, lambda index: outcome_of(work[index]))
    return outcomes


def test_accept_and_dispute_at_the_same_instant_end_in_exactly_one_state(
    citizen: User, hotel: Merchant
) -> None:
    guest = make_reliable(citizen, on_time_bills=0)
    top_up_paid(guest, ROUNDS * DEPOSIT)
    seen: Counter[tuple[str, ...]] = Counter()
    for round_ in range(ROUNDS):
        # Given a claim awaiting the guest
        claim = awaiting_claim(hotel, guest, f"R-{round_}")
        wallet_before = LedgerAccount.objects.get(user=guest)

        # When the guest accepts it and disputes it at once (two tabs)
        outcomes = answer_both_at_once(guest, claim)
        seen[tuple(outcomes)] += 1

        # Then exactly one answer was taken, the other refused, and the claim is in the
        # state that one answer gives it
        claim.refresh_from_db()
        wallet = LedgerAccount.objects.get(user=guest)
        hold = Hold.objects.get(booking__claim=claim)
        if outcomes == ["ok", "claim_not_awaiting_guest"]:
            assert (claim.status, claim.paid_amount) == (ClaimStatus.PAID, CLAIMED)
            assert not ClaimDispute.objects.filter(claim=claim).exists()
            assert charges(claim) == 1
            assert hold.status == HoldStatus.CAPTURED
            assert wallet.balance == wallet_before.balance - CLAIMED
        else:
            assert outcomes == ["claim_not_awaiting_guest", "ok"], outcomes
            assert (claim.status, claim.paid_amount) == (ClaimStatus.DISPUTED, 0)
            assert ClaimDispute.objects.filter(claim=claim).count() == 1
            assert charges(claim) == 0
            assert hold.status == HoldStatus.ACTIVE
            assert wallet.balance == wallet_before.balance
    print(f"\naccept and dispute at once, {ROUNDS} rounds: {dict(seen)}")
    assert_ledger_consistent()


def test_accepted_twice_at_once_it_is_charged_once(citizen: User, hotel: Merchant) -> None:
    guest = make_reliable(citizen, on_time_bills=0)
    top_up_paid(guest, DEPOSIT)
    claim = awaiting_claim(hotel, guest, "R-1")

    outcomes, _ = run_together(
        5, lambda _: outcome_of(lambda: claims.claim_accept(citizen=guest, claim_id=claim.pk))
    )

    assert Counter(outcomes) == Counter({"ok": 1, "claim_not_awaiting_guest": 4})
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount) == (ClaimStatus.PAID, CLAIMED)
    assert charges(claim) == 1
    wallet = LedgerAccount.objects.get(user=guest)
    assert (wallet.balance, wallet.held) == (DEPOSIT - CLAIMED, 0)
    assert_ledger_consistent()


def test_sweeps_and_a_late_answer_at_once_charge_an_unanswered_claim_once(
    citizen: User, hotel: Merchant
) -> None:
    guest = make_reliable(citizen, on_time_bills=0)
    top_up_paid(guest, DEPOSIT)
    claim = awaiting_claim(hotel, guest, "R-1")
    assert claim.respond_by is not None

    with time_machine.travel(claim.respond_by + timedelta(minutes=1), tick=True):
        work: list[Callable[[], object]] = [
            claims.claims_charge_unanswered,
            claims.claims_charge_unanswered,
            lambda: claims.claim_accept(citizen=guest, claim_id=claim.pk),
        ]
        outcomes, _ = run_together(3, lambda index: outcome_of(work[index]))

    assert outcomes[2] == "claim_not_awaiting_guest"
    claim.refresh_from_db()
    assert (claim.status, claim.paid_amount, claim.accepted_at) == (
        ClaimStatus.PAID,
        CLAIMED,
        None,
    )
    assert charges(claim) == 1
    assert_ledger_consistent()
