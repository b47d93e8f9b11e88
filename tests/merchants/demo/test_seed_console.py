"""The demo's console users: printed with their password and the owner's and manager's
TOTP URIs, with which they sign in; a second run keeps the devices."""

from __future__ import annotations

import base64
import re
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import TOTP

from merchants.demo.console import DEMO_CONSOLE_PASSWORD
from merchants.models import MerchantMember

pytestmark = pytest.mark.django_db(transaction=False)


def _seed() -> list[str]:
    out = StringIO()
    call_command("seed_demo", "--accounts", "0", stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def _code(uri: str) -> str:
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, step=30, t0=0, digits=6).token():06d}"


def test_the_printed_console_users_sign_in(settings: Any, time_machine) -> None:
    settings.DEBUG = True
    time_machine.move_to("2026-11-30T10:00:00Z", tick=False)
    lines = _seed()
    console = next(line for line in lines if line.startswith("Merchant console:"))
    assert f"'{DEMO_CONSOLE_PASSWORD}'" in console
    for name in ("hotel-owner", "hotel-manager", "hotel-desk", "biller-clerk"):
        assert f"'{name}'" in console
    uris = dict(
        re.findall(r"^(hotel-owner|hotel-manager) TOTP: (otpauth://\S+)$", "\n".join(lines), re.M)
    )
    assert set(uris) == {"hotel-owner", "hotel-manager"}
    roles = dict(
        MerchantMember.objects.filter(
            removed_at__isnull=True,
            user__username__in=["hotel-owner", "hotel-manager", "hotel-desk", "biller-clerk"],
        ).values_list("user__username", "role")
    )
    assert roles == {
        "hotel-owner": "owner",
        "hotel-manager": "manager",
        "hotel-desk": "front_desk",
        "biller-clerk": "billing_clerk",
    }

    client = Client()
    signed = client.post(
        "/merchant/login/", {"username": "hotel-owner", "password": DEMO_CONSOLE_PASSWORD}
    )
    assert signed["Location"] == "/merchant/otp/?next=/merchant/"
    verified = client.post("/merchant/otp/", {"code": _code(uris["hotel-owner"])})
    assert verified["Location"] == "/merchant/"
    assert client.get("/merchant/team/").status_code == 200

    again = "\n".join(_seed())
    assert f"hotel-owner TOTP: {uris['hotel-owner']}" in again
