"""``seed_demo`` makes a usable demo and can run again without duplicating anything."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from rest_framework.test import APIClient

from wallet.models import Entry, LedgerAccount, User

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_makes_a_population_and_a_demo_citizen_who_can_log_in():
    output = seed("--accounts", "30")
    assert "Demo population: 30 new resident(s)." in output
    assert "username 'demo', password 'open-sesame-demo'" in output
    assert User.objects.filter(username__startswith="resident").count() == 30
    wallets = LedgerAccount.objects.filter(kind="wallet")
    assert wallets.count() == 31
    assert all(balance > 0 for balance in wallets.values_list("balance", flat=True))
    # The ledger balances: entries sum to zero and every balance is its entries' sum.
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == 0
    for account in LedgerAccount.objects.all():
        entries = account.entries.aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == entries
    # The printed credentials work against the API.
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token", {"username": "demo", "password": "open-sesame-demo"}
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/me/wallet").json()["balance"] == 250_000


def test_seed_demo_twice_adds_nothing():
    seed("--accounts", "10")
    entries = Entry.objects.count()
    output = seed("--accounts", "10")
    assert "Demo population: 0 new resident(s)." in output
    assert Entry.objects.count() == entries
    assert User.objects.filter(username__startswith="resident").count() == 10


def test_seed_demo_refuses_a_negative_count():
    with pytest.raises(CommandError, match="--accounts must be between"):
        seed("--accounts", "-1")
    assert User.objects.count() == 0
