"""The audit trail: each tracked model's changes are history rows naming who made them,
with old and new values, readable (never revertible) in the admin; on PostgreSQL the
history tables refuse UPDATE and DELETE; existing objects got their first row when the
trail started; and signing in writes none."""

import importlib
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from common.audit import HistoryRequestMiddleware
from merchants import services as merchant_services
from merchants.models import ApiKey, Merchant
from merchants.perks import claims
from merchants.perks import services as perks_services
from merchants.perks.models import ClaimDispute, Perk
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.facts import EventKinds
from scoring.models import Dispute, RecordDisputeStatus, Scorecard, ScorecardStatus
from tests.conftest import PASSWORD
from tests.merchants.conftest import make_reliable
from tests.merchants.test_admin import disputed_claim
from wallet import services as wallet_services
from wallet.models import IdentityLevel, User

pytestmark = pytest.mark.django_db

audit_trail = importlib.import_module("governance.migrations.0001_audit_trail")


@pytest.fixture
def staff(db: None) -> User:
    return wallet_services.staff_user_ensure(username="root", password=PASSWORD)


@pytest.fixture
def admin_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def hotel(db: None) -> Merchant:
    return perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")


def in_request_of(user: User, work: Callable[[], Any]) -> Any:
    """Run ``work`` inside a request of ``user``, through the history middleware, as a
    view the user called would."""
    request = RequestFactory().post("/admin/")
    request.user = user
    results = []

    def view(request: Any) -> Any:
        results.append(work())
        return None

    HistoryRequestMiddleware(view)(request)
    return results[0]


def last_change(obj: Any) -> tuple[User | None, str, dict[str, tuple[Any, Any]]]:
    """Who made the object's latest change, its type, and each field's (old, new)."""
    latest = obj.history.order_by("-history_date", "-history_id").first()
    previous = latest.prev_record
    changes = {}
    if previous is not None:
        changes = {
            change.field: (change.old, change.new)
            for change in latest.diff_against(previous).changes
        }
    return latest.history_user, latest.history_type, changes


# --- Every tracked model --------------------------------------------------------------


def test_an_identity_level_set_in_the_admin_names_the_staff_member(admin_client, staff, citizen):
    response = admin_client.post(
        reverse("admin:wallet_user_changelist"),
        {"action": "set_level_document", "_selected_action": [str(citizen.pk)]},
    )
    assert response.status_code == 302
    assert last_change(citizen) == (staff, "~", {"identity_level": (0, 2)})


def test_an_identity_level_set_by_a_service_names_the_actor_it_was_given(staff, citizen):
    wallet_services.user_identity_level_set(user=citizen, level=IdentityLevel.PHONE, actor=staff)
    assert last_change(citizen) == (staff, "~", {"identity_level": (0, 1)})
    # And without an actor or a request: nobody (the system)
    wallet_services.user_identity_level_set(user=citizen, level=IdentityLevel.NONE)
    assert last_change(citizen) == (None, "~", {"identity_level": (1, 0)})


def test_granting_a_group_is_recorded_with_the_groups_before_and_after(
    admin_client, staff, citizen
):
    from django.contrib.auth.models import Group

    support = Group.objects.get(name="support")
    in_request_of(staff, lambda: citizen.groups.add(support))
    user, kind, changes = last_change(citizen)
    assert (user, kind, list(changes)) == (staff, "~", ["groups"])
    old, new = changes["groups"]
    assert [row["group"] for row in old] == []
    assert [row["group"] for row in new] == [support.pk]


def test_activating_a_scorecard_records_the_activation_and_the_retirement(staff):
    active = scoring_selectors.scorecard_active()
    draft = Scorecard.objects.create(
        version=active.version + 1, name="Next", definition=active.definition
    )
    in_request_of(staff, lambda: scoring_services.scorecard_activate(scorecard=draft))
    draft.refresh_from_db()
    user, kind, changes = last_change(draft)
    assert (user, kind) == (staff, "~")
    assert changes == {
        "status": (ScorecardStatus.DRAFT, ScorecardStatus.ACTIVE),
        "activated_at": (None, draft.activated_at),
    }
    retired = Scorecard.objects.get(pk=active.pk)
    user, kind, changes = last_change(retired)
    assert (user, kind) == (staff, "~")
    assert changes == {
        "status": (ScorecardStatus.ACTIVE, ScorecardStatus.RETIRED),
        "retired_at": (None, retired.retired_at),
    }
    assert retired.retired_at == draft.activated_at


def test_a_merchant_edit_is_recorded_with_old_and_new_values(staff, hotel):
    in_request_of(
        staff,
        lambda: merchant_services.merchant_update(
            merchant=hotel, name="Harbour Hotel & Spa", is_active=False
        ),
    )
    assert last_change(Merchant.objects.get(pk=hotel.pk)) == (
        staff,
        "~",
        {"name": ("Harbour Hotel", "Harbour Hotel & Spa"), "is_active": (True, False)},
    )


def test_a_key_made_and_revoked_in_the_admin_names_who_did_each(admin_client, staff, hotel):
    # Made on the merchant's page
    response = admin_client.post(
        reverse("admin:merchants_merchant_api_key_create", args=[hotel.pk]),
        {"name": "desk", "scopes": ["bookings"]},
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(merchant=hotel, name="desk")
    assert key.created_by == staff
    created = key.history.get()
    assert (created.history_user, created.history_type, created.created_by_id) == (
        staff,
        "+",
        staff.pk,
    )
    # Revoked from the keys' list
    response = admin_client.post(
        reverse("admin:merchants_apikey_changelist"),
        {"action": "revoke", "_selected_action": [str(key.pk)]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_by == staff
    assert last_change(key) == (
        staff,
        "~",
        {"revoked_at": (None, key.revoked_at), "revoked_by": (None, staff.pk)},
    )
    # The digest (a secret's fingerprint) is not in the trail
    assert not hasattr(key.history.model, "digest")


def test_revoking_a_key_twice_keeps_the_first_revoker_and_writes_one_row(staff, hotel):
    key, _ = merchant_services.api_key_create(merchant=hotel, name="desk")
    merchant_services.api_key_revoke(api_key=key, by=staff)
    first = ApiKey.objects.get(pk=key.pk)
    other = wallet_services.staff_user_ensure(username="other", password=PASSWORD)
    merchant_services.api_key_revoke(api_key=key, by=other)
    again = ApiKey.objects.get(pk=key.pk)
    assert (again.revoked_at, again.revoked_by) == (first.revoked_at, staff)
    assert key.history.count() == 2


def test_a_perk_change_is_recorded_with_old_and_new_values(staff, hotel):
    perk = Perk.objects.get(merchant=hotel)
    in_request_of(
        staff,
        lambda: perks_services.perk_update(
            perk=perk, max_amount=perk.max_amount + 10_000, rules=perk.rules, is_active=True
        ),
    )
    assert last_change(Perk.objects.get(pk=perk.pk)) == (
        staff,
        "~",
        {"max_amount": (perk.max_amount, perk.max_amount + 10_000)},
    )


def test_a_dispute_resolution_names_the_staff_member(staff, citizen):
    event = scoring_services.record_event(
        account=citizen,
        kind=EventKinds.NO_SHOW,
        occurred_at=timezone.now(),
        source="test:no-show",
    )
    dispute = scoring_services.dispute_open(citizen=citizen, event=event, reason="I was there.")
    scoring_services.dispute_resolve(
        dispute=dispute, upheld=True, note="Checked.", resolved_by=staff
    )
    dispute = Dispute.objects.get(pk=dispute.pk)
    user, kind, changes = last_change(dispute)
    assert (user, kind) == (staff, "~")
    assert changes == {
        "status": (RecordDisputeStatus.ESCALATED, RecordDisputeStatus.UPHELD),
        "resolution": ("", "staff"),
        "resolved_at": (None, dispute.resolved_at),
        "resolution_note": ("", "Checked."),
        "resolved_by": (None, staff.pk),
    }


def test_a_claim_dispute_resolution_names_the_staff_member(staff, citizen, hotel):
    dispute = disputed_claim(hotel, make_reliable(citizen))
    claims.claim_dispute_resolve(dispute=dispute, upheld=True, note="Fair.", resolved_by=staff)
    dispute = ClaimDispute.objects.get(pk=dispute.pk)
    user, kind, changes = last_change(dispute)
    assert (user, kind) == (staff, "~")
    assert changes["status"] == ("open", "upheld")
    assert changes["resolved_by"] == (None, staff.pk)
    assert changes["resolution_note"] == ("", "Fair.")


# --- In the admin ----------------------------------------------------------------------


def test_the_admin_history_page_shows_who_changed_what_from_what_to_what(
    admin_client, staff, hotel
):
    in_request_of(
        staff,
        lambda: merchant_services.merchant_update(
            merchant=hotel, name="Harbour Hotel & Spa", is_active=True
        ),
    )
    page = admin_client.get(reverse("admin:merchants_merchant_history", args=[hotel.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    # The change, old value to new, and who made it
    assert re.search(
        r"<strong>Name:</strong>\s*Harbour Hotel\s*&nbsp;&rarr;&nbsp;&nbsp;Harbour Hotel &amp; Spa",
        text,
    )
    assert re.search(r">\s*root\s*</a>", text)


@pytest.mark.parametrize(
    ("model", "make"),
    [
        ("wallet.user", lambda staff, hotel: staff),
        ("merchants.merchant", lambda staff, hotel: hotel),
        ("perks.perk", lambda staff, hotel: Perk.objects.get(merchant=hotel)),
        ("scoring.scorecard", lambda staff, hotel: scoring_selectors.scorecard_active()),
    ],
)
def test_a_past_version_can_be_read_but_not_reverted(admin_client, staff, hotel, model, make):
    obj = make(staff, hotel)
    app_label, model_name = model.split(".")
    if obj.history.count() == 0:  # objects from before the test database had a trail
        obj.save()
    version = obj.history.order_by("history_id").first()
    url = reverse(f"admin:{app_label}_{model_name}_simple_history", args=[obj.pk, version.pk])
    rows_before = obj.history.count()
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"Revert" not in page.content
    assert admin_client.post(url, {}).status_code == 405
    assert obj.history.count() == rows_before


# --- Signing in ------------------------------------------------------------------------


def test_signing_in_records_the_time_and_writes_no_history(staff, citizen):
    rows = User.history.count()
    token = Client().post(
        "/api/v1/auth/token", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    session = Client().post(
        "/api/v1/auth/login", {"username": "alice", "password": PASSWORD}, "application/json"
    )
    admin = Client().post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert (token.status_code, session.status_code, admin.status_code) == (200, 200, 302)
    assert User.history.count() == rows
    assert User.objects.get(pk=citizen.pk).last_login is not None
    assert User.objects.get(pk=staff.pk).last_login is not None


# --- The trail's start, and its guard on PostgreSQL --------------------------------------


def test_the_trail_starts_with_a_row_for_each_object_that_had_none(staff):
    from django.contrib.auth.models import Group

    # Given users inserted in bulk (no history), one of them in a group
    quiet = User.objects.bulk_create(
        [User(username="quiet-1", identity_level=2), User(username="quiet-2")]
    )
    support = Group.objects.get(name="support")
    User.groups.through.objects.bulk_create([User.groups.through(user=quiet[0], group=support)])
    rows_of_staff = staff.history.count()
    # When the migration's first step runs
    audit_trail.write_initial_history(apps, SimpleNamespace(connection=connection))
    # Then each got one "+" row with its values and groups, and nobody as its author
    for user, level, groups in ((quiet[0], 2, [support.pk]), (quiet[1], 0, [])):
        row = user.history.get()
        assert (row.history_type, row.history_user, row.history_change_reason) == (
            "+",
            None,
            "Audit trail started",
        )
        assert row.identity_level == level
        assert [link.group_id for link in row.groups.all()] == groups
    # And objects that had a trail got nothing more
    assert staff.history.count() == rows_of_staff


def history_tables() -> list[str]:
    return sorted(
        model._meta.db_table for model in apps.get_models() if issubclass(model, HistoricalChanges)
    )


def test_every_tracked_model_is_listed_here():
    # A new tracked model needs its table guarded (a migration like 0001_audit_trail)
    assert history_tables() == [
        "merchants_historicalapikey",
        "merchants_historicalmerchant",
        "merchants_historicalmerchantmember",
        "perks_historicalclaimdispute",
        "perks_historicalperk",
        "scoring_historicaldispute",
        "scoring_historicalscorecard",
        "wallet_historicaluser",
        "wallet_historicaluser_groups",
        "wallet_historicaluser_user_permissions",
    ]


@pytest.mark.postgres
def test_every_history_table_has_the_append_only_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname = c.relname || '_append_only'"
        )
        guarded = {row[0] for row in cursor.fetchall()}
    assert set(history_tables()) <= guarded


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "change"),
    [
        ("wallet_historicaluser", "UPDATE {table} SET identity_level = 2"),
        ("wallet_historicaluser", "UPDATE {table} SET history_user_id = NULL"),
        ("wallet_historicaluser", "DELETE FROM {table}"),
        ("wallet_historicaluser_groups", "DELETE FROM {table}"),
        ("merchants_historicalmerchant", "UPDATE {table} SET name = 'Forged'"),
        ("merchants_historicalmerchant", "DELETE FROM {table}"),
    ],
)
def test_the_database_refuses_to_change_or_erase_history(staff, citizen, hotel, table, change):
    # Given rows in every table named (a user in a group, a merchant)
    from django.contrib.auth.models import Group

    in_request_of(staff, lambda: citizen.groups.add(Group.objects.get(name="support")))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608
        before = cursor.fetchall()
    assert before
    # When anyone, the application included, tries to change or erase them
    with (
        pytest.raises(IntegrityError, match="the audit trail is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(change.format(table=table))
    # Then nothing changed
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608
        assert cursor.fetchall() == before


@pytest.mark.postgres
def test_deleting_an_author_leaves_the_trail_as_written(staff, citizen):
    # Given a change made by a member of staff (the trail's tables refuse UPDATE here)
    wallet_services.user_identity_level_set(user=citizen, level=IdentityLevel.PHONE, actor=staff)
    staff_id = staff.pk
    # When their account is deleted
    User.objects.get(pk=staff_id).delete()
    # Then the row still names them by id, unchanged
    row = cast(Any, User).history.filter(id=citizen.pk).latest()
    assert (row.identity_level, row.history_user_id) == (IdentityLevel.PHONE, staff_id)
    assert not User.objects.filter(pk=staff_id).exists()


# --- Who a request's changes are attributed to ------------------------------------------


def test_a_citizens_own_change_through_the_api_names_the_citizen(citizen, citizen_api):
    event = scoring_services.record_event(
        account=citizen, kind=EventKinds.NO_SHOW, occurred_at=timezone.now(), source="test:ns"
    )
    response = citizen_api.post(
        "/api/v1/me/disputes", {"event_id": str(event.pk), "reason": "I was there."}, format="json"
    )
    assert response.status_code == 201, response.json()
    opened = Dispute.objects.get(event=event).history.get()
    assert (opened.history_type, opened.history_user) == ("+", citizen)


def test_a_change_made_by_a_merchants_key_names_no_person(hotel):
    # A merchant's API key authenticates a request as a merchant, not an account
    principal = SimpleNamespace(is_authenticated=True, merchant=hotel)
    in_request_of(
        principal,
        lambda: merchant_services.merchant_update(merchant=hotel, name="Renamed", is_active=True),
    )
    user, kind, changes = last_change(Merchant.objects.get(pk=hotel.pk))
    assert (user, kind, changes) == (None, "~", {"name": ("Harbour Hotel", "Renamed")})
