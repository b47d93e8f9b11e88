"""Moving models between apps moves no data: perks, decisions, bookings, claims and claim
disputes went from ``merchants`` to ``perks``, bills to ``bills``, and idempotency keys
from ``wallet`` to ``common``, by state-only migrations that keep the tables.

The test takes the database back to the migrations the apps had before the move, writes
a row into every moved table (and the rows they refer to) with the models as they were
then, migrates forward to today's head, and reads every row back through today's models:
same values, and content types and permissions under the new app labels, with the same
ids, so that granted permissions and admin log entries follow the models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from common.models import IdempotencyKey
from merchants.bills.models import Bill
from merchants.models import Consent, Merchant
from merchants.perks.models import Booking, Claim, ClaimDispute, Decision, Perk
from wallet.models import User

# The last migration of each app before the move.
BEFORE_THE_MOVE = [
    ("wallet", "0002_ledger_guards_and_system_accounts"),
    ("scoring", "0002_default_scorecard_and_guards"),
    ("merchants", "0002_bills"),
]
# The apps the move created: unapplied entirely to go back.
NEW_APPS = ("perks", "bills", "common")
# (old label, model) -> new label
MOVED = {
    ("merchants", "perk"): "perks",
    ("merchants", "decision"): "perks",
    ("merchants", "booking"): "perks",
    ("merchants", "claim"): "perks",
    ("merchants", "claimdispute"): "perks",
    ("merchants", "bill"): "bills",
    ("wallet", "idempotencykey"): "common",
}
NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate the database to ``targets``; returns the apps (historical models) there."""
    MigrationExecutor(connection).migrate(targets)
    ContentType.objects.clear_cache()
    loader = MigrationExecutor(connection).loader
    return loader.project_state(list(loader.applied_migrations)).apps


def head() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def write_rows_before_the_move(apps: Any) -> dict[str, Any]:
    """One row in every moved table, with the models as they were, and what they need."""
    model = apps.get_model
    citizen = model("wallet", "User").objects.create(
        username="guest", password="!", display_name="Guest", identity_level=1
    )
    staff = model("wallet", "User").objects.create(username="staff", password="!", is_staff=True)
    settlement = model("wallet", "LedgerAccount").objects.create(
        code="merchant:harbour", kind="settlement", name="Harbour Hotel", currency="CNY"
    )
    merchant = model("merchants", "Merchant").objects.create(
        name="Harbour Hotel", category="hotel", settlement=settlement
    )
    code = model("merchants", "AuthorizationCode").objects.create(
        citizen=citizen,
        scope="deposit_waiver",
        merchant=merchant,
        digest="d" * 64,
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=10),
        redeemed_at=NOW + timedelta(minutes=1),
    )
    consent = model("merchants", "Consent").objects.create(
        citizen=citizen,
        merchant=merchant,
        scope="deposit_waiver",
        code=code,
        granted_at=NOW + timedelta(minutes=1),
        expires_at=NOW + timedelta(days=30),
    )
    rules = {
        "conditions": [
            {"fact": "score", "op": ">=", "value": 600, "message": "A score of 600.", "code": "s"}
        ],
        "tiers": [{"band": "good", "max_amount": 50_000}],
    }
    perk = model("merchants", "Perk").objects.create(
        merchant=merchant, kind="deposit_waiver", max_amount=200_000, rules=rules
    )
    scorecard = model("scoring", "Scorecard").objects.get(status="active")
    snapshot = model("scoring", "ScoreSnapshot").objects.create(
        account=citizen,
        scorecard=scorecard,
        score=612,
        band="good",
        points={"on_time": 30},
        reasons=[["history", 40]],
        features={"score": 612},
        fingerprint=123_456_789,
        trigger="event",
        computed_at=NOW,
    )
    decision = model("merchants", "Decision").objects.create(
        merchant=merchant,
        perk=perk,
        consent=consent,
        citizen=citizen,
        snapshot=snapshot,
        requested_amount=80_000,
        eligible=True,
        waived_amount=50_000,
        held_amount=30_000,
        currency="CNY",
        reasons=[{"code": "partial", "message": "Up to 500.00 CNY can be waived."}],
        created_at=NOW + timedelta(minutes=2),
        expires_at=NOW + timedelta(minutes=17),
    )
    booking = model("merchants", "Booking").objects.create(
        merchant=merchant,
        citizen=citizen,
        decision=decision,
        reference="HH-0042",
        check_in=date(2025, 3, 20),
        check_out=date(2025, 3, 22),
        deposit_amount=80_000,
        waived_amount=50_000,
        hold_amount=30_000,
        currency="CNY",
        status="completed",
        outcome="damage",
        created_at=NOW + timedelta(minutes=3),
        completed_at=NOW + timedelta(days=8),
    )
    claim = model("merchants", "Claim").objects.create(
        booking=booking,
        merchant=merchant,
        citizen=citizen,
        amount=12_000,
        paid_amount=0,
        refunded_amount=0,
        currency="CNY",
        description="A broken lamp",
        status="disputed",
        created_at=NOW + timedelta(days=8),
    )
    event = model("scoring", "CreditEvent").objects.create(
        account=citizen,
        kind="claim_unpaid",
        occurred_at=NOW + timedelta(days=8),
        amount=12_000,
        currency="CNY",
        source=f"claim:{claim.pk}:unpaid",
        subject=f"claim:{claim.pk}",
        description="Claim by Harbour Hotel",
        counts_until=NOW + timedelta(days=8 + 730),
        status="disputed",
    )
    record_dispute = model("scoring", "Dispute").objects.create(
        event=event, citizen=citizen, reason="I broke nothing.", opened_at=NOW + timedelta(days=9)
    )
    claim_dispute = model("merchants", "ClaimDispute").objects.create(
        claim=claim,
        citizen=citizen,
        reason="I broke nothing.",
        status="open",
        record_dispute=record_dispute,
        opened_at=NOW + timedelta(days=9),
    )
    bill = model("merchants", "Bill").objects.create(
        merchant=merchant,
        citizen=citizen,
        consent=consent,
        amount=4_250,
        currency="CNY",
        description="Water, February",
        due_date=date(2025, 3, 31),
        status="open",
        issued_at=NOW,
        overdue_recorded_at=NOW + timedelta(days=18),
    )
    idempotency_key = model("wallet", "IdempotencyKey").objects.create(
        scope=f"user:{citizen.pk}",
        key="top-up-1",
        fingerprint="f" * 64,
        response_status=201,
        response_body={"amount": 10_000, "at": "2025-03-14T09:26:53Z"},
    )
    # Content types and permissions as they were: under the old labels, one granted to
    # staff, and an admin log entry about the claim dispute.
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    content_types, permissions = {}, {}
    for (old_label, name), _new_label in MOVED.items():
        row, _ = content_type.objects.get_or_create(app_label=old_label, model=name)
        content_types[old_label, name] = row.pk
        for action in ("add", "change", "delete", "view"):
            perm, _ = permission.objects.get_or_create(
                content_type=row, codename=f"{action}_{name}", defaults={"name": f"Can {action}"}
            )
            permissions[old_label, perm.codename] = perm.pk
    staff.user_permissions.add(permissions["merchants", "change_claimdispute"])
    log_entry = apps.get_model("admin", "LogEntry").objects.create(
        action_time=NOW + timedelta(days=10),
        user=staff,
        content_type_id=content_types["merchants", "claimdispute"],
        object_id=str(claim_dispute.pk),
        object_repr="Dispute",
        action_flag=2,
        change_message="Looked at it.",
    )
    return {
        "ids": {
            "citizen": citizen.pk,
            "staff": staff.pk,
            "merchant": merchant.pk,
            "consent": consent.pk,
            "perk": perk.pk,
            "snapshot": snapshot.pk,
            "decision": decision.pk,
            "booking": booking.pk,
            "claim": claim.pk,
            "record_dispute": record_dispute.pk,
            "claim_dispute": claim_dispute.pk,
            "bill": bill.pk,
            "idempotency_key": idempotency_key.pk,
            "log_entry": log_entry.pk,
        },
        "rules": rules,
        "content_types": content_types,
        "permissions": permissions,
    }


@pytest.mark.django_db(transaction=True)
def test_moving_models_between_apps_keeps_every_row_and_their_content_types():
    # Given a database as it was before the move, with a row in every moved table
    try:
        old_apps = migrate([(app, None) for app in NEW_APPS] + BEFORE_THE_MOVE)
        assert not any(
            app in NEW_APPS for app, _ in MigrationExecutor(connection).loader.applied_migrations
        )
        before = write_rows_before_the_move(old_apps)
    finally:
        # When it migrates to today's head (also if writing failed: the database is
        # always left at the head for the tests that follow)
        migrate(head())
    ids = before["ids"]

    # Then every row is there, read through today's models, with the same values
    citizen = User.objects.get(pk=ids["citizen"])
    merchant = Merchant.objects.get(pk=ids["merchant"])
    consent = Consent.objects.get(pk=ids["consent"])

    perk = Perk.objects.get(pk=ids["perk"])
    assert (perk.merchant, perk.kind, perk.max_amount, perk.rules, perk.is_active) == (
        merchant,
        "deposit_waiver",
        200_000,
        before["rules"],
        True,
    )

    decision = Decision.objects.get(pk=ids["decision"])
    assert (
        decision.merchant,
        decision.perk,
        decision.consent,
        decision.citizen,
        decision.snapshot_id,
    ) == (merchant, perk, consent, citizen, ids["snapshot"])
    assert (
        decision.requested_amount,
        decision.eligible,
        decision.waived_amount,
        decision.held_amount,
        decision.currency,
    ) == (80_000, True, 50_000, 30_000, "CNY")
    assert decision.reasons == [{"code": "partial", "message": "Up to 500.00 CNY can be waived."}]
    assert (decision.created_at, decision.expires_at) == (
        NOW + timedelta(minutes=2),
        NOW + timedelta(minutes=17),
    )

    booking = Booking.objects.get(pk=ids["booking"])
    assert booking.decision == decision
    assert booking.hold is None
    assert (
        booking.merchant,
        booking.citizen,
        booking.reference,
        booking.check_in,
        booking.check_out,
        booking.deposit_amount,
        booking.waived_amount,
        booking.hold_amount,
        booking.currency,
        booking.status,
        booking.outcome,
        booking.created_at,
        booking.completed_at,
    ) == (
        merchant,
        citizen,
        "HH-0042",
        date(2025, 3, 20),
        date(2025, 3, 22),
        80_000,
        50_000,
        30_000,
        "CNY",
        "completed",
        "damage",
        NOW + timedelta(minutes=3),
        NOW + timedelta(days=8),
    )

    claim = Claim.objects.get(pk=ids["claim"])
    assert (
        claim.booking,
        claim.merchant,
        claim.citizen,
        claim.amount,
        claim.paid_amount,
        claim.refunded_amount,
        claim.currency,
        claim.description,
        claim.status,
        claim.created_at,
        claim.paid_at,
    ) == (
        booking,
        merchant,
        citizen,
        12_000,
        0,
        0,
        "CNY",
        "A broken lamp",
        "disputed",
        NOW + timedelta(days=8),
        None,
    )
    assert booking.claim == claim  # the reverse relations work across the apps

    claim_dispute = ClaimDispute.objects.get(pk=ids["claim_dispute"])
    assert (
        claim_dispute.claim,
        claim_dispute.citizen,
        claim_dispute.reason,
        claim_dispute.status,
        claim_dispute.record_dispute_id,
        claim_dispute.opened_at,
        claim_dispute.resolved_at,
        claim_dispute.resolution_note,
        claim_dispute.resolved_by,
    ) == (
        claim,
        citizen,
        "I broke nothing.",
        "open",
        ids["record_dispute"],
        NOW + timedelta(days=9),
        None,
        "",
        None,
    )
    assert claim_dispute.record_dispute.claim_dispute == claim_dispute

    bill = Bill.objects.get(pk=ids["bill"])
    assert (
        bill.merchant,
        bill.citizen,
        bill.consent,
        bill.amount,
        bill.currency,
        bill.description,
        bill.due_date,
        bill.status,
        bill.issued_at,
        bill.paid_at,
        bill.payment,
        bill.overdue_recorded_at,
    ) == (
        merchant,
        citizen,
        consent,
        4_250,
        "CNY",
        "Water, February",
        date(2025, 3, 31),
        "open",
        NOW,
        None,
        None,
        NOW + timedelta(days=18),
    )
    assert list(consent.bills.all()) == [bill]
    assert list(merchant.perks.all()) == [perk]

    key = IdempotencyKey.objects.get(pk=ids["idempotency_key"])
    assert (key.scope, key.key, key.fingerprint, key.response_status, key.response_body) == (
        f"user:{citizen.pk}",
        "top-up-1",
        "f" * 64,
        201,
        {"amount": 10_000, "at": "2025-03-14T09:26:53Z"},
    )

    # and each content type kept its id under the new label, its permissions with it
    for (old_label, name), new_label in MOVED.items():
        content_type = ContentType.objects.get(pk=before["content_types"][old_label, name])
        assert (content_type.app_label, content_type.model) == (new_label, name)
        assert content_type.model_class() is not None
        assert not ContentType.objects.filter(app_label=old_label, model=name).exists()
        for action in ("add", "change", "delete", "view"):
            permission = Permission.objects.get(
                pk=before["permissions"][old_label, f"{action}_{name}"]
            )
            assert permission.content_type == content_type
    assert (
        ContentType.objects.get_for_model(Perk).pk == before["content_types"]["merchants", "perk"]
    )

    # so a granted permission and an admin log entry follow the model
    staff = User.objects.get(pk=ids["staff"])
    assert staff.has_perm("perks.change_claimdispute")
    assert not staff.has_perm("perks.change_claim")
    log_entry = LogEntry.objects.get(pk=ids["log_entry"])
    assert log_entry.get_edited_object() == claim_dispute

    # and the database is at today's head
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(head()) == []


def test_the_moved_models_keep_their_tables():
    tables = {
        model: model._meta.db_table
        for model in (Perk, Decision, Booking, Claim, ClaimDispute, Bill, IdempotencyKey)
    }
    assert tables == {
        Perk: "merchants_perk",
        Decision: "merchants_decision",
        Booking: "merchants_booking",
        Claim: "merchants_claim",
        ClaimDispute: "merchants_claimdispute",
        Bill: "merchants_bill",
        IdempotencyKey: "wallet_idempotencykey",
    }
    assert [model._meta.app_label for model in (Perk, Bill, IdempotencyKey)] == [
        "perks",
        "bills",
        "common",
    ]
