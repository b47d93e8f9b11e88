"""Console fixtures: members of the test merchants in each role, and a browser-less
client signed in as one (past the second factor when the role needs it). The browser
fixtures are the citizen app's (``tests/client/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import ROLES_WITH_SECOND_FACTOR, Merchant, MerchantMember
from tests.client.conftest import (  # noqa: F401 - fixtures shared with the citizen app's tests
    accessible,
    axe,
    browser,
    phone_factory,
    playwright,
    screenshots,
)
from tests.factories import UserFactory

MemberMaker = Callable[..., MerchantMember]


@pytest.fixture
def member_make(db: None) -> MemberMaker:
    """``member_make(merchant, role, username=None)``: a new user, member in ``role``."""

    def make(merchant: Merchant, role: str, username: str | None = None) -> MerchantMember:
        user = UserFactory.create(**({"username": username} if username else {}))
        return MerchantMember.objects.create(
            merchant=merchant, user=user, role=role, created_at=timezone.now()
        )

    return make


def second_factor_pass(client: Client, member: MerchantMember) -> TOTPDevice:
    """Mark the client's session as verified by a TOTP device of the member (made if
    missing), as django-otp's ``login`` does after a right code."""
    device = TOTPDevice.objects.filter(user=member.user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def console_client() -> Callable[[MerchantMember], Client]:
    """``console_client(member)``: a test client signed in as the member."""

    def make(member: MerchantMember) -> Client:
        client = Client()
        client.force_login(member.user)
        if member.role in ROLES_WITH_SECOND_FACTOR:
            second_factor_pass(client, member)
        return client

    return make
