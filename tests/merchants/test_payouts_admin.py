"""Staff pay a merchant's settlement balance out from the admin: a button on the
merchant's page (a confirmation page, then a POST) and an action on the list. Any
balance of 1 minor unit or more is paid, in the staff user's name; a message says what
was paid or why nothing was. The merchant's latest payouts show on its page."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils.html import escape

from merchants import services
from merchants.admin import payouts_url
from merchants.models import Merchant
from tests.merchants.conftest import assert_ledger_consistent
from tests.merchants.test_admin import admin_url, inline_management
from tests.money import top_up_paid
from wallet import services as wallet_services
from wallet.models import LedgerAccount, Payout, PayoutStatus, User

pytestmark = pytest.mark.django_db

Collect = Callable[[Merchant, int], None]


@pytest.fixture(autouse=True)
def _threshold(settings: Any) -> None:
    settings.PAYMENTS_PAYOUT_THRESHOLD = 10_000


@pytest.fixture
def collect(citizen: User) -> Collect:
    def run(merchant: Merchant, amount: int) -> None:
        top_up_paid(citizen, amount)
        wallet_services.payment_create(
            user=citizen, destination=merchant.settlement, amount=amount, description="Stay"
        )

    return run


def staff_with(*codenames: str) -> Client:
    """A client logged in as staff (not a superuser) with these permissions only."""
    user = User.objects.create_user(
        username=f"staff-{'-'.join(codenames)}", password="staff-pass-123", is_staff=True
    )
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def staff(db: None) -> Client:
    return staff_with("view_merchant", "change_merchant")


@pytest.fixture
def send_payouts(django_capture_on_commit_callbacks: Any) -> Any:
    """Requests whose payouts are sent to the provider when they commit (the relay's
    kick, in-process)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def balance(merchant: Merchant) -> int:
    return LedgerAccount.objects.get(pk=merchant.settlement_id).balance


def messages_after(client: Client, response: Any) -> list[str]:
    assert response.status_code == 302, response.status_code
    return [str(message) for message in get_messages(response.wsgi_request)]


# Committed for real, so that the payout is sent when the button's transaction commits
# (in-process, as without a broker) and the message reports its outcome.
@pytest.mark.django_db(transaction=True)
def test_the_button_pays_any_balance_out_in_the_staff_users_name(
    staff: Client, hotel: Merchant, collect: Collect
) -> None:
    # Given a hotel holding 1 minor unit, far below the daily threshold
    collect(hotel, 1)
    change_page = staff.get(admin_url(Merchant, "change", hotel.pk)).content.decode()
    url = admin_url(Merchant, "pay_out", hotel.pk)
    assert url in change_page
    assert "Pay out the settlement balance now" in change_page

    # When staff open the button's page
    page = staff.get(url)

    # Then it says what would be paid and where, and nothing is paid yet
    content = page.content.decode()
    assert page.status_code == 200
    assert "0.01 CNY" in content
    assert escape(hotel.payout_destination) in content
    assert 'value="Pay out 0.01 CNY now"' in content
    assert not Payout.objects.exists()

    # When they confirm
    response = staff.post(url)

    # Then the balance is paid out, in their name, and the message says so
    assert response["Location"] == admin_url(Merchant, "change", hotel.pk)
    assert messages_after(staff, response) == [
        f"Paid out 0.01 CNY of Harbour Hotel's settlement balance to {hotel.payout_destination}."
    ]
    payout = Payout.objects.get()
    assert (payout.amount, payout.status, payout.requested_by) == (
        1,
        PayoutStatus.PAID,
        staff.user,  # type: ignore[attr-defined]
    )
    assert balance(hotel) == 0
    # And the merchant's history records it
    entry = LogEntry.objects.get(object_id=str(hotel.pk))
    assert entry.user == staff.user  # type: ignore[attr-defined]
    assert "Paid out 0.01 CNY" in entry.get_change_message()
    assert_ledger_consistent()


def test_the_merchants_page_shows_its_latest_payouts(
    staff: Client, hotel: Merchant, collect: Collect, send_payouts: Any
) -> None:
    page = staff.get(admin_url(Merchant, "change", hotel.pk)).content.decode()
    assert "None yet." in page
    collect(hotel, 12_345)
    with send_payouts():
        services.settlement_pay_out(merchant=hotel)

    content = staff.get(admin_url(Merchant, "change", hotel.pk)).content.decode()

    assert "123.45 CNY · Paid · " in content
    link = payouts_url(hotel)
    if link is not None:  # where the payouts have an admin list, it links there, filtered
        assert link.endswith(f"?account__id__exact={hotel.settlement_id}")
        assert escape(link) in content


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("empty", "Nothing paid out to Harbour Hotel: its settlement balance is 0.00 CNY."),
        (
            "no destination",
            "Nothing paid out to Harbour Hotel: it has no payout destination (its settlement "
            "balance is 50.00 CNY). Enter one on its page first.",
        ),
    ],
)
def test_the_button_says_why_nothing_was_paid(
    staff: Client, hotel: Merchant, collect: Collect, setup: str, expected: str
) -> None:
    if setup == "no destination":
        collect(hotel, 5_000)
        services.merchant_update(
            merchant=hotel, name=hotel.name, is_active=True, payout_destination=""
        )
    url = admin_url(Merchant, "pay_out", hotel.pk)

    page = staff.get(url).content.decode()
    response = staff.post(url)

    assert 'value="Pay out' not in page
    assert messages_after(staff, response) == [expected]
    assert not Payout.objects.exists()
    assert not LogEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_payout_says_the_money_is_back(
    staff: Client, hotel: Merchant, collect: Collect
) -> None:
    collect(hotel, 5_000)
    services.merchant_update(
        merchant=hotel, name=hotel.name, is_active=True, payout_destination="failing ···0000"
    )
    response = staff.post(admin_url(Merchant, "pay_out", hotel.pk))
    assert messages_after(staff, response) == [
        "The payout of 50.00 CNY of Harbour Hotel's settlement balance to failing ···0000 "
        "failed (The destination account refused the payment.); the money is back on the "
        "settlement balance."
    ]
    assert balance(hotel) == 5_000


def test_the_list_action_pays_out_each_selected_merchant(
    staff: Client, hotel: Merchant, other_hotel: Merchant, collect: Collect
) -> None:
    # Given one hotel holding 50.00 and one holding nothing
    collect(hotel, 5_000)
    # When staff pay both out from the list (the provider is asked after commit)
    response = staff.post(
        admin_url(Merchant, "changelist"),
        {"action": "pay_out", "_selected_action": [hotel.pk, other_hotel.pk]},
    )
    # Then the one is being paid, in their name, and they read why the other was not
    assert sorted(messages_after(staff, response)) == [
        "Nothing paid out to Hill Hotel: its settlement balance is 0.00 CNY.",
        "Paying out 50.00 CNY of Harbour Hotel's settlement balance to "
        f"{hotel.payout_destination}: the payment provider has been asked and the payout "
        "is pending.",
    ]
    payout = Payout.objects.get()
    assert (payout.account_id, payout.requested_by) == (hotel.settlement_id, staff.user)  # type: ignore[attr-defined]


def test_staff_who_may_only_view_merchants_cannot_pay_out(
    hotel: Merchant, collect: Collect
) -> None:
    collect(hotel, 5_000)
    viewer = staff_with("view_merchant")
    url = admin_url(Merchant, "pay_out", hotel.pk)

    page, post = viewer.get(url), viewer.post(url)
    change_page = viewer.get(admin_url(Merchant, "change", hotel.pk)).content.decode()
    action = viewer.post(
        admin_url(Merchant, "changelist"), {"action": "pay_out", "_selected_action": [hotel.pk]}
    )

    assert (page.status_code, post.status_code) == (403, 403)
    assert url not in change_page
    assert action.status_code == 200  # "No action selected": the action is not offered
    assert not Payout.objects.exists()
    assert balance(hotel) == 5_000


def test_paying_out_needs_the_csrf_token(hotel: Merchant, collect: Collect) -> None:
    collect(hotel, 5_000)
    user = User.objects.create_superuser(username="root", password="root-pass-123")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(admin_url(Merchant, "pay_out", hotel.pk))
    assert response.status_code == 403
    assert not Payout.objects.exists()


def test_staff_change_the_payout_destination_on_the_merchants_page(
    staff: Client, hotel: Merchant
) -> None:
    url = admin_url(Merchant, "change", hotel.pk)
    page = staff.get(url)
    assert list(page.context["adminform"].form.fields) == [
        "name",
        "is_active",
        "payout_destination",
    ]
    response = staff.post(
        url,
        {
            "name": hotel.name,
            "is_active": "on",
            "payout_destination": " Harbour Bank ···9876 ",
            **inline_management(page),
        },
    )
    assert response.status_code == 302
    assert Merchant.objects.get(pk=hotel.pk).payout_destination == "Harbour Bank ···9876"
