"""Staff and the console's people: the first owner's invitation is made in the admin
(the link shown once), members are read there, and every console form needs CSRF."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import MemberInvite, Merchant
from tests.merchants.console.conftest import MemberMaker

pytestmark = pytest.mark.django_db


def test_staff_make_the_first_owners_link_and_it_makes_an_owner(
    admin_client: Client, admin_user, hotel: Merchant
):
    response = admin_client.post(
        "/admin/merchants/memberinvite/add/",
        {"merchant": hotel.pk, "role": "owner", "note": "Mr Lee"},
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    link = re.search(r"http://testserver(/merchant/invite/[^/]+/)", " ".join(shown))
    assert link is not None
    invite = MemberInvite.objects.get(merchant=hotel)
    assert (invite.role, invite.note, invite.created_by_id) == ("owner", "Mr Lee", admin_user.pk)
    assert Client().get(link.group(1)).status_code == 200


def test_staff_cannot_invite_a_role_the_category_has_not(admin_client: Client, hotel: Merchant):
    response = admin_client.post(
        "/admin/merchants/memberinvite/add/",
        {"merchant": hotel.pk, "role": "billing_clerk", "note": ""},
    )
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert MemberInvite.objects.count() == 0


def test_the_members_list_and_a_members_history_open_in_the_admin(
    admin_client: Client, hotel: Merchant, member_make: MemberMaker
):
    member = member_make(hotel, "front_desk")
    listing = admin_client.get("/admin/merchants/merchantmember/")
    assert listing.status_code == 200
    assert str(member.user) in listing.content.decode()
    assert (
        admin_client.get(f"/admin/merchants/merchantmember/{member.pk}/change/").status_code == 200
    )
    assert (
        admin_client.get(f"/admin/merchants/merchantmember/{member.pk}/history/").status_code == 200
    )


def test_a_console_form_without_its_csrf_token_is_refused(
    hotel: Merchant, member_make: MemberMaker
):
    member = member_make(hotel, "front_desk")
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    response = client.post("/merchant/logout/")
    assert response.status_code == 403
    assert client.get("/merchant/").status_code == 200


def test_staff_reset_a_lost_second_factor(
    admin_client: Client, hotel: Merchant, member_make: MemberMaker
):
    manager, other = member_make(hotel, "manager"), member_make(hotel, "owner")
    TOTPDevice.objects.create(user=manager.user, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=other.user, name="phone", confirmed=True)
    admin_client.post(
        "/admin/merchants/merchantmember/",
        {"action": "second_factor_reset", "_selected_action": [str(manager.pk)]},
    )
    assert list(TOTPDevice.objects.values_list("user_id", flat=True)) == [other.user_id]
