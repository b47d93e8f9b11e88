"""Staff members with exactly the permissions a role gives, for the security suite."""

from django.contrib.auth.models import Permission
from django.test import Client

from wallet.models import User

STAFF_PASSWORD = "staff-password-correct-horse"


def staff_with(username: str, *permissions: str) -> User:
    """An active staff member (not a superuser) with these ``app_label.codename``
    permissions and no others."""
    user = User.objects.create_user(username=username, password=STAFF_PASSWORD, is_staff=True)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)  # without the permission cache


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
