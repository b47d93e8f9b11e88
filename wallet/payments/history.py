"""Top-ups of the past, recorded in bulk: a history that went through a provider (the
demo city's two years, an import from another system).

A live top-up is a ``TopUp`` row that a verified notification turned ``succeeded``
(``services.notification_receive``), crediting the wallet from the provider's account
with a ``top_up`` transfer referenced ``<provider>:<provider reference>``; the sandbox
books what it received (``SandboxMovement``) when the payer confirms. A history's
top-ups are written as those rows would be, each at its own time: the transfers through
``wallet.services.transfers_bulk_create`` first, then :func:`top_ups_bulk_record`, which
checks every top-up against the transfer it names and writes the rows.

A payout that failed is shown the same way a live one fails (:func:`sandbox_payout_refuse`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.bulk import rows_insert
from wallet import services as ledger
from wallet.errors import InvalidAmount
from wallet.models import (
    Entry,
    Payout,
    PayoutStatus,
    SandboxMovement,
    SandboxMovementKind,
    TopUp,
    TopUpStatus,
    TransferKind,
)
from wallet.payments import sandbox
from wallet.payments import services as payments
from wallet.payments.providers import NotificationKind

# Ids per query when reading the transfers named (SQLite's historical limit is 999).
_READ_CHUNK = 900


@dataclass(frozen=True, slots=True)
class TopUpRecord:
    """A top-up of the past as the live path leaves it once the provider confirmed it:
    started at ``created_at``, confirmed and credited at ``resolved_at`` by the transfer
    ``transfer_id`` (already written), paid from ``payer_label``."""

    user_id: int
    amount: int
    provider_reference: str
    payer_label: str
    created_at: datetime
    resolved_at: datetime
    transfer_id: uuid.UUID
    checkout_url: str = ""
    provider: str = sandbox.NAME
    status: str = TopUpStatus.SUCCEEDED
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def expires_at(self) -> datetime:
        return self.created_at + settings.PAYMENTS_TOP_UP_EXPIRES_AFTER


_TOP_UP_COLUMNS = (
    "id",
    "user_id",
    "amount",
    "currency",
    "provider",
    "provider_reference",
    "checkout_url",
    "status",
    "payer_label",
    "failure_reason",
    "transfer_id",
    "created_at",
    "expires_at",
    "resolved_at",
)
_MOVEMENT_COLUMNS = ("reference", "kind", "amount", "currency", "label", "created_at")


def _top_up_check(top_up: TopUpRecord) -> None:
    """What the live path lets succeed: a known provider and its reference, an amount
    of 1..``WALLET_MAX_TOP_UP`` (``top_up_start``), confirmed after it started and
    before it expired (``_top_up_succeeded`` refuses a late confirmation)."""
    if top_up.status != TopUpStatus.SUCCEEDED:
        raise ValueError(
            f"Only succeeded top-ups are recorded in bulk, not {str(top_up.status)!r} ones."
        )
    if not 1 <= top_up.amount <= settings.WALLET_MAX_TOP_UP:
        raise InvalidAmount(
            f"A top-up must be between 1 and {settings.WALLET_MAX_TOP_UP} minor units."
        )
    if top_up.provider not in settings.PAYMENTS_PROVIDERS:
        raise ValueError(f"Unknown payment provider {top_up.provider!r}.")
    if not top_up.provider_reference:
        raise ValueError("A top-up a provider confirmed has the provider's reference.")
    if timezone.is_naive(top_up.created_at) or timezone.is_naive(top_up.resolved_at):
        raise ValueError("A top-up's times must be aware.")
    if not top_up.created_at <= top_up.resolved_at <= top_up.expires_at:
        raise ValueError("A top-up is confirmed after it started and before it expires.")


def _transfers_check(top_ups: Sequence[TopUpRecord]) -> None:
    """Each top-up names its own transfer, and that transfer is the credit the live path
    writes: kind ``top_up``, referenced ``<provider>:<reference>``, made when the top-up
    was confirmed, moving its amount from the provider's account to the citizen's
    wallet and nothing else."""
    by_transfer = {top_up.transfer_id: top_up for top_up in top_ups}
    if len(by_transfer) != len(top_ups):
        raise ValueError("Each top-up is credited by a transfer of its own.")
    provider_accounts = {
        name: ledger.provider_account(name).pk for name in {t.provider for t in top_ups}
    }
    made: dict[uuid.UUID, tuple[str, str, datetime]] = {}
    legs: dict[uuid.UUID, set[tuple[int, int | None, int]]] = defaultdict(set)
    ids = list(by_transfer)
    for start in range(0, len(ids), _READ_CHUNK):
        for (
            transfer_id,
            account_id,
            user_id,
            amount,
            kind,
            reference,
            created_at,
        ) in Entry.objects.filter(transfer_id__in=ids[start : start + _READ_CHUNK]).values_list(
            "transfer_id",
            "account_id",
            "account__user_id",
            "amount",
            "transfer__kind",
            "transfer__reference",
            "transfer__created_at",
        ):
            made[transfer_id] = (kind, reference, created_at)
            legs[transfer_id].add((account_id, user_id, amount))
    for transfer_id, top_up in by_transfer.items():
        if transfer_id not in made:
            raise ValueError(f"Top-up {top_up.id} names no transfer ({transfer_id}).")
        reference = payments.top_up_transfer_reference(
            provider=top_up.provider, provider_reference=top_up.provider_reference
        )
        if made[transfer_id] != (TransferKind.TOP_UP, reference, top_up.resolved_at):
            raise ValueError(
                f"Transfer {transfer_id} is not the credit of top-up {top_up.id}: a "
                f"top_up referenced {reference!r}, made when it was confirmed."
            )
        # Two legs: the amount out of the provider's account, into the citizen's wallet.
        found = legs[transfer_id]
        provider_leg = (provider_accounts[top_up.provider], None, -top_up.amount)
        wallet_legs = [leg for leg in found if leg[1:] == (top_up.user_id, top_up.amount)]
        if len(found) != 2 or provider_leg not in found or len(wallet_legs) != 1:
            raise ValueError(
                f"Transfer {transfer_id} does not move {top_up.amount} from the provider "
                f"{top_up.provider} to the wallet of user {top_up.user_id}."
            )


@transaction.atomic
def top_ups_bulk_record(*, top_ups: Sequence[TopUpRecord]) -> int:
    """Record top-ups that succeeded in the past, each credited by a transfer already
    written (``transfers_bulk_create``), and the sandbox's books of what it received for
    those it took; returns how many were recorded.

    Checked as the live path leaves a top-up (:func:`_top_up_check`, :func:`_transfers_check`):
    succeeded only, a positive amount up to the single top-up cap, confirmed before it
    expired, and one transfer each, the very credit the confirmation writes. A reference
    (the provider's, the transfer's) recorded before is refused by the database
    (``IntegrityError``). Either everything is written or nothing is.
    """
    if not top_ups:
        return 0
    for top_up in top_ups:
        _top_up_check(top_up)
    _transfers_check(top_ups)
    currency = settings.WALLET_CURRENCY
    rows_insert(
        TopUp,
        _TOP_UP_COLUMNS,
        (
            (
                top_up.id,
                top_up.user_id,
                top_up.amount,
                currency,
                top_up.provider,
                top_up.provider_reference,
                top_up.checkout_url,
                TopUpStatus.SUCCEEDED,
                top_up.payer_label[:200],
                "",
                top_up.transfer_id,
                top_up.created_at,
                top_up.expires_at,
                top_up.resolved_at,
            )
            for top_up in top_ups
        ),
    )
    # The sandbox books what it received when the payer confirms (``sandbox.checkout_pay``);
    # another provider keeps its own books.
    rows_insert(
        SandboxMovement,
        _MOVEMENT_COLUMNS,
        (
            (
                top_up.provider_reference,
                SandboxMovementKind.RECEIVED,
                top_up.amount,
                currency,
                top_up.payer_label[:200],
                top_up.resolved_at,
            )
            for top_up in top_ups
            if top_up.provider == sandbox.NAME
        ),
    )
    return len(top_ups)


@transaction.atomic
def sandbox_payout_refuse(*, payout: Payout, reason: str) -> Payout:
    """The sandbox tries to pay ``payout`` (pending, not sent yet) and the destination
    refuses it, as a real provider's payout to a closed account fails: the payout is sent
    as the relay (``services.payouts_send``) sends one, and the sandbox's signed failure
    goes through ``services.notification_receive``, which gives the money back, once.

    For a history that shows a withdrawal returned (the demo); the sandbox otherwise
    pays every destination but its test ones (``sandbox.FAILING_DESTINATION_PREFIX``).
    Returns the payout as it ended."""
    locked = Payout.objects.select_for_update().get(pk=payout.pk)
    if locked.provider != sandbox.NAME:
        raise ValueError(f"Payout {locked.pk} goes through {locked.provider}, not the sandbox.")
    if locked.status != PayoutStatus.PENDING or locked.sent_at is not None:
        raise ValueError(f"Payout {locked.pk} was sent already.")
    locked.provider_reference = sandbox.payout_reference(locked.pk)
    locked.sent_at = timezone.now()
    locked.save(update_fields=["provider_reference", "sent_at"])
    payments.notification_receive(
        provider_name=sandbox.NAME,
        signed=sandbox.notification_for(
            NotificationKind.PAYOUT_FAILED,
            reference=locked.provider_reference,
            amount=locked.amount,
            currency=locked.currency,
            reason=reason,
        ),
    )
    locked.refresh_from_db()
    return locked
