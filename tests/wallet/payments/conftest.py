"""What the payments' tests share: checkouts the payer completes by hand (auto-confirm
off), the production limits, signed notifications delivered through the webhook."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client, override_settings

from config import settings as production
from wallet.models import LedgerAccount, ProviderEvent, TopUp, TopUpStatus, User
from wallet.payments import sandbox
from wallet.payments import services as payments
from wallet.payments.providers import NotificationKind, SignedNotification

WEBHOOK = "/api/v1/payments/sandbox/webhook"
TOP_UPS = "/api/v1/me/top-ups"
WITHDRAWALS = "/api/v1/me/withdrawals"


@pytest.fixture
def by_hand(settings: Any) -> None:
    """The sandbox waits for the payer on its checkout page (auto-confirm off), as a real
    provider does."""
    settings.PAYMENTS_SANDBOX_AUTO_CONFIRM = False


@pytest.fixture
def production_limits(settings: Any) -> dict[int, dict[str, int]]:
    """The limits a deployment has by default (the test settings lift them all)."""
    settings.PAYMENTS_LIMITS = production.PAYMENTS_LIMITS
    return production.PAYMENTS_LIMITS


def balance_of(user: User) -> int:
    return LedgerAccount.objects.get(user=user).balance


def pending_top_up(user: User, amount: int) -> TopUp:
    """A top-up waiting for its payer (whatever auto-confirm says)."""
    with override_settings(PAYMENTS_SANDBOX_AUTO_CONFIRM=False):
        top_up = payments.top_up_start(user=user, amount=amount)
    assert top_up.status == TopUpStatus.PENDING
    return top_up


def confirmation(
    top_up: TopUp,
    *,
    amount: int | None = None,
    currency: str | None = None,
    payer_label: str = "Sandbox account ···0001",
) -> SignedNotification:
    """The sandbox's signed confirmation of ``top_up`` (its amount unless told)."""
    return sandbox.notification_for(
        NotificationKind.TOP_UP_SUCCEEDED,
        reference=top_up.provider_reference,
        amount=top_up.amount if amount is None else amount,
        currency=top_up.currency if currency is None else currency,
        payer_label=payer_label,
    )


def webhook_headers(signed: SignedNotification) -> dict[str, str]:
    return dict(signed.headers)


@pytest.fixture
def deliver() -> Callable[..., object]:
    """POST a notification to the webhook, as the provider does (no credentials, no CSRF
    token: the signature is the credential)."""
    client = Client(enforce_csrf_checks=True)

    def post(
        signed: SignedNotification,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        url: str = WEBHOOK,
    ) -> object:
        return client.post(
            url,
            data=signed.body if body is None else body,
            content_type="application/json",
            headers=webhook_headers(signed) if headers is None else headers,
        )

    return post


def events() -> list[tuple[str, str]]:
    """Every recorded notification: (event id, outcome)."""
    return list(ProviderEvent.objects.order_by("received_at").values_list("event_id", "outcome"))
