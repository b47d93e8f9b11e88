"""The wallet's admin pages show money formatted in the wallet's currency, never a raw
number of minor units: the user's wallet, ledger accounts, a transfer's entries, holds,
top-ups and withdrawals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.admin_pages import admin_url, raw_amounts
from tests.money import top_up_paid
from wallet import services
from wallet.models import Hold, LedgerAccount, Payout, TopUp, Transfer, User
from wallet.payments import services as payments

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = services.staff_user_ensure(username="staff", password="staff-password-123")
    client.force_login(staff)
    return client


@pytest.fixture
def wallet(citizen):
    """Alice with 2,800.00 CNY, of which 123.45 held."""
    top_up_paid(citizen, 280_000)
    account = LedgerAccount.objects.get(user=citizen)
    services.hold_place(
        account=account, amount=12_345, expires_at=timezone.now() + timedelta(days=1)
    )
    return account


def test_the_user_page_shows_the_wallet_in_major_units(staff_client, citizen, wallet):
    response = staff_client.get(admin_url(User, "change", citizen.pk))
    content = response.content.decode()
    assert "2,800.00 CNY / 2,676.55 CNY" in content
    assert raw_amounts(content, {280_000, 267_655}) == []


def test_the_users_list_shows_the_wallet_in_major_units(staff_client, wallet):
    content = staff_client.get(admin_url(User, "changelist")).content.decode()
    assert "2,800.00 CNY / 2,676.55 CNY" in content
    assert raw_amounts(content, {280_000, 267_655}) == []


def test_ledger_accounts_show_balance_and_held_formatted(staff_client, wallet):
    listing = staff_client.get(admin_url(LedgerAccount, "changelist")).content.decode()
    page = staff_client.get(admin_url(LedgerAccount, "change", wallet.pk)).content.decode()
    for content in (listing, page):
        assert "2,800.00 CNY" in content
        assert "123.45 CNY" in content
        assert raw_amounts(content, {280_000, 12_345}) == []
    # The provider's account holds the opposite amount, signed
    assert "-2,800.00 CNY" in listing


def test_a_transfer_shows_its_entries_formatted(staff_client, wallet):
    transfer = Transfer.objects.get(entries__account=wallet)
    content = staff_client.get(admin_url(Transfer, "change", transfer.pk)).content.decode()
    assert "+2,800.00 CNY" in content
    assert "-2,800.00 CNY" in content
    assert raw_amounts(content, {280_000}) == []


def test_holds_top_ups_and_withdrawals_show_amounts_formatted(staff_client, citizen, wallet):
    withdrawal = payments.withdrawal_create(user=citizen, amount=50_000)
    pages = {
        Hold: ("123.45 CNY", Hold.objects.get().pk, {12_345}),
        TopUp: ("2,800.00 CNY", TopUp.objects.get().pk, {280_000}),
        Payout: ("500.00 CNY", withdrawal.pk, {50_000}),
    }
    for model, (formatted, pk, amounts) in pages.items():
        for url in (admin_url(model, "changelist"), admin_url(model, "change", pk)):
            content = staff_client.get(url).content.decode()
            assert formatted in content, url
            assert raw_amounts(content, amounts) == [], url
