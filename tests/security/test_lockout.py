"""Repeated failed logins lock the account, whatever the address, with a growing delay:
the API's token and session logins and the admin's login alike (``common.lockout``,
through django-axes).

Here ``LOGIN_FAILURE_LIMIT`` is 3, the first lock lasts 60 s, each further failure
doubles it and 300 s is the cap. A locked account answers 429 ``too_many_attempts`` with
``Retry-After``, byte for byte the same whether the account exists or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.core.cache import cache
from django.test import Client
from knox.models import AuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.throttling import ScopedRateThrottle

from common.lockout import lockout_reset
from common.throttling import AccountRateThrottle
from tests.conftest import PASSWORD
from wallet import services
from wallet.api.views import AuthThrottledView
from wallet.models import User

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/me"
ADMIN_LOGIN = "/admin/login/"
# "alice" in full-width letters: NFKC makes it "alice".
FULL_WIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _lockout(settings: Any) -> Iterator[None]:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_BASE_SECONDS = 60
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def token(client: APIClient, username: str, password: str, **meta: Any) -> Any:
    return client.post(TOKEN, {"username": username, "password": password}, format="json", **meta)


def locked_body(seconds: int) -> dict[str, Any]:
    return {
        "type": "https://opensesame.example/problems/too_many_attempts",
        "title": "Too many attempts",
        "status": 429,
        "detail": f"Too many failed logins for this account; try again in {seconds} seconds.",
        "code": "too_many_attempts",
        "errors": [],
    }


def assert_locked(response: Any, seconds: int) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == str(seconds)
    assert response.json() == locked_body(seconds)


# --- API: token login ------------------------------------------------------------------


def test_the_third_failure_locks_the_account_and_even_the_right_password_waits(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    # Given two failed logins
    assert [token(api, "alice", "wrong").status_code for _ in range(2)] == [401, 401]
    # When the third fails
    third = token(api, "alice", "wrong")
    # Then the account is locked for 60 s
    assert_locked(third, 60)
    # And 20 s later the right password is refused untried, with the time left
    clock.shift(timedelta(seconds=20))
    assert_locked(token(api, "alice", PASSWORD), 40)
    assert not AuthToken.objects.exists()
    # And attempts during the lock are not counted: still 3 failures
    assert AccessAttempt.objects.get().failures_since_start == 3
    # Once the lock has passed, the right password works and the failures are forgotten
    clock.shift(timedelta(seconds=40))
    response = token(api, "alice", PASSWORD)
    assert response.status_code == 200, response.content
    assert AuthToken.objects.filter(user=citizen).count() == 1
    assert not AccessAttempt.objects.exists()


def test_each_further_failure_doubles_the_delay_up_to_the_cap(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    for _ in range(2):
        token(api, "alice", "wrong")
    delays = []
    for _ in range(4):
        response = token(api, "alice", "wrong")
        assert response.status_code == 429
        delays.append(int(response["Retry-After"]))
        # Wait the lock out but for a second, then fail again once it has passed
        clock.shift(timedelta(seconds=delays[-1] - 1))
        assert token(api, "alice", PASSWORD).status_code == 429
        clock.shift(timedelta(seconds=1))
    assert delays == [60, 120, 240, 300]
    # A failure is remembered as long as the longest lock: after that one, none is left
    assert token(api, "alice", "wrong").status_code == 401
    assert AccessAttempt.objects.get().failures_since_start == 1


def test_failures_are_forgotten_once_they_are_older_than_the_cap(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    for _ in range(3):
        token(api, "alice", "wrong")
    # Once they are older than the longest lock, the count starts again
    clock.shift(timedelta(seconds=300))
    assert [token(api, "alice", "wrong").status_code for _ in range(2)] == [401, 401]
    assert AccessAttempt.objects.get().failures_since_start == 2


def test_a_successful_login_resets_the_count(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    assert [token(api, "alice", "wrong").status_code for _ in range(2)] == [401, 401]
    assert token(api, "alice", PASSWORD).status_code == 200
    # Two more failures do not reach the limit: the count started again
    assert [token(api, "alice", "wrong").status_code for _ in range(2)] == [401, 401]


def test_known_and_unknown_usernames_answer_alike(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    def attempts(username: str) -> list[tuple[int, str | None, bytes]]:
        answers = []
        for password in ("wrong", "wrong", "wrong", "wrong", PASSWORD):
            response = token(api, username, password)
            answers.append((response.status_code, response.get("Retry-After"), response.content))
        return answers

    known = attempts("alice")
    unknown = attempts("nobody-here")
    assert known == unknown
    assert [status for status, _, _ in known] == [401, 401, 429, 429, 429]


def test_rotating_addresses_and_spellings_does_not_escape_the_lock(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    # Three failures from three addresses, with three spellings of the name
    statuses = [
        token(api, name, "wrong", REMOTE_ADDR=f"203.0.113.{n}").status_code
        for n, name in enumerate(["alice", "ALICE", FULL_WIDTH_ALICE])
    ]
    assert statuses == [401, 401, 429]
    # From a fourth address, with the right password: still locked
    assert_locked(token(api, "alice", PASSWORD, REMOTE_ADDR="198.51.100.4"), 60)


def test_another_account_is_not_locked(
    api: APIClient, citizen: User, other_citizen: User, clock: time_machine.Traveller
) -> None:
    for _ in range(3):
        token(api, "alice", "wrong")
    assert token(api, "bob", PASSWORD).status_code == 200


def test_a_reset_unlocks_the_account(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    for _ in range(3):
        token(api, "alice", "wrong")
    # (what a password reset does, given the name as the citizen typed it)
    assert lockout_reset(username="Alice") == 1
    assert token(api, "alice", PASSWORD).status_code == 200


# --- API: session login -----------------------------------------------------------------


def test_session_login_is_locked_the_same_way(
    api: APIClient, citizen: User, clock: time_machine.Traveller
) -> None:
    def login(password: str) -> Any:
        return api.post(LOGIN, {"username": "alice", "password": password}, format="json")

    assert [login("wrong").status_code for _ in range(2)] == [401, 401]
    assert_locked(login("wrong"), 60)
    # The right password during the lock: refused, and no session
    assert_locked(login(PASSWORD), 60)
    assert api.get(ME).status_code == 401
    # The token login shares the lock: it is the account's
    assert_locked(token(api, "alice", PASSWORD), 60)
    # After it, the session login works, and axes keeps no log of it
    clock.shift(timedelta(seconds=60))
    assert login(PASSWORD).status_code == 200
    assert api.get(ME).status_code == 200
    assert not AccessAttempt.objects.exists()
    assert not AccessLog.objects.exists()


# --- Admin login --------------------------------------------------------------------------


def admin_login(client: Client, username: str, password: str) -> Any:
    return client.post(ADMIN_LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_the_admin_login_is_locked_with_an_html_page(clock: time_machine.Traveller) -> None:
    services.staff_user_ensure(username="admin", password=PASSWORD)
    client = Client()
    # Two failures: the form again
    assert [admin_login(client, "admin", "wrong").status_code for _ in range(2)] == [200, 200]
    # The third: 429, an HTML page with Retry-After
    third = admin_login(client, "admin", "wrong")
    assert third.status_code == 429
    assert third["Retry-After"] == "60"
    assert third["Content-Type"] == "text/html; charset=utf-8"
    assert b"Too many failed logins for this account; try again in 60 seconds." in third.content
    # The right password during the lock: refused, not logged in
    clock.shift(timedelta(seconds=30))
    locked = admin_login(client, "admin", PASSWORD)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "30"
    assert "_auth_user_id" not in client.session
    # And the API login of that account waits too
    assert_locked(token(APIClient(), "admin", PASSWORD), 30)


def test_the_admin_answers_known_and_unknown_usernames_alike(
    clock: time_machine.Traveller,
) -> None:
    services.staff_user_ensure(username="admin", password=PASSWORD)

    def attempts(username: str) -> list[tuple[int, str | None, bytes]]:
        client = Client()
        answers = []
        for _ in range(4):
            response = admin_login(client, username, "wrong")
            content = response.content.replace(
                response.wsgi_request.META.get("CSRF_COOKIE", "").encode(), b""
            )
            answers.append((response.status_code, response.get("Retry-After"), content))
        return answers

    known = attempts("admin")
    unknown = attempts("nobody-here")
    assert [status for status, _, _ in known] == [200, 200, 429, 429]
    # The locked answers are identical (the forms before differ only in the echoed name)
    assert known[2:] == unknown[2:]


# --- Requests per account --------------------------------------------------------------


def test_requests_naming_one_account_are_throttled_across_addresses(
    api: APIClient, citizen: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 1_000
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "auth": "1000/min", "auth_account": "3/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AccountRateThrottle, "THROTTLE_RATES", rates)
    # Four requests for one account (three spellings), each from its own address
    statuses = [
        token(api, name, "wrong", REMOTE_ADDR=f"203.0.113.{n}").status_code
        for n, name in enumerate(["alice", "Alice", FULL_WIDTH_ALICE, "alice"])
    ]
    # The fourth is throttled, whoever sends it; another account is not
    assert statuses == [401, 401, 401, 429]
    assert token(api, "bob", "wrong", REMOTE_ADDR="203.0.113.1").status_code == 401
    throttled = token(api, "alice", PASSWORD, REMOTE_ADDR="198.51.100.9")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


# --- Odd input never gives a 500 --------------------------------------------------------


def test_a_name_that_normalises_past_axes_limit_is_counted_under_a_digest(
    api: APIClient, clock: time_machine.Traveller
) -> None:
    # 150 characters (the longest username) that NFKC turns into 2,700
    name = "\ufdfa" * 150
    assert [token(api, name, "wrong").status_code for _ in range(3)] == [401, 401, 429]
    (stored,) = AccessAttempt.objects.values_list("username", flat=True)
    assert str(stored).startswith("sha256:")
    assert len(str(stored)) == 71


def test_a_request_without_an_ip_address_is_counted_without_one(
    api: APIClient, clock: time_machine.Traveller
) -> None:
    assert token(api, "alice", "wrong", REMOTE_ADDR="").status_code == 401
    assert list(AccessAttempt.objects.values_list("username", "ip_address")) == [("alice", None)]


class ResetLikeView(AuthThrottledView):
    """How a password-reset view is throttled: per address and per username or e-mail."""

    throttle_scope = "password_reset"
    throttle_account_fields = ("username", "email")

    def post(self, request: Request) -> Response:
        return Response(status=202)


def test_a_view_names_the_fields_that_name_an_account(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = {
        **ScopedRateThrottle.THROTTLE_RATES,
        "password_reset": "1000/min",
        "password_reset_account": "2/min",
    }
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AccountRateThrottle, "THROTTLE_RATES", rates)
    view = ResetLikeView.as_view()
    factory = APIRequestFactory()

    def ask(body: Any, address: str) -> int:
        request = factory.post("/reset", body, format="json", REMOTE_ADDR=address)
        return view(request).status_code

    # One address, spelled three ways, from three clients: the third is throttled
    statuses = [
        ask({"email": email}, f"203.0.113.{n}")
        for n, email in enumerate(["Alice@Example.com", "alice@example.com", "ALICE@example.COM"])
    ]
    assert statuses == [202, 202, 429]
    # The same address given beside a username: throttled all the same
    assert ask({"username": "someone", "email": "alice@example.com"}, "203.0.113.9") == 429
    # Another account, and a body naming none, are not
    assert ask({"email": "bob@example.com"}, "203.0.113.1") == 202
    assert ask({"username": "someone"}, "203.0.113.1") == 202
    assert ask([], "203.0.113.1") == 202
