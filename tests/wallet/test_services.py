"""Exact-value tests of the wallet's services: what each writes, and that a refusal
writes nothing."""

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
from wallet import services
from wallet.errors import CurrencyMismatch, HoldNotActive, InsufficientFunds, InvalidAmount
from wallet.models import (
    Entry,
    Hold,
    HoldStatus,
    LedgerAccount,
    SystemAccount,
    Transfer,
    TransferKind,
    User,
)


def ledger_snapshot():
    """Everything a refused service must leave as it was."""
    return {
        "accounts": {
            pk: (balance, held)
            for pk, balance, held in LedgerAccount.objects.values_list("pk", "balance", "held")
        },
        "transfers": Transfer.objects.count(),
        "entries": Entry.objects.count(),
        "holds": {
            pk: (status, captured_amount, resolved_at)
            for pk, status, captured_amount, resolved_at in Hold.objects.values_list(
                "pk", "status", "captured_amount", "resolved_at"
            )
        },
    }


def balance_of(account):
    return LedgerAccount.objects.get(pk=account.pk).balance


def held_of(account):
    return LedgerAccount.objects.get(pk=account.pk).held


def legs_of(transfer):
    """A transfer's entries as {account pk: signed amount}."""
    return dict(Entry.objects.filter(transfer=transfer).values_list("account_id", "amount"))


def funding():
    return services.system_account(SystemAccount.FUNDING)


def later(minutes=60):
    return timezone.now() + timedelta(minutes=minutes)


# --- Top-ups ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_top_up_moves_money_from_funding_to_the_wallet(citizen):
    # given
    funding_before = balance_of(funding())

    # when
    transfer = top_up_paid(citizen, 500)

    # then
    wallet = LedgerAccount.objects.get(user=citizen)
    assert (wallet.balance, wallet.held) == (500, 0)
    assert balance_of(funding()) == funding_before - 500
    assert transfer.kind == TransferKind.TOP_UP
    assert transfer.currency == settings.WALLET_CURRENCY
    assert legs_of(transfer) == {funding().pk: -500, wallet.pk: 500}
    assert Transfer.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [1, settings.WALLET_MAX_TOP_UP])
def test_top_up_accepts_the_limits(citizen, amount):
    top_up_paid(citizen, amount)

    assert LedgerAccount.objects.get(user=citizen).balance == amount


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -1, -500, settings.WALLET_MAX_TOP_UP + 1])
def test_top_up_outside_the_limits_is_refused_and_writes_nothing(citizen, amount):
    # given
    before = ledger_snapshot()

    # when / then
    with pytest.raises(InvalidAmount):
        top_up_paid(citizen, amount)
    assert ledger_snapshot() == before
    assert Transfer.objects.count() == 0
    assert Entry.objects.count() == 0


# --- Payments and transfers ------------------------------------------------------------


@pytest.mark.django_db
def test_payment_moves_money_to_the_settlement_account(funded, citizen, settlement):
    # given
    wallet = funded(1000)

    # when
    transfer = services.payment_create(
        user=citizen, destination=settlement, amount=300, reference="order:1"
    )

    # then
    assert (balance_of(wallet), held_of(wallet)) == (700, 0)
    assert balance_of(settlement) == 300
    assert transfer.kind == TransferKind.PAYMENT
    assert transfer.reference == "order:1"
    assert legs_of(transfer) == {wallet.pk: -300, settlement.pk: 300}


@pytest.mark.django_db
def test_payment_of_the_whole_balance_is_allowed(funded, citizen, settlement):
    wallet = funded(1000)

    services.payment_create(user=citizen, destination=settlement, amount=1000)

    assert balance_of(wallet) == 0
    assert balance_of(settlement) == 1000


@pytest.mark.django_db
def test_payment_with_insufficient_funds_is_refused_and_writes_nothing(funded, citizen, settlement):
    # given
    wallet = funded(300)
    before = ledger_snapshot()

    # when / then
    with pytest.raises(InsufficientFunds):
        services.payment_create(user=citizen, destination=settlement, amount=301)
    assert ledger_snapshot() == before
    assert Transfer.objects.count() == 1  # the top-up only
    assert Entry.objects.count() == 2
    assert (balance_of(wallet), held_of(wallet), balance_of(settlement)) == (300, 0, 0)


@pytest.mark.django_db
def test_payment_cannot_spend_held_money(funded, citizen, settlement):
    # given: 300 in the wallet, 100 of it held
    wallet = funded(300)
    services.hold_place(account=wallet, amount=100, expires_at=later())
    before = ledger_snapshot()

    # when / then: 201 is more than the 200 available
    with pytest.raises(InsufficientFunds):
        services.payment_create(user=citizen, destination=settlement, amount=201)
    assert ledger_snapshot() == before

    # and exactly the available amount goes through
    services.payment_create(user=citizen, destination=settlement, amount=200)
    assert (balance_of(wallet), held_of(wallet)) == (100, 100)


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -1])
def test_payment_of_a_non_positive_amount_is_refused(funded, citizen, settlement, amount):
    funded(300)
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount):
        services.payment_create(user=citizen, destination=settlement, amount=amount)
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_transfer_between_wallets_moves_exact_amount(funded, other_citizen):
    # given
    source = funded(500)
    destination = LedgerAccount.objects.get(user=other_citizen)

    # when
    transfer = services.transfer_funds(
        source=source, destination=destination, amount=120, kind=TransferKind.ADJUSTMENT
    )

    # then
    assert (balance_of(source), balance_of(destination)) == (380, 120)
    assert legs_of(transfer) == {source.pk: -120, destination.pk: 120}


@pytest.mark.django_db
def test_transfer_to_the_same_account_is_refused(funded):
    wallet = funded(500)
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount):
        services.transfer_funds(
            source=wallet, destination=wallet, amount=10, kind=TransferKind.ADJUSTMENT
        )
    assert ledger_snapshot() == before


# --- Holds -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_hold_place_sets_money_aside_without_moving_it(funded):
    # given
    wallet = funded(500)
    expires_at = later()

    # when
    hold = services.hold_place(account=wallet, amount=200, expires_at=expires_at, reference="r")

    # then
    hold.refresh_from_db()
    assert (hold.status, hold.amount, hold.captured_amount) == (HoldStatus.ACTIVE, 200, 0)
    assert hold.expires_at == expires_at
    assert (balance_of(wallet), held_of(wallet)) == (500, 200)
    assert Transfer.objects.count() == 1  # the top-up only: a hold moves no money


@pytest.mark.django_db
def test_hold_place_beyond_available_is_refused_and_writes_nothing(funded):
    # given: 500 in the wallet, 300 already held, 200 available
    wallet = funded(500)
    services.hold_place(account=wallet, amount=300, expires_at=later())
    before = ledger_snapshot()

    # when / then
    with pytest.raises(InsufficientFunds):
        services.hold_place(account=wallet, amount=201, expires_at=later())
    assert ledger_snapshot() == before
    assert Hold.objects.count() == 1

    # and exactly the available amount can still be held
    services.hold_place(account=wallet, amount=200, expires_at=later())
    assert (balance_of(wallet), held_of(wallet)) == (500, 500)


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -5])
def test_hold_place_of_a_non_positive_amount_is_refused(funded, amount):
    wallet = funded(500)
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount):
        services.hold_place(account=wallet, amount=amount, expires_at=later())
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_hold_place_on_a_settlement_account_is_refused(settlement):
    services.transfer_funds(
        source=funding(), destination=settlement, amount=500, kind=TransferKind.ADJUSTMENT
    )
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount):
        services.hold_place(account=settlement, amount=100, expires_at=later())
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_hold_capture_partial_moves_the_captured_amount_and_releases_the_rest(funded, settlement):
    # given
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later(), description="d")

    # when
    captured = services.hold_capture(hold_id=hold.pk, amount=150, destination=settlement)

    # then
    captured.refresh_from_db()
    assert captured.status == HoldStatus.CAPTURED
    assert captured.captured_amount == 150
    assert captured.resolved_at is not None
    transfer = captured.capture_transfer
    assert transfer.kind == TransferKind.HOLD_CAPTURE
    assert transfer.reference == f"hold:{hold.pk}"
    assert legs_of(transfer) == {wallet.pk: -150, settlement.pk: 150}
    assert (balance_of(wallet), held_of(wallet)) == (850, 0)
    assert balance_of(settlement) == 150


@pytest.mark.django_db
def test_hold_capture_full(funded, settlement):
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())

    services.hold_capture(hold_id=hold.pk, amount=400, destination=settlement)

    hold.refresh_from_db()
    assert (hold.status, hold.captured_amount) == (HoldStatus.CAPTURED, 400)
    assert (balance_of(wallet), held_of(wallet)) == (600, 0)
    assert balance_of(settlement) == 400


@pytest.mark.django_db
def test_hold_capture_leaves_other_holds_held(funded, settlement):
    wallet = funded(1000)
    first = services.hold_place(account=wallet, amount=400, expires_at=later())
    services.hold_place(account=wallet, amount=250, expires_at=later())

    services.hold_capture(hold_id=first.pk, amount=100, destination=settlement)

    assert (balance_of(wallet), held_of(wallet)) == (900, 250)


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [401, 0, -1])
def test_hold_capture_outside_the_hold_is_refused_and_writes_nothing(funded, settlement, amount):
    # given
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())
    before = ledger_snapshot()

    # when / then
    with pytest.raises(InvalidAmount):
        services.hold_capture(hold_id=hold.pk, amount=amount, destination=settlement)
    assert ledger_snapshot() == before
    hold.refresh_from_db()
    assert hold.status == HoldStatus.ACTIVE
    assert (balance_of(wallet), held_of(wallet)) == (1000, 400)


def _capture(hold, settlement):
    return services.hold_capture(hold_id=hold.pk, amount=hold.amount, destination=settlement)


def _release(hold, settlement):
    return services.hold_release(hold_id=hold.pk)


def _claim(hold, settlement):
    return services.claim_charge(
        account=hold.account, destination=settlement, amount=1, hold_id=hold.pk
    )


@pytest.mark.django_db
@pytest.mark.parametrize("first", [_capture, _release, _claim], ids=["capture", "release", "claim"])
@pytest.mark.parametrize(
    "second", [_capture, _release, _claim], ids=["capture", "release", "claim"]
)
def test_a_resolved_hold_cannot_be_resolved_again(funded, settlement, first, second):
    # given: a hold resolved once
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=300, expires_at=later())
    first(hold, settlement)
    before = ledger_snapshot()

    # when / then
    with pytest.raises(HoldNotActive):
        second(hold, settlement)
    assert ledger_snapshot() == before
    assert held_of(wallet) == 0


@pytest.mark.django_db
def test_hold_release_gives_the_money_back(funded):
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=300, expires_at=later())

    services.hold_release(hold_id=hold.pk)

    hold.refresh_from_db()
    assert (hold.status, hold.captured_amount) == (HoldStatus.RELEASED, 0)
    assert hold.resolved_at is not None
    assert (balance_of(wallet), held_of(wallet)) == (1000, 0)
    assert Transfer.objects.count() == 1  # the top-up only


@pytest.mark.django_db
def test_an_expired_hold_cannot_be_captured_or_released(funded, settlement):
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=300, expires_at=later())
    assert services.hold_expire(hold_id=hold.pk, now=later(61)) is True
    before = ledger_snapshot()

    with pytest.raises(HoldNotActive):
        services.hold_capture(hold_id=hold.pk, amount=100, destination=settlement)
    with pytest.raises(HoldNotActive):
        services.hold_release(hold_id=hold.pk)
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_hold_expire_before_expiry_does_nothing_and_after_expires_once(funded):
    # given
    wallet = funded(1000)
    expires_at = later(30)
    hold = services.hold_place(account=wallet, amount=300, expires_at=expires_at)
    before = ledger_snapshot()

    # when / then: one microsecond before expiry, nothing happens
    assert (
        services.hold_expire(hold_id=hold.pk, now=expires_at - timedelta(microseconds=1)) is False
    )
    assert ledger_snapshot() == before

    # when / then: past expiry, the hold expires and the money is available again
    past = expires_at + timedelta(seconds=1)
    assert services.hold_expire(hold_id=hold.pk, now=past) is True
    hold.refresh_from_db()
    assert (hold.status, hold.resolved_at, hold.captured_amount) == (HoldStatus.EXPIRED, past, 0)
    assert (balance_of(wallet), held_of(wallet)) == (1000, 0)

    # when / then: a second sweep finds nothing to do
    after_first = ledger_snapshot()
    assert services.hold_expire(hold_id=hold.pk, now=past + timedelta(hours=1)) is False
    assert ledger_snapshot() == after_first


@pytest.mark.django_db
def test_hold_expire_at_the_exact_expiry_expires(funded):
    wallet = funded(1000)
    expires_at = later(30)
    hold = services.hold_place(account=wallet, amount=300, expires_at=expires_at)

    assert services.hold_expire(hold_id=hold.pk, now=expires_at) is True
    assert held_of(wallet) == 0


@pytest.mark.django_db
def test_hold_expire_leaves_a_released_hold_alone(funded):
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=300, expires_at=later())
    services.hold_release(hold_id=hold.pk)
    before = ledger_snapshot()

    assert services.hold_expire(hold_id=hold.pk, now=later(120)) is False
    assert ledger_snapshot() == before
    hold.refresh_from_db()
    assert hold.status == HoldStatus.RELEASED


@pytest.mark.django_db
def test_holds_expire_due_expires_only_past_due_active_holds(funded, other_citizen):
    # given
    now = timezone.now()
    wallet = funded(1000)
    other_wallet = LedgerAccount.objects.get(user=other_citizen)
    top_up_paid(other_citizen, 1000)
    due = services.hold_place(account=wallet, amount=100, expires_at=now - timedelta(minutes=5))
    due_exactly = services.hold_place(account=other_wallet, amount=150, expires_at=now)
    not_due = services.hold_place(
        account=wallet, amount=200, expires_at=now + timedelta(microseconds=1)
    )
    released = services.hold_place(
        account=wallet, amount=300, expires_at=now - timedelta(minutes=5)
    )
    services.hold_release(hold_id=released.pk)
    released_at = Hold.objects.get(pk=released.pk).resolved_at

    # when
    expired = services.holds_expire_due(now=now)

    # then
    assert expired == 2
    statuses = dict(Hold.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: HoldStatus.EXPIRED,
        due_exactly.pk: HoldStatus.EXPIRED,
        not_due.pk: HoldStatus.ACTIVE,
        released.pk: HoldStatus.RELEASED,
    }
    assert Hold.objects.get(pk=due.pk).resolved_at == now
    assert Hold.objects.get(pk=released.pk).resolved_at == released_at
    assert (balance_of(wallet), held_of(wallet)) == (1000, 200)
    assert (balance_of(other_wallet), held_of(other_wallet)) == (1000, 0)

    # and a second sweep finds nothing
    assert services.holds_expire_due(now=now) == 0


@pytest.mark.django_db
def test_holds_expire_due_respects_the_limit_oldest_first(funded):
    now = timezone.now()
    wallet = funded(1000)
    newer = services.hold_place(account=wallet, amount=100, expires_at=now - timedelta(minutes=1))
    older = services.hold_place(account=wallet, amount=200, expires_at=now - timedelta(minutes=9))

    assert services.holds_expire_due(now=now, limit=1) == 1

    assert Hold.objects.get(pk=older.pk).status == HoldStatus.EXPIRED
    assert Hold.objects.get(pk=newer.pk).status == HoldStatus.ACTIVE
    assert held_of(wallet) == 100


# --- Claims ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_claim_charge_from_the_hold_only(funded, settlement):
    # given
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())

    # when
    charge = services.claim_charge(
        account=wallet, destination=settlement, amount=250, hold_id=hold.pk, reference="claim:1"
    )

    # then
    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (250, 0, 0)
    assert charge.collected == 250
    assert charge.transfer.kind == TransferKind.CLAIM
    assert charge.transfer.reference == "claim:1"
    assert legs_of(charge.transfer) == {wallet.pk: -250, settlement.pk: 250}
    hold.refresh_from_db()
    assert (hold.status, hold.captured_amount) == (HoldStatus.CAPTURED, 250)
    assert hold.capture_transfer_id == charge.transfer.pk
    assert (balance_of(wallet), held_of(wallet)) == (750, 0)
    assert balance_of(settlement) == 250


@pytest.mark.django_db
def test_claim_charge_from_the_hold_then_the_balance(funded, settlement):
    # given
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())

    # when
    charge = services.claim_charge(
        account=wallet, destination=settlement, amount=700, hold_id=hold.pk
    )

    # then
    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (400, 300, 0)
    assert legs_of(charge.transfer) == {wallet.pk: -700, settlement.pk: 700}
    hold.refresh_from_db()
    assert (hold.status, hold.captured_amount) == (HoldStatus.CAPTURED, 400)
    assert (balance_of(wallet), held_of(wallet)) == (300, 0)
    assert balance_of(settlement) == 700
    assert Transfer.objects.filter(kind=TransferKind.CLAIM).count() == 1


@pytest.mark.django_db
def test_claim_charge_beyond_hold_and_balance_leaves_an_exact_unpaid_remainder(funded, settlement):
    # given
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())

    # when
    charge = services.claim_charge(
        account=wallet, destination=settlement, amount=1500, hold_id=hold.pk
    )

    # then
    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (400, 600, 500)
    assert charge.collected == 1000
    assert legs_of(charge.transfer) == {wallet.pk: -1000, settlement.pk: 1000}
    assert (balance_of(wallet), held_of(wallet)) == (0, 0)
    assert balance_of(settlement) == 1000


@pytest.mark.django_db
def test_claim_charge_does_not_take_money_held_by_another_hold(funded, settlement):
    # given: 1000 in the wallet; 400 held by the claim's hold, 500 by another
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())
    other = services.hold_place(account=wallet, amount=500, expires_at=later())

    # when
    charge = services.claim_charge(
        account=wallet, destination=settlement, amount=1500, hold_id=hold.pk
    )

    # then: the hold's 400 and the 100 available; the other hold's 500 stays
    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (400, 100, 1000)
    assert (balance_of(wallet), held_of(wallet)) == (500, 500)
    assert Hold.objects.get(pk=other.pk).status == HoldStatus.ACTIVE


@pytest.mark.django_db
def test_claim_charge_without_hold_from_a_partly_funded_wallet(funded, settlement):
    wallet = funded(300)

    charge = services.claim_charge(account=wallet, destination=settlement, amount=500)

    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (0, 300, 200)
    assert legs_of(charge.transfer) == {wallet.pk: -300, settlement.pk: 300}
    assert balance_of(wallet) == 0


@pytest.mark.django_db
def test_claim_charge_without_hold_on_an_empty_wallet_is_wholly_unpaid(citizen, settlement):
    # given
    wallet = LedgerAccount.objects.get(user=citizen)
    before = ledger_snapshot()

    # when
    charge = services.claim_charge(account=wallet, destination=settlement, amount=800)

    # then
    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (0, 0, 800)
    assert charge.collected == 0
    assert charge.transfer is None
    assert ledger_snapshot() == before
    assert Transfer.objects.count() == 0


@pytest.mark.django_db
def test_claim_charge_without_hold_cannot_take_held_money(funded, settlement):
    wallet = funded(300)
    services.hold_place(account=wallet, amount=300, expires_at=later())
    before = ledger_snapshot()

    charge = services.claim_charge(account=wallet, destination=settlement, amount=100)

    assert (charge.from_hold, charge.from_balance, charge.unpaid) == (0, 0, 100)
    assert charge.transfer is None
    assert ledger_snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -1])
def test_claim_charge_of_a_non_positive_amount_is_refused(funded, settlement, amount):
    wallet = funded(300)
    hold = services.hold_place(account=wallet, amount=100, expires_at=later())
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount):
        services.claim_charge(
            account=wallet, destination=settlement, amount=amount, hold_id=hold.pk
        )
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_claim_charge_with_a_hold_of_another_wallet_is_refused(funded, other_citizen, settlement):
    # given
    wallet = funded(300)
    top_up_paid(other_citizen, 500)
    other_wallet = LedgerAccount.objects.get(user=other_citizen)
    other_hold = services.hold_place(account=other_wallet, amount=200, expires_at=later())
    before = ledger_snapshot()

    # when / then
    with pytest.raises(InvalidAmount):
        services.claim_charge(
            account=wallet, destination=settlement, amount=100, hold_id=other_hold.pk
        )
    assert ledger_snapshot() == before
    assert Hold.objects.get(pk=other_hold.pk).status == HoldStatus.ACTIVE


@pytest.mark.django_db
def test_a_hold_past_its_expiry_cannot_be_captured_even_before_the_sweep(funded, settlement):
    # given a hold whose expiry has passed, not yet swept
    wallet = funded(1000)
    hold = services.hold_place(
        account=wallet, amount=300, expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = ledger_snapshot()

    # when / then: neither a capture nor a claim can take it
    with pytest.raises(HoldNotActive, match="expired"):
        services.hold_capture(hold_id=hold.pk, amount=100, destination=settlement)
    with pytest.raises(HoldNotActive, match="expired"):
        services.claim_charge(account=wallet, destination=settlement, amount=100, hold_id=hold.pk)
    assert ledger_snapshot() == before
    # and the sweep still gives it back
    assert services.holds_expire_due() == 1
    assert (balance_of(wallet), held_of(wallet)) == (1000, 0)


@pytest.mark.django_db
def test_a_hold_cannot_be_captured_into_its_own_wallet(funded):
    wallet = funded(1000)
    hold = services.hold_place(account=wallet, amount=300, expires_at=later())
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount):
        services.hold_capture(hold_id=hold.pk, amount=100, destination=wallet)
    with pytest.raises(InvalidAmount):
        services.claim_charge(account=wallet, destination=wallet, amount=100, hold_id=hold.pk)
    assert ledger_snapshot() == before
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.ACTIVE


# --- History in bulk -------------------------------------------------------------------


def test_transfers_bulk_create_writes_each_transfer_at_its_time_and_moves_each_balance_once(
    citizen, settlement
):
    # Given a month-old top-up and a payment two hours after it
    wallet = services.wallet_open(user=citizen)
    start = timezone.now() - timedelta(days=30)
    top_up = services.TransferRecord(
        kind=TransferKind.TOP_UP,
        postings={funding().pk: -10_000, wallet.pk: 10_000},
        created_at=start,
        description="Top-up",
    )
    payment = services.TransferRecord(
        kind=TransferKind.PAYMENT,
        postings={wallet.pk: -2_500, settlement.pk: 2_500},
        created_at=start + timedelta(hours=2),
        description="Bill",
        reference="bill:1",
    )
    # When they are written in bulk
    written = services.transfers_bulk_create(transfers=[top_up, payment])
    # Then each is there at its time with its legs, and every balance is its entries
    assert written == 2
    stored = Transfer.objects.get(pk=payment.id)
    assert (stored.kind, stored.created_at, stored.reference) == (
        TransferKind.PAYMENT,
        payment.created_at,
        "bill:1",
    )
    assert legs_of(stored) == {wallet.pk: -2_500, settlement.pk: 2_500}
    assert set(Entry.objects.filter(transfer=stored).values_list("created_at", flat=True)) == {
        payment.created_at
    }
    assert (balance_of(wallet), balance_of(settlement), balance_of(funding())) == (
        7_500,
        2_500,
        -10_000,
    )


def test_transfers_bulk_create_refuses_a_payment_before_the_money_that_covers_it(
    citizen, settlement
):
    # Given a payment made an hour before the top-up that would cover it
    wallet = services.wallet_open(user=citizen)
    now = timezone.now()
    before = ledger_snapshot()
    transfers = [
        services.TransferRecord(
            kind=TransferKind.TOP_UP,
            postings={funding().pk: -10_000, wallet.pk: 10_000},
            created_at=now - timedelta(hours=1),
        ),
        services.TransferRecord(
            kind=TransferKind.PAYMENT,
            postings={wallet.pk: -2_500, settlement.pk: 2_500},
            created_at=now - timedelta(hours=2),
        ),
    ]
    # When they are written, then they are refused (the end balance would be fine, the
    # wallet at the payment's time was not) and nothing is written
    with pytest.raises(InsufficientFunds):
        services.transfers_bulk_create(transfers=transfers)
    assert ledger_snapshot() == before


@pytest.mark.parametrize(
    "postings",
    [{"wallet": -100, "settlement": 99}, {"wallet": 100}, {"wallet": 0, "settlement": 0}],
)
def test_transfers_bulk_create_refuses_an_unbalanced_transfer_and_writes_nothing(
    funded, settlement, postings
):
    wallet = funded(1_000)
    accounts = {"wallet": wallet.pk, "settlement": settlement.pk}
    before = ledger_snapshot()
    record = services.TransferRecord(
        kind=TransferKind.PAYMENT,
        postings={accounts[name]: amount for name, amount in postings.items()},
        created_at=timezone.now(),
    )
    with pytest.raises(ValueError, match="Unbalanced or one-legged"):
        services.transfers_bulk_create(transfers=[record])
    assert ledger_snapshot() == before


def test_holds_bulk_record_writes_resolved_holds_and_holds_no_money(funded, settlement):
    # Given a wallet with 1,000 and a capture that took 300 of a 500 hold a week ago
    wallet = funded(100_000)
    week_ago = timezone.now() - timedelta(days=7)
    capture = services.TransferRecord(
        kind=TransferKind.CLAIM,
        postings={wallet.pk: -30_000, settlement.pk: 30_000},
        created_at=week_ago + timedelta(days=2),
    )
    services.transfers_bulk_create(transfers=[capture])
    holds = [
        services.ResolvedHoldRecord(
            account_id=wallet.pk,
            amount=50_000,
            status=HoldStatus.CAPTURED,
            created_at=week_ago,
            expires_at=week_ago + timedelta(days=9),
            resolved_at=week_ago + timedelta(days=2),
            captured_amount=30_000,
            capture_transfer_id=capture.id,
        ),
        services.ResolvedHoldRecord(
            account_id=wallet.pk,
            amount=20_000,
            status=HoldStatus.RELEASED,
            created_at=week_ago,
            expires_at=week_ago + timedelta(days=9),
            resolved_at=week_ago + timedelta(days=1),
        ),
    ]
    # When they are recorded
    assert services.holds_bulk_record(holds=holds) == 2
    # Then they are there as they ended, and the wallet holds nothing
    captured = Hold.objects.get(pk=holds[0].id)
    assert (captured.status, captured.captured_amount, captured.capture_transfer_id) == (
        HoldStatus.CAPTURED,
        30_000,
        capture.id,
    )
    assert captured.created_at == week_ago
    assert Hold.objects.get(pk=holds[1].id).status == HoldStatus.RELEASED
    assert (held_of(wallet), balance_of(wallet)) == (0, 70_000)


@pytest.mark.parametrize(
    ("status", "captured_amount", "with_transfer"),
    [
        (HoldStatus.ACTIVE, 0, False),  # would set money aside: only hold_place may
        (HoldStatus.CAPTURED, 100, False),  # a capture names its transfer
        (HoldStatus.RELEASED, 100, False),  # a released hold captured nothing
    ],
)
def test_holds_bulk_record_refuses_what_no_service_leaves_and_writes_nothing(
    funded, status, captured_amount, with_transfer
):
    wallet = funded(1_000)
    before = ledger_snapshot()
    hold = services.ResolvedHoldRecord(
        account_id=wallet.pk,
        amount=500,
        status=status,
        created_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() + timedelta(days=2),
        resolved_at=timezone.now() - timedelta(days=1),
        captured_amount=captured_amount,
    )
    with pytest.raises(ValueError):  # noqa: PT011 - each refusal has its own message
        services.holds_bulk_record(holds=[hold])
    assert ledger_snapshot() == before


# --- One implementation of each rule: one transfer or hold and many refuse alike -------
#
# A live payment or hold is the bulk write applied to one item, so every rule below is
# written once in ``wallet.services``; each test gives the same bad input to the path
# for one item ("one") and to the path for many ("bulk") and expects the same refusal,
# with nothing written.


def _transfer_one(
    source: LedgerAccount, destination: LedgerAccount, amount: int, kind: str = TransferKind.PAYMENT
) -> object:
    return services.transfer_funds(source=source, destination=destination, amount=amount, kind=kind)


def _transfer_in_bulk(
    source: LedgerAccount, destination: LedgerAccount, amount: int, kind: str = TransferKind.PAYMENT
) -> object:
    return services.transfers_bulk_create(
        transfers=[
            services.TransferRecord(
                kind=kind,
                postings={source.pk: -amount, destination.pk: amount},
                created_at=timezone.now(),
            )
        ]
    )


Funded = Callable[[int], LedgerAccount]
TransferPath = Callable[..., object]

each_transfer_path = pytest.mark.parametrize(
    "transfer", [_transfer_one, _transfer_in_bulk], ids=["one", "bulk"]
)


@pytest.mark.django_db
@each_transfer_path
def test_a_wallet_spends_its_available_balance_and_not_a_unit_more(
    funded: Funded, settlement: LedgerAccount, transfer: TransferPath
) -> None:
    # Given 300 in the wallet, 100 of it held: 200 available
    wallet = funded(300)
    services.hold_place(account=wallet, amount=100, expires_at=later())
    before = ledger_snapshot()
    # When 201 is transferred, then it is refused and nothing is written
    with pytest.raises(InsufficientFunds):
        transfer(wallet, settlement, 201)
    assert ledger_snapshot() == before
    # And exactly the 200 available goes through
    transfer(wallet, settlement, 200)
    assert (balance_of(wallet), held_of(wallet), balance_of(settlement)) == (100, 100, 200)


@pytest.mark.django_db
@each_transfer_path
def test_only_wallets_are_kept_from_going_below_zero(
    citizen: User, settlement: LedgerAccount, transfer: TransferPath
) -> None:
    # Given an empty settlement account, when it refunds a citizen, it goes below zero
    wallet = services.wallet_open(user=citizen)
    transfer(settlement, wallet, 700, TransferKind.REFUND)
    assert (balance_of(settlement), balance_of(wallet)) == (-700, 700)


@pytest.mark.django_db
@each_transfer_path
def test_a_transfer_to_an_account_in_another_currency_is_refused(
    funded: Funded, transfer: TransferPath
) -> None:
    wallet = funded(1_000)
    foreign = SettlementAccountFactory(currency="USD")
    before = ledger_snapshot()

    with pytest.raises(CurrencyMismatch):
        transfer(wallet, foreign, 100)
    assert ledger_snapshot() == before


@pytest.mark.django_db
@each_transfer_path
def test_a_transfer_of_an_unknown_kind_is_refused(
    funded: Funded, settlement: LedgerAccount, transfer: TransferPath
) -> None:
    wallet = funded(1_000)
    before = ledger_snapshot()

    with pytest.raises(ValueError, match="Unknown kind of transfer: 'gift'"):
        transfer(wallet, settlement, 100, "gift")
    assert ledger_snapshot() == before


def _hold_placed(wallet: LedgerAccount, amount: int) -> object:
    return services.hold_place(account=wallet, amount=amount, expires_at=later())


def _hold_in_history(wallet: LedgerAccount, amount: int) -> object:
    placed = timezone.now() - timedelta(days=3)
    return services.holds_bulk_record(
        holds=[
            services.HoldRecord(
                account_id=wallet.pk,
                amount=amount,
                status=HoldStatus.RELEASED,
                created_at=placed,
                expires_at=placed + timedelta(days=2),
                resolved_at=placed + timedelta(days=1),
            )
        ]
    )


each_hold_path = pytest.mark.parametrize(
    "hold", [_hold_placed, _hold_in_history], ids=["one", "bulk"]
)


@pytest.mark.django_db
@each_hold_path
@pytest.mark.parametrize("amount", [0, -5])
def test_a_hold_of_a_non_positive_amount_is_refused(
    funded: Funded, hold: Callable[[LedgerAccount, int], object], amount: int
) -> None:
    wallet = funded(500)
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount, match="A hold must be a positive number"):
        hold(wallet, amount)
    assert ledger_snapshot() == before


@pytest.mark.django_db
@each_hold_path
def test_a_hold_on_a_settlement_account_is_refused(
    settlement: LedgerAccount, hold: Callable[[LedgerAccount, int], object]
) -> None:
    _transfer_one(funding(), settlement, 500, TransferKind.ADJUSTMENT)
    before = ledger_snapshot()

    with pytest.raises(InvalidAmount, match="Holds are placed on wallets only"):
        hold(settlement, 100)
    assert ledger_snapshot() == before


def _capture_now(hold: Hold, settlement: LedgerAccount, captured: int) -> object:
    return services.hold_capture(hold_id=hold.pk, amount=captured, destination=settlement)


def _capture_in_history(hold: Hold, settlement: LedgerAccount, captured: int) -> object:
    placed = timezone.now() - timedelta(days=3)
    return services.holds_bulk_record(
        holds=[
            services.HoldRecord(
                account_id=hold.account_id,
                amount=hold.amount,
                status=HoldStatus.CAPTURED,
                created_at=placed,
                expires_at=placed + timedelta(days=2),
                resolved_at=placed + timedelta(days=1),
                captured_amount=captured,
                capture_transfer_id=uuid.uuid4(),
            )
        ]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("captured", [401, 0, -1])
@pytest.mark.parametrize("capture", [_capture_now, _capture_in_history], ids=["one", "bulk"])
def test_a_capture_takes_1_to_the_holds_amount(
    funded: Funded,
    settlement: LedgerAccount,
    capture: Callable[[Hold, LedgerAccount, int], object],
    captured: int,
) -> None:
    # Given a hold of 400 (captured now, or as a history records one like it)
    wallet = funded(1_000)
    hold = services.hold_place(account=wallet, amount=400, expires_at=later())
    before = ledger_snapshot()
    # When a capture outside 1..400 is asked for, then it is refused and nothing written
    with pytest.raises(InvalidAmount, match="A capture must be between 1 and 400 minor units"):
        capture(hold, settlement, captured)
    assert ledger_snapshot() == before


@pytest.mark.django_db
def test_a_hold_sets_money_aside_once_and_gives_it_back_once(
    funded: Funded, settlement: LedgerAccount
) -> None:
    # Given a wallet of 1,000 with a hold of 300 placed now and one recorded from history
    wallet = funded(1_000)
    live = services.hold_place(account=wallet, amount=300, expires_at=later())
    assert _hold_in_history(wallet, 500) == 1
    # Then only the live one is held
    assert (balance_of(wallet), held_of(wallet)) == (1_000, 300)
    # And resolving it gives the money back once
    services.hold_capture(hold_id=live.pk, amount=120, destination=settlement)
    assert (balance_of(wallet), held_of(wallet)) == (880, 0)
