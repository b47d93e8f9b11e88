"""Money in and out under concurrent requests, on real PostgreSQL with real commits
(threads released together, each on its own connection: tests/concurrency.py)."""

from collections import Counter

import pytest
from django.test import override_settings

from config import settings as production
from tests.concurrency import run_together
from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
from tests.wallet.payments.conftest import balance_of, confirmation, pending_top_up
from wallet import services as ledger
from wallet.errors import InsufficientFunds
from wallet.models import (
    LedgerAccount,
    Payout,
    PayoutStatus,
    ProviderEvent,
    TopUp,
    TopUpStatus,
    Transfer,
    TransferKind,
)
from wallet.payments import services as payments
from wallet.payments.limits import TopUpLimit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 20


def test_one_confirmation_delivered_twenty_times_at_once_credits_once(citizen):
    top_up = pending_top_up(citizen, 7_000)
    signed = confirmation(top_up)

    results, _ = run_together(
        WORKERS,
        lambda _: payments.notification_receive(provider_name="sandbox", signed=signed).outcome,
    )

    assert Counter(results) == Counter(applied=1, duplicate=WORKERS - 1)
    assert balance_of(citizen) == 7_000
    assert Transfer.objects.filter(kind=TransferKind.TOP_UP).count() == 1
    assert ProviderEvent.objects.count() == 1


def test_twenty_confirmations_of_one_top_up_at_once_credit_once(citizen):
    top_up = pending_top_up(citizen, 7_000)
    deliveries = [confirmation(top_up) for _ in range(WORKERS)]  # twenty event ids

    results, _ = run_together(
        WORKERS,
        lambda index: (
            payments.notification_receive(provider_name="sandbox", signed=deliveries[index]).outcome
        ),
    )

    assert Counter(results) == Counter(applied=1, ignored=WORKERS - 1)
    assert balance_of(citizen) == 7_000
    assert Transfer.objects.filter(kind=TransferKind.TOP_UP).count() == 1
    assert TopUp.objects.get().status == TopUpStatus.SUCCEEDED


def test_withdrawals_racing_payments_never_take_the_wallet_below_zero(citizen):
    """Ten withdrawals and ten payments of 1,000 at once from a wallet of 10,000: ten go
    through, ten are refused for funds, whatever the order."""
    top_up_paid(citizen, 10_000)
    merchant = SettlementAccountFactory()

    def spend(index: int) -> str:
        try:
            if index % 2:
                payments.withdrawal_create(user=citizen, amount=1_000)
            else:
                ledger.payment_create(user=citizen, destination=merchant, amount=1_000)
        except InsufficientFunds:
            return "insufficient_funds"
        return "ok"

    results, _ = run_together(WORKERS, spend)

    assert Counter(results) == Counter(ok=10, insufficient_funds=10)
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (0, 0)
    merchant.refresh_from_db()
    withdrawn = sum(Payout.objects.values_list("amount", flat=True))
    assert merchant.balance + withdrawn == 10_000
    # Each withdrawal was sent after its commit (eager relays, side by side) and paid once.
    assert set(Payout.objects.values_list("status", flat=True)) <= {PayoutStatus.PAID}
    assert (
        Transfer.objects.filter(kind=TransferKind.PAYOUT_SETTLED).count() == Payout.objects.count()
    )


@pytest.mark.parametrize("auto_confirm", [False, True], ids=["pending", "confirmed at once"])
def test_top_ups_at_once_cannot_pass_the_daily_limit_together(citizen, auto_confirm):
    daily = production.PAYMENTS_LIMITS[0]["top_up_daily"]
    amount = daily // 2 + 1  # any two together are over the limit

    def open_one(_: int) -> str:
        try:
            payments.top_up_start(user=citizen, amount=amount)
        except TopUpLimit:
            return "top_up_limit"
        return "ok"

    with override_settings(
        PAYMENTS_LIMITS=production.PAYMENTS_LIMITS, PAYMENTS_SANDBOX_AUTO_CONFIRM=auto_confirm
    ):
        results, _ = run_together(10, open_one)

    assert Counter(results) == Counter(ok=1, top_up_limit=9)
    assert TopUp.objects.count() == 1
