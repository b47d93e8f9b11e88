"""Funding citizens in tests, through the one way money comes in: a top-up that the
payment provider (the sandbox, confirming at once under the test settings) confirms with a
signed notification."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from wallet.models import TopUp, TopUpStatus, Transfer, User
from wallet.payments import sandbox
from wallet.payments import services as payments


def top_up_paid(user: User, amount: int) -> Transfer:
    """Top up ``user``'s wallet by ``amount`` and return the credit's transfer."""
    top_up = payments.top_up_start(user=user, amount=amount)
    assert top_up.status == TopUpStatus.SUCCEEDED, top_up.status
    assert top_up.transfer is not None
    return top_up.transfer


def payment_source(user: User) -> str | None:
    """Where ``user``'s withdrawals go: the sandbox's name for the account that paid their
    latest succeeded top-up; None before the first."""
    latest = (
        TopUp.objects.filter(user=user, status=TopUpStatus.SUCCEEDED)
        .order_by("-resolved_at", "-created_at")
        .first()
    )
    return None if latest is None else sandbox.payer_label(latest.pk)


def wallet_body(user: User, *, balance: int, held: int) -> dict[str, Any]:
    """``/api/v1/me/wallet`` exactly, for a wallet of ``balance`` with ``held`` held, under
    the test settings (no limit of an identity level binds: the most that can be topped up
    is the largest single top-up, the most that can be withdrawn what is available)."""
    return {
        "currency": settings.WALLET_CURRENCY,
        "balance": balance,
        "held": held,
        "available": balance - held,
        "currency_decimals": 2,
        "max_top_up": settings.WALLET_MAX_TOP_UP,
        "top_up_limit": settings.WALLET_MAX_TOP_UP,
        "withdrawal_limit": balance - held,
        "payout_destination": payment_source(user),
    }
