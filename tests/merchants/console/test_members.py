"""The members' rules: invitations (one-time, expiring, revocable), roles valid for the
category, who manages whom, and the last owner who stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from merchants.console import members
from merchants.console.models import ConsoleAction
from merchants.errors import NotFound
from merchants.models import MemberInvite, Merchant, MerchantMember
from tests.factories import UserFactory
from tests.merchants.console.conftest import MemberMaker

pytestmark = pytest.mark.django_db


def _state(merchant: Merchant) -> tuple[list[tuple[str, str, bool]], int, int]:
    rows = MerchantMember.objects.filter(merchant=merchant).order_by("created_at")
    return (
        [(str(m.user_id), m.role, m.removed_at is None) for m in rows],
        MemberInvite.objects.filter(merchant=merchant, accepted_at__isnull=False).count(),
        ConsoleAction.objects.filter(merchant=merchant).count(),
    )


def test_an_invitation_makes_a_member_once_and_records_it(
    hotel: Merchant, member_make: MemberMaker
):
    owner = member_make(hotel, "owner")
    invite, token = members.invite_create(merchant=hotel, role="front_desk", note="Ana", by=owner)
    assert invite.expires_at - invite.created_at == timedelta(days=7)
    assert token not in invite.digest
    assert len(invite.digest) == 64
    user = UserFactory.create()

    member = members.invite_accept(token=token, user=user)

    assert (member.merchant_id, member.user_id, member.role) == (hotel.pk, user.pk, "front_desk")
    assert member.added_by_id == owner.user_id
    invite.refresh_from_db()
    assert invite.accepted_by_id == user.pk
    verbs = list(ConsoleAction.objects.filter(merchant=hotel).values_list("verb", flat=True))
    assert verbs == ["invite.accept", "invite.create"]
    before = _state(hotel)
    with pytest.raises(members.InviteInvalid):
        members.invite_accept(token=token, user=UserFactory.create())
    assert _state(hotel) == before


def test_an_expired_or_revoked_invitation_is_refused(
    hotel: Merchant, member_make: MemberMaker, time_machine
):
    owner = member_make(hotel, "owner")
    time_machine.move_to("2026-03-01T10:00:00Z", tick=False)
    _, old = members.invite_create(merchant=hotel, role="manager", by=owner)
    invite, revoked = members.invite_create(merchant=hotel, role="front_desk", by=owner)
    members.invite_revoke(merchant=hotel, invite_id=invite.pk, by=owner)
    time_machine.move_to("2026-03-08T10:00:01Z", tick=False)
    before = _state(hotel)
    for token in (old, revoked, "nonsense"):
        with pytest.raises(members.InviteInvalid):
            members.invite_accept(token=token, user=UserFactory.create())
    assert _state(hotel) == before


def test_roles_follow_the_category_and_who_manages_whom(
    hotel: Merchant, biller: Merchant, member_make: MemberMaker
):
    owner, manager = member_make(hotel, "owner"), member_make(hotel, "manager")
    assert members.roles_assignable(by=owner) == ["owner", "manager", "front_desk"]
    assert members.roles_assignable(by=manager) == ["front_desk"]
    assert members.roles_assignable(by=member_make(biller, "manager")) == ["billing_clerk"]
    before = _state(hotel)
    with pytest.raises(members.RoleInvalid):
        members.invite_create(merchant=hotel, role="billing_clerk", by=owner)
    with pytest.raises(members.RoleNotManageable):
        members.invite_create(merchant=hotel, role="manager", by=manager)
    with pytest.raises(members.RoleNotManageable):
        members.member_remove(merchant=hotel, member_id=owner.pk, by=manager)
    with pytest.raises(members.RoleNotManageable):
        members.member_role_set(merchant=hotel, member_id=owner.pk, role="front_desk", by=manager)
    assert _state(hotel) == before


def test_the_last_owner_stays(hotel: Merchant, member_make: MemberMaker):
    owner = member_make(hotel, "owner")
    before = _state(hotel)
    with pytest.raises(members.LastOwner):
        members.member_remove(merchant=hotel, member_id=owner.pk, by=owner)
    with pytest.raises(members.LastOwner):
        members.member_role_set(merchant=hotel, member_id=owner.pk, role="manager", by=owner)
    assert _state(hotel) == before
    second = member_make(hotel, "owner")
    members.member_role_set(merchant=hotel, member_id=owner.pk, role="manager", by=second)
    removed = members.member_remove(merchant=hotel, member_id=owner.pk, by=second)
    assert removed.removed_by_id == second.user_id
    assert [m.pk for m in members.members_of(merchant=hotel)] == [second.pk]


def test_another_merchants_member_or_invite_is_not_found(
    hotel: Merchant, other_hotel: Merchant, member_make: MemberMaker
):
    owner, stranger = member_make(hotel, "owner"), member_make(other_hotel, "front_desk")
    other_owner = member_make(other_hotel, "owner")
    invite, _ = members.invite_create(merchant=other_hotel, role="front_desk", by=other_owner)
    before = _state(other_hotel)
    with pytest.raises(NotFound):
        members.member_remove(merchant=hotel, member_id=stranger.pk, by=owner)
    with pytest.raises(NotFound):
        members.invite_revoke(merchant=hotel, invite_id=invite.pk, by=owner)
    assert _state(other_hotel) == before


def test_a_user_works_for_one_merchant_at_a_time(
    hotel: Merchant, other_hotel: Merchant, member_make: MemberMaker
):
    busy = member_make(other_hotel, "front_desk")
    _, token = members.invite_create(merchant=hotel, role="front_desk")
    before = _state(hotel)
    with pytest.raises(members.AlreadyMember):
        members.invite_accept(token=token, user=busy.user)
    with pytest.raises(members.AlreadyMember):
        members.member_add(merchant=hotel, user=busy.user, role="front_desk")
    assert _state(hotel) == before
    assert members.invite_open_by_token(token=token) is not None
    assert timezone.now() < members.invite_open_by_token(token=token).expires_at  # type: ignore[union-attr]
