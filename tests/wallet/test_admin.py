"""Admin pages load for staff, ledger rows cannot be added, changed or deleted there, and
identity levels are set through an action that calls the service."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from common.models import IdempotencyKey
from common.money import format_money
from tests.money import top_up_paid
from wallet import services
from wallet.models import Entry, Hold, LedgerAccount, Transfer, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = services.staff_user_ensure(username="staff", password="staff-password-123")
    client.force_login(staff)
    return client


@pytest.fixture
def ledger_rows(citizen, settlement):
    top_up_paid(citizen, 10_000)
    wallet = LedgerAccount.objects.get(user=citizen)
    services.hold_place(account=wallet, amount=500, expires_at=timezone.now() + timedelta(days=1))
    IdempotencyKey.objects.create(scope="user:1", key="k", fingerprint="f" * 64)


MODELS = [User, LedgerAccount, Transfer, Hold, IdempotencyKey]


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_and_change_page_loads(staff_client, ledger_rows, model):
    opts = model._meta
    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    change = staff_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    )
    assert change.status_code == 200


def test_changelist_search_works(staff_client, ledger_rows):
    response = staff_client.get(reverse("admin:wallet_user_changelist"), {"q": "alice"})
    assert response.status_code == 200
    assert b"alice" in response.content


@pytest.mark.parametrize("model", [LedgerAccount, Transfer, Hold, IdempotencyKey])
def test_ledger_rows_are_read_only_in_the_admin(staff_client, ledger_rows, model):
    opts = model._meta
    add = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    assert add.status_code == 403
    obj = model.objects.first()
    delete = staff_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]),
        {"post": "yes"},
    )
    assert delete.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_transfer_page_shows_its_entries(staff_client, ledger_rows):
    transfer = Transfer.objects.get()
    response = staff_client.get(reverse("admin:wallet_transfer_change", args=[transfer.pk]))
    content = response.content.decode()
    for entry in Entry.objects.filter(transfer=transfer).select_related("account"):
        sign = "+" if entry.amount > 0 else ""
        assert f"{sign}{format_money(entry.amount, entry.account.currency)}" in content


def test_user_page_shows_the_wallet_balance(staff_client, ledger_rows, citizen):
    response = staff_client.get(reverse("admin:wallet_user_change", args=[citizen.pk]))
    assert "100.00 CNY / 95.00 CNY" in response.content.decode()


def test_user_page_shows_the_wallet_balance_in_the_currencys_precision(staff_client, settings):
    # Given a deployment in yen (its system accounts too), and a wallet topped up there
    settings.WALLET_CURRENCY = "JPY"
    LedgerAccount.objects.filter(kind="system").update(currency="JPY")
    yen = services.user_register(username="kenji", password="kenji-password-123")
    top_up_paid(yen, 12_500)
    # When staff open the user, then the balance has no decimals
    response = staff_client.get(reverse("admin:wallet_user_change", args=[yen.pk]))
    assert "12,500 JPY / 12,500 JPY" in response.content.decode()


def test_identity_level_is_set_by_an_admin_action(staff_client, citizen, other_citizen):
    response = staff_client.post(
        reverse("admin:wallet_user_changelist"),
        {"action": "set_level_document", "_selected_action": [citizen.pk]},
    )
    assert response.status_code == 302
    citizen.refresh_from_db()
    other_citizen.refresh_from_db()
    assert citizen.identity_level == 2
    assert other_citizen.identity_level == 0


def test_admin_needs_staff(client, citizen):
    client.force_login(citizen)
    response = client.get(reverse("admin:wallet_transfer_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
