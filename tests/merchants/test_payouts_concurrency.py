"""A merchant's payout racing the other writes to its settlement account, on real
PostgreSQL with real commits.

The payout takes the settlement balance as it is under the account's lock, so it never
takes more than the account holds at that moment, and nothing paid in or refunded
meanwhile is lost or paid twice. A refund (an upheld claim dispute) is always made, even
when it comes after the payout took everything: the settlement balance then goes below
zero (the merchant owes it), is never paid out, and is made up from what the merchant
collects next.
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from merchants import services
from merchants.models import Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import ClaimDispute
from tests.concurrency import run_together
from tests.merchants.conftest import make_reliable
from tests.merchants.test_payouts import assert_books_balance, paid_claim_disputed
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import Entry, LedgerAccount, Payout, PayoutStatus, TransferKind, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 6
COLLECTED = 30_000  # paid in by guests before the race
CLAIMED = 12_000  # a claim paid in full, then disputed: refunded in the race
PAID_IN = 7_000  # a payment made during the race
THRESHOLD = 10_000


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return "ok"


def settlement_history(merchant: Merchant) -> list[tuple[str, int]]:
    """The settlement account's entries in the order they were written: each writer
    held the account's lock from before its entry until it committed, so the entries'
    ids are that order."""
    return list(
        Entry.objects.filter(account_id=merchant.settlement_id)
        .order_by("pk")
        .values_list("transfer__kind", "amount")
    )


def race(hotel: Merchant, dispute: ClaimDispute, payer: User) -> list[str]:
    """The hotel's payout, the dispute upheld and the payer's payment, released at once."""
    work: list[Callable[[], object]] = [
        lambda: services.settlement_pay_out(merchant=hotel),
        lambda: claims.claim_dispute_resolve(
            dispute=dispute, upheld=True, note="Photos show the lamp broken.", resolved_by=None
        ),
        lambda: wallet_services.payment_create(
            user=payer, destination=hotel.settlement, amount=PAID_IN, description="Stay"
        ),
    ]
    outcomes, _ = run_together(len(work), lambda index: outcome(work[index]))
    return outcomes


def test_a_payout_racing_a_refund_and_a_payment_never_takes_more_than_the_account_holds(
    citizen: User, other_citizen: User, settings: Any
) -> None:
    settings.PAYMENTS_PAYOUT_THRESHOLD = THRESHOLD
    guest, payer = make_reliable(citizen), other_citizen
    orders: Counter[str] = Counter()

    for round_ in range(ROUNDS):
        # Given a hotel holding 420.00: 300.00 from guests and a claim of 120.00, disputed
        hotel = perks_services.merchant_onboard(name=f"Hotel {round_}", category="hotel")
        top_up_paid(payer, COLLECTED + PAID_IN)
        wallet_services.payment_create(
            user=payer, destination=hotel.settlement, amount=COLLECTED, description="Stay"
        )
        dispute = paid_claim_disputed(hotel, guest, CLAIMED)
        before = len(settlement_history(hotel))
        guest_before = LedgerAccount.objects.get(user=guest).balance

        # When the payout, the dispute upheld (a refund from the settlement account) and
        # another guest's payment run at once
        outcomes = race(hotel, dispute, payer)

        # Then all three were made
        assert outcomes == ["ok"] * 3
        payout = Payout.objects.get(account_id=hotel.settlement_id)
        assert payout.status == PayoutStatus.PAID
        assert LedgerAccount.objects.get(user=guest).balance == guest_before + CLAIMED

        # And the payout took exactly what the account held when it was made: never more
        history = settlement_history(hotel)
        during = history[before:]
        orders[" → ".join(str(kind) for kind, _ in during)] += 1
        held = sum(amount for _, amount in history[:before])
        for kind, amount in during:
            if kind == TransferKind.PAYOUT:
                assert amount == -held
                assert held >= THRESHOLD
            held += amount
        # And nothing was lost or paid twice: what is left is what came in less what left
        final = LedgerAccount.objects.get(pk=hotel.settlement_id).balance
        assert final == held == COLLECTED + PAID_IN - payout.amount
        # And the balance is below zero only by a refund made after the payout
        assert final >= -CLAIMED
        if final < 0:
            kinds = [kind for kind, _ in during]
            assert kinds.index(TransferKind.REFUND) > kinds.index(TransferKind.PAYOUT)

    print(f"\n{ROUNDS} races of a payout, a refund and a payment: {dict(orders)}")
    assert_books_balance()


def test_two_daily_runs_at_once_pay_each_merchant_once(other_citizen: User, settings: Any) -> None:
    # Given three hotels above the threshold
    settings.PAYMENTS_PAYOUT_THRESHOLD = THRESHOLD
    hotels = [
        perks_services.merchant_onboard(name=f"Hotel {index}", category="hotel")
        for index in range(3)
    ]
    top_up_paid(other_citizen, 3 * COLLECTED)
    for hotel in hotels:
        wallet_services.payment_create(
            user=other_citizen, destination=hotel.settlement, amount=COLLECTED, description="Stay"
        )

    # When the daily run is started twice at once (beat, and an operator)
    runs, elapsed = run_together(2, lambda _: services.settlements_pay_out().as_dict())

    # Then each hotel was paid once, by one run or the other
    print(f"\ntwo daily runs at once: {runs} in {elapsed:.2f}s")
    assert sum(run["paid"] for run in runs) == 3
    assert sum(run["amount"] for run in runs) == 3 * COLLECTED
    assert sum(run["failed"] for run in runs) == 0
    assert (
        sorted(Payout.objects.values_list("amount", "status"))
        == [(COLLECTED, PayoutStatus.PAID)] * 3
    )
    assert (
        LedgerAccount.objects.filter(pk__in=[h.settlement_id for h in hotels])
        .filter(balance=0)
        .count()
        == 3
    )
    assert_books_balance()
