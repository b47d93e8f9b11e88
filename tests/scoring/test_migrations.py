"""Data migrations of scoring, run on rows written at the schema they start from."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from scoring.models import AccessLogEntry
from wallet.models import User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE_TYPED_PURPOSE = [("scoring", "0002_default_scorecard_and_guards")]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_the_access_logs_old_sentences_become_typed_purposes() -> None:
    # Given access-log rows written at the old head, as the services wrote them then
    citizen = User.objects.create_user(username="old-timer", password="unused-password-1")
    old = migrate(BEFORE_TYPED_PURPOSE).loader.project_state(BEFORE_TYPED_PURPOSE).apps
    OldEntry = old.get_model("scoring", "AccessLogEntry")
    sentences = [
        "Deposit waiver of 1,234.56 CNY",
        "Deposit waiver of 500.00 JPY",  # the old formatter: 50000 minor units, 2 decimals
        "Deposit waiver of 0.00 CNY",
        "support_review",
        "bench limit",
    ]
    for index, purpose in enumerate(sentences):
        OldEntry.objects.create(
            citizen_id=citizen.pk,
            accessor_kind="merchant",
            accessor_id=str(index),
            accessor_name="Harbour Hotel",
            purpose=purpose,
            facts=["score"],
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    # When the database is migrated to the latest schema
    migrate(latest())
    # Then each row has its code, amount and currency, and reads as before
    rows = AccessLogEntry.objects.order_by("accessor_id")
    assert [
        (row.purpose_code, row.amount, row.currency, row.purpose_note, row.purpose) for row in rows
    ] == [
        ("deposit_waiver", 123456, "CNY", "", "Deposit waiver of 1,234.56 CNY"),
        ("deposit_waiver", 50000, "JPY", "", "Deposit waiver of 50,000 JPY"),
        ("deposit_waiver", 0, "CNY", "", "Deposit waiver of 0.00 CNY"),
        ("support_review", None, "", "", "support_review"),
        ("other", None, "", "bench limit", "bench limit"),
    ]
