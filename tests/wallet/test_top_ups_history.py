"""Top-ups of the past recorded in bulk (``wallet.payments.history``): each is what the
live path leaves once the sandbox confirmed it, or nothing is written; and a payout the
sandbox's destination refuses gives the money back once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import IntegrityError

from tests.money import top_up_paid
from wallet import services as ledger
from wallet.errors import InvalidAmount
from wallet.models import (
    LedgerAccount,
    Payout,
    PayoutStatus,
    ProviderEvent,
    SandboxMovement,
    SandboxMovementKind,
    SystemAccount,
    TopUp,
    TopUpStatus,
    TransferKind,
    User,
)
from wallet.payments import history, sandbox
from wallet.payments import selectors as payments_selectors
from wallet.payments import services as payments
from wallet.payments.reconciliation import reconcile

pytestmark = pytest.mark.django_db

CONFIRMED_AT = datetime(2026, 3, 14, 9, 30, 15, 250_000, tzinfo=UTC)


def credited(
    user: User,
    amount: int,
    *,
    at: datetime = CONFIRMED_AT,
    source: LedgerAccount | None = None,
    kind: str = TransferKind.TOP_UP,
    reference: str | None = None,
) -> history.TopUpRecord:
    """A top-up of ``user`` confirmed at ``at``, and the transfer that credited it (by
    default the live path's: from the sandbox's account, referenced by its checkout)."""
    top_up_id = uuid.uuid4()
    checkout = sandbox.checkout_reference(top_up_id)
    transfer_id = uuid.uuid4()
    source = source or ledger.provider_account(sandbox.NAME)
    ledger.transfers_bulk_create(
        transfers=[
            ledger.TransferRecord(
                kind=kind,
                postings={source.pk: -amount, ledger.wallet_open(user=user).pk: amount},
                created_at=at,
                description="Top-up",
                reference=f"sandbox:{checkout}" if reference is None else reference,
                id=transfer_id,
            )
        ]
    )
    return history.TopUpRecord(
        user_id=user.pk,
        amount=amount,
        provider_reference=checkout,
        payer_label=sandbox.payer_label(top_up_id),
        created_at=at - timedelta(seconds=40),
        resolved_at=at,
        transfer_id=transfer_id,
        checkout_url=f"/sandbox/checkout/{checkout}",
        id=top_up_id,
    )


def test_a_recorded_top_up_is_what_the_live_path_leaves(citizen: User, other_citizen: User) -> None:
    # Given a live top-up of one citizen, confirmed by the sandbox
    live = TopUp.objects.get(transfer=top_up_paid(other_citizen, 12_345))
    assert live.transfer is not None
    # When a history's top-ups of another are recorded
    records = [credited(citizen, 50_000), credited(citizen, 7_500, at=CONFIRMED_AT + timedelta(1))]
    assert history.top_ups_bulk_record(top_ups=records) == 2
    # Then each row is the live one's shape, at the history's times
    for record in records:
        top_up = TopUp.objects.select_related("transfer").get(pk=record.id)
        assert top_up.transfer is not None
        shape = (
            top_up.status,
            top_up.provider,
            top_up.currency,
            top_up.failure_reason,
            top_up.transfer.kind,
            top_up.transfer.description,
            top_up.transfer.reference,
            top_up.checkout_url,
        )
        assert shape == (
            live.status,
            live.provider,
            live.currency,
            live.failure_reason,
            live.transfer.kind,
            live.transfer.description,
            f"sandbox:{top_up.provider_reference}",
            f"/sandbox/checkout/{top_up.provider_reference}",
        )
        assert (top_up.user_id, top_up.amount, top_up.transfer_id) == (
            citizen.pk,
            record.amount,
            record.transfer_id,
        )
        assert (top_up.created_at, top_up.resolved_at, top_up.expires_at) == (
            record.created_at,
            record.resolved_at,
            record.created_at + settings.PAYMENTS_TOP_UP_EXPIRES_AFTER,
        )
        assert top_up.payer_label == record.payer_label
        # And the sandbox's books hold what it received, as when a payer confirms
        movement = SandboxMovement.objects.get(reference=top_up.provider_reference)
        assert (movement.kind, movement.amount, movement.currency, movement.label) == (
            SandboxMovementKind.RECEIVED,
            record.amount,
            settings.WALLET_CURRENCY,
            record.payer_label,
        )
        assert movement.created_at == record.resolved_at
    # And the reconciliation finds every cent at the provider
    report = reconcile()
    assert (report.ok, report.difference, report.customer_funds) == (True, 0, 69_845)
    # And the citizen can withdraw to the account they last paid from
    assert payments_selectors.payout_destination(user=citizen) == records[1].payer_label
    payout = payments.withdrawal_create(user=citizen, amount=1_000)
    assert payout.destination == records[1].payer_label


def _snapshot() -> tuple[int, int]:
    return TopUp.objects.count(), SandboxMovement.objects.count()


BAD: dict[str, tuple[Callable[[history.TopUpRecord], history.TopUpRecord], type[Exception]]] = {
    "failed": (lambda r: replace(r, status=TopUpStatus.FAILED), ValueError),
    "pending": (lambda r: replace(r, status=TopUpStatus.PENDING), ValueError),
    "zero": (lambda r: replace(r, amount=0), InvalidAmount),
    "negative": (lambda r: replace(r, amount=-10_000), InvalidAmount),
    "over the cap": (lambda r: replace(r, amount=settings.WALLET_MAX_TOP_UP + 1), InvalidAmount),
    "another amount": (lambda r: replace(r, amount=r.amount - 1), ValueError),
    "unknown provider": (lambda r: replace(r, provider="acme"), ValueError),
    "no reference": (lambda r: replace(r, provider_reference=""), ValueError),
    "another reference": (lambda r: replace(r, provider_reference="cs_other"), ValueError),
    "naive": (
        lambda r: replace(
            r, created_at=r.created_at.replace(tzinfo=None), resolved_at=r.resolved_at
        ),
        ValueError,
    ),
    "confirmed before it started": (
        lambda r: replace(r, created_at=r.resolved_at + timedelta(seconds=1)),
        ValueError,
    ),
    "confirmed after it expired": (
        lambda r: replace(
            r,
            created_at=r.resolved_at
            - settings.PAYMENTS_TOP_UP_EXPIRES_AFTER
            - timedelta(seconds=1),
        ),
        ValueError,
    ),
    "credited at another time": (
        lambda r: replace(
            r,
            created_at=r.created_at + timedelta(seconds=1),
            resolved_at=r.resolved_at + timedelta(seconds=1),
        ),
        ValueError,
    ),
    "another's wallet": (lambda r: replace(r, user_id=r.user_id + 1), ValueError),
    "no such transfer": (lambda r: replace(r, transfer_id=uuid.uuid4()), ValueError),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_top_up_the_live_path_would_not_leave_is_refused_and_nothing_is_written(
    citizen: User, other_citizen: User, case: str
) -> None:
    # Given a good top-up and a bad one, recorded together
    good = credited(citizen, 10_000)
    change, error = BAD[case]
    bad = change(credited(citizen, 20_000, at=CONFIRMED_AT + timedelta(hours=1)))
    # Then both are refused
    with pytest.raises(error):
        history.top_ups_bulk_record(top_ups=[good, bad])
    assert _snapshot() == (0, 0)


@pytest.mark.parametrize(
    "transfer",
    [
        {"kind": TransferKind.ADJUSTMENT},
        {"source": "funding"},
        {"reference": "sandbox:cs_somebody_else"},
    ],
    ids=["another kind", "from funding", "another reference"],
)
def test_a_transfer_that_is_not_the_credit_of_the_top_up_is_refused(
    citizen: User, transfer: dict[str, Any]
) -> None:
    # Given a transfer that is not what the confirmation writes
    if transfer.get("source") == "funding":
        transfer = {"source": ledger.system_account(SystemAccount.FUNDING)}
    record = credited(citizen, 10_000, **transfer)
    # Then the top-up is refused
    with pytest.raises(ValueError, match="not"):
        history.top_ups_bulk_record(top_ups=[record])
    assert _snapshot() == (0, 0)


def test_a_transfer_credits_one_top_up_only(citizen: User) -> None:
    record = credited(citizen, 10_000)
    twin = replace(record, id=uuid.uuid4(), provider_reference="cs_twin")
    with pytest.raises(ValueError, match="a transfer of its own"):
        history.top_ups_bulk_record(top_ups=[record, twin])
    assert _snapshot() == (0, 0)
    # And one recorded before is not recorded again
    history.top_ups_bulk_record(top_ups=[record])
    with pytest.raises(IntegrityError):
        history.top_ups_bulk_record(top_ups=[replace(record, id=uuid.uuid4())])
    assert _snapshot() == (1, 1)


def test_nothing_to_record_writes_nothing(db: None) -> None:
    assert history.top_ups_bulk_record(top_ups=[]) == 0
    assert _snapshot() == (0, 0)


def test_a_payout_the_destination_refuses_gives_the_money_back_once(citizen: User) -> None:
    # Given a citizen who topped up and withdrew (not sent yet)
    top_up_paid(citizen, 30_000)
    payout = payments.withdrawal_create(user=citizen, amount=12_000)
    wallet = ledger.wallet_open(user=citizen)
    assert wallet.balance == 18_000
    # When the sandbox's destination refuses it
    ended = history.sandbox_payout_refuse(payout=payout, reason="Account closed.")
    # Then it failed, sent once under the sandbox's reference, and the money is back
    assert (ended.status, ended.failure_reason) == (PayoutStatus.FAILED, "Account closed.")
    assert ended.provider_reference == sandbox.payout_reference(payout.pk)
    assert ended.sent_at is not None
    assert ended.resolved_at is not None
    wallet.refresh_from_db()
    assert wallet.balance == 30_000
    event = ProviderEvent.objects.get(reference=ended.provider_reference)
    assert (event.kind, event.outcome) == ("payout.failed", "applied")
    # And it cannot be refused again, nor sent by the relay
    with pytest.raises(ValueError, match="sent already"):
        history.sandbox_payout_refuse(payout=payout, reason="Again.")
    assert payments.payouts_send() == 0
    wallet.refresh_from_db()
    assert wallet.balance == 30_000
    assert not SandboxMovement.objects.filter(kind=SandboxMovementKind.PAID_OUT).exists()
    assert Payout.objects.get().status == PayoutStatus.FAILED
    report = reconcile()
    assert (report.ok, report.difference) == (True, 0)
