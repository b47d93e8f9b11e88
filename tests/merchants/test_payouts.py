"""Merchants' settlement balances paid out through the payment provider (the sandbox):
the daily run (``merchants.pay_out_settlements``) and its service, on the real ledger.

The sandbox pays a payout at once, unless its destination's label starts with "fail";
the relay that asks it runs after the payout's transaction commits (here, in-process).
"""

import io
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from merchants import services, tasks
from merchants.models import Merchant, MerchantCategory
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import ClaimDispute, ClaimStatus
from scoring.subjects import claim_subject
from tests.factories import SettlementAccountFactory
from tests.merchants.conftest import assert_ledger_consistent, code_for, make_reliable
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import (
    LedgerAccount,
    Payout,
    PayoutStatus,
    ProviderEvent,
    SandboxMovement,
    SandboxMovementKind,
    SystemAccount,
    Transfer,
    TransferKind,
    User,
)
from wallet.payments import reconciliation, sandbox
from wallet.payments import services as payments
from wallet.payments.providers import NotificationKind

pytestmark = pytest.mark.django_db

THRESHOLD = 10_000

Collect = Callable[[Merchant, int], None]


@pytest.fixture(autouse=True)
def _threshold(settings: Any) -> None:
    settings.PAYMENTS_PAYOUT_THRESHOLD = THRESHOLD


@pytest.fixture
def collect(citizen: User) -> Collect:
    """A guest pays ``merchant`` ``amount`` (topped up first): its settlement balance
    grows by that much."""

    def run(merchant: Merchant, amount: int) -> None:
        top_up_paid(citizen, amount)
        wallet_services.payment_create(
            user=citizen, destination=merchant.settlement, amount=amount, description="Stay"
        )

    return run


@pytest.fixture
def daily(django_capture_on_commit_callbacks: Any) -> Callable[[], dict[str, int]]:
    """The daily task as beat starts it; the payouts it makes are sent to the provider
    when its transactions commit (the relay's kick), and its summary is returned."""

    def run() -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            result: dict[str, int] = tasks.pay_out_settlements.apply().get()
        return result

    return run


def summary(paid: int = 0, amount: int = 0, no_destination: int = 0, failed: int = 0) -> dict:
    return {"paid": paid, "amount": amount, "no_destination": no_destination, "failed": failed}


def balance(merchant: Merchant) -> int:
    return LedgerAccount.objects.get(pk=merchant.settlement_id).balance


def in_transit() -> int:
    return wallet_services.system_account(SystemAccount.PAYOUTS_IN_TRANSIT).balance


def destination_set(merchant: Merchant, destination: str) -> Merchant:
    return services.merchant_update(
        merchant=merchant, name=merchant.name, is_active=True, payout_destination=destination
    )


def assert_books_balance() -> None:
    """The ledger's invariants hold and the reconciliation finds no difference: every
    cent is where the provider says it is."""
    assert_ledger_consistent()
    report = reconciliation.reconcile()
    assert report.ok, report.problems


# --- Where payouts go ------------------------------------------------------------------


def test_a_new_merchant_on_the_sandbox_is_paid_to_a_sandbox_account_of_its_own(
    hotel: Merchant,
) -> None:
    assert re.fullmatch(r"Sandbox bank account ···\d{4}", hotel.payout_destination)
    assert hotel.payout_destination == services.payout_destination_default(merchant_id=hotel.pk)


def test_a_new_merchant_on_a_real_provider_has_no_destination_until_staff_enter_one(
    db: None, settings: Any
) -> None:
    settings.PAYMENTS_PROVIDER = "acquirer"
    merchant = services.merchant_create(name="City Water", category=MerchantCategory.BILLER)
    assert merchant.payout_destination == ""
    given = services.merchant_create(
        name="City Power", category=MerchantCategory.BILLER, payout_destination="  Bank ···77 "
    )
    assert given.payout_destination == "Bank ···77"


def test_staff_change_or_clear_the_destination_and_other_changes_keep_it(
    hotel: Merchant,
) -> None:
    assert destination_set(hotel, " Harbour Bank ···1234 ").payout_destination == (
        "Harbour Bank ···1234"
    )
    kept = services.merchant_update(merchant=hotel, name="Harbour Hotel & Spa", is_active=True)
    assert kept.payout_destination == "Harbour Bank ···1234"
    assert destination_set(hotel, "").payout_destination == ""
    with pytest.raises(ValueError, match="at most 200"):
        destination_set(hotel, "x" * 201)
    assert Merchant.objects.get(pk=hotel.pk).payout_destination == ""


# --- The daily run ---------------------------------------------------------------------


@pytest.mark.parametrize("amount", [THRESHOLD, 25_000])
def test_a_balance_at_or_above_the_threshold_is_paid_out_to_the_destination(
    hotel: Merchant, collect: Collect, daily: Callable[[], dict[str, int]], amount: int
) -> None:
    # Given a hotel whose guests paid it ``amount``
    collect(hotel, amount)
    provider_before = wallet_services.provider_account(sandbox.NAME).balance

    # When the daily run pays out
    assert daily() == summary(paid=1, amount=amount)

    # Then its whole balance left, and the payout is paid to its destination
    assert balance(hotel) == 0
    payout = Payout.objects.get()
    assert (
        payout.account_id,
        payout.amount,
        payout.currency,
        payout.status,
        payout.destination,
        payout.requested_by,
        payout.provider,
    ) == (
        hotel.settlement_id,
        amount,
        settings.WALLET_CURRENCY,
        PayoutStatus.PAID,
        hotel.payout_destination,
        None,
        sandbox.NAME,
    )
    assert payout.resolved_at is not None
    # And the money is at the provider: the sandbox paid it out, and the ledger moved it
    # from the settlement account through payouts in transit to the provider's account
    movement = SandboxMovement.objects.get(kind=SandboxMovementKind.PAID_OUT)
    assert (movement.amount, movement.label) == (amount, hotel.payout_destination)
    assert sorted(
        Transfer.objects.filter(reference=f"payout:{payout.pk}").values_list("kind", flat=True)
    ) == [TransferKind.PAYOUT, TransferKind.PAYOUT_SETTLED]
    assert in_transit() == 0
    assert wallet_services.provider_account(sandbox.NAME).balance == provider_before + amount
    assert_books_balance()


def test_a_balance_below_the_threshold_stays(
    hotel: Merchant, collect: Collect, daily: Callable[[], dict[str, int]]
) -> None:
    collect(hotel, THRESHOLD - 1)
    assert daily() == summary()
    assert balance(hotel) == THRESHOLD - 1
    assert not Payout.objects.exists()


def test_running_the_daily_payout_twice_pays_once(
    hotel: Merchant,
    other_hotel: Merchant,
    collect: Collect,
    daily: Callable[[], dict[str, int]],
) -> None:
    # Given two hotels above the threshold
    collect(hotel, 25_000)
    collect(other_hotel, 12_000)

    # When the run is started twice the same day (a retry, or beat and an operator)
    first, second = daily(), daily()

    # Then each hotel was paid once, and the second run found nothing left to pay
    assert first == summary(paid=2, amount=37_000)
    assert second == summary()
    assert sorted(Payout.objects.values_list("amount", flat=True)) == [12_000, 25_000]
    assert (balance(hotel), balance(other_hotel)) == (0, 0)
    # And what comes in later is paid by a later run, and only that
    collect(hotel, 11_000)
    assert daily() == summary(paid=1, amount=11_000)
    assert Payout.objects.filter(account_id=hotel.settlement_id).count() == 2
    assert_books_balance()


def test_a_failed_payout_returns_the_money_to_the_settlement_account_once(
    hotel: Merchant, collect: Collect, daily: Callable[[], dict[str, int]]
) -> None:
    # Given a hotel whose registered account refuses payments, with 25,000 to pay out
    destination_set(hotel, "failing bank account ···0000")
    collect(hotel, 25_000)

    # When the daily run pays it out
    assert daily() == summary(paid=1, amount=25_000)

    # Then the payout failed and the money is back on the settlement account
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.FAILED
    assert payout.failure_reason == "The destination account refused the payment."
    assert balance(hotel) == 25_000
    assert in_transit() == 0
    assert not SandboxMovement.objects.filter(kind=SandboxMovementKind.PAID_OUT).exists()

    # When the provider's failure is delivered again (a replay of the same event) and
    # once more as a new event
    event = ProviderEvent.objects.get(reference=payout.provider_reference)
    replay = sandbox.sign(event.payload, event_id=event.event_id)
    again = sandbox.notification_for(
        NotificationKind.PAYOUT_FAILED,
        reference=payout.provider_reference,
        amount=payout.amount,
        currency=payout.currency,
        reason="Refused again.",
    )
    outcomes = [
        payments.notification_receive(provider_name=sandbox.NAME, signed=signed).outcome
        for signed in (replay, again)
    ]

    # Then nothing more comes back: the money was returned once
    assert outcomes == ["duplicate", "ignored"]
    assert Transfer.objects.filter(kind=TransferKind.PAYOUT_RETURNED).count() == 1
    assert balance(hotel) == 25_000
    assert_books_balance()

    # And once staff register a working account, the next run pays it
    destination_set(hotel, "Harbour Bank ···1234")
    assert daily() == summary(paid=1, amount=25_000)
    assert balance(hotel) == 0
    assert Payout.objects.filter(status=PayoutStatus.PAID).get().destination == (
        "Harbour Bank ···1234"
    )
    assert_books_balance()


def test_a_merchant_without_a_destination_is_skipped_and_says_why(
    hotel: Merchant,
    other_hotel: Merchant,
    collect: Collect,
    daily: Callable[[], dict[str, int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given two hotels above the threshold, one of which has no payout destination
    destination_set(other_hotel, "")
    collect(hotel, 25_000)
    collect(other_hotel, 12_000)

    # When the daily run pays out
    with caplog.at_level(logging.WARNING, logger="merchants.services"):
        result = daily()

    # Then the one with a destination is paid; the other keeps its balance, and the log
    # says which merchant was skipped and why
    assert result == summary(paid=1, amount=25_000, no_destination=1)
    assert (balance(hotel), balance(other_hotel)) == (0, 12_000)
    assert Payout.objects.get().account_id == hotel.settlement_id
    [skipped] = [
        record
        for record in caplog.records
        if record.getMessage() == "settlement not paid out: the merchant has no payout destination"
    ]
    assert (skipped.merchant_id, skipped.balance) == (str(other_hotel.pk), 12_000)  # type: ignore[attr-defined]


def test_one_merchant_that_fails_does_not_stop_the_others(
    hotel: Merchant,
    other_hotel: Merchant,
    collect: Collect,
    daily: Callable[[], dict[str, int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given two hotels above the threshold, and a merchant whose settlement account was
    # left in another currency (a row the ledger refuses to move money from)
    collect(hotel, 25_000)
    collect(other_hotel, 12_000)
    legacy = Merchant.objects.create(
        name="Legacy Inn",
        category=MerchantCategory.HOTEL,
        settlement=SettlementAccountFactory.create(currency="EUR", balance=50_000),
        payout_destination="Legacy Bank ···0001",
    )

    # When the daily run pays out
    with caplog.at_level(logging.ERROR, logger="merchants.services"):
        result = daily()

    # Then the failure is logged with its merchant, and every other merchant is paid
    assert result == summary(paid=2, amount=37_000, failed=1)
    assert (balance(hotel), balance(other_hotel)) == (0, 0)
    assert not Payout.objects.filter(account_id=legacy.settlement_id).exists()
    [failure] = [r for r in caplog.records if r.getMessage() == "settlement payout failed"]
    assert failure.merchant_id == str(legacy.pk)  # type: ignore[attr-defined]
    assert failure.exc_info is not None


# --- Refunds after a payout ------------------------------------------------------------


def paid_claim_disputed(hotel: Merchant, guest: User, amount: int) -> ClaimDispute:
    """A damage claim of ``amount`` the guest's wallet paid in full (to the hotel's
    settlement account) when it was filed, then disputed by the guest: a claim from
    before guests had a say, recorded as its history left it (only such a claim is
    disputed after it was paid, and upholding it refunds)."""
    top_up_paid(guest, amount)
    decision = perks_services.eligibility_decide(
        merchant=hotel, perk_kind="deposit_waiver", amount=50_000, code=code_for(guest)
    )
    today = timezone.localdate()
    booking = perks_services.booking_create(
        merchant=hotel,
        decision_id=decision.pk,
        reference=f"R-{decision.pk}",
        check_in=today,
        check_out=today + timedelta(days=2),
        deposit_amount=50_000,
    )
    filed = timezone.now()
    record = claims.ClaimRecord(
        booking_id=booking.pk,
        merchant_id=hotel.pk,
        citizen_id=guest.pk,
        amount=amount,
        description="A broken lamp",
        created_at=filed,
        paid_amount=amount,
        status=ClaimStatus.DISPUTED,
        paid_at=filed,
    )
    claims.claims_record(claims=[record])
    wallet_services.transfer_funds(
        source=wallet_services.wallet_open(user=guest),
        destination=hotel.settlement,
        amount=amount,
        kind=TransferKind.CLAIM,
        reference=claim_subject(record.id),
    )
    dispute = claims.ClaimDisputeRecord(
        claim_id=record.id,
        citizen_id=guest.pk,
        reason="The lamp was broken when I arrived.",
        opened_at=timezone.now(),
    )
    claims.claim_disputes_record(disputes=[dispute])
    return ClaimDispute.objects.get(pk=dispute.id)


@pytest.fixture
def guest(citizen: User) -> User:
    return make_reliable(citizen)


def test_a_refund_after_a_payout_is_made_and_the_merchant_owes_it_until_it_collects_more(
    hotel: Merchant, guest: User, collect: Collect, daily: Callable[[], dict[str, int]]
) -> None:
    # Given a hotel with 25,000 collected, of which a claim of 12,000 is disputed
    collect(hotel, 13_000)
    dispute = paid_claim_disputed(hotel, guest, 12_000)
    assert balance(hotel) == 25_000
    # And the daily run paid it all out
    assert daily() == summary(paid=1, amount=25_000)

    # When staff uphold the dispute after the payout
    claims.claim_dispute_resolve(
        dispute=dispute, upheld=True, note="Photos show the lamp broken.", resolved_by=None
    )

    # Then the guest has the money back, and the hotel owes it: its balance is below zero
    assert LedgerAccount.objects.get(user=guest).balance == 12_000
    assert balance(hotel) == -12_000
    # And nothing is paid out while it owes; what it collects next makes the debt up first
    assert daily() == summary()
    collect(hotel, 20_000)
    assert balance(hotel) == 8_000
    assert daily() == summary()
    collect(hotel, 7_000)
    assert daily() == summary(paid=1, amount=15_000)
    assert balance(hotel) == 0
    assert_books_balance()


def test_create_merchant_registers_a_sandbox_destination_and_says_so(db: None) -> None:
    out = io.StringIO()
    call_command("create_merchant", "Seaside Inn", category="hotel", stdout=out)
    merchant = Merchant.objects.get()
    assert merchant.payout_destination.startswith("Sandbox bank account ···")
    assert f"Payouts to: {merchant.payout_destination}" in out.getvalue().splitlines()
