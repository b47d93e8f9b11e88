"""The sandbox provider: the reference implementation of :class:`PaymentProvider`.

It keeps its own books (``SandboxMovement``: what it received and paid out), shows the
payer a checkout page of ours (``/sandbox/checkout/<reference>``, confirm or decline), and
signs its notifications as Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``: an HMAC-SHA256 over id, timestamp and body, with a five-minute
tolerance), so they go through the webhook and its verification exactly as a real
provider's would.

- With ``PAYMENTS_SANDBOX_AUTO_CONFIRM`` the payer confirms at once (the demo, the tests):
  the checkout is paid before ``top_up_start`` returns, and its notification comes back
  with it.
- Payouts are paid at once, except to a destination whose label starts with ``fail``
  (as a real provider's test mode fails certain test accounts): that payout fails.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from wallet.models import SandboxMovement, SandboxMovementKind
from wallet.payments.providers import (
    CheckoutStarted,
    InvalidSignature,
    Notification,
    NotificationKind,
    PaymentProvider,
    PayoutStarted,
    ProviderTotals,
    SignedNotification,
)

NAME = "sandbox"
# What a forged or garbled notification raises on its way through verification and
# parsing: a bad signature or timestamp, malformed base64 or signature headers, JSON that
# is not the shape we send, an unknown type (ValueError), a body that is not UTF-8, JSON
# nested deeper than the parser recurses, text the database cannot store.
_MALFORMED = (
    WebhookVerificationError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    UnicodeDecodeError,
    RecursionError,
)
FAILING_DESTINATION_PREFIX = "fail"


def _webhook() -> Webhook:
    return Webhook(settings.PAYMENTS_SANDBOX_SECRET)


def sign(
    payload: Mapping[str, Any], *, event_id: str, at: datetime | None = None
) -> SignedNotification:
    """A notification as the sandbox sends it: the JSON body and its Standard Webhooks
    headers, signed with ``PAYMENTS_SANDBOX_SECRET`` at ``at`` (now by default)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return sign_body(body.encode(), event_id=event_id, at=at)


def sign_body(body: bytes, *, event_id: str, at: datetime | None = None) -> SignedNotification:
    """Any bytes signed as the sandbox signs a notification's body."""
    at = at or timezone.now()
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": _webhook().sign(msg_id=event_id, timestamp=at, data=body),
    }
    return SignedNotification(headers=headers, body=body)


def notification_for(
    kind: NotificationKind,
    *,
    reference: str,
    amount: int,
    currency: str,
    payer_label: str = "",
    reason: str = "",
) -> SignedNotification:
    """The signed notification the sandbox sends about one of its checkouts or payouts."""
    return sign(
        {
            "type": kind.value,
            "data": {
                "reference": reference,
                "amount": amount,
                "currency": currency,
                "payer_label": payer_label,
                "reason": reason,
            },
        },
        event_id=f"evt_{uuid.uuid4().hex}",
    )


def payer_label(top_up_id: UUID) -> str:
    """The sandbox's name for the account a payer paid from: stable per checkout."""
    digits = int(hashlib.sha256(top_up_id.bytes).hexdigest(), 16) % 10_000
    return f"Sandbox account ···{digits:04d}"


def checkout_reference(top_up_id: UUID) -> str:
    """The sandbox's checkout id for one of our top-ups: the same on every retry."""
    return f"cs_{top_up_id.hex}"


def payout_reference(payout_id: UUID) -> str:
    return f"po_{payout_id.hex}"


def _record(*, reference: str, kind: str, amount: int, currency: str, label: str) -> None:
    """One movement in the sandbox's books, once per reference (a retry records nothing)."""
    try:
        with transaction.atomic():
            SandboxMovement.objects.create(
                reference=reference,
                kind=kind,
                amount=amount,
                currency=currency,
                label=label,
                created_at=timezone.now(),
            )
    except IntegrityError:
        pass


def checkout_pay(
    *, reference: str, top_up_id: UUID, amount: int, currency: str
) -> SignedNotification:
    """The payer confirmed on the checkout page: the sandbox takes the money, and sends the
    signed confirmation."""
    label = payer_label(top_up_id)
    _record(
        reference=reference,
        kind=SandboxMovementKind.RECEIVED,
        amount=amount,
        currency=currency,
        label=label,
    )
    return notification_for(
        NotificationKind.TOP_UP_SUCCEEDED,
        reference=reference,
        amount=amount,
        currency=currency,
        payer_label=label,
    )


def checkout_decline(*, reference: str, amount: int, currency: str) -> SignedNotification:
    """The payer declined on the checkout page: nothing is taken."""
    return notification_for(
        NotificationKind.TOP_UP_FAILED,
        reference=reference,
        amount=amount,
        currency=currency,
        reason="The payer declined the payment.",
    )


class SandboxProvider(PaymentProvider):
    name = NAME

    @classmethod
    def enabled(cls) -> bool:
        """Only where ``PAYMENTS_SANDBOX`` allows it: elsewhere its checkout page and its
        webhook answer 404, so its public default secret signs nothing that counts."""
        return bool(settings.PAYMENTS_SANDBOX)

    def top_up_start(
        self, *, top_up_id: UUID, amount: int, currency: str, return_url: str
    ) -> CheckoutStarted:
        reference = checkout_reference(top_up_id)
        url = reverse("sandbox-checkout", kwargs={"reference": reference})
        notification = None
        if settings.PAYMENTS_SANDBOX_AUTO_CONFIRM:
            notification = checkout_pay(
                reference=reference, top_up_id=top_up_id, amount=amount, currency=currency
            )
        return CheckoutStarted(reference=reference, checkout_url=url, notification=notification)

    def payout_start(
        self, *, payout_id: UUID, amount: int, currency: str, destination: str
    ) -> PayoutStarted:
        reference = payout_reference(payout_id)
        if destination.lower().startswith(FAILING_DESTINATION_PREFIX):
            notification = notification_for(
                NotificationKind.PAYOUT_FAILED,
                reference=reference,
                amount=amount,
                currency=currency,
                reason="The destination account refused the payment.",
            )
        else:
            _record(
                reference=reference,
                kind=SandboxMovementKind.PAID_OUT,
                amount=amount,
                currency=currency,
                label=destination,
            )
            notification = notification_for(
                NotificationKind.PAYOUT_PAID, reference=reference, amount=amount, currency=currency
            )
        return PayoutStarted(reference=reference, notification=notification)

    def notification_verify(self, *, headers: Mapping[str, str], body: bytes) -> Notification:
        try:
            payload = _webhook().verify(body, dict(headers))
            event_id = str({k.lower(): v for k, v in headers.items()}["webhook-id"])
            _check_storable([event_id, payload])
            data = payload["data"]
            return Notification(
                event_id=event_id,
                kind=NotificationKind(payload["type"]),
                reference=str(data["reference"]),
                amount=_integer(data["amount"]),
                currency=str(data["currency"]),
                payer_label=str(data.get("payer_label", "")),
                reason=str(data.get("reason", "")),
                payload=payload,
            )
        except _MALFORMED as error:
            raise InvalidSignature() from error

    def totals(self, *, currency: str) -> ProviderTotals:
        sums = {
            row["kind"]: row["total"]
            for row in SandboxMovement.objects.filter(currency=currency)
            .values("kind")
            .annotate(total=Sum("amount"))
        }
        return ProviderTotals(
            received=sums.get(SandboxMovementKind.RECEIVED, 0) or 0,
            paid_out=sums.get(SandboxMovementKind.PAID_OUT, 0) or 0,
        )


def _check_storable(value: Any) -> None:
    """Refuse (``ValueError``) JSON whose text the database cannot store as it is: a NUL
    character, or half of a surrogate pair (valid JSON escapes, but not text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and ("\x00" in item or _unencodable(item)):
            raise ValueError("text the database cannot store")


def _unencodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("amount must be an integer")
    return value
