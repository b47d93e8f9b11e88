"""Money for the benches' citizens, the one way money comes in: a top-up through the
payment provider, here the sandbox confirming at once, as the demo and the tests fund
theirs.

The bench's world is not the product's: its citizens hold more than an identity level's
limits allow (a ledger bench funds each wallet with the largest single top-up), so every
limit is raised here, for the bench's own top-ups only; the product's defaults stay as
``config.settings`` has them.
"""

from __future__ import annotations

from django.test import override_settings

from wallet.models import TopUpStatus, User
from wallet.payments import services as payments

_NO_LIMIT = 10**15
BENCH_PAYMENTS = {
    "PAYMENTS_PROVIDER": "sandbox",
    "PAYMENTS_SANDBOX": True,
    "PAYMENTS_SANDBOX_AUTO_CONFIRM": True,
    "PAYMENTS_LIMITS": {
        level: dict.fromkeys(
            ("top_up_daily", "top_up_monthly", "balance_max", "withdrawal_daily"), _NO_LIMIT
        )
        for level in (0, 1, 2)
    },
}


def top_up_paid(user: User, amount: int) -> None:
    """Top up ``user``'s wallet by ``amount`` (at most ``WALLET_MAX_TOP_UP``), paid."""
    with override_settings(**BENCH_PAYMENTS):
        top_up = payments.top_up_start(user=user, amount=amount)
    if top_up.status != TopUpStatus.SUCCEEDED:
        raise RuntimeError(f"the bench's top-up did not succeed: {top_up.status}")
