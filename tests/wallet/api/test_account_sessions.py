"""Signed-in devices: the list, revoking one, logging out everywhere, the middleware that
keeps ``last_used_at`` and ends revoked sessions, and tokens that expire 90 days after
they were issued."""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from wallet import accounts
from wallet.models import SignIn, SignInKind

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout-all"
TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"
SESSIONS = "/api/v1/me/sessions"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def session_client(username: str = "alice", agent: str = "Firefox on Linux") -> APIClient:
    client = APIClient(HTTP_USER_AGENT=agent)
    response = client.post(LOGIN, {"username": username, "password": PASSWORD})
    assert response.status_code == 200
    return client


def token_client(username: str = "alice", agent: str = "OpenSesame/2.1 Android") -> APIClient:
    client = APIClient(HTTP_USER_AGENT=agent)
    token = client.post(TOKEN, {"username": username, "password": PASSWORD}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def revoke(client: APIClient, sign_in_id) -> int:
    return client.post(f"{SESSIONS}/{sign_in_id}/revoke").status_code


def test_the_list_shows_each_device_and_which_one_is_asking(citizen):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        browser = session_client()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        phone = token_client()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        response = phone.get(SESSIONS)
    assert response.status_code == 200
    body = response.json()
    session_row, token_row = (
        SignIn.objects.get(user=citizen, kind=kind)
        for kind in (SignInKind.SESSION, SignInKind.TOKEN)
    )
    assert body["count"] == 2
    assert body["results"] == [
        {
            "id": str(token_row.pk),
            "kind": "token",
            "created_at": (start + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
            "last_used_at": (start + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
            "client": "OpenSesame/2.1 Android",
            "current": True,
        },
        {
            "id": str(session_row.pk),
            "kind": "session",
            "created_at": start.isoformat().replace("+00:00", "Z"),
            "last_used_at": start.isoformat().replace("+00:00", "Z"),
            "client": "Firefox on Linux",
            "current": False,
        },
    ]
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        from_browser = browser.get(SESSIONS).json()["results"]
    assert [row["current"] for row in from_browser] == [False, True]


def test_nobody_sees_or_revokes_anothers_devices(citizen, other_citizen):
    alice, bob = token_client("alice"), token_client("bob")
    bobs = SignIn.objects.get(user=other_citizen)
    assert [row["id"] for row in alice.get(SESSIONS).json()["results"]] == [
        str(SignIn.objects.get(user=citizen).pk)
    ]
    assert revoke(alice, bobs.pk) == 404
    assert revoke(alice, "00000000-0000-0000-0000-000000000000") == 404
    bobs.refresh_from_db()
    assert bobs.ended_at is None
    assert bob.get(ME).status_code == 200


def test_revoking_a_session_signs_that_browser_out_on_its_next_request(citizen):
    phone, browser = token_client(), session_client()
    target = SignIn.objects.get(user=citizen, kind=SignInKind.SESSION)
    assert browser.get(ME).status_code == 200
    assert revoke(phone, target.pk) == 204
    assert browser.get(ME).status_code == 401
    target.refresh_from_db()
    assert target.ended_at is not None
    assert phone.get(ME).status_code == 200
    # Already ended: not found.
    assert revoke(phone, target.pk) == 404


def test_revoking_a_token_deletes_it(citizen):
    browser, phone = session_client(), token_client()
    target = SignIn.objects.get(user=citizen, kind=SignInKind.TOKEN)
    assert revoke(browser, target.pk) == 204
    assert phone.get(ME).status_code == 401
    assert not AuthToken.objects.filter(user=citizen).exists()
    assert browser.get(ME).status_code == 200
    assert [row["kind"] for row in browser.get(SESSIONS).json()["results"]] == ["session"]


def test_logout_all_ends_every_device_including_the_callers(citizen, other_citizen):
    phone, tablet, browser = token_client(), token_client(), session_client()
    bobs_phone = token_client("bob")
    response = browser.post(LOGOUT_ALL)
    assert response.status_code == 204
    assert [client.get(ME).status_code for client in (phone, tablet, browser)] == [401] * 3
    assert not SignIn.objects.filter(user=citizen, ended_at__isnull=True).exists()
    assert not AuthToken.objects.filter(user=citizen).exists()
    # Another account is untouched.
    assert bobs_phone.get(ME).status_code == 200


def test_logout_all_with_a_token(citizen):
    phone, browser = token_client(), session_client()
    assert phone.post(LOGOUT_ALL).status_code == 204
    assert (phone.get(ME).status_code, browser.get(ME).status_code) == (401, 401)


def test_logging_out_ends_the_device(citizen):
    browser, phone = session_client(), token_client()
    assert browser.post(LOGOUT).status_code == 204
    assert phone.post(LOGOUT).status_code == 204
    assert not SignIn.objects.filter(user=citizen, ended_at__isnull=True).exists()
    assert SignIn.objects.filter(user=citizen).count() == 2


def test_a_session_whose_sign_in_ended_elsewhere_is_logged_out_at_the_next_touch(citizen):
    # Given a browser whose sign-in row was ended without its session being deleted
    # (a session store that lost the delete, say)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        browser = session_client()
    SignIn.objects.filter(user=citizen).update(ended_at=start)
    # Within the touch interval it still answers; at the next touch it is logged out
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert browser.get(ME).status_code == 200
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert browser.get(ME).status_code == 401
        assert browser.get(ME).status_code == 401


def test_last_used_is_written_at_most_every_five_minutes(citizen):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        browser, phone = session_client(), token_client()
    for minutes in (1, 4):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            with CaptureQueriesContext(connection) as queries:
                browser.get(ME)
            assert not [q for q in queries if "wallet_signin" in q["sql"]]
            phone.get(ME)
    assert set(SignIn.objects.values_list("last_used_at", flat=True)) == {start}
    later = start + timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        with CaptureQueriesContext(connection) as queries:
            browser.get(ME)
        touches = [q for q in queries if "wallet_signin" in q["sql"]]
        assert len(touches) == 1
        assert touches[0]["sql"].startswith("UPDATE")
        phone.get(ME)
    assert set(SignIn.objects.values_list("last_used_at", flat=True)) == {later}
    # The token's next write is due another five minutes on (remembered in the cache).
    for minutes, expected in ((4, later), (6, later + timedelta(minutes=6))):
        with time_machine.travel(later + timedelta(minutes=minutes), tick=False):
            phone.get(ME)
        assert SignIn.objects.get(kind="token").last_used_at == expected


def test_a_session_logged_in_elsewhere_gets_a_sign_in_row(citizen, client):
    # The admin's login (or a session from before devices were recorded) has none.
    client.force_login(citizen)
    assert client.get(ME, HTTP_USER_AGENT="Safari").status_code == 200
    row = SignIn.objects.get(user=citizen)
    assert (row.kind, row.client, row.session_key) == (
        "session",
        "Safari",
        client.session.session_key,
    )


def test_a_second_login_in_one_browser_ends_the_first_sign_in(citizen):
    browser = session_client()
    browser.post(LOGIN, {"username": "alice", "password": PASSWORD})
    assert SignIn.objects.filter(user=citizen).count() == 2
    assert SignIn.objects.filter(user=citizen, ended_at__isnull=True).count() == 1


def test_sign_ins_end_keeps_the_one_asked(citizen):
    token_client(), token_client(), session_client()
    keep = SignIn.objects.filter(user=citizen, kind=SignInKind.TOKEN).first()
    assert accounts.sign_ins_end(user=citizen, keep=keep) == 2
    assert list(SignIn.objects.filter(user=citizen, ended_at__isnull=True)) == [keep]
    assert list(AuthToken.objects.filter(user=citizen).values_list("token_key", flat=True)) == [
        keep.token_key
    ]


def test_a_token_expires_90_days_after_it_was_issued_however_often_it_is_used(citizen):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        phone = token_client()
    for days in (30, 60, 89):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            assert phone.get(ME).status_code == 200
    with time_machine.travel(start + timedelta(days=90, seconds=1), tick=False):
        assert phone.get(ME).status_code == 401
        # ...and it is no longer listed among the devices.
        assert accounts.sign_ins_listed(user=citizen).count() == 0


def test_the_device_endpoints_need_credentials(api):
    assert api.get(SESSIONS).status_code == 401
    assert api.post(LOGOUT_ALL).status_code == 401
    assert revoke(api, "00000000-0000-0000-0000-000000000000") == 401
