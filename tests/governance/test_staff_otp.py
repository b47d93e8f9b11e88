"""Two-factor login for staff: with ``STAFF_OTP_REQUIRED`` the admin wants a TOTP code
from the member's enrolled device beside the password; ``staff_otp_enrol`` enrols one;
``seed_demo`` enrols the demo's admin and prints its URI."""

import time
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance import services
from tests.governance.conftest import STAFF_PASSWORD
from wallet import services as wallet_services
from wallet.models import User

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/?next=/admin/"


@pytest.fixture
def otp_required(settings):
    settings.STAFF_OTP_REQUIRED = True


@pytest.fixture
def staff(db: None) -> User:
    return wallet_services.staff_user_ensure(username="root", password=STAFF_PASSWORD)


def token_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(*args: str) -> str:
    out = StringIO()
    call_command("staff_otp_enrol", *args, stdout=out)
    return out.getvalue().strip()


def test_enrol_prints_the_otpauth_uri_of_a_confirmed_device(staff):
    line = enrol("root")
    device = TOTPDevice.objects.get(user=staff)
    assert device.confirmed
    prefix, uri = line.split(": ", 1)
    assert prefix == "root TOTP"
    assert uri == device.config_url
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/Open%20Sesame%3Aroot")
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Open Sesame"]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
    assert len(query["secret"][0]) == 32


def test_enrolling_again_needs_replace_and_then_the_old_device_stops_working(staff):
    enrol("root")
    old = TOTPDevice.objects.get(user=staff)
    with pytest.raises(CommandError, match="already has a two-factor device"):
        enrol("root")
    assert list(TOTPDevice.objects.filter(user=staff)) == [old]
    assert TOTPDevice.objects.get(pk=old.pk).key == old.key
    enrol("root", "--replace")
    new = TOTPDevice.objects.get(user=staff)
    assert new.pk != old.pk
    assert new.key != old.key


def test_only_staff_accounts_are_enrolled(citizen):
    with pytest.raises(CommandError, match="alice: Only staff accounts"):
        enrol("alice")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        enrol("nobody")
    assert not TOTPDevice.objects.exists()


def test_with_otp_required_a_password_alone_does_not_open_the_admin(otp_required, staff):
    services.staff_otp_enrol(user=staff)
    client = Client()
    response = client.post(LOGIN_URL, {"username": "root", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["__all__"][0].startswith("Please enter your OTP")
    assert client.get("/admin/").status_code == 302


def test_with_otp_required_a_wrong_code_does_not_open_the_admin(otp_required, staff):
    device = services.staff_otp_enrol(user=staff)
    wrong = f"{(int(token_of(device)) + 1) % 1_000_000:06d}"
    client = Client()
    response = client.post(
        LOGIN_URL, {"username": "root", "password": STAFF_PASSWORD, "otp_token": wrong}
    )
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_with_otp_required_the_password_and_a_valid_code_open_the_admin(otp_required, staff):
    device = services.staff_otp_enrol(user=staff)
    client = Client()
    response = client.post(
        LOGIN_URL,
        {"username": "root", "password": STAFF_PASSWORD, "otp_token": token_of(device)},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_with_otp_required_a_staff_member_without_a_device_cannot_sign_in(otp_required, staff):
    client = Client()
    response = client.post(
        LOGIN_URL, {"username": "root", "password": STAFF_PASSWORD, "otp_token": "123456"}
    )
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_with_otp_required_a_session_signed_in_elsewhere_is_not_enough(otp_required, staff):
    # A session made by the app's password login (no second factor) does not reach the
    # admin: the admin asks for the code
    services.staff_otp_enrol(user=staff)
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    login_page = client.get(LOGIN_URL)
    assert b'name="otp_token"' in login_page.content


def test_without_otp_required_the_password_is_enough(settings, staff):
    settings.STAFF_OTP_REQUIRED = False
    client = Client()
    response = client.post(LOGIN_URL, {"username": "root", "password": STAFF_PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert b'name="otp_token"' not in Client().get(LOGIN_URL).content


def test_seed_demo_enrols_the_admin_once_and_makes_a_member_of_each_role(settings):
    settings.DEBUG = True  # as `make demo` runs it; with DEBUG=0 the command refuses
    first, second = StringIO(), StringIO()
    call_command("seed_demo", "--accounts", "0", stdout=first, stderr=StringIO())
    call_command("seed_demo", "--accounts", "0", stdout=second, stderr=StringIO())
    admin = User.objects.get(username="admin")
    device = TOTPDevice.objects.get(user=admin)
    printed = [line for line in first.getvalue().splitlines() if line.startswith("admin TOTP: ")]
    assert printed == [f"admin TOTP: {device.config_url}"]
    # A second run keeps the device (an authenticator app that scanned it keeps working)
    assert f"admin TOTP: {device.config_url}" in second.getvalue().splitlines()
    members = {
        user.username: (user.is_staff, user.is_superuser, [g.name for g in user.groups.all()])
        for user in User.objects.filter(username__in=["support", "analyst", "approver", "ops"])
    }
    assert members == {
        "support": (True, False, ["support"]),
        "analyst": (True, False, ["risk_analyst"]),
        "approver": (True, False, ["risk_approver"]),
        "ops": (True, False, ["merchant_ops"]),
    }
    assert all(
        User.objects.get(username=name).check_password("open-sesame-admin") for name in members
    )
