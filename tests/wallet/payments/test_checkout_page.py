"""The sandbox's hosted checkout page: /sandbox/checkout/<reference>."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.wallet.payments.conftest import balance_of, confirmation, events, pending_top_up
from wallet.models import SandboxMovement, TopUpStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser() -> Client:
    """The payer's browser: no credentials (the checkout is the provider's page), and
    CSRF enforced as in production."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def top_up(citizen):
    return pending_top_up(citizen, 123_456)


def page_url(top_up) -> str:
    return f"/sandbox/checkout/{top_up.provider_reference}"


def submit(browser: Client, url: str, action: str):
    """Open the page (which sets the CSRF cookie) and press a button."""
    page = browser.get(url)
    token = page.context["csrf_token"] if page.context else browser.cookies["csrftoken"].value
    return browser.post(url, {"action": action, "csrfmiddlewaretoken": str(token)})


def test_the_page_shows_the_amount_and_both_buttons(browser, top_up):
    page = browser.get(page_url(top_up))

    assert page.status_code == 200
    html = page.content.decode()
    assert "1,234.56 CNY" in html
    assert 'value="confirm"' in html
    assert 'value="decline"' in html


def test_confirm_credits_through_the_webhook_path_and_goes_back_to_the_app(
    browser, citizen, top_up
):
    response = submit(browser, page_url(top_up), "confirm")

    assert response.status_code == 302
    assert response["Location"] == f"/app/#/wallet?top_up={top_up.pk}"
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.SUCCEEDED
    assert balance_of(citizen) == 123_456
    assert [outcome for _, outcome in events()] == ["applied"]  # a signed notification
    assert SandboxMovement.objects.get().amount == 123_456  # the sandbox took the money


def test_decline_fails_the_top_up_and_credits_nothing(browser, citizen, top_up):
    response = submit(browser, page_url(top_up), "decline")

    assert response.status_code == 302
    assert response["Location"] == f"/app/#/wallet?top_up={top_up.pk}"
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.FAILED
    assert balance_of(citizen) == 0
    assert SandboxMovement.objects.count() == 0


def test_an_unknown_action_changes_nothing(browser, top_up):
    response = submit(browser, page_url(top_up), "steal")

    assert response.status_code == 400
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.PENDING
    assert events() == []


def test_a_post_without_the_csrf_token_is_refused(browser, citizen, top_up):
    browser.get(page_url(top_up))

    response = browser.post(page_url(top_up), {"action": "confirm"})

    assert response.status_code == 403
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.PENDING
    assert balance_of(citizen) == 0


def assert_nothing_to_do(browser, top_up, status: str) -> None:
    page = browser.get(page_url(top_up))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="confirm"' not in html
    assert 'value="decline"' not in html
    assert f"This payment is {status}" in html
    before = events()
    # The page has no form now (and sets no CSRF cookie); a hand-made POST changes nothing.
    for action in ("confirm", "decline"):
        response = Client().post(page_url(top_up), {"action": action})
        assert response.status_code == 302
    assert events() == before


def test_an_expired_top_up_has_no_buttons_and_takes_no_payment(browser, citizen, top_up, travel):
    travel(settings.PAYMENTS_TOP_UP_EXPIRES_AFTER + timedelta(seconds=1))

    assert_nothing_to_do(browser, top_up, "expired")
    assert balance_of(citizen) == 0
    assert SandboxMovement.objects.count() == 0


def test_a_paid_top_up_has_no_buttons_and_is_not_paid_again(browser, citizen, top_up, deliver):
    deliver(confirmation(top_up))

    assert_nothing_to_do(browser, top_up, "succeeded")
    assert balance_of(citizen) == 123_456
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.SUCCEEDED


def test_a_declined_top_up_cannot_be_confirmed_afterwards(browser, citizen, top_up):
    submit(browser, page_url(top_up), "decline")

    assert_nothing_to_do(browser, top_up, "failed")
    assert balance_of(citizen) == 0


def test_an_unknown_reference_is_not_found(browser, db):
    assert browser.get("/sandbox/checkout/cs_unknown").status_code == 404


@override_settings(PAYMENTS_SANDBOX=False)
def test_without_the_sandbox_the_page_is_not_found(browser, top_up):
    assert browser.get(page_url(top_up)).status_code == 404
    assert Client().post(page_url(top_up), {"action": "confirm"}).status_code == 404
    top_up.refresh_from_db()
    assert top_up.status == TopUpStatus.PENDING
