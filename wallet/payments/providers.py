"""The payment-provider boundary: one interface for every provider, and typed messages.

A provider takes payers to a checkout (top-ups), pays money out to a registered
destination (withdrawals, merchant payouts), and tells us what happened in signed
notifications, which reach us through one webhook (``POST /api/v1/payments/<name>/
webhook``) and one verification path (``services.notification_receive``). Settings choose
the provider (``PAYMENTS_PROVIDER``) among ``PAYMENTS_PROVIDERS`` (name → class path).

What a provider must guarantee (the README says the same for whoever adds one):

- ``top_up_start`` and ``payout_start`` are idempotent on our id: called twice for one top-up
  or payout (a retry after a crash), the provider charges or pays once and answers with the
  same reference.
- Every notification has an event id unique at that provider, and is signed; a notification
  whose signature or timestamp does not verify raises :class:`InvalidSignature`.
- ``totals`` reports what the provider holds for us: received from payers, paid out.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

from common.domain import DomainError, ErrorKind, InvalidRequest, NotFound


class InvalidSignature(InvalidRequest):
    code = "invalid_signature"
    title = "Invalid signature"
    default_detail = "The notification's signature or timestamp does not verify."


class UnknownProvider(NotFound):
    code = "not_found"
    title = "Not found"
    default_detail = "No such payment provider."


class ProviderUnavailable(DomainError):
    kind = ErrorKind.UNAVAILABLE
    code = "payment_provider_unavailable"
    title = "Payment provider unavailable"
    default_detail = "The payment provider cannot be reached right now; nothing was charged."


class NotificationKind(enum.StrEnum):
    TOP_UP_SUCCEEDED = "top_up.succeeded"
    TOP_UP_FAILED = "top_up.failed"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_FAILED = "payout.failed"


@dataclass(frozen=True, slots=True)
class SignedNotification:
    """A notification as it travels: the HTTP headers that carry its signature, and the
    exact bytes that were signed."""

    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Notification:
    """A verified notification, parsed. ``reference`` is the provider's reference of the
    top-up or payout it is about; ``amount`` and ``currency`` what the provider moved."""

    event_id: str
    kind: NotificationKind
    reference: str
    amount: int
    currency: str
    payer_label: str = ""
    reason: str = ""
    payload: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckoutStarted:
    """Where the payer goes to pay (``checkout_url``), under the provider's reference. A
    provider that settled at once (the sandbox with auto-confirm) also hands over the
    notification it sent, which goes through the same verification as any other."""

    reference: str
    checkout_url: str
    notification: SignedNotification | None = None


@dataclass(frozen=True, slots=True)
class PayoutStarted:
    reference: str
    notification: SignedNotification | None = None


@dataclass(frozen=True, slots=True)
class ProviderTotals:
    """What a provider reports holding for us, in one currency, minor units."""

    received: int
    paid_out: int

    @property
    def net(self) -> int:
        return self.received - self.paid_out


class PaymentProvider(ABC):
    """One payment provider. Subclasses set ``name`` (the webhook path's segment and the
    provider's ledger account) and implement the four operations."""

    name: ClassVar[str]

    @classmethod
    def enabled(cls) -> bool:
        """Whether this deployment accepts the provider at all (its webhook, its pages);
        listed in ``PAYMENTS_PROVIDERS`` is enough unless the provider says otherwise."""
        return True

    @abstractmethod
    def top_up_start(
        self, *, top_up_id: UUID, amount: int, currency: str, return_url: str
    ) -> CheckoutStarted:
        """Open a checkout for a top-up; idempotent on ``top_up_id``.
        Raises :class:`ProviderUnavailable` when the provider cannot be reached."""

    @abstractmethod
    def payout_start(
        self, *, payout_id: UUID, amount: int, currency: str, destination: str
    ) -> PayoutStarted:
        """Pay ``amount`` to a registered destination; idempotent on ``payout_id``.
        Raises :class:`ProviderUnavailable` when the provider cannot be reached."""

    @abstractmethod
    def notification_verify(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify a notification's signature and freshness, then parse it.
        Raises :class:`InvalidSignature`."""

    @abstractmethod
    def totals(self, *, currency: str) -> ProviderTotals:
        """What the provider reports as received and paid out, for the reconciliation."""


@cache
def _provider_class(path: str) -> type[PaymentProvider]:
    return import_string(path)


def provider(name: str | None = None) -> PaymentProvider:
    """The provider of that name (the configured one by default).
    Raises :class:`UnknownProvider` for a name the settings do not list, or a provider
    this deployment does not enable (the sandbox without ``PAYMENTS_SANDBOX``)."""
    name = name or settings.PAYMENTS_PROVIDER
    path = settings.PAYMENTS_PROVIDERS.get(name)
    if path is None:
        raise UnknownProvider()
    cls = _provider_class(path)
    if not cls.enabled():
        raise UnknownProvider()
    return cls()
