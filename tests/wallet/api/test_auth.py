"""Registration, session and token login, logout and /me, through the HTTP API."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from tests.conftest import PASSWORD
from wallet.models import LedgerAccount, User

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
TOKEN = "/api/v1/auth/token"
CSRF = "/api/v1/auth/csrf"
ME = "/api/v1/me"

pytestmark = pytest.mark.django_db


def error_fields(response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def test_register_creates_citizen_with_empty_wallet(api):
    # When
    response = api.post(
        REGISTER,
        {"username": "carol", "password": PASSWORD, "display_name": "Carol"},
        format="json",
    )
    # Then
    assert response.status_code == 201
    body = response.json()
    user = User.objects.get(username="carol")
    assert body == {
        "id": str(user.public_id),
        "username": "carol",
        "display_name": "Carol",
        "identity_level": 0,
        "date_joined": body["date_joined"],
        "email": "",
        "email_verified": False,
        "phone_number": "",
    }
    assert "password" not in body
    assert user.check_password(PASSWORD)
    wallet = LedgerAccount.objects.get(user=user)
    assert (wallet.balance, wallet.held, wallet.kind) == (0, 0, "wallet")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"username", "password"}),
        ({"username": "dave"}, {"password"}),
        ({"username": "dave", "password": "short"}, {"password"}),
        ({"username": "dave", "password": "password"}, {"password"}),
        ({"username": "dave", "password": "12345678901"}, {"password"}),
        ({"username": "davidsmith", "password": "davidsmith1"}, {"password"}),
        ({"username": "no spaces", "password": PASSWORD}, {"username"}),
        ({"username": "x" * 151, "password": PASSWORD}, {"username"}),
        ({"username": "dave", "password": PASSWORD, "display_name": "d" * 101}, {"display_name"}),
        ({"username": ["dave"], "password": PASSWORD}, {"username"}),
    ],
)
def test_register_refuses_bad_input_and_writes_nothing(api, payload, fields):
    response = api.post(REGISTER, payload, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid"
    assert error_fields(response) == fields
    assert User.objects.count() == 0
    assert LedgerAccount.objects.filter(kind="wallet").count() == 0


def test_register_refuses_a_taken_username_case_insensitively(api, citizen):
    response = api.post(REGISTER, {"username": "ALICE", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"username"}
    assert User.objects.count() == 1


def test_register_field_errors_carry_codes_a_client_can_translate(api, citizen):
    # A taken username, and a password of digits only that is also too common
    taken = api.post(REGISTER, {"username": "alice", "password": PASSWORD}, format="json")
    weak = api.post(REGISTER, {"username": "carmen", "password": "12345678"}, format="json")
    assert [(e["field"], e["code"]) for e in taken.json()["errors"]] == [
        ("username", "username_taken")
    ]
    assert [(e["field"], e["code"]) for e in weak.json()["errors"]] == [
        ("password", "password_too_common"),
        ("password", "password_entirely_numeric"),
    ]
    assert User.objects.filter(username="carmen").count() == 0


def test_register_ignores_fields_it_does_not_document(api):
    # Mass assignment: identity level and staff flags are not for the client to set.
    response = api.post(
        REGISTER,
        {
            "username": "mallory",
            "password": PASSWORD,
            "identity_level": 2,
            "is_staff": True,
            "is_superuser": True,
        },
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get(username="mallory")
    assert (user.identity_level, user.is_staff, user.is_superuser) == (0, False, False)


def test_malformed_json_is_a_400_problem(api):
    response = api.generic("POST", REGISTER, '{"username": "x",', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert User.objects.count() == 0


def test_token_login_then_me(api, citizen):
    # When
    response = api.post(TOKEN, {"username": "alice", "password": PASSWORD}, format="json")
    # Then
    assert response.status_code == 200
    token = response.json()["token"]
    stored = AuthToken.objects.get(user=citizen)
    assert token not in (stored.digest, stored.token_key)  # only a digest is kept
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get(ME)
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["id"] == str(citizen.public_id)


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "wrong-password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_wrong_credentials_are_401_without_telling_which(api, citizen, credentials):
    for path in (TOKEN, LOGIN):
        response = api.post(path, credentials, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
        assert response.json()["detail"] == "Invalid username or password."
    assert not AuthToken.objects.exists()


def test_me_needs_credentials(api):
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_invalid_token_is_401(api, citizen):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_session_login_enforces_csrf(citizen):
    client = APIClient(enforce_csrf_checks=True)
    # Without the CSRF cookie and header the login is refused...
    refused = client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert "sessionid" not in refused.cookies
    # ...with them it succeeds and sets the session cookie.
    csrf_token = client.get(CSRF).json()["csrf_token"]
    ok = client.post(
        LOGIN,
        {"username": "alice", "password": PASSWORD},
        format="json",
        HTTP_X_CSRFTOKEN=csrf_token,
    )
    assert ok.status_code == 200
    assert ok.json()["username"] == "alice"
    assert "sessionid" in ok.cookies
    assert client.get(ME).status_code == 200


def test_session_requests_that_write_need_csrf(citizen):
    client = APIClient(enforce_csrf_checks=True)
    csrf_token = client.get(CSRF).json()["csrf_token"]
    client.post(LOGIN, {"username": "alice", "password": PASSWORD}, HTTP_X_CSRFTOKEN=csrf_token)
    refused = client.post("/api/v1/me/top-ups", {"amount": 100}, format="json")
    assert refused.status_code == 403
    assert LedgerAccount.objects.get(user=citizen).balance == 0
    # Django rotates the CSRF token on login: take the new one from the cookie.
    fresh = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/me/top-ups", {"amount": 100}, format="json", HTTP_X_CSRFTOKEN=fresh
    )
    assert accepted.status_code == 201
    assert LedgerAccount.objects.get(user=citizen).balance == 100


def test_session_logout_ends_the_session(citizen):
    client = APIClient()
    client.post(LOGIN, {"username": "alice", "password": PASSWORD}, format="json")
    assert client.get(ME).status_code == 200
    assert client.post(LOGOUT).status_code == 204
    assert client.get(ME).status_code == 401


def test_token_logout_revokes_the_token(api, citizen):
    token = api.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.post(LOGOUT).status_code == 204
    assert not AuthToken.objects.filter(user=citizen).exists()
    assert api.get(ME).status_code == 401


def test_logout_needs_credentials(api):
    assert api.post(LOGOUT).status_code == 401


def test_login_and_registration_are_throttled(api, citizen, monkeypatch):
    # Given a tight rate for the "auth" scope (tests otherwise run with a generous one)
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    cache.clear()
    # When one client keeps guessing
    statuses = [
        api.post(TOKEN, {"username": "alice", "password": "wrong"}).status_code for _ in range(4)
    ]
    throttled = api.post(REGISTER, {"username": "eve", "password": PASSWORD})
    cache.clear()
    # Then the fourth try and everything after it in that scope are refused
    assert statuses == [401, 401, 401, 429]
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert not User.objects.filter(username="eve").exists()


def test_an_expired_token_is_refused(api, citizen):
    token = api.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]
    AuthToken.objects.filter(user=citizen).update(expiry=timezone.now() - timedelta(seconds=1))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_each_token_login_is_a_separate_device(api, citizen):
    first = api.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]
    second = api.post(TOKEN, {"username": "alice", "password": PASSWORD}).json()["token"]
    assert first != second
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.post(LOGOUT).status_code == 204
    # Logging out one device leaves the other signed in.
    api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api.get(ME).status_code == 200
