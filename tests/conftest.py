"""Fixtures shared by the whole suite."""

from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import SettlementAccountFactory
from wallet import services
from wallet.models import LedgerAccount, User

PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` need PostgreSQL and those marked ``broker`` a real Celery
    broker; CI runs them all (DATABASE_URL=postgres://…, CELERY_BROKER_URL=redis://…).

    On the embedded defaults they are reported as skipped with the reason, never
    silently passed.
    """
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_postgres = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_broker = pytest.mark.skip(reason="needs a broker: set CELERY_BROKER_URL=redis://...")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_postgres)
        if "broker" in item.keywords and not settings.CELERY_BROKER_URL:
            item.add_marker(skip_broker)


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def citizen(db: None) -> User:
    """A registered citizen with an empty wallet."""
    return services.user_register(username="alice", password=PASSWORD, display_name="Alice Example")


@pytest.fixture
def other_citizen(db: None) -> User:
    return services.user_register(username="bob", password=PASSWORD, display_name="Bob Example")


@pytest.fixture
def settlement(db: None) -> LedgerAccount:
    """A merchant's settlement account."""
    return SettlementAccountFactory()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def citizen_api(citizen: User) -> APIClient:
    """An API client authenticated with the citizen's token (no CSRF needed)."""
    return client_for(citizen)


def client_for(user: User) -> APIClient:
    """An API client authenticated with a new token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {services.auth_token_create(user=user)}")
    return client


@pytest.fixture
def funded(citizen: User) -> Callable[[int], LedgerAccount]:
    """Top up the citizen's wallet by ``amount`` and return the wallet account."""

    def fund(amount: int) -> LedgerAccount:
        services.top_up_create(user=citizen, amount=amount)
        return LedgerAccount.objects.get(user=citizen)

    return fund
