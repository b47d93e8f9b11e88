"""A member of staff who is not a superuser cannot raise their own powers or anyone
else's: not through the user pages (the privilege fields are read-only and a forged
POST changes nothing), not by editing a staff or superuser account, not through the
Group admin, and not by adding a two-factor device to someone else's account.

The attacker here is given more than any role has (``wallet.change_user``,
``auth.change_group``, the device permissions), to show that the refusals do not rest
on the roles' least privilege alone."""

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance import services as governance_services
from wallet import services as wallet_services
from wallet.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "staff-password-123"


def permissions(*names: str) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


@pytest.fixture
def root(db: None) -> User:
    return wallet_services.staff_user_ensure(username="root", password=PASSWORD)


@pytest.fixture
def mallory(db: None) -> User:
    """A support member who was also given the user, group and device permissions."""
    user = governance_services.staff_member_ensure(
        username="mallory", password=PASSWORD, role="support"
    )
    user.user_permissions.set(
        permissions(
            "wallet.view_user",
            "wallet.change_user",
            "wallet.add_user",
            "wallet.delete_user",
            "auth.view_group",
            "auth.change_group",
            "auth.add_group",
            "otp_totp.view_totpdevice",
            "otp_totp.add_totpdevice",
            "otp_totp.change_totpdevice",
        )
    )
    return User.objects.get(pk=user.pk)  # no cached permissions


@pytest.fixture
def as_mallory(mallory: User) -> Client:
    client = Client()
    client.force_login(mallory)
    return client


def user_change_url(user: User) -> str:
    return reverse("admin:wallet_user_change", args=[user.pk])


def change_form_data(client: Client, url: str) -> dict[str, Any]:
    """What the change page's form would POST back unchanged."""
    response = client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        elif value is not None:
            data[name] = value
    return data


def privileges(user: User) -> tuple[bool, bool, list[str], list[str]]:
    user = User.objects.get(pk=user.pk)
    return (
        user.is_staff,
        user.is_superuser,
        sorted(user.groups.values_list("name", flat=True)),
        sorted(user.user_permissions.values_list("codename", flat=True)),
    )


FORGED = {
    "is_staff": "on",
    "is_superuser": "on",
    "groups": ["risk_approver"],
    "user_permissions": ["change_group"],
}


def forged(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every privilege field set, by group and permission id."""
    return {
        **data,
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [str(Group.objects.get(name="risk_approver").pk)],
        "user_permissions": [str(permissions("auth.change_group")[0].pk)],
    }


def test_the_privilege_fields_are_read_only_for_a_non_superuser(as_mallory, citizen):
    response = as_mallory.get(user_change_url(citizen))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert {"is_staff", "is_superuser", "groups", "user_permissions"}.isdisjoint(form.fields)
    assert "display_name" in form.fields


def test_a_forged_post_grants_a_citizen_nothing(as_mallory, citizen):
    # Given the citizen's change page as the non-superuser sees it
    url = user_change_url(citizen)
    data = change_form_data(as_mallory, url)
    before = privileges(citizen)
    # When they POST it back with every privilege field set, and a new display name
    response = as_mallory.post(url, {**forged(data), "display_name": "Alice E."})
    # Then the display name changed and no privilege did
    assert response.status_code == 302
    assert User.objects.get(pk=citizen.pk).display_name == "Alice E."
    assert privileges(citizen) == before == (False, False, [], [])


def test_a_non_superuser_cannot_change_their_own_account(as_mallory, mallory, root):
    # Their own page, built by a superuser's form (which has the privilege fields)
    root_client = Client()
    root_client.force_login(root)
    data = change_form_data(root_client, user_change_url(mallory))
    before = privileges(mallory)
    response = as_mallory.post(user_change_url(mallory), forged(data))
    assert response.status_code == 403
    assert privileges(mallory) == before
    assert before[:2] == (True, False)


@pytest.mark.parametrize("target", ["root", "peer"])
def test_a_non_superuser_cannot_change_delete_or_set_the_password_of_staff(
    as_mallory, root, target
):
    victim = (
        root
        if target == "root"
        else governance_services.staff_member_ensure(
            username="peer", password=PASSWORD, role="risk_approver"
        )
    )
    password = User.objects.get(pk=victim.pk).password
    before = privileges(victim)
    change = as_mallory.post(user_change_url(victim), {"username": "owned", "is_active": "on"})
    new_password = as_mallory.post(
        reverse("admin:auth_user_password_change", args=[victim.pk]),
        {"password1": "Owned-password-1", "password2": "Owned-password-1"},
    )
    delete = as_mallory.post(reverse("admin:wallet_user_delete", args=[victim.pk]), {"post": "yes"})
    assert (change.status_code, new_password.status_code, delete.status_code) == (403, 403, 403)
    victim = User.objects.get(pk=victim.pk)
    assert (victim.username, victim.password) == (
        "root" if target == "root" else "peer",
        password,
    )
    assert privileges(victim) == before


def test_a_non_superuser_cannot_add_a_staff_account(as_mallory):
    response = as_mallory.post(
        reverse("admin:wallet_user_add"),
        {
            "username": "sleeper",
            "password1": "Sleeper-password-1",
            "password2": "Sleeper-password-1",
            "usable_password": "true",
            **FORGED,
        },
    )
    # The add form has no privilege fields: the account is made, powerless
    assert response.status_code == 302
    assert privileges(User.objects.get(username="sleeper")) == (False, False, [], [])


def test_the_group_admin_answers_superusers_only(as_mallory, mallory):
    support = Group.objects.get(name="support")
    before = sorted(support.permissions.values_list("pk", flat=True))
    pages = [
        as_mallory.get(reverse("admin:auth_group_changelist")),
        as_mallory.get(reverse("admin:auth_group_add")),
        as_mallory.post(
            reverse("admin:auth_group_change", args=[support.pk]),
            {"name": "support", "permissions": [str(p.pk) for p in Permission.objects.all()]},
        ),
        as_mallory.post(reverse("admin:auth_group_add"), {"name": "mine"}),
    ]
    assert [page.status_code for page in pages] == [403, 403, 403, 403]
    assert sorted(support.permissions.values_list("pk", flat=True)) == before
    assert not Group.objects.filter(name="mine").exists()
    assert not User.objects.get(pk=mallory.pk).has_perm("scoring.approve_scorecard")


def test_a_non_superuser_cannot_give_someone_elses_account_a_device(as_mallory, root):
    response = as_mallory.post(
        reverse("admin:otp_totp_totpdevice_add"),
        {"user": str(root.pk), "name": "mine", "key": "3132333435363738393031323334353637383930"},
    )
    assert response.status_code == 403
    assert not TOTPDevice.objects.filter(user=root).exists()


def test_a_superuser_can_grant_what_others_cannot(root, citizen):
    # The positive control: the same forged POST, from a superuser, does grant
    client = Client()
    client.force_login(root)
    url = user_change_url(citizen)
    data = change_form_data(client, url)
    response = client.post(
        url,
        {
            **data,
            "is_staff": "on",
            "groups": [str(Group.objects.get(name="support").pk)],
        },
    )
    assert response.status_code == 302
    assert privileges(citizen) == (True, False, ["support"], [])
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200


def test_the_identity_level_actions_need_the_change_permission(citizen):
    # A support member (view only on users) does not get the bulk identity-level action
    supporter = governance_services.staff_member_ensure(
        username="support", password=PASSWORD, role="support"
    )
    client = Client()
    client.force_login(supporter)
    response = client.post(
        reverse("admin:wallet_user_changelist"),
        {"action": "set_level_document", "_selected_action": [str(citizen.pk)]},
    )
    # The list comes back without the action: it is not offered, and nothing changed
    assert response.status_code == 200
    assert b"set_level_document" not in response.content
    assert User.objects.get(pk=citizen.pk).identity_level == 0
