"""Perk versions: every path that makes a perk's terms live writes its next version and
retires the one before, in the same transaction; versions are never changed (on
PostgreSQL the database refuses it); every decision names the version it was made
under, and is explained with those rules after they changed; a change goes live only
with an audit of exactly its terms, less than a day old, and a justification when a
ratio is under the floor."""

import importlib
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common import services as common_services
from common.approvals import AuditRequired, JustificationRequired
from common.domain import ErrorKind
from merchants import services as merchants_services
from merchants.models import Merchant
from merchants.perks import selectors, services
from merchants.perks.models import Decision, Perk, PerkChange, PerkKind, PerkVersion
from merchants.perks.rules import DEFAULT_RULES, Rules
from merchants.perks.versions import perk_change_digest, perk_terms_active
from tests.merchants.conftest import code_for, make_reliable
from tests.merchants.perks.changes import audited
from tests.security.staff import staff_with
from wallet.models import User

pytestmark = pytest.mark.django_db

STRICTER: dict[str, Any] = {
    "conditions": [
        {"fact": "score", "op": ">=", "value": 700, "message": "A score of 700 is needed."}
    ],
    "tiers": [{"band": "excellent", "max_amount": 100_000}],
}


@pytest.fixture
def ops() -> User:
    return staff_with("ops", "perks.view_perkchange", "perks.add_perkchange")


@pytest.fixture
def approver() -> User:
    return staff_with("approver", "perks.view_perkchange", "perks.approve_perkchange")


def propose(perk: Perk, by: User, *, rules: Any = None, max_amount: int = 100_000) -> PerkChange:
    return services.perk_change_propose(
        perk=perk,
        merchant=perk.merchant,
        kind=perk.kind,
        max_amount=max_amount,
        rules=rules or STRICTER,
        is_active=True,
        bounds=services.StayBounds.of(perk),
        note="Stricter this season.",
        by=by,
    )


def versions(perk: Perk) -> list[tuple[int, Any, Any, bool]]:
    """(version, change, activated_by, retired) of each version, oldest first."""
    return [
        (v.version, v.change_id, v.activated_by_id, v.retired_at is not None)
        for v in PerkVersion.objects.filter(perk=perk).order_by("version")
    ]


def decide(hotel: Merchant, citizen: User, amount: int = 300_000) -> Decision:
    consent = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    return services.eligibility_decide(
        merchant=hotel, perk_kind=PerkKind.DEPOSIT_WAIVER, amount=amount, consent_id=consent.pk
    )


# --- Versions written ------------------------------------------------------------------


def test_a_new_perk_is_its_version_1(hotel: Merchant) -> None:
    # Given a hotel taken on (the system creates its default perk)
    perk = hotel.perks.get()
    # Then the perk's terms are its version 1, active, made live by the system
    [version] = PerkVersion.objects.filter(perk=perk)
    assert (perk.version_number, version.version, version.retired_at) == (1, 1, None)
    assert (version.change, version.activated_by, version.activated_at) == (
        None,
        None,
        perk.updated_at,
    )
    assert (version.rules, version.max_amount, version.is_active) == (
        perk.rules,
        perk.max_amount,
        True,
    )
    assert (version.booking_max_days_ahead, version.booking_max_nights) == (90, 30)
    assert version.claim_window_days == 14


def test_an_approved_change_is_the_next_version_and_retires_the_one_before(
    hotel: Merchant, ops: User, approver: User
) -> None:
    # Given the hotel's perk and a proposed change
    perk = hotel.perks.get()
    change = propose(perk, ops)
    assert versions(perk) == [(1, None, None, False)]  # a proposal changes nothing
    # When a second member of staff approves it, with its audit
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        services.perk_change_approve(change=change, by=approver, evidence=audited(change))
    # Then its terms are version 2, naming the change and its approver; version 1 retired
    # at the moment version 2 went live
    perk.refresh_from_db()
    assert perk.version_number == 2
    assert versions(perk) == [(1, None, None, True), (2, change.pk, approver.pk, False)]
    v1, v2 = PerkVersion.objects.filter(perk=perk).order_by("version")
    assert v1.retired_at == v2.activated_at == perk.updated_at
    assert (v2.rules, v2.max_amount) == (Rules.from_data(STRICTER).as_data(), 100_000)
    assert v1.rules == Rules.from_data(DEFAULT_RULES).as_data()


def test_a_new_perk_approved_is_version_1_of_its_change(
    ops: User, approver: User, hotel: Merchant
) -> None:
    # Given a proposal of a new perk (the merchant's only perk switched off first)
    old = hotel.perks.get()
    off = services.perk_change_propose(
        perk=old,
        merchant=hotel,
        kind=old.kind,
        max_amount=old.max_amount,
        rules=old.rules,
        is_active=False,
        bounds=services.StayBounds.of(old),
        by=ops,
    )
    services.perk_change_approve(change=off, by=approver, evidence=audited(off))
    new = services.perk_change_propose(
        perk=None,
        merchant=hotel,
        kind=PerkKind.DEPOSIT_WAIVER,
        max_amount=50_000,
        rules=STRICTER,
        is_active=True,
        bounds=services.StayBounds(),
        by=ops,
    )
    # When it is approved
    services.perk_change_approve(change=new, by=approver, evidence=audited(new))
    # Then the new perk's version 1 names it; the old perk's version 2 switched it off
    new.refresh_from_db()
    assert new.perk is not None
    assert versions(new.perk) == [(1, new.pk, approver.pk, False)]
    assert versions(old) == [(1, None, None, True), (2, off.pk, approver.pk, False)]
    assert PerkVersion.objects.get(perk=old, version=2).is_active is False


def test_a_refused_approval_writes_no_version(hotel: Merchant, ops: User, approver: User) -> None:
    perk = hotel.perks.get()
    change = propose(perk, ops)
    with pytest.raises(AuditRequired):
        services.perk_change_approve(change=change, by=approver, evidence=None)
    assert versions(perk) == [(1, None, None, False)]
    perk.refresh_from_db()
    assert perk.version_number == 1


# --- Never changed ---------------------------------------------------------------------


def test_the_services_only_ever_insert_and_retire_versions(
    hotel: Merchant, ops: User, approver: User
) -> None:
    # Given the hotel's perk, changed twice by approved changes and once by the system
    perk = hotel.perks.get()
    with CaptureQueriesContext(connection) as queries:
        for rules in (STRICTER, DEFAULT_RULES):
            change = propose(Perk.objects.get(pk=perk.pk), ops, rules=rules)
            services.perk_change_approve(change=change, by=approver, evidence=audited(change))
        services.perk_update(perk=perk, max_amount=1_000, rules=STRICTER, is_active=True)
    # Then every statement that touched versions inserted one, or set retired_at on the
    # unretired one, and nothing else
    touching = [q["sql"] for q in queries.captured_queries if "perks_perkversion" in q["sql"]]
    updates = [sql for sql in touching if sql.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 3
    for sql in updates:
        assigned = sql.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
        assert assigned.startswith('"retired_at" = ')
        assert "," not in assigned
        assert '"retired_at" IS NULL' in sql
    assert not [sql for sql in touching if sql.lstrip().upper().startswith("DELETE")]
    assert [v[0] for v in versions(perk)] == [1, 2, 3, 4]
    assert [v[3] for v in versions(perk)] == [True, True, True, False]


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_erase_a_version(
    hotel: Merchant, ops: User, approver: User
) -> None:
    # Given the hotel's perk at version 2 (version 1 retired)
    perk = hotel.perks.get()
    change = propose(perk, ops)
    services.perk_change_approve(change=change, by=approver, evidence=audited(change))
    v1, v2 = PerkVersion.objects.filter(perk=perk).order_by("version")
    before = list(PerkVersion.objects.order_by("pk").values())
    # When anyone changes the terms of either, un-retires or re-retires one, or erases one
    for statement in (
        f"UPDATE perks_perkversion SET max_amount = 1 WHERE id = {v2.pk:d}",  # noqa: S608
        f"UPDATE perks_perkversion SET rules = '{{}}' WHERE id = {v1.pk:d}",  # noqa: S608
        f"UPDATE perks_perkversion SET retired_at = NULL WHERE id = {v1.pk:d}",  # noqa: S608
        f"UPDATE perks_perkversion SET retired_at = now() WHERE id = {v1.pk:d}",  # noqa: S608
        "UPDATE perks_perkversion SET retired_at = now(), max_amount = 1 "  # noqa: S608
        f"WHERE id = {v2.pk:d}",
        f"DELETE FROM perks_perkversion WHERE id = {v1.pk:d}",  # noqa: S608
    ):
        # Then the database refuses it
        with (
            pytest.raises(IntegrityError, match="perk versions are immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert list(PerkVersion.objects.order_by("pk").values()) == before
    # And retiring the active one, once, is what it allows
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE perks_perkversion SET retired_at = now() WHERE id = {v2.pk:d}"  # noqa: S608
        )
    v2.refresh_from_db()
    assert v2.retired_at is not None


# --- Decisions and their versions ------------------------------------------------------


def test_every_decision_records_its_version_and_is_explained_with_its_rules(
    hotel: Merchant, citizen: User, ops: User, approver: User
) -> None:
    # Given an excellent citizen decided on under the default rules (version 1)
    make_reliable(citizen)
    first = decide(hotel, citizen)
    perk = hotel.perks.get()
    v1 = PerkVersion.objects.get(perk=perk, version=1)
    assert Decision.objects.get(pk=first.pk).perk_version == v1
    # When the rules change (version 2) and the citizen is decided on again
    change = propose(perk, ops)
    services.perk_change_approve(change=change, by=approver, evidence=audited(change))
    second = decide(hotel, citizen)
    # Then the second decision names version 2
    v2 = PerkVersion.objects.get(perk=perk, version=2)
    assert Decision.objects.get(pk=second.pk).perk_version == v2
    # And the first is still explained with the rules it was made under
    old = selectors.decision_rules_explained(Decision.objects.get(pk=first.pk))
    assert [line.text for line in old] == [
        "Score at least 600",
        "Unpaid claims: none",
        "A verified phone number (or identity document)",
        "Band Good: up to 500.00 CNY waived",
        "Band Very good: up to 1,000.00 CNY waived",
        "Band Excellent: up to 2,000.00 CNY waived",
    ]
    assert (old[0].kind, old[0].op, old[0].threshold) == ("condition", ">=", 600)
    new = selectors.decision_rules_explained(Decision.objects.get(pk=second.pk))
    assert [line.text for line in new] == [
        "Score at least 700",
        "Band Excellent: up to 1,000.00 CNY waived",
    ]


def test_decisions_in_a_history_record_the_version_of_the_perk_given(
    hotel: Merchant, citizen: User, ops: User, approver: User
) -> None:
    # Given the perk read before a change went live (its terms are version 1)
    make_reliable(citizen)
    consent = merchants_services.consent_redeem(merchant=hotel, code=code_for(citizen))
    read_before = Perk.objects.get(merchant=hotel)
    change = propose(read_before, ops)
    services.perk_change_approve(change=change, by=approver, evidence=audited(change))
    read_after = Perk.objects.get(merchant=hotel)
    # When decisions are recorded with each (as the demo's history records them)
    decisions = services.decisions_record(
        decisions=[
            services.DecisionRecord(
                merchant=hotel,
                perk=perk,
                consent_id=consent.pk,
                citizen_id=citizen.pk,
                amount=300_000,
            )
            for perk in (read_before, read_after)
        ]
    )
    # Then each names the version whose terms (and so rules) it was decided with
    stored = {d.pk: d for d in Decision.objects.select_related("perk_version")}
    assert [stored[d.pk].perk_version.version for d in decisions] == [1, 2]  # type: ignore[union-attr]
    assert [stored[d.pk].waived_amount for d in decisions] == [200_000, 100_000]


# --- Approval needs its audit ----------------------------------------------------------


def test_an_approval_without_an_audit_is_refused(
    hotel: Merchant, ops: User, approver: User
) -> None:
    change = propose(hotel.perks.get(), ops)
    with pytest.raises(AuditRequired) as refused:
        services.perk_change_approve(change=change, by=approver, evidence=None)
    assert (refused.value.code, refused.value.kind) == ("audit_required", ErrorKind.CONFLICT)
    change.refresh_from_db()
    assert change.status == "pending"


def test_an_audit_more_than_a_day_old_is_refused(
    hotel: Merchant, ops: User, approver: User
) -> None:
    change = propose(hotel.perks.get(), ops)
    evidence = audited(change)
    # When the approver comes back 24 hours and a minute after the audit
    with time_machine.travel(evidence.audited_at + timedelta(hours=24, minutes=1), tick=False):
        with pytest.raises(AuditRequired) as refused:
            services.perk_change_approve(change=change, by=approver, evidence=evidence)
        assert refused.value.code == "audit_required"
        assert "more than a day old" in refused.value.detail
    # (23 hours later it would have done)
    with time_machine.travel(evidence.audited_at + timedelta(hours=23), tick=False):
        services.perk_change_approve(change=change, by=approver, evidence=evidence)
    change.refresh_from_db()
    assert change.status == "applied"


def test_an_audit_of_other_terms_is_refused(hotel: Merchant, ops: User, approver: User) -> None:
    # Given two proposals; an audit of the first attached to the second
    perk = hotel.perks.get()
    first = propose(perk, ops)
    second = propose(perk, ops, max_amount=90_000)
    assert perk_change_digest(first) != perk_change_digest(second)
    with pytest.raises(AuditRequired):
        services.perk_change_approve(
            change=second, by=approver, evidence=audited(second, digest=perk_change_digest(first))
        )
    second.refresh_from_db()
    assert second.status == "pending"


def test_a_ratio_under_the_floor_needs_a_justification(
    hotel: Merchant, ops: User, approver: User
) -> None:
    change = propose(hotel.perks.get(), ops)
    # Without a justification (blank counts as none): refused
    for justification in ("", "   "):
        with pytest.raises(JustificationRequired) as refused:
            services.perk_change_approve(
                change=change,
                by=approver,
                evidence=audited(change, min_ratio=0.79, justification=justification),
            )
        assert refused.value.code == "justification_required"
        assert refused.value.kind == ErrorKind.INVALID
        assert [error.field for error in refused.value.errors] == ["justification"]
    change.refresh_from_db()
    assert change.status == "pending"
    # With one: approved
    services.perk_change_approve(
        change=change,
        by=approver,
        evidence=audited(change, min_ratio=0.79, justification="Group too small to act on."),
    )
    change.refresh_from_db()
    assert change.status == "applied"


def test_the_permission_is_checked_before_the_audit(hotel: Merchant, ops: User) -> None:
    from common.domain import Forbidden

    change = propose(hotel.perks.get(), ops)
    with pytest.raises(Forbidden):
        services.perk_change_approve(change=change, by=ops, evidence=None)


# --- What governance reads -------------------------------------------------------------


def test_the_active_terms_are_the_active_versions(
    hotel: Merchant, other_hotel: Merchant, ops: User, approver: User
) -> None:
    # Given two hotels, one changed (version 2)
    change = propose(hotel.perks.get(), ops)
    services.perk_change_approve(change=change, by=approver, evidence=audited(change))
    # Then the active terms are each perk's active version
    terms = {t.merchant_name: t for t in perk_terms_active()}
    assert {name: t.version for name, t in terms.items()} == {
        hotel.name: 2,
        other_hotel.name: 1,
    }
    assert terms[hotel.name].max_amount == 100_000
    assert terms[hotel.name].rules == Rules.from_data(STRICTER)
    assert terms[hotel.name].label == f"{hotel.name}: deposit waiver (v2)"
    # And the history lists every activation, newest first, with who approved it
    history = selectors.perk_versions_history()
    assert [(h.merchant_name, h.version) for h in history][:1] == [(hotel.name, 2)]
    assert {(h.merchant_name, h.version, h.activated_by, h.change_id) for h in history} == {
        (hotel.name, 2, "approver", change.pk),
        (hotel.name, 1, None, None),
        (other_hotel.name, 1, None, None),
    }


def test_the_data_migration_makes_each_perks_terms_its_version_1(
    citizen: User, ops: User, approver: User
) -> None:
    # Given a perk as it was before versions (none written), decided on before and
    # after its last change
    make_reliable(citizen)
    merchant = merchants_services.merchant_create(name="Old Inn", category="hotel")
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        perk = Perk.objects.create(
            merchant=merchant,
            kind=PerkKind.DEPOSIT_WAIVER,
            max_amount=100_000,
            rules=Rules.from_data(DEFAULT_RULES).as_data(),
        )
        common_services.config_generation_bump()
        before = decide(merchant, citizen)
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        perk.max_amount = 150_000
        perk.save()
        common_services.config_generation_bump()
    after = decide(merchant, citizen)
    assert not PerkVersion.objects.filter(perk=perk).exists()
    assert Decision.objects.filter(perk=perk, perk_version__isnull=False).count() == 0
    # When the data migration runs
    migration = importlib.import_module("merchants.perks.migrations.0010_perk_versions_data")
    migration.versions_create(apps, None)
    # Then the perk's terms are its version 1, active since its last change
    perk.refresh_from_db()
    [version] = PerkVersion.objects.filter(perk=perk)
    assert (version.version, version.max_amount, version.activated_at) == (
        1,
        150_000,
        perk.updated_at,
    )
    assert (version.retired_at, version.change, version.activated_by) == (None, None, None)
    assert perk.version_number == 1
    # And the decision made after it names it; the one before keeps no version
    assert Decision.objects.get(pk=after.pk).perk_version == version
    assert Decision.objects.get(pk=before.pk).perk_version is None
    assert selectors.decision_rules_explained(Decision.objects.get(pk=before.pk)) == []
    # And running it again changes nothing
    migration.versions_create(apps, None)
    assert PerkVersion.objects.filter(perk=perk).count() == 1
