"""Data migrations of scoring, run on rows written at the schema they start from."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from scoring import selectors, services
from scoring.fingerprint import snapshot_fingerprint
from scoring.models import AccessLogEntry, ScoreSnapshot
from scoring.scorecard import Scorecard as CompiledScorecard
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


BEFORE_DIGEST = [("scoring", "0005_access_log_purpose_text_rendered")]


def test_stored_fingerprints_are_recomputed_so_an_unchanged_score_writes_nothing() -> None:
    # Given an account's snapshot written at the old head, fingerprinted with hash()
    citizen = User.objects.create_user(username="old-timer", password="unused-password-1")
    old = migrate(BEFORE_DIGEST).loader.project_state(BEFORE_DIGEST).apps
    at = timezone.now()
    scorecard = old.get_model("scoring", "Scorecard").objects.get(status="active")
    card = CompiledScorecard.from_definition(scorecard.definition)
    ((_, features),) = selectors.features_for_accounts(
        first_id=citizen.pk, last_id=citizen.pk, at=at
    )
    points = card.points(features)
    result = card.result_for(points, thin_file=features.is_thin_file)
    old.get_model("scoring", "ScoreSnapshot").objects.create(
        account_id=citizen.pk,
        scorecard_id=scorecard.pk,
        score=result.score,
        band=result.band,
        points=dict(zip(card.factor_keys, points, strict=True)),
        reasons=[[reason.code, reason.points_lost] for reason in result.reasons],
        features=features.as_dict(),
        fingerprint=hash((scorecard.pk, points, features[:1] + features[2:])),
        trigger="initial",
        computed_at=at,
    )
    # When the database is migrated, and the account's score recomputed
    migrate(latest())
    snapshot = ScoreSnapshot.objects.get(account=citizen)
    assert snapshot.fingerprint == snapshot_fingerprint(
        scorecard_id=scorecard.pk, points=snapshot.points, features=snapshot.features
    )
    written = services.score_recompute(account_id=citizen.pk, trigger="nightly", at=at)
    # Then the unchanged score wrote no second snapshot
    assert written is False
    assert ScoreSnapshot.objects.filter(account=citizen).count() == 1
