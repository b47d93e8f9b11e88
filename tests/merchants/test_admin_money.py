"""Money in the admin pages is formatted ("2,839.17 CNY"), never a raw number of minor
units: every list and every object's page of the wallet's, payments', merchants',
bills', console's and scoring's admins, with money of each kind in them."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from merchants import services
from merchants.bills import services as bills_services
from merchants.bills.models import Bill
from merchants.models import Consent
from merchants.perks import services as perks_services
from scoring.models import CreditEvent
from tests.admin_pages import admin_pages, raw_amounts
from tests.merchants.conftest import billing_consent
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import Entry, Hold, LedgerAccount, Payout, TopUp
from wallet.payments import services as payments

pytestmark = pytest.mark.django_db

MODULES = (
    "wallet.admin",
    "wallet.payments.admin",
    "merchants.admin",
    "merchants.bills.admin",
    "merchants.console.admin",
    "scoring.admin",
    "common.admin",
)
# Payloads shown as they were received or sent: a provider's notification and the
# events sent to merchants are JSON whose amounts are minor units by contract; their
# pages show those amounts formatted beside them ("Amounts in the payload").
VERBATIM = ("/admin/wallet/providerevent/", "/admin/common/outboxevent/")
JSON_AMOUNT = re.compile(r"&quot;\w*amount&quot;: -?\d+")


@pytest.fixture
def money_everywhere(citizen, django_capture_on_commit_callbacks):
    """A top-up, a hold, a withdrawal, a bill paid, and the biller's payout."""
    staff = wallet_services.staff_user_ensure(username="staff", password="staff-password-123")
    with django_capture_on_commit_callbacks(execute=True):
        top_up_paid(citizen, 283_917)
        wallet = LedgerAccount.objects.get(user=citizen)
        wallet_services.hold_place(
            account=wallet, amount=13_579, expires_at=timezone.now() + timedelta(days=1)
        )
        payments.withdrawal_create(user=citizen, amount=24_681)
        biller = perks_services.merchant_onboard(name="City Water", category="biller")
        bill = bills_services.bill_issue(
            merchant=biller,
            consent_id=billing_consent(citizen, biller).pk,
            amount=41_327,
            due_date=timezone.localdate() + timedelta(days=7),
            description="Water, November",
        )
        bills_services.bill_pay(citizen=citizen, bill_id=bill.pk)
        services.settlement_pay_out(merchant=biller, threshold=1, requested_by=staff)
    return staff


def known_amounts() -> set[int]:
    """Every amount of money in the database large enough not to be mistaken for
    something else (ids, counts, years are not 4-digit-plus amounts here)."""
    values: set[int] = set()
    values.update(Entry.objects.values_list("amount", flat=True))
    for balance, held in LedgerAccount.objects.values_list("balance", "held"):
        values.update((balance, held))
    for amount, captured in Hold.objects.values_list("amount", "captured_amount"):
        values.update((amount, captured))
    values.update(TopUp.objects.values_list("amount", flat=True))
    values.update(Payout.objects.values_list("amount", flat=True))
    values.update(Bill.objects.values_list("amount", flat=True))
    values.update(v for v in CreditEvent.objects.values_list("amount", flat=True) if v)
    for largest, monthly in Consent.objects.values_list("max_bill_amount", "max_monthly_amount"):
        values.update(v for v in (largest, monthly) if v)
    return {abs(value) for value in values if abs(value) >= 10_000}


def without_payloads(url: str, content: str) -> str:
    return JSON_AMOUNT.sub("", content) if url.startswith(VERBATIM) else content


def test_no_admin_page_shows_an_amount_in_raw_minor_units(client, money_everywhere):
    # Given money of every kind, and staff signed in
    client.force_login(money_everywhere)
    amounts = known_amounts()
    assert {283_917, 13_579, 24_681, 41_327} <= amounts
    # When they open every list and every object's page
    pages = dict(admin_pages(client, MODULES))
    # Then the amounts are there formatted, never as a bare number of minor units
    shown = "".join(pages.values())
    for formatted in ("2,839.17 CNY", "135.79 CNY", "246.81 CNY", "413.27 CNY"):
        assert formatted in shown
    raw = {
        url: found
        for url, content in pages.items()
        if (found := raw_amounts(without_payloads(url, content), amounts))
    }
    assert raw == {}
    # And a payload's amounts are shown formatted beside it
    events = [content for url, content in pages.items() if "/outboxevent/" in url]
    assert any("amount: 413.27 CNY" in content for content in events)
    notices = [content for url, content in pages.items() if "/providerevent/" in url]
    assert any("amount: 2,839.17 CNY" in content for content in notices)
    assert len(pages) > 30
