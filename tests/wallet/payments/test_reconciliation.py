"""The reconciliation: a ledger written only by the services reconciles to the cent, and
every kind of difference is found, reported by name and logged as an error.

Tampering is done as someone with raw SQL would: the cached balances and held amounts are
plain columns; an unbalanced transfer is written straight into the tables. On PostgreSQL
the deferred "transfer is balanced" trigger would refuse that one at commit, so it is
written as a superuser who switched the triggers off (``session_replication_role``).
"""

import logging
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
from wallet import services as ledger
from wallet.models import (
    Entry,
    LedgerAccount,
    Payout,
    PayoutStatus,
    ReconciliationReport,
    SandboxMovement,
    SandboxMovementKind,
    SystemAccount,
    TopUp,
    TopUpStatus,
    Transfer,
    TransferKind,
)
from wallet.payments import sandbox, tasks
from wallet.payments import services as payments
from wallet.payments.providers import ProviderTotals, ProviderUnavailable
from wallet.payments.reconciliation import reconcile

pytestmark = pytest.mark.django_db

ALERT = "reconciliation found differences"


def alerts(caplog):
    return [
        record
        for record in caplog.records
        if record.name == "wallet.payments.reconciliation"
        and record.levelno == logging.ERROR
        and record.getMessage() == ALERT
    ]


def problems_of(report, check=None):
    return [
        (problem["check"], problem["subject"], problem["expected"], problem["actual"])
        for problem in report.problems
        if check is None or problem["check"] == check
    ]


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@contextmanager
def triggers_off():
    """On PostgreSQL, the ledger's triggers are not run for what is written inside. The
    checks pending from before are run first, as the commit of what came before would."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        sql("SET CONSTRAINTS ALL IMMEDIATE")
        sql("SET CONSTRAINTS ALL DEFERRED")
        sql("SET session_replication_role = replica")
    try:
        yield
    finally:
        if postgres:
            sql("SET session_replication_role = DEFAULT")


def pending_top_up(user, amount, settings_):
    """A top-up waiting at the sandbox's checkout (no auto-confirm)."""
    settings_.PAYMENTS_SANDBOX_AUTO_CONFIRM = False
    top_up = payments.top_up_start(user=user, amount=amount)
    settings_.PAYMENTS_SANDBOX_AUTO_CONFIRM = True
    assert top_up.status == TopUpStatus.PENDING
    return top_up


def confirm(top_up):
    signed = sandbox.checkout_pay(
        reference=top_up.provider_reference,
        top_up_id=top_up.pk,
        amount=top_up.amount,
        currency=top_up.currency,
    )
    return payments.notification_receive(provider_name=sandbox.NAME, signed=signed)


def decline(top_up):
    signed = sandbox.checkout_decline(
        reference=top_up.provider_reference, amount=top_up.amount, currency=top_up.currency
    )
    return payments.notification_receive(provider_name=sandbox.NAME, signed=signed)


@pytest.fixture
def busy_ledger(citizen, other_citizen, settings):
    """A day's traffic, every kind of it through the services: top-ups (at once, confirmed
    at the checkout, declined, expired), a payment, holds (captured, released, active),
    withdrawals (paid, failed) and merchant payouts (paid, failed, one still pending)."""
    shop = SettlementAccountFactory()
    wallet = ledger.wallet_open(user=citizen)
    top_up_paid(citizen, 50_000)
    top_up_paid(other_citizen, 20_000)
    confirm(pending_top_up(citizen, 3_000, settings))
    decline(pending_top_up(citizen, 4_000, settings))
    pending_top_up(other_citizen, 5_000, settings)
    payments.top_ups_expire_due(now=timezone.now() + timedelta(days=1))

    ledger.payment_create(user=citizen, destination=shop, amount=12_000)
    far = timezone.now() + timedelta(days=1)
    captured = ledger.hold_place(account=wallet, amount=2_000, expires_at=far)
    ledger.hold_capture(hold_id=captured.pk, amount=1_500, destination=shop)
    released = ledger.hold_place(account=wallet, amount=700, expires_at=far)
    ledger.hold_release(hold_id=released.pk)
    ledger.hold_place(account=wallet, amount=900, expires_at=far)

    payments.withdrawal_create(user=citizen, amount=4_000)
    payments.payouts_send()
    # The other citizen's source refuses payments: that withdrawal fails, money back.
    TopUp.objects.filter(user=other_citizen).update(payer_label="failing account ···0001")
    payments.withdrawal_create(user=other_citizen, amount=6_000)
    payments.payouts_send()

    payments.settlement_payout_create(account=shop, destination="Shop bank ···7788")
    payments.payouts_send()
    ledger.payment_create(user=citizen, destination=shop, amount=3_000)
    payments.settlement_payout_create(account=shop, destination="failing bank", threshold=1)
    payments.payouts_send()
    ledger.payment_create(user=other_citizen, destination=shop, amount=2_500)
    payments.settlement_payout_create(account=shop, destination="Shop bank ···7788", threshold=1)
    # (not sent yet: in transit)

    statuses = sorted(Payout.objects.values_list("status", flat=True))
    assert statuses == ["failed", "failed", "paid", "paid", "pending"]
    return {"wallet": wallet, "shop": shop}


# --- A clean ledger ----------------------------------------------------------------------


def test_a_ledger_written_by_the_services_reconciles(busy_ledger, caplog):
    # When
    report = reconcile()

    # Then no difference, and no alert
    assert report.ok, report.problems
    assert report.problems == []
    assert report.difference == 0
    assert all(check["ok"] for check in report.checks)
    assert alerts(caplog) == []
    # The operator's figures: 73,000 in (three top-ups); 4,000 (a withdrawal) and 13,500
    # (a payout) out; 5,500 in transit (the failed 3,000 came back and went out again).
    assert report.providers["sandbox"] == {
        "received": 73_000,
        "paid_out": 4_000 + 13_500,
        "net": 73_000 - 17_500,
        "booked": 73_000 - 17_500,
        "difference": 0,
        "top_ups_succeeded": 73_000,
        "payouts_paid": 17_500,
    }
    assert (report.in_transit, report.pending_payouts) == (5_500, 5_500)
    assert report.legacy_funds == 0
    assert report.customer_funds == report.provider_funds == 73_000 - 17_500
    assert ReconciliationReport.objects.get() == report


def test_an_empty_ledger_reconciles(db):
    report = reconcile()

    assert report.ok
    assert (report.customer_funds, report.provider_funds, report.difference) == (0, 0, 0)


def test_legacy_funds_booked_before_providers_count_as_held(citizen):
    # Given money credited from the funding account (before any provider existed)
    ledger.transfer_funds(
        source=ledger.system_account(SystemAccount.FUNDING),
        destination=ledger.wallet_open(user=citizen),
        amount=8_000,
        kind=TransferKind.ADJUSTMENT,
    )
    top_up_paid(citizen, 1_000)

    report = reconcile()

    assert report.ok, report.problems
    assert report.legacy_funds == 8_000
    assert report.customer_funds == report.provider_funds == 9_000


def test_the_report_keeps_the_business_date_asked_for(db):
    day = timezone.localdate() - timedelta(days=1)

    assert reconcile(business_date=day).business_date == day


# --- Tampering -----------------------------------------------------------------------------


def test_a_balance_changed_by_one_cent_is_found_and_alerted(busy_ledger, caplog):
    # Given a cent added to a wallet's balance by hand
    wallet = busy_ledger["wallet"]
    booked = LedgerAccount.objects.get(pk=wallet.pk).balance
    sql("UPDATE wallet_ledgeraccount SET balance = balance + 1 WHERE id = %s", [wallet.pk])

    # When
    report = reconcile()

    # Then the account is named, the books no longer sum to zero, customer funds are
    # a cent over what the provider holds
    assert not report.ok
    assert problems_of(report, "balance_is_sum_of_entries") == [
        ("balance_is_sum_of_entries", wallet.code, booked, booked + 1)
    ]
    assert problems_of(report, "balances_sum_to_zero") == [
        ("balances_sum_to_zero", "all accounts", 0, 1)
    ]
    assert report.difference == 1
    # And an error an operator alerts on, at the first cent
    [alert] = alerts(caplog)
    assert alert.report_id == str(report.pk)
    assert alert.difference == 1
    assert {"check": "balance_is_sum_of_entries", "subject": wallet.code} in [
        {"check": p["check"], "subject": p["subject"]} for p in alert.problems
    ]


def test_a_settlement_balance_tampered_with_is_named(busy_ledger):
    shop = busy_ledger["shop"]
    before = LedgerAccount.objects.get(pk=shop.pk).balance
    sql("UPDATE wallet_ledgeraccount SET balance = balance - 250 WHERE id = %s", [shop.pk])

    report = reconcile()

    assert ("balance_is_sum_of_entries", shop.code, before, before - 250) in problems_of(report)
    assert report.difference == -250


def test_held_tampered_with_is_named(busy_ledger):
    # Given a wallet's held amount raised with no hold behind it (no money moves)
    wallet = busy_ledger["wallet"]
    sql("UPDATE wallet_ledgeraccount SET held = held + 100 WHERE id = %s", [wallet.pk])

    report = reconcile()

    assert problems_of(report) == [("held_is_sum_of_active_holds", wallet.code, 900, 1_000)]
    assert report.difference == 0
    assert not report.ok


def test_an_unbalanced_transfer_is_named(busy_ledger):
    # Given an adjustment written straight into the tables, crediting a wallet 300 from
    # nowhere (balance cache included, so only the transfer itself gives it away)
    wallet = busy_ledger["wallet"]
    now = timezone.now()
    with triggers_off():
        transfer = Transfer.objects.create(
            kind=TransferKind.ADJUSTMENT, currency=settings.WALLET_CURRENCY, created_at=now
        )
        Entry.objects.create(transfer=transfer, account=wallet, amount=300, created_at=now)
    sql("UPDATE wallet_ledgeraccount SET balance = balance + 300 WHERE id = %s", [wallet.pk])

    report = reconcile()

    assert problems_of(report, "transfer_balanced") == [
        ("transfer_balanced", f"transfer {transfer.pk}", 0, 300)
    ]
    assert problems_of(report, "balance_is_sum_of_entries") == []
    assert report.difference == 300


def test_an_entry_added_to_a_booked_transfer_is_named(busy_ledger):
    wallet = busy_ledger["wallet"]
    top_up = Transfer.objects.filter(kind=TransferKind.TOP_UP).order_by("created_at").first()
    with triggers_off():
        Entry.objects.create(transfer=top_up, account=wallet, amount=5, created_at=timezone.now())

    report = reconcile()

    subjects = {(p["check"], p["subject"]) for p in report.problems}
    assert ("transfer_balanced", f"transfer {top_up.pk}") in subjects
    assert ("balance_is_sum_of_entries", wallet.code) in subjects


def test_offenders_are_counted_even_beyond_those_named(busy_ledger, monkeypatch):
    monkeypatch.setattr("wallet.payments.reconciliation.NAMED_AT_MOST", 1)
    sql("UPDATE wallet_ledgeraccount SET balance = balance + 1 WHERE kind = 'wallet'")

    report = reconcile()

    assert len(problems_of(report, "balance_is_sum_of_entries")) == 1
    [check] = [c for c in report.checks if c["check"] == "balance_is_sum_of_entries"]
    assert (check["ok"], check["found"]) == (False, 2)


# --- Payouts in transit ------------------------------------------------------------------


def test_a_pending_payout_not_sent_yet_is_in_transit(citizen):
    top_up_paid(citizen, 5_000)
    payments.withdrawal_create(user=citizen, amount=1_200)

    report = reconcile()

    assert report.ok, report.problems
    assert (report.in_transit, report.pending_payouts) == (1_200, 1_200)
    assert report.customer_funds == 5_000


def test_a_payout_marked_paid_without_its_money_is_found(citizen):
    top_up_paid(citizen, 5_000)
    payout = payments.withdrawal_create(user=citizen, amount=1_200)
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.PAID)

    report = reconcile()

    assert problems_of(report) == [
        ("in_transit_is_pending_payouts", SystemAccount.PAYOUTS_IN_TRANSIT.value, 0, 1_200)
    ]


# --- The providers -----------------------------------------------------------------------


def test_a_provider_report_that_differs_is_found(busy_ledger, caplog):
    # Given the sandbox's books show 700 received that the ledger never booked
    SandboxMovement.objects.create(
        reference="cs_unknown",
        kind=SandboxMovementKind.RECEIVED,
        amount=700,
        currency=settings.WALLET_CURRENCY,
        created_at=timezone.now(),
    )

    report = reconcile()

    booked = report.providers["sandbox"]["booked"]
    assert problems_of(report) == [
        ("provider_matches_ledger", "provider sandbox", booked, booked + 700),
        ("customer_funds_safeguarded", "customer funds", booked + 700, booked),
    ]
    assert report.providers["sandbox"]["difference"] == 700
    assert report.difference == -700
    assert len(alerts(caplog)) == 1


def test_a_payment_confirmed_after_its_top_up_expired_shows_until_refunded(citizen, settings):
    # Given a top-up that expired, whose payer then paid at the provider anyway
    top_up = pending_top_up(citizen, 2_500, settings)
    payments.top_ups_expire_due(now=top_up.expires_at)
    assert confirm(top_up).outcome == "refused"

    report = reconcile()

    # Then the provider holds 2,500 that no wallet was credited with
    assert problems_of(report, "provider_matches_ledger") == [
        ("provider_matches_ledger", "provider sandbox", 0, 2_500)
    ]


def test_a_provider_booked_in_the_ledger_but_no_longer_configured_is_found(citizen):
    ledger.transfer_funds(
        source=ledger.provider_account("oldpay"),
        destination=ledger.wallet_open(user=citizen),
        amount=400,
        kind=TransferKind.ADJUSTMENT,
    )

    report = reconcile()

    assert problems_of(report, "provider_reports") == [
        ("provider_reports", "provider oldpay", 400, 0)
    ]
    assert report.providers["oldpay"] == {"booked": 400, "top_ups_succeeded": 0, "payouts_paid": 0}


class DownProvider(sandbox.SandboxProvider):
    """A provider whose balance report cannot be fetched today."""

    name = "down"

    def totals(self, *, currency: str) -> ProviderTotals:
        raise ProviderUnavailable()


def test_a_configured_provider_that_cannot_report_is_a_difference(busy_ledger, settings):
    settings.PAYMENTS_PROVIDERS = {
        **settings.PAYMENTS_PROVIDERS,
        "down": f"{__name__}.DownProvider",
    }

    report = reconcile()

    assert problems_of(report) == [("provider_reports", "provider down", 0, 0)]
    assert not report.ok
    assert report.providers["sandbox"]["difference"] == 0


# --- How it runs: the task, the command ------------------------------------------------------


def test_the_celery_task_runs_it(busy_ledger):
    report_id = tasks.reconcile.delay().get()

    report = ReconciliationReport.objects.get(pk=report_id)
    assert report.ok


def test_the_command_prints_the_report(busy_ledger):
    out = StringIO()

    call_command("reconcile", stdout=out)

    text = out.getvalue()
    assert "balanced" in text
    assert "provider sandbox: received 730.00 CNY" in text
    assert ReconciliationReport.objects.count() == 1


def test_the_command_exits_1_on_a_difference(busy_ledger):
    wallet = busy_ledger["wallet"]
    sql("UPDATE wallet_ledgeraccount SET held = held + 1 WHERE id = %s", [wallet.pk])
    out = StringIO()

    with pytest.raises(CommandError, match="found differences") as raised:
        call_command("reconcile", stdout=out)

    assert raised.value.returncode == 1
    assert f"held_is_sum_of_active_holds: {wallet.code}" in out.getvalue()
