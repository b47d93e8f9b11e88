"""Every write of money in and out through a payment provider.

- A top-up is a ``TopUp`` row first (pending, within the limits), then a checkout at the
  provider. The wallet is credited only by a verified notification
  (:func:`notification_receive`), exactly once: the provider's event id is recorded once
  (a replay changes nothing), the top-up leaves ``pending`` once under its row lock, and the
  credit's transfer reference (``<provider>:<reference>``) is unique per kind.
- A payout (a citizen's withdrawal, a merchant's payout) takes the money out of the
  account at once, to payouts in transit, in the transaction that writes the ``Payout``
  row; that row is also the outbox of the provider call, sent after commit by
  :func:`payouts_send`. Paid, the money goes to the provider's account; failed, it comes
  back to the account, once.

Locking order (as everywhere): the user row (a citizen's limits), then the top-up or payout
row, then ledger accounts in primary-key order (inside ``wallet.services``). Rows that other
rows name (users, accounts) are locked ``FOR NO KEY UPDATE``, so that writing a row that
names them (a top-up, a login's token, a payout) never waits for the lock.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from common.domain import FieldError, Refused
from common.money import format_money
from wallet import services as ledger
from wallet.errors import InvalidAmount
from wallet.models import (
    LedgerAccount,
    Payout,
    PayoutStatus,
    ProviderEvent,
    SystemAccount,
    TopUp,
    TopUpStatus,
    TransferKind,
    User,
)
from wallet.payments import limits, selectors
from wallet.payments.providers import (
    Notification,
    NotificationKind,
    PayoutStarted,
    ProviderUnavailable,
    SignedNotification,
    provider,
)

logger = logging.getLogger(__name__)


class NoPayoutDestination(Refused):
    code = "no_payout_destination"
    title = "No payout destination"
    default_detail = (
        "Money can only be withdrawn to where it came from: top up once from a payment "
        "source first."
    )


# --- Top-ups ---------------------------------------------------------------------------


def top_up_transfer_reference(*, provider: str, provider_reference: str) -> str:
    """The reference of the transfer that credits a top-up: unique per kind, so no
    payment of a provider is booked twice (``_top_up_succeeded`` writes it; the history
    of ``history.top_ups_bulk_record`` too)."""
    return f"{provider}:{provider_reference}"


def top_up_amount_refusal(amount: int) -> str | None:
    """Why a single top-up of ``amount`` is not accepted (outside 1..``WALLET_MAX_TOP_UP``),
    or None."""
    if 1 <= amount <= settings.WALLET_MAX_TOP_UP:
        return None
    currency = settings.WALLET_CURRENCY
    return (
        f"A single top-up is between {format_money(1, currency)} and "
        f"{format_money(settings.WALLET_MAX_TOP_UP, currency)}."
    )


def top_up_start(*, user: User, amount: int, return_url: str = "") -> TopUp:
    """Open a top-up of ``amount`` through the configured provider and return it: pending
    with its ``checkout_url``, or already succeeded when the provider settled at once.

    Refuses an amount outside 1..``WALLET_MAX_TOP_UP`` (``InvalidAmount``) or over a limit
    of the citizen's level (``TopUpLimit``); ``ProviderUnavailable`` when the provider
    cannot be reached (nothing is kept then).
    """
    if (message := top_up_amount_refusal(amount)) is not None:
        raise InvalidAmount(message, errors=[FieldError("amount", message, "invalid")])
    gateway = provider()
    now = timezone.now()
    with transaction.atomic():
        # One citizen's top-ups are checked against the limits one after the other.
        locked_user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        wallet = ledger.wallet_open(user=locked_user)
        limits.top_up_check(user=locked_user, amount=amount, balance=wallet.balance, now=now)
        top_up = TopUp.objects.create(
            user=locked_user,
            amount=amount,
            currency=settings.WALLET_CURRENCY,
            provider=gateway.name,
            created_at=now,
            expires_at=now + settings.PAYMENTS_TOP_UP_EXPIRES_AFTER,
        )
        started = gateway.top_up_start(
            top_up_id=top_up.pk,
            amount=amount,
            currency=top_up.currency,
            return_url=return_url,
        )
        top_up.provider_reference = started.reference
        top_up.checkout_url = started.checkout_url
        top_up.save(update_fields=["provider_reference", "checkout_url"])
        if started.notification is not None:
            notification_receive(provider_name=gateway.name, signed=started.notification)
            top_up.refresh_from_db()
    logger.info(
        "top-up started",
        extra={"top_up_id": str(top_up.pk), "amount": amount, "status": top_up.status},
    )
    return top_up


_Row = TypeVar("_Row", TopUp, Payout)


def _locked(model: type[_Row], provider_name: str, reference: str) -> _Row | None:
    """The top-up or payout a provider knows by ``reference``, locked; None if unknown."""
    return (
        model.objects.select_for_update()
        .filter(provider=provider_name, provider_reference=reference)
        .first()
    )


def _amount_mismatch(notification: Notification, row: TopUp | Payout, what: str) -> str | None:
    """Why a notification's amount or currency contradicts our row, or None if they agree."""
    if (notification.amount, notification.currency) == (row.amount, row.currency):
        return None
    return (
        f"amount {notification.amount} {notification.currency} does not match the "
        f"{what}'s {row.amount} {row.currency}"
    )


def _top_up_succeeded(provider_name: str, notification: Notification) -> tuple[str, str]:
    """Credit the wallet for a confirmed top-up, once; (outcome, detail) for the event."""
    top_up = _locked(TopUp, provider_name, notification.reference)
    if top_up is None:
        return "refused", "no top-up with this reference"
    if top_up.status == TopUpStatus.SUCCEEDED:
        return "ignored", "already succeeded"
    mismatch = _amount_mismatch(notification, top_up, "top-up")
    if mismatch:
        return "refused", mismatch
    now = timezone.now()
    if top_up.status == TopUpStatus.PENDING and top_up.expires_at <= now:
        _top_up_end(top_up, TopUpStatus.EXPIRED, now=now, reason="Not paid in time.")
    if top_up.status != TopUpStatus.PENDING:
        # The payer was charged for a top-up we no longer accept: the provider must refund
        # it (the reconciliation shows the difference until it does).
        return "refused", f"top-up is {top_up.status}; the payment must be refunded"
    transfer = ledger.transfer_funds(
        source=ledger.provider_account(provider_name),
        destination=ledger.wallet_open(user=top_up.user),
        amount=top_up.amount,
        kind=TransferKind.TOP_UP,
        description="Top-up",
        reference=top_up_transfer_reference(
            provider=provider_name, provider_reference=top_up.provider_reference
        ),
    )
    top_up.status = TopUpStatus.SUCCEEDED
    top_up.transfer = transfer
    top_up.payer_label = notification.payer_label[:200]
    top_up.resolved_at = now
    top_up.save(update_fields=["status", "transfer", "payer_label", "resolved_at"])
    return "applied", ""


def _top_up_failed(provider_name: str, notification: Notification) -> tuple[str, str]:
    top_up = _locked(TopUp, provider_name, notification.reference)
    if top_up is None:
        return "refused", "no top-up with this reference"
    if top_up.status != TopUpStatus.PENDING:
        return "ignored", f"top-up is {top_up.status}"
    _top_up_end(
        top_up,
        TopUpStatus.FAILED,
        now=timezone.now(),
        reason=notification.reason or "The payment failed.",
    )
    return "applied", ""


def _top_up_end(top_up: TopUp, status: TopUpStatus, *, now: datetime, reason: str) -> None:
    top_up.status = status
    top_up.resolved_at = now
    top_up.failure_reason = reason[:255]
    top_up.save(update_fields=["status", "resolved_at", "failure_reason"])


def top_ups_expire_due(*, now: datetime | None = None) -> int:
    """Expire the pending top-ups past their time; a confirmation that comes later is
    refused. Returns how many expired."""
    now = now or timezone.now()
    expired = TopUp.objects.filter(status=TopUpStatus.PENDING, expires_at__lte=now).update(
        status=TopUpStatus.EXPIRED, resolved_at=now, failure_reason="Not paid in time."
    )
    if expired:
        logger.info("top-ups expired", extra={"count": expired})
    return expired


# --- Notifications ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotificationOutcome:
    """What a verified notification did: ``applied``, ``ignored`` (nothing left to do),
    ``refused`` (it contradicts our records; logged as an error) or ``duplicate`` (its
    event id was seen before: a replay)."""

    outcome: str
    detail: str = ""


def notification_receive(*, provider_name: str, signed: SignedNotification) -> NotificationOutcome:
    """Verify a provider's notification and act on it, exactly once.

    ``InvalidSignature`` (nothing recorded) for a forged, altered or stale one. The
    provider's event id is recorded in the transaction that acts on it: a replay finds it
    and changes nothing, and concurrent deliveries of one event wait for the first.
    """
    gateway = provider(provider_name)
    notification = gateway.notification_verify(headers=signed.headers, body=signed.body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = ProviderEvent.objects.create(
                    provider=gateway.name,
                    event_id=notification.event_id[:255],
                    kind=notification.kind.value,
                    reference=notification.reference[:255],
                    payload=dict(notification.payload),
                    outcome="received",
                    received_at=timezone.now(),
                )
        except IntegrityError:
            return NotificationOutcome("duplicate", "event already received")
        handler = _HANDLERS[notification.kind]
        outcome, detail = handler(gateway.name, notification)
        event.outcome = outcome
        event.detail = detail[:255]
        event.save(update_fields=["outcome", "detail"])
    if outcome == "refused":
        logger.error(
            "payment notification refused",
            extra={
                "provider": gateway.name,
                "event_id": notification.event_id,
                "kind": notification.kind.value,
                "reference": notification.reference,
                "detail": detail,
            },
        )
    return NotificationOutcome(outcome, detail)


# --- Payouts: withdrawals and merchant payouts -----------------------------------------


def _payout_create(
    *,
    account: LedgerAccount,
    amount: int,
    kind: TransferKind,
    destination: str,
    requested_by: User | None = None,
) -> Payout:
    """Take ``amount`` out of ``account`` to payouts in transit and write the payout (the
    outbox of its provider call), in the caller's transaction. ``InsufficientFunds`` for
    a wallet that cannot afford it."""
    payout = Payout(
        id=uuid.uuid4(),
        account=account,
        amount=amount,
        currency=account.currency,
        provider=provider().name,
        destination=destination[:200],
        requested_by=requested_by,
        created_at=timezone.now(),
    )
    ledger.transfer_funds(
        source=account,
        destination=ledger.system_account(SystemAccount.PAYOUTS_IN_TRANSIT),
        amount=amount,
        kind=kind,
        description=kind.label,
        reference=f"payout:{payout.pk}",
    )
    payout.save(force_insert=True)
    transaction.on_commit(_payouts_kick, robust=True)
    return payout


def withdrawal_create(*, user: User, amount: int) -> Payout:
    """Withdraw ``amount`` from the citizen's wallet to their registered destination.

    Refuses a non-positive amount (``InvalidAmount``), a citizen with no destination yet
    (``NoPayoutDestination``), an amount over today's limit (``WithdrawalLimit``) or over
    the available balance (``InsufficientFunds``). The money leaves the available balance
    at once; the provider is asked after commit.
    """
    if amount <= 0:
        message = "The amount must be a positive number of minor units."
        raise InvalidAmount(message, errors=[FieldError("amount", message, "min_value")])
    with transaction.atomic():
        locked_user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        destination = selectors.payout_destination(user=locked_user)
        if destination is None:
            raise NoPayoutDestination()
        limits.withdrawal_check(user=locked_user, amount=amount, now=timezone.now())
        payout = _payout_create(
            account=ledger.wallet_open(user=locked_user),
            amount=amount,
            kind=TransferKind.WITHDRAWAL,
            destination=destination,
        )
    logger.info("withdrawal requested", extra={"payout_id": str(payout.pk), "amount": amount})
    return payout


def settlement_payout_create(
    *,
    account: LedgerAccount,
    destination: str,
    threshold: int | None = None,
    requested_by: User | None = None,
) -> Payout | None:
    """Pay out a merchant's whole settlement balance to its registered destination, if it
    is at least ``threshold`` (``PAYMENTS_PAYOUT_THRESHOLD`` by default; 1 from the admin's
    button). Returns the payout, or None when there is too little to pay."""
    threshold = settings.PAYMENTS_PAYOUT_THRESHOLD if threshold is None else max(threshold, 1)
    with transaction.atomic():
        # The balance read under the account's lock cannot change before the transfer.
        # Both accounts the transfer posts to are locked now, in the ledger's one order.
        in_transit = ledger.system_account(SystemAccount.PAYOUTS_IN_TRANSIT)
        locked = ledger.accounts_lock(account_ids={account.pk, in_transit.pk})[account.pk]
        if locked.balance < threshold:
            return None
        return _payout_create(
            account=locked,
            amount=locked.balance,
            kind=TransferKind.PAYOUT,
            destination=destination,
            requested_by=requested_by,
        )


def _payouts_kick() -> None:
    from wallet.payments import tasks  # the tasks module imports these services

    tasks.payouts_kick()


def payouts_send(*, limit: int = 100) -> int:
    """The outbox relay: ask the provider to pay each pending payout not sent yet, oldest
    first. Each is claimed under a skip-locked row lock, so relays run side by side; the
    provider is idempotent on the payout's id, so one sent twice after a crash pays once.
    A notification the provider answers with at once (the sandbox's) is acted on in the
    same transaction as ``sent_at``: a crash before the commit leaves the payout unsent, to
    be sent (and its outcome told) again, never sent with its outcome lost.
    Returns how many were sent."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            payout = (
                Payout.objects.select_for_update(skip_locked=True)
                .filter(status=PayoutStatus.PENDING, sent_at__isnull=True)
                .order_by("created_at")
                .first()
            )
            if payout is None:
                break
            try:
                started: PayoutStarted = provider(payout.provider).payout_start(
                    payout_id=payout.pk,
                    amount=payout.amount,
                    currency=payout.currency,
                    destination=payout.destination,
                )
            except ProviderUnavailable:
                logger.warning("payout provider unavailable", extra={"payout_id": str(payout.pk)})
                break
            payout.provider_reference = started.reference
            payout.sent_at = timezone.now()
            payout.save(update_fields=["provider_reference", "sent_at"])
            if started.notification is not None:
                notification_receive(provider_name=payout.provider, signed=started.notification)
        sent += 1
    return sent


def _payout_paid(provider_name: str, notification: Notification) -> tuple[str, str]:
    payout = _locked(Payout, provider_name, notification.reference)
    if payout is None:
        return "refused", "no payout with this reference"
    if payout.status != PayoutStatus.PENDING:
        return "ignored", f"payout is {payout.status}"
    mismatch = _amount_mismatch(notification, payout, "payout")
    if mismatch:
        return "refused", mismatch
    ledger.transfer_funds(
        source=ledger.system_account(SystemAccount.PAYOUTS_IN_TRANSIT),
        destination=ledger.provider_account(provider_name),
        amount=payout.amount,
        kind=TransferKind.PAYOUT_SETTLED,
        description=TransferKind.PAYOUT_SETTLED.label,
        reference=f"payout:{payout.pk}",
    )
    payout.status = PayoutStatus.PAID
    payout.resolved_at = timezone.now()
    payout.save(update_fields=["status", "resolved_at"])
    return "applied", ""


def _payout_failed(provider_name: str, notification: Notification) -> tuple[str, str]:
    payout = _locked(Payout, provider_name, notification.reference)
    if payout is None:
        return "refused", "no payout with this reference"
    if payout.status != PayoutStatus.PENDING:
        return "ignored", f"payout is {payout.status}"
    ledger.transfer_funds(
        source=ledger.system_account(SystemAccount.PAYOUTS_IN_TRANSIT),
        destination=payout.account,
        amount=payout.amount,
        kind=TransferKind.PAYOUT_RETURNED,
        description=TransferKind.PAYOUT_RETURNED.label,
        reference=f"payout:{payout.pk}",
    )
    payout.status = PayoutStatus.FAILED
    payout.resolved_at = timezone.now()
    payout.failure_reason = (notification.reason or "The payout failed.")[:255]
    payout.save(update_fields=["status", "resolved_at", "failure_reason"])
    return "applied", ""


# What each kind of notification does; each handler locks its row and reports an outcome.
_HANDLERS = {
    NotificationKind.TOP_UP_SUCCEEDED: _top_up_succeeded,
    NotificationKind.TOP_UP_FAILED: _top_up_failed,
    NotificationKind.PAYOUT_PAID: _payout_paid,
    NotificationKind.PAYOUT_FAILED: _payout_failed,
}
