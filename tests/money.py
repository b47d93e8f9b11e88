"""Funding citizens in tests, through the one way money comes in: a top-up that the
payment provider (the sandbox, confirming at once under the test settings) confirms with a
signed notification."""

from __future__ import annotations

from wallet.models import TopUpStatus, Transfer, User
from wallet.payments import services as payments


def top_up_paid(user: User, amount: int) -> Transfer:
    """Top up ``user``'s wallet by ``amount`` and return the credit's transfer."""
    top_up = payments.top_up_start(user=user, amount=amount)
    assert top_up.status == TopUpStatus.SUCCEEDED, top_up.status
    assert top_up.transfer is not None
    return top_up.transfer
