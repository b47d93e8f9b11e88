"""Fixtures shared by the whole suite."""

import importlib
import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from common.config_cache import config_cache
from tests.factories import SettlementAccountFactory
from tests.money import top_up_paid
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


@pytest.fixture(scope="session", autouse=True)
def _clock_shift() -> Iterator[None]:
    """``TEST_CLOCK_SHIFT_DAYS=365 make test`` runs the whole suite with the clock that
    many days ahead (or behind, if negative), ticking: no test may depend on the date it
    runs on, and this is how that is checked. Tests that pin time still pin it."""
    days = int(os.environ.get("TEST_CLOCK_SHIFT_DAYS") or 0)
    if not days:
        yield
        return
    with time_machine.travel(timezone.now() + timedelta(days=days), tick=True):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The test database as migrations made it, but for the system's draft of scorecard
    version 2 (scoring's migration 0016), set aside: tests write their own drafts and
    expect the first to be version 2. Tests of that draft make it again
    (``tests/scoring/test_scorecard_v2.py``)."""
    v2_draft = importlib.import_module("scoring.migrations.0016_scorecard_v2_draft")
    from scoring.models import Scorecard

    with django_db_blocker.unblock():
        Scorecard.objects.filter(name=v2_draft.NAME, status="draft").delete()


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
    return SettlementAccountFactory.create()


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
        top_up_paid(citizen, amount)
        return LedgerAccount.objects.get(user=citizen)

    return fund


@pytest.fixture
def travel() -> Iterator[Callable[[timedelta], None]]:
    """Time travel: ``travel(timedelta(days=30))`` moves Python's clock forward (and
    keeps it ticking) until the test ends. The database's own clock is never used."""
    travellers: list[time_machine.travel] = []

    def to(offset: timedelta) -> None:
        traveller = time_machine.travel(timezone.now() + offset, tick=True)
        traveller.start()
        travellers.append(traveller)

    yield to
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> None:
    """Each test starts with nothing in the process's memory of perks and scorecards
    (``common.config_cache``), as a newly started process does."""
    config_cache.clear()


@pytest.fixture(autouse=True)
def _default_scorecard_after_flush(request: pytest.FixtureRequest) -> None:
    """Transactional tests empty every table afterwards, the migrated default scorecard
    included; put it back for them (other tests roll back and keep it)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from scoring.models import Scorecard, ScorecardStatus

    if not Scorecard.objects.filter(status=ScorecardStatus.ACTIVE).exists():
        migration = importlib.import_module("scoring.migrations.0002_default_scorecard_and_guards")
        Scorecard.objects.create(
            version=1,
            name="Reliability v1",
            status=ScorecardStatus.ACTIVE,
            definition=migration.DEFAULT_V1,
        )
