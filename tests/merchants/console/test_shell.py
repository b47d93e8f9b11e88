"""The console's shell: who gets in, and in which language."""

from __future__ import annotations

import pytest
from django.test import Client

from merchants.models import Merchant
from tests.merchants.console.conftest import MemberMaker


@pytest.mark.django_db
def test_a_member_opens_the_console_and_a_stranger_is_sent_to_sign_in(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    # Given a front-desk member
    member = member_make(hotel, "front_desk")
    # When they open the console
    response = console_client(member).get("/merchant/")
    # Then they see their merchant; and someone not signed in is sent to sign in
    assert response.status_code == 200
    assert hotel.name in response.content.decode()
    assert Client().get("/merchant/").status_code == 302


@pytest.mark.django_db
def test_a_manager_without_the_second_factor_is_stopped(hotel: Merchant, member_make: MemberMaker):
    # Given a manager signed in with a password only
    member = member_make(hotel, "manager")
    client = Client()
    client.force_login(member.user)
    # When they open the console
    response = client.get("/merchant/")
    # Then they are sent to the second factor first
    assert response.status_code == 302
    assert response["Location"].startswith("/merchant/otp/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "word"), [("es", "Cambiar"), ("zh-CN", "更改"), ("en", "Change")]
)
def test_the_console_speaks_the_browsers_language_and_the_api_stays_english(
    hotel: Merchant, member_make: MemberMaker, console_client, accept: str, word: str
):
    member = member_make(hotel, "front_desk")
    client = console_client(member)
    page = client.get("/merchant/", HTTP_ACCEPT_LANGUAGE=accept)
    assert word in page.content.decode()
    problem = client.get("/api/v1/merchant/bookings", HTTP_ACCEPT_LANGUAGE=accept)
    assert "credentials" in problem.json()["detail"].lower()
