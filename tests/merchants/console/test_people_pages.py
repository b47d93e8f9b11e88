"""The team page and the invitation link, through the console's pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from merchants.console import members
from merchants.console.models import ConsoleAction
from merchants.models import MemberInvite, Merchant, MerchantMember
from tests.factories import UserFactory
from tests.merchants.console.conftest import MemberMaker

pytestmark = pytest.mark.django_db


def _link_token(html: str) -> str:
    found = re.search(r'id="invite-link">http://testserver/merchant/invite/([^/]+)/<', html)
    assert found is not None
    return found.group(1)


def test_an_owner_invites_and_the_invited_makes_an_account_and_joins(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    owner = member_make(hotel, "owner")
    client = console_client(owner)
    page = client.post("/merchant/team/", {"action": "invite", "role": "front_desk", "note": "Ana"})
    assert page.status_code == 200
    token = _link_token(page.content.decode())

    visitor = Client()
    invitation = visitor.get(f"/merchant/invite/{token}/")
    assert invitation.status_code == 200
    assert hotel.name in invitation.content.decode()
    mismatch = visitor.post(
        f"/merchant/invite/{token}/",
        {
            "action": "register",
            "username": "ana-desk",
            "password": "a-long-enough-secret-42",
            "password_again": "another",
        },
    )
    assert mismatch.status_code == 400
    assert not MerchantMember.objects.filter(user__username="ana-desk").exists()
    joined = visitor.post(
        f"/merchant/invite/{token}/",
        {
            "action": "register",
            "username": "ana-desk",
            "display_name": "Ana",
            "password": "a-long-enough-secret-42",
            "password_again": "a-long-enough-secret-42",
        },
    )
    assert (joined.status_code, joined["Location"]) == (302, "/merchant/")
    member = MerchantMember.objects.get(user__username="ana-desk")
    assert (member.merchant_id, member.role, member.added_by_id) == (
        hotel.pk,
        "front_desk",
        owner.user_id,
    )
    assert visitor.get("/merchant/").status_code == 200
    assert Client().get(f"/merchant/invite/{token}/").status_code == 404


def test_a_signed_in_user_accepts_and_a_member_elsewhere_cannot(
    hotel: Merchant, other_hotel: Merchant, member_make: MemberMaker, console_client
):
    _, token = members.invite_create(merchant=hotel, role="front_desk")
    busy = console_client(member_make(other_hotel, "front_desk"))
    refused = busy.post(f"/merchant/invite/{token}/", {"action": "accept"})
    assert refused.status_code == 409
    assert MemberInvite.objects.get(merchant=hotel).accepted_at is None
    user = UserFactory.create()
    client = Client()
    client.force_login(user)
    accepted = client.post(f"/merchant/invite/{token}/", {"action": "accept"})
    assert accepted.status_code == 302
    assert MerchantMember.objects.get(user=user).role == "front_desk"


def test_a_manager_cannot_invite_a_manager_nor_remove_the_owner(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    owner, manager = member_make(hotel, "owner"), member_make(hotel, "manager")
    client = console_client(manager)
    page = client.get("/merchant/team/").content.decode()
    assert 'value="manager"' not in page  # no such choice offered
    invite = client.post("/merchant/team/", {"action": "invite", "role": "manager"})
    assert invite.status_code == 400
    removal = client.post("/merchant/team/", {"action": "remove", "member": str(owner.pk)})
    assert removal.status_code == 403
    assert MemberInvite.objects.count() == 0
    owner.refresh_from_db()
    assert owner.removed_at is None
    assert ConsoleAction.objects.count() == 0


def test_an_owner_changes_a_role_and_removes_a_member_and_the_last_owner_stays(
    hotel: Merchant, member_make: MemberMaker, console_client
):
    owner, desk = member_make(hotel, "owner"), member_make(hotel, "front_desk")
    client = console_client(owner)
    changed = client.post(
        "/merchant/team/", {"action": "role", "member": desk.pk, "role": "manager"}
    )
    assert changed.status_code == 302
    desk.refresh_from_db()
    assert desk.role == "manager"
    removed = client.post("/merchant/team/", {"action": "remove", "member": desk.pk})
    assert removed.status_code == 302
    desk.refresh_from_db()
    assert desk.removed_at is not None
    second = member_make(hotel, "owner")
    last = console_client(second).post("/merchant/team/", {"action": "remove", "member": owner.pk})
    assert last.status_code == 302  # two owners: one may go
    alone = console_client(second).post(
        "/merchant/team/", {"action": "role", "member": second.pk, "role": "manager"}
    )
    assert alone.status_code == 409
    second.refresh_from_db()
    assert second.role == "owner"
    verbs = sorted(ConsoleAction.objects.values_list("verb", flat=True))
    assert verbs == ["member.remove", "member.remove", "member.role"]


@pytest.mark.parametrize(
    ("accept", "role"), [("zh-CN", "前台"), ("es", "Recepción"), ("en", "Front desk")]
)
def test_roles_are_named_in_the_pages_language(
    hotel: Merchant, member_make: MemberMaker, console_client, accept: str, role: str
):
    owner = member_make(hotel, "owner")
    member_make(hotel, "front_desk")
    page = console_client(owner).get("/merchant/team/", HTTP_ACCEPT_LANGUAGE=accept)
    assert f'<span class="badge badge-front_desk">{role}</span>' in page.content.decode()
