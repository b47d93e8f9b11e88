"""Disputes answered by the furnisher: ``scoring`` 0013 moves the disputes written before
into the new states, and ``bills`` 0002 fills the furnisher of the events recorded
before events named one (from the bill, booking or claim each is about) and sends each
open dispute to it.

The test takes the schema back to before both, writes events and disputes with the
models as they were then, migrates to today's head and reads them back through today's
models.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from merchants.perks import services as perks_services
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import CreditEvent, Dispute, EventStatus, RecomputeWanted
from scoring.subjects import booking_subject, claim_subject
from tests.factories import UserFactory
from tests.merchants.conftest import make_reliable
from tests.merchants.test_admin import book, claim_damage
from wallet.models import LedgerAccount, User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [("scoring", "0012_event_furnisher"), ("bills", "0001_initial")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    MigrationExecutor(connection).migrate(targets)
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_old_disputes_move_to_the_new_states_and_go_to_their_furnisher(
    citizen: User, funded: Callable[[int], LedgerAccount]
) -> None:
    # Given a hotel's booking and claim, and records about them (and one about nothing
    # we know) recorded with no furnisher, as before events named one
    make_reliable(citizen)
    funded(500_000)
    hotel = perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")
    booking = book(hotel, citizen, "R-1")
    claim = claim_damage(hotel, book(hotel, citizen, "R-2"), 1_000)
    staff = UserFactory.create(is_staff=True)
    now = timezone.now()

    def old_event(kind: str, subject: str, source: str) -> CreditEvent:
        return scoring_services.record_event(
            account=citizen,
            kind=kind,
            occurred_at=now - timedelta(days=50),
            source=source,
            subject=subject,
        )

    no_show = old_event(EventKinds.NO_SHOW, booking_subject(booking.pk), "old:no-show")
    unpaid = old_event(EventKinds.CLAIM_UNPAID, claim_subject(claim.pk), "old:unpaid")
    by_source = old_event(EventKinds.BOOKING_COMPLETED, "", booking_subject(booking.pk))
    stray = old_event(EventKinds.NO_SHOW, booking_subject(uuid.uuid4()), "old:stray")
    upheld_by_rule = old_event(EventKinds.NO_SHOW, "", "old:rule")
    decided = old_event(EventKinds.NO_SHOW, "", "old:decided")
    # and, at the schema before, a dispute of each as the old rules left it
    old = migrate(BEFORE)
    OldDispute = old.get_model("scoring", "Dispute")
    OldEvent = old.get_model("scoring", "CreditEvent")
    opened = now - timedelta(days=5)
    ended = {"resolved_at": opened + timedelta(days=1), "resolution_note": "Old."}
    rows = {
        no_show.pk: {"status": "open"},
        stray.pk: {"status": "open"},
        upheld_by_rule.pk: {"status": "upheld", "resolution": "automatic", **ended},
        decided.pk: {
            "status": "rejected",
            "resolution": "staff",
            "resolved_by_id": staff.pk,
            **ended,
        },
    }
    for event_id, row in rows.items():
        OldDispute.objects.create(
            event_id=event_id, citizen_id=citizen.pk, reason="Old.", opened_at=opened, **row
        )
    for event_id, status in (
        (no_show.pk, "disputed"),
        (stray.pk, "disputed"),
        (upheld_by_rule.pk, "removed"),
    ):
        OldEvent.objects.filter(pk=event_id).update(status=status)
    RecomputeWanted.objects.all().delete()

    # When the database is migrated to today's head
    migrate(head())

    # Then each event knows its furnisher from what it is about (its subject, else its
    # source); one about nothing known has none
    furnishers = dict(CreditEvent.objects.values_list("pk", "furnisher_id"))
    assert furnishers[no_show.pk] == hotel.pk
    assert furnishers[unpaid.pk] == hotel.pk
    assert furnishers[by_source.pk] == hotel.pk
    assert furnishers[stray.pk] is None
    # and each dispute is in the state the new rules give it
    disputes = {row.event_id: row for row in Dispute.objects.all()}
    open_one = disputes[no_show.pk]
    assert (open_one.status, open_one.furnisher_id, open_one.respond_by) == (
        "open",
        hotel.pk,
        opened + timedelta(days=30),
    )
    assert (disputes[stray.pk].status, disputes[stray.pk].respond_by) == ("escalated", None)
    assert disputes[stray.pk].escalated_at == opened
    rule = disputes[upheld_by_rule.pk]
    assert (rule.status, rule.resolution, rule.resolved_automatically) == (
        "removed_unanswered",
        "automatic",
        True,
    )
    staffs = disputes[decided.pk]
    assert (staffs.status, staffs.resolution, staffs.resolved_by_id, staffs.escalated_at) == (
        "rejected",
        "staff",
        staff.pk,
        opened,
    )
    # and the disputed records, which count again, want their account recomputed
    statuses = dict(CreditEvent.objects.values_list("pk", "status"))
    assert (statuses[no_show.pk], statuses[stray.pk]) == (EventStatus.DISPUTED,) * 2
    assert RecomputeWanted.objects.filter(account_id=citizen.pk).exists()
    # and the open dispute is the hotel's to answer now
    answered = scoring_services.dispute_verify(
        dispute=open_one, furnisher_id=hotel.pk, note="It stands."
    )
    assert answered.status == "verified"
