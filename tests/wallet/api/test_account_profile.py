"""The profile's e-mail address: PATCH /me, the verification e-mail and its link, and
an address given at registration."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from wallet import accounts
from wallet.models import User

ME = "/api/v1/me"
VERIFY = "/api/v1/auth/email-verify"
REGISTER = "/api/v1/auth/register"

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(api, citizen):
    api.force_authenticate(citizen)
    return api


def link_token(message) -> str:
    found = re.search(r"https://app\.example/app/#/verify-email\?token=(\S+)", message.body)
    assert found, message.body
    return found.group(1)


def test_patch_me_changes_the_display_name(signed_in, citizen):
    response = signed_in.patch(ME, {"display_name": "Alice B."}, format="json")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Alice B."
    assert response.json()["business_date"]  # the same profile GET /me answers
    citizen.refresh_from_db()
    assert citizen.display_name == "Alice B."


def test_a_new_address_is_unverified_and_gets_a_link(
    signed_in, citizen, django_capture_on_commit_callbacks
):
    # When
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.patch(ME, {"email": " alice@Example.ORG "}, format="json")
    # Then
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_verified"]) == (
        "alice@example.org",
        False,
    )
    assert [message.to for message in mail.outbox] == [["alice@example.org"]]
    token = link_token(mail.outbox[0])
    # Following the link (signed in or not) verifies it.
    verified = APIClient().post(VERIFY, {"token": token}, format="json")
    assert verified.status_code == 200
    assert verified.json()["email"] == "alice@example.org"
    assert verified.json()["email_verified"] is True
    citizen.refresh_from_db()
    assert citizen.email_verified is True


def test_changing_the_address_unverifies_it_and_the_old_link_dies(
    signed_in, citizen, django_capture_on_commit_callbacks
):
    # Given a verified address, and a link for it
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.patch(ME, {"email": "alice@example.org"}, format="json")
    old_token = link_token(mail.outbox[0])
    signed_in.post(VERIFY, {"token": old_token}, format="json")
    # When the address changes
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.patch(ME, {"email": "alice@example.net"}, format="json")
    # Then it is unverified, a link goes to the new one, and the old link no longer works
    assert response.json()["email_verified"] is False
    assert mail.outbox[-1].to == ["alice@example.net"]
    refused = signed_in.post(VERIFY, {"token": old_token}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "token_invalid"
    citizen.refresh_from_db()
    assert (citizen.email, citizen.email_verified) == ("alice@example.net", False)


def test_the_same_unverified_address_again_resends_the_link(
    signed_in, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.patch(ME, {"email": "alice@example.org"}, format="json")
        signed_in.patch(ME, {"email": "alice@example.org"}, format="json")
    assert len(mail.outbox) == 2


def test_an_empty_address_removes_it(signed_in, citizen):
    User.objects.filter(pk=citizen.pk).update(email="alice@example.org", email_verified=True)
    response = signed_in.patch(ME, {"email": ""}, format="json")
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_verified"]) == ("", False)
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"display_name": "x" * 101}, "display_name"),
        ({"email": "a@" + "b" * 260 + ".org"}, "email"),
    ],
)
def test_bad_profile_input_is_400_and_changes_nothing(signed_in, citizen, payload, field):
    response = signed_in.patch(ME, payload, format="json")
    assert response.status_code == 400
    assert {error["field"] for error in response.json()["errors"]} == {field}
    citizen.refresh_from_db()
    assert (citizen.email, citizen.display_name) == ("", "Alice Example")


def test_patch_me_needs_credentials(api):
    assert api.patch(ME, {"display_name": "x"}, format="json").status_code == 401


@pytest.mark.parametrize("token", ["", "garbage", "a:b:c", "x" * 512])
def test_a_bad_verification_token_is_refused(api, citizen, token):
    response = api.post(VERIFY, {"token": token}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] in {"token_invalid", "invalid"}
    citizen.refresh_from_db()
    assert citizen.email_verified is False


def test_an_expired_verification_link_is_refused(citizen):
    User.objects.filter(pk=citizen.pk).update(email="alice@example.org")
    citizen.refresh_from_db()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = accounts.email_verification_token(user=citizen)
    with time_machine.travel(start + timedelta(days=1, seconds=1), tick=False):
        response = APIClient().post(VERIFY, {"token": token}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "token_invalid"
    citizen.refresh_from_db()
    assert citizen.email_verified is False


def test_register_with_an_address_sends_the_link(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            REGISTER,
            {"username": "carol", "password": PASSWORD, "email": "carol@example.org"},
            format="json",
        )
    assert response.status_code == 201
    assert (response.json()["email"], response.json()["email_verified"]) == (
        "carol@example.org",
        False,
    )
    assert mail.outbox[0].to == ["carol@example.org"]
    verified = api.post(VERIFY, {"token": link_token(mail.outbox[0])}, format="json")
    assert verified.json()["email_verified"] is True


def test_register_refuses_a_bad_address_and_creates_nothing(api):
    response = api.post(
        REGISTER, {"username": "carol", "password": PASSWORD, "email": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["email"]
    assert not User.objects.filter(username="carol").exists()
