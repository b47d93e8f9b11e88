"""Signing in to the console: the password through ``authenticate`` (axes counts and
locks), then the TOTP code for owners and managers, or their first enrolment."""

from __future__ import annotations

import base64
import re

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.console.models import ConsoleAction, WebhookEndpoint
from merchants.models import Merchant
from tests.merchants.console.conftest import MemberMaker

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def totp_now(device: TOTPDevice) -> str:
    """The code an authenticator app shows now for the device."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_a_front_desk_member_signs_in_with_a_password(hotel: Merchant, member_make: MemberMaker):
    member = member_make(hotel, "front_desk")
    client = Client()
    page = client.get("/merchant/login/")
    assert page.status_code == 200
    assert "script-src 'self'" in page["Content-Security-Policy"]
    response = client.post(
        "/merchant/login/",
        {"username": member.user.username, "password": PASSWORD, "next": "/merchant/team/"},
    )
    assert (response.status_code, response["Location"]) == (302, "/merchant/team/")
    assert client.get("/merchant/").status_code == 200


def test_a_wrong_password_is_a_form_error_and_a_foreign_next_is_ignored(
    hotel: Merchant, member_make: MemberMaker
):
    member = member_make(hotel, "front_desk")
    client = Client()
    wrong = client.post("/merchant/login/", {"username": member.user.username, "password": "x"})
    assert wrong.status_code == 400
    assert "not right" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    response = client.post(
        "/merchant/login/",
        {"username": member.user.username, "password": PASSWORD, "next": "https://evil.test/"},
    )
    assert response["Location"] == "/merchant/"


def test_repeated_failures_lock_the_account_out(
    hotel: Merchant, member_make: MemberMaker, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    member = member_make(hotel, "front_desk")
    client = Client()
    for _ in range(3):
        client.post("/merchant/login/", {"username": member.user.username, "password": "x"})
    locked = client.post(
        "/merchant/login/", {"username": member.user.username, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_manager_passes_the_code_of_their_device(
    hotel: Merchant, member_make: MemberMaker, time_machine
):
    time_machine.move_to("2026-03-01T10:00:00Z", tick=False)
    member = member_make(hotel, "manager")
    device = TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)
    client = Client()
    signed = client.post(
        "/merchant/login/",
        {"username": member.user.username, "password": PASSWORD, "next": "/merchant/keys/"},
    )
    assert signed["Location"] == "/merchant/otp/?next=/merchant/keys/"
    assert client.get("/merchant/keys/").status_code == 302
    wrong = client.post("/merchant/otp/?next=/merchant/keys/", {"code": "000000"})
    assert wrong.status_code == 400
    assert client.get("/merchant/keys/").status_code == 302
    time_machine.shift(5)  # django-otp's throttling waits after a failure
    right = client.post("/merchant/otp/", {"code": totp_now(device), "next": "/merchant/keys/"})
    assert (right.status_code, right["Location"]) == (302, "/merchant/keys/")
    assert client.get("/merchant/keys/").status_code == 200


def test_an_owner_without_a_device_enrols_one_with_a_qr_code(
    hotel: Merchant, member_make: MemberMaker, time_machine
):
    time_machine.move_to("2026-03-01T10:00:00Z", tick=False)
    member = member_make(hotel, "owner")
    client = Client()
    client.force_login(member.user)
    page = client.get("/merchant/otp/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    device = TOTPDevice.objects.get(user=member.user)
    assert device.confirmed is False
    assert client.get("/merchant/otp/").status_code == 200
    assert TOTPDevice.objects.filter(user=member.user).count() == 1  # the same QR again
    shown = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', html)
    assert shown is not None
    key = shown.group(1).replace(" ", "")
    assert base64.b32decode(key + "=" * (-len(key) % 8)) == device.bin_key

    wrong = client.post("/merchant/otp/", {"code": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert device.confirmed is False
    assert ConsoleAction.objects.count() == 0

    time_machine.shift(5)  # django-otp's throttling waits after a failure
    right = client.post("/merchant/otp/", {"code": totp_now(device)})
    assert (right.status_code, right["Location"]) == (302, "/merchant/")
    device.refresh_from_db()
    assert device.confirmed is True
    assert list(ConsoleAction.objects.values_list("verb", flat=True)) == ["otp.enrol"]
    assert client.get("/merchant/").status_code == 200


def test_sign_out_is_a_post(hotel: Merchant, member_make: MemberMaker, console_client):
    client = console_client(member_make(hotel, "front_desk"))
    assert client.get("/merchant/logout/").status_code == 405
    assert client.post("/merchant/logout/")["Location"] == "/merchant/login/"
    assert client.get("/merchant/").status_code == 302


def test_home_tells_a_manager_of_a_disabled_endpoint(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    WebhookEndpoint.objects.create(
        merchant=hotel,
        url="https://hooks.example.com/in",
        events=["claim.paid"],
        secret="whsec_x",
        created_at=timezone.now(),
        disabled_at=timezone.now(),
        disabled_reason="gone",
    )
    manager_page = console_client(member_make(hotel, "manager")).get("/merchant/")
    desk_page = console_client(member_make(hotel, "front_desk")).get("/merchant/")
    assert "https://hooks.example.com/in" in manager_page.content.decode()
    assert "https://hooks.example.com/in" not in desk_page.content.decode()
