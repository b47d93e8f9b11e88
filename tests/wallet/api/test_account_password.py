"""Changing the password (other devices signed out) and resetting it by e-mail (the same
answer for known and unknown accounts; a one-time link)."""

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from common.throttling import AccountRateThrottle
from tests.conftest import PASSWORD
from wallet.models import SignIn, User

CHANGE = "/api/v1/auth/password"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"
NEW_PASSWORD = "a-brand-new-passphrase"

pytestmark = pytest.mark.django_db


def session_client() -> APIClient:
    client = APIClient()
    assert client.post(LOGIN, {"username": "alice", "password": PASSWORD}).status_code == 200
    return client


def token_client() -> APIClient:
    client = APIClient()
    token = client.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def verified(citizen) -> User:
    User.objects.filter(pk=citizen.pk).update(email="alice@example.org", email_verified=True)
    citizen.refresh_from_db()
    return citizen


# --- Change ---------------------------------------------------------------------------


@pytest.mark.parametrize("caller_kind", ["session", "token"])
def test_changing_the_password_signs_out_every_other_device(citizen, caller_kind):
    # Given alice signed in on a phone (token), a tablet (token) and two browsers
    phone, tablet, browser, other_browser = (
        token_client(),
        token_client(),
        session_client(),
        session_client(),
    )
    caller = phone if caller_kind == "token" else browser
    others = [client for client in (phone, tablet, browser, other_browser) if client is not caller]
    # When she changes the password from one of them
    response = caller.post(
        CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    # Then that one stays signed in and every other device is signed out
    assert response.status_code == 204
    assert caller.get(ME).status_code == 200
    assert [client.get(ME).status_code for client in others] == [401, 401, 401]
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)
    assert SignIn.objects.filter(user=citizen, ended_at__isnull=True).count() == 1
    assert AuthToken.objects.filter(user=citizen).count() == (1 if caller_kind == "token" else 0)
    # ...and the caller's device list shows only itself, as current
    listed = caller.get("/api/v1/me/sessions").json()["results"]
    assert [(row["kind"], row["current"]) for row in listed] == [(caller_kind, True)]


def test_a_wrong_old_password_is_refused_and_changes_nothing(citizen):
    browser, phone = session_client(), token_client()
    response = browser.post(
        CHANGE, {"old_password": "not-it", "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "old_password",
            "message": "The password is not correct.",
            "code": "password_incorrect",
        }
    ]
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)
    assert phone.get(ME).status_code == 200
    assert SignIn.objects.filter(user=citizen, ended_at__isnull=True).count() == 2


@pytest.mark.parametrize(
    ("new_password", "code"),
    [
        ("short", "password_too_short"),
        ("password123", "password_too_common"),
        ("83749283749283", "password_entirely_numeric"),
        ("alice1234", "password_too_similar"),
    ],
)
def test_the_new_password_goes_through_the_validators(citizen, new_password, code):
    phone = token_client()
    response = phone.post(
        CHANGE, {"old_password": PASSWORD, "new_password": new_password}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert code in {error["code"] for error in errors}
    assert {error["field"] for error in errors} == {"new_password"}
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)


def test_changing_the_password_needs_credentials(api):
    response = api.post(CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 401


# --- Reset ----------------------------------------------------------------------------


def reset_link(message) -> tuple[str, str]:
    found = re.search(
        r"https://app\.example/app/#/reset\?uid=([\w-]+)&token=([\w-]+)", message.body
    )
    assert found, message.body
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    "payload",
    [
        {"username": "alice"},
        {"username": "ALICE"},
        # Full-width letters: the login's normalisation finds the account, so does this
        {"username": "\uff41\uff4c\uff49\uff43\uff45"},
        {"email": "alice@example.org"},
        {"email": "Alice@EXAMPLE.org"},
        {"username": "nobody"},
        {"email": "nobody@example.org"},
    ],
)
def test_a_reset_request_answers_the_same_whether_known_or_not(
    api, verified, payload, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(RESET, payload, format="json")
    assert response.status_code == 202
    assert response.json() == {
        "detail": "If the account exists and has a verified e-mail address, a link to choose "
        "a new password has been sent to it."
    }
    known = "nobody" not in str(payload)
    assert [message.to for message in mail.outbox] == ([["alice@example.org"]] if known else [])


def test_no_reset_mail_to_an_unverified_address(api, citizen, django_capture_on_commit_callbacks):
    User.objects.filter(pk=citizen.pk).update(email="alice@example.org", email_verified=False)
    with django_capture_on_commit_callbacks(execute=True):
        by_name = api.post(RESET, {"username": "alice"}, format="json")
        by_address = api.post(RESET, {"email": "alice@example.org"}, format="json")
    assert (by_name.status_code, by_address.status_code) == (202, 202)
    assert mail.outbox == []


def test_a_reset_request_needs_a_username_or_an_address(api):
    response = api.post(RESET, {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "non_field_errors"


def test_the_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
    api, verified, django_capture_on_commit_callbacks
):
    # Given alice signed in on two devices, and a reset link
    phone, browser = token_client(), session_client()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(RESET, {"username": "alice"}, format="json")
    uid, token = reset_link(mail.outbox[0])
    assert uid == str(verified.public_id)
    # When she follows it
    response = api.post(
        CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json"
    )
    # Then the password is the new one and every device is signed out
    assert response.status_code == 204
    verified.refresh_from_db()
    assert verified.check_password(NEW_PASSWORD)
    assert (phone.get(ME).status_code, browser.get(ME).status_code) == (401, 401)
    assert not AuthToken.objects.filter(user=verified).exists()
    assert not SignIn.objects.filter(user=verified, ended_at__isnull=True).exists()
    # And the link does not work twice
    again = api.post(
        CONFIRM, {"uid": uid, "token": token, "new_password": "yet-another-passphrase"}
    )
    assert again.status_code == 400
    assert again.json()["code"] == "token_invalid"
    verified.refresh_from_db()
    assert verified.check_password(NEW_PASSWORD)


def test_the_reset_lifts_the_login_lockout(api, verified, django_capture_on_commit_callbacks):
    AccessAttempt.objects.create(
        username="alice",
        ip_address="127.0.0.1",
        user_agent="guesser",
        failures_since_start=50,
        get_data="",
        post_data="",
        http_accept="*/*",
        path_info="/api/v1/auth/login",
    )
    with django_capture_on_commit_callbacks(execute=True):
        api.post(RESET, {"username": "alice"}, format="json")
    uid, token = reset_link(mail.outbox[0])
    response = api.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert not AccessAttempt.objects.filter(username="alice").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"uid": "not-a-uuid"},
        {"uid": "00000000-0000-0000-0000-000000000000"},
        {"token": "abc-123"},
        {"token": ""},
    ],
)
def test_a_bad_reset_link_is_refused_and_changes_nothing(
    api, verified, other_citizen, change, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(RESET, {"username": "alice"}, format="json")
    uid, token = reset_link(mail.outbox[0])
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD, **change}
    response = api.post(CONFIRM, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in {"token_invalid", "invalid"}
    verified.refresh_from_db()
    assert verified.check_password(PASSWORD)


def test_another_accounts_uid_with_alices_token_is_refused(
    api, verified, other_citizen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(RESET, {"username": "alice"}, format="json")
    _, token = reset_link(mail.outbox[0])
    response = api.post(
        CONFIRM,
        {"uid": str(other_citizen.public_id), "token": token, "new_password": NEW_PASSWORD},
    )
    assert response.json()["code"] == "token_invalid"
    other_citizen.refresh_from_db()
    assert other_citizen.check_password(PASSWORD)


def test_a_reset_link_expires(api, verified, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        api.post(RESET, {"username": "alice"}, format="json")
    uid, token = reset_link(mail.outbox[0])
    with time_machine.travel(start + timedelta(days=1, seconds=1), tick=False):
        response = api.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert response.json()["code"] == "token_invalid"
    verified.refresh_from_db()
    assert verified.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_with_a_valid_link(
    api, verified, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api.post(RESET, {"username": "alice"}, format="json")
    uid, token = reset_link(mail.outbox[0])
    response = api.post(CONFIRM, {"uid": uid, "token": token, "new_password": "short"})
    assert response.status_code == 400
    assert "password_too_short" in {error["code"] for error in response.json()["errors"]}
    verified.refresh_from_db()
    assert verified.check_password(PASSWORD)
    # The link still works for a good one.
    ok = api.post(CONFIRM, {"uid": uid, "token": token, "new_password": NEW_PASSWORD})
    assert ok.status_code == 204


def test_reset_requests_are_throttled_per_account_whatever_the_address(verified, monkeypatch):
    # Given a tight per-account rate for reset requests (tests run with a generous one)
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "password_reset_account": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AccountRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    # When one account is named from three addresses
    statuses = [
        APIClient(REMOTE_ADDR=f"192.0.2.{index}").post(RESET, {"username": name}).status_code
        for index, name in enumerate(["alice", "ALICE", "alice"])
    ]
    other = APIClient(REMOTE_ADDR="192.0.2.9").post(RESET, {"username": "bob"})
    cache.clear()
    # Then the third is refused, and another account is not
    assert statuses == [202, 202, 429]
    assert other.status_code == 202


class FailingMailServer(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


def test_a_mail_server_that_fails_does_not_change_the_answer(
    api, verified, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingMailServer"
    with django_capture_on_commit_callbacks(execute=True):
        known = api.post(RESET, {"username": "alice"}, format="json")
        unknown = api.post(RESET, {"username": "nobody"}, format="json")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
