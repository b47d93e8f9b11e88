"""Fixtures of the governance tests: members of staff in each role, and a superuser."""

from collections.abc import Callable

import pytest
from django.test import Client

from governance import services
from wallet import services as wallet_services
from wallet.models import User

STAFF_PASSWORD = "staff-password-123"


@pytest.fixture
def superuser(db: None) -> User:
    return wallet_services.staff_user_ensure(username="root", password=STAFF_PASSWORD)


@pytest.fixture
def member_of(db: None) -> Callable[[str], User]:
    """A member of staff (not a superuser) whose only permissions are a role's."""

    def make(role: str, username: str | None = None) -> User:
        return services.staff_member_ensure(
            username=username or role, password=STAFF_PASSWORD, role=role
        )

    return make


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
