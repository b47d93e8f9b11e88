"""Disputes gained an explicit ``resolution`` (``staff`` or ``automatic``): the data
migrations fill it from what each row already said, on both dispute tables.

The test takes scoring and perks back to the migration before the column, writes a
dispute of every kind with the models as they were then, migrates forward to today's
head and reads each back through today's models, then shows that the constraints added
after the fill hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import ClaimDispute
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import Dispute, DisputeBase
from tests.factories import UserFactory
from tests.merchants.conftest import make_reliable
from tests.merchants.test_admin import book, claim_damage
from wallet.models import LedgerAccount, User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE_RESOLUTION = [
    ("scoring", "0006_snapshot_fingerprint_digest"),
    ("perks", "0001_initial"),
]

# How a dispute was left before the column -> the resolution the migration gives it.
KINDS: dict[str, tuple[dict[str, Any], str]] = {
    "open": ({"status": "open"}, ""),
    "upheld by staff": ({"status": "upheld", "by_staff": True}, "staff"),
    "rejected by staff": ({"status": "rejected", "by_staff": True}, "staff"),
    "upheld by nobody": ({"status": "upheld", "by_staff": False}, "automatic"),
    # The 30-day rule never rejects: staff decided, and their account is gone since.
    "rejected by nobody": ({"status": "rejected", "by_staff": False}, "staff"),
}


@pytest.fixture
def open_dispute(
    citizen: User, funded: Callable[[int], LedgerAccount]
) -> Callable[[type[DisputeBase]], DisputeBase]:
    """An open dispute of a claim, or of a credit record, through the services."""

    def dispute_of(model: type[DisputeBase]) -> DisputeBase:
        make_reliable(citizen)
        if model is not ClaimDispute:
            event = scoring_services.record_event(
                account=citizen, kind=EventKinds.NO_SHOW, source="test-stay:1"
            )
            return scoring_services.dispute_open(citizen=citizen, event=event, reason="No.")
        hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
        claim = claim_damage(hotel, book(hotel, citizen, "R-1"), 1_000)
        return claims.claim_dispute_open(citizen=citizen, claim_id=claim.pk, reason="No.")

    return dispute_of


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate the database to ``targets``; returns the apps (historical models) there."""
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old_row(kind: str, staff_id: int) -> dict[str, Any]:
    shape, _ = KINDS[kind]
    opened_at = timezone.now() - timedelta(days=40)
    if shape["status"] == "open":
        return {"status": "open", "opened_at": opened_at}
    return {
        "status": shape["status"],
        "opened_at": opened_at,
        "resolved_at": opened_at + timedelta(days=30),
        "resolution_note": kind,
        "resolved_by_id": staff_id if shape["by_staff"] else None,
    }


def test_each_dispute_gets_the_resolution_its_row_said(
    citizen: User, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given, at today's schema, what the disputes will be of: records and claims
    make_reliable(citizen)
    funded(500_000)
    staff = UserFactory.create(is_staff=True)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    events = {
        kind: scoring_services.record_event(
            account=citizen,
            kind="no_show",
            occurred_at=timezone.now() - timedelta(days=50),
            source=f"test:{index}",
        )
        for index, kind in enumerate(KINDS)
    }
    claims = {
        kind: claim_damage(hotel, book(hotel, citizen, f"R-{index}"), 1_000)
        for index, kind in enumerate(KINDS)
    }
    # and a dispute of each kind written at the schema before the column
    old = migrate(BEFORE_RESOLUTION)
    OldDispute = old.get_model("scoring", "Dispute")
    OldClaimDispute = old.get_model("perks", "ClaimDispute")
    for kind in KINDS:
        OldDispute.objects.create(
            event_id=events[kind].pk, citizen_id=citizen.pk, reason=kind, **old_row(kind, staff.pk)
        )
        OldClaimDispute.objects.create(
            claim_id=claims[kind].pk, citizen_id=citizen.pk, reason=kind, **old_row(kind, staff.pk)
        )

    # When the database is migrated to the latest schema
    migrate(head())

    # Then each dispute, of either kind, says who ended it as its row did
    expected = {
        kind: (resolution, resolution == "automatic", staff.pk if shape.get("by_staff") else None)
        for kind, (shape, resolution) in KINDS.items()
    }
    for model in (Dispute, ClaimDispute):
        found = {
            row.reason: (row.resolution, row.resolved_automatically, row.resolved_by_id)
            for row in model._default_manager.all()
        }
        assert found == expected, model.__name__


@pytest.mark.parametrize("model", [Dispute, ClaimDispute])
@pytest.mark.parametrize(
    "change",
    [
        # open, yet resolved
        {"resolution": "staff"},
        {"resolved_at": timezone.now()},
        # ended without saying how, or when
        {"status": "upheld", "resolved_at": timezone.now()},
        {"status": "upheld", "resolution": "automatic"},
        {"status": "upheld", "resolution": "someone", "resolved_at": timezone.now()},
        # the 30-day rule rejecting
        {"status": "rejected", "resolution": "automatic", "resolved_at": timezone.now()},
    ],
    ids=["open-resolution", "open-time", "no-resolution", "no-time", "unknown", "auto-reject"],
)
def test_the_database_refuses_a_dispute_out_of_shape(
    open_dispute: Callable[[type[DisputeBase]], DisputeBase],
    model: type[DisputeBase],
    change: dict[str, Any],
) -> None:
    # Given an open dispute of this kind
    row = open_dispute(model)
    # When the row is changed past the services, then the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        model._default_manager.filter(pk=row.pk).update(**change)
    assert model._default_manager.get(pk=row.pk).resolution == ""


@pytest.mark.parametrize("model", [ClaimDispute])
def test_the_database_refuses_an_automatic_resolution_with_an_actor(
    open_dispute: Callable[[type[DisputeBase]], DisputeBase], model: type[DisputeBase]
) -> None:
    row = open_dispute(model)
    staff = UserFactory.create(is_staff=True)
    ended = {"status": "upheld", "resolved_at": timezone.now(), "resolution": "automatic"}
    with pytest.raises(IntegrityError), transaction.atomic():
        model._default_manager.filter(pk=row.pk).update(**ended, resolved_by=staff)
    # while the same end by nobody, or by staff, is accepted
    model._default_manager.filter(pk=row.pk).update(**ended)
    model._default_manager.filter(pk=row.pk).update(resolution="staff", resolved_by=staff)
    assert model._default_manager.get(pk=row.pk).resolution == "staff"


def test_the_database_refuses_a_record_removed_unanswered_with_an_actor_or_an_answer(
    open_dispute: Callable[[type[DisputeBase]], DisputeBase],
) -> None:
    # Given a dispute of a record (with staff since it was opened with its claim's)
    row = open_dispute(Dispute)
    staff = UserFactory.create(is_staff=True)
    now = timezone.now()
    removed = {
        "status": "removed_unanswered",
        "resolved_at": now,
        "resolution": "automatic",
        "escalated_at": None,
        "respond_by": now,
    }
    rows = Dispute.objects.filter(pk=row.pk)
    # When it is written removed unanswered by someone, or with an answer, or by staff's
    # resolution, then the database refuses it
    for wrong in (
        {"resolved_by": staff},
        {"answered_at": now},
        {"resolution": "staff"},
        {"respond_by": None, "status": "open", "resolved_at": None, "resolution": ""},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**{**removed, **wrong})
    # while the deadline's own removal is accepted
    rows.update(**removed)
    assert Dispute.objects.get(pk=row.pk).resolved_automatically
