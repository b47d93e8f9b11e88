"""Scoring's admin: every page loads; scorecards change only as drafts, through the form's
validation and the services; activation, backtest and dispute decisions are actions that
call services; records are read-only."""

import copy
import uuid
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from governance.models import AnalysisRun
from scoring import selectors, services
from scoring.admin_table import definition_post
from scoring.errors import DisputeNotEscalated
from scoring.facts import EventKinds
from scoring.models import (
    AccessLogEntry,
    CreditEvent,
    Dispute,
    EventStatus,
    RecordDisputeStatus,
    Scorecard,
    ScoreSnapshot,
)
from scoring.purposes import AccessPurpose, Purpose
from tests.staff_reads import give_purpose
from wallet.models import User
from wallet.services import staff_user_ensure

pytestmark = pytest.mark.django_db

SCORECARDS = reverse("admin:scoring_scorecard_changelist")
DISPUTES = reverse("admin:scoring_dispute_changelist")


@pytest.fixture
def staff(db):
    return staff_user_ensure(username="staff", password="staff-password-123")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def approver_client(db):
    """A second superuser: four eyes need someone who did not write or submit a draft."""
    from django.test import Client

    approver = staff_user_ensure(username="approver", password="approver-password-123")
    client = Client()
    client.force_login(approver)
    return client


@pytest.fixture
def record(django_capture_on_commit_callbacks):
    """Record an event and run the recompute it schedules."""

    def record_(user: User, kind: str, source: str, **kw) -> CreditEvent:
        with django_capture_on_commit_callbacks(execute=True):
            return services.record_event(
                account=user,
                kind=kind,
                occurred_at=timezone.now() - timedelta(days=2),
                source=source,
                **kw,
            )

    return record_


@pytest.fixture
def disputes(citizen, other_citizen, record, django_capture_on_commit_callbacks):
    """Alice disputes an unpaid claim, Bob a no-show: no merchant furnished them, so both
    are with staff (escalated) at once."""
    claim = record(citizen, EventKinds.CLAIM_UNPAID, "claim:1", amount=12_000)
    no_show = record(other_citizen, EventKinds.NO_SHOW, "booking:7")
    with django_capture_on_commit_callbacks(execute=True):
        alice = services.dispute_open(citizen=citizen, event=claim, reason="I paid it.")
        bob = services.dispute_open(citizen=other_citizen, event=no_show, reason="I was there.")
    return {"alice": alice, "bob": bob}


@pytest.fixture
def rows(disputes, citizen):
    """At least one row of every scoring model."""
    services.facts_disclose(
        citizen_id=citizen.pk,
        accessor_kind="staff",
        accessor_id="1",
        accessor_name="Support desk",
        purpose=Purpose(AccessPurpose.SUPPORT_REVIEW),
        fact_keys=["score", "band"],
    )


def definition_plus(points: int) -> dict:
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] += points
    return definition


@pytest.fixture
def draft() -> Scorecard:
    return services.scorecard_draft_create(name="Plus fifty", definition=definition_plus(50))


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, changelist: str, action: str, objects, **data):
    return client.post(
        changelist, {"action": action, "_selected_action": [o.pk for o in objects], **data}
    )


# --- Smoke -----------------------------------------------------------------------------


MODELS = [Scorecard, CreditEvent, ScoreSnapshot, Dispute, AccessLogEntry]


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_and_change_page_loads(staff_client, rows, draft, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert staff_client.get(changelist).status_code == 200
    assert staff_client.get(changelist, {"q": "alice"}).status_code == 200
    for obj in model.objects.all():
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert staff_client.get(change).status_code == 200


def test_the_scorecard_add_page_starts_from_the_active_definition(staff_client):
    response = staff_client.get(reverse("admin:scoring_scorecard_add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form["definition"].value() == selectors.scorecard_active().definition
    content = response.content.decode()
    assert 'name="definition-0-label" value="Bills paid on time (12 months)"' in content
    assert 'name="definition"' not in content  # no JSON text box


@pytest.mark.parametrize("model", [CreditEvent, ScoreSnapshot, Dispute, AccessLogEntry])
def test_records_cannot_be_added_changed_or_deleted(staff_client, rows, model):
    # Given a record
    opts = model._meta
    obj = model.objects.first()
    # When staff try to add, change or delete one
    add = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    change = staff_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]), {}
    )
    delete = staff_client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]),
        {"post": "yes"},
    )
    # Then each is refused, and the record is still there
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert model.objects.filter(pk=obj.pk).exists()


def test_the_scorecard_page_shows_factors_and_bins(staff_client):
    active = selectors.scorecard_active()
    response = staff_client.get(reverse("admin:scoring_scorecard_change", args=[active.pk]))
    content = response.content.decode()
    assert "Base points\n  <strong>400</strong>" in content
    assert "Bills paid on time (12 months)" in content
    assert "Best possible file: 880." in content
    for covers in ("50-79 %", "98-100 %", "1095 days or more", "3 or more", "Phone verified"):
        assert f"<td>{covers}</td>" in content
    assert '<td class="scorecard-points">-280</td>' in content
    assert "<td>no value</td>" in content


# --- Drafts ----------------------------------------------------------------------------


def test_a_valid_draft_is_created_as_the_next_version(staff_client):
    # Given the active version 1
    definition = definition_plus(50)
    # When staff add a scorecard through the form
    response = staff_client.post(
        reverse("admin:scoring_scorecard_add"),
        {"name": "Plus fifty", "notes": "A test.", **definition_post(definition)},
    )
    # Then version 2 exists as a draft, with that definition
    created = Scorecard.objects.get(version=2)
    assert response.status_code == 302
    assert response["Location"] == SCORECARDS
    assert (created.name, created.status, created.notes) == ("Plus fifty", "draft", "A test.")
    assert created.definition == definition
    assert Scorecard.objects.count() == 2


def test_an_invalid_definition_shows_each_error_and_creates_nothing(staff_client):
    # Given a definition with an unknown fact and bins whose points go down
    definition = definition_plus(0)
    definition["factors"][0]["fact"] = "net_worth"
    definition["factors"][2]["bins"] = [{"from": 0, "points": 20}, {"from": 1, "points": 0}]
    # When staff submit it
    response = staff_client.post(
        reverse("admin:scoring_scorecard_add"),
        {"name": "Wealth", "notes": "", **definition_post(definition)},
    )
    # Then the form shows both errors, and no scorecard was created
    assert response.status_code == 200
    errors = [
        "factors[0]: fact must be one of: account_age_days, bookings_completed, "
        "identity_level, late_payments_24m, no_shows_12m, on_time_ratio_12m, "
        "stays_completed_well_24m, unpaid_claims.",
        "factors[2]: points must not go down as bookings_completed goes up (more is better).",
    ]
    assert response.context["adminform"].form.errors["definition"] == errors
    for error in errors:
        assert error in response.content.decode()
    assert list(Scorecard.objects.values_list("version", flat=True)) == [1]


def test_a_cell_that_is_not_a_whole_number_is_refused_on_its_row(staff_client):
    data = definition_post(definition_plus(0))
    data["definition-0-bin-1-from"] = "fifty"
    response = staff_client.post(
        reverse("admin:scoring_scorecard_add"), {"name": "Broken", "notes": "", **data}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["definition"] == [
        "factors[0]: bins[1] must be {from, points} with whole numbers."
    ]
    assert "Whole numbers only, in both cells." in response.content.decode()
    assert Scorecard.objects.count() == 1


def test_a_draft_is_edited_through_the_form(staff_client, draft):
    # When staff change the draft's name, notes and definition
    definition = definition_plus(20)
    response = staff_client.post(
        reverse("admin:scoring_scorecard_change", args=[draft.pk]),
        {"name": "Plus twenty", "notes": "Smaller.", **definition_post(definition)},
    )
    # Then the draft holds them, and is still a draft of the same version
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.notes, draft.version, draft.status) == (
        "Plus twenty",
        "Smaller.",
        2,
        "draft",
    )
    assert draft.definition["base_points"] == 420


def test_an_invalid_edit_leaves_the_draft_as_it_was(staff_client, draft):
    definition = definition_plus(50)
    definition["base_points"] = 2000
    response = staff_client.post(
        reverse("admin:scoring_scorecard_change", args=[draft.pk]),
        {"name": "Too much", "notes": "", **definition_post(definition)},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["definition"] == [
        "base_points must be a whole number from 0 to 950."
    ]
    draft.refresh_from_db()
    assert (draft.name, draft.definition["base_points"]) == ("Plus fifty", 450)


def test_active_and_retired_versions_are_read_only(
    staff_client, draft, django_capture_on_commit_callbacks
):
    # Given version 2 active and version 1 retired
    with django_capture_on_commit_callbacks(execute=True):
        services.scorecard_activate(scorecard=draft)
    retired = Scorecard.objects.get(version=1)
    for scorecard in (draft, retired):
        before = Scorecard.objects.values().get(pk=scorecard.pk)
        url = reverse("admin:scoring_scorecard_change", args=[scorecard.pk])
        # When staff open it, then post a change and a deletion
        page = staff_client.get(url)
        change = staff_client.post(
            url, {"name": "Changed", "notes": "", **definition_post(definition_plus(1))}
        )
        delete = staff_client.post(
            reverse("admin:scoring_scorecard_delete", args=[scorecard.pk]), {"post": "yes"}
        )
        # Then the page has no form field, both posts are refused, and nothing changed
        assert page.status_code == 200
        assert 'name="definition' not in page.content.decode()
        assert (change.status_code, delete.status_code) == (403, 403)
        assert Scorecard.objects.values().get(pk=scorecard.pk) == before


def test_a_draft_cannot_be_deleted(staff_client, draft):
    response = staff_client.post(
        reverse("admin:scoring_scorecard_delete", args=[draft.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Scorecard.objects.filter(pk=draft.pk).exists()


def test_copy_as_a_new_draft(staff_client):
    # Given the active version 1
    active = selectors.scorecard_active()
    # When staff copy it
    response = act(staff_client, SCORECARDS, "copy_as_draft", [active])
    # Then version 2 is a draft with the same definition, and version 1 is unchanged
    copied = Scorecard.objects.get(version=2)
    assert response.status_code == 302
    assert (copied.name, copied.status, copied.notes) == (
        "Reliability v1 (copy)",
        "draft",
        "Copied from version 1.",
    )
    assert copied.definition == active.definition
    assert Scorecard.objects.get(version=1).status == "active"
    assert messages_of(response) == ["Draft v2 created as a copy of v1."]


# --- Activation (four eyes: tests/security/test_four_eyes.py has the refusals) ------
#
# Approving a draft needs a fairness audit of it: it is not an action of this admin
# (the governance admin adds the approve page to the draft's page).


def test_a_submitted_draft_has_no_approve_action_here(
    staff_client, approver_client, draft, django_capture_on_commit_callbacks
):
    # Given a draft submitted through the admin
    submitted = act(staff_client, SCORECARDS, "submit", [draft])
    assert messages_of(submitted) == [
        "v2 “Plus fifty” is submitted: another member of staff who did not write it "
        "approves it to make it active."
    ]
    # When a second member of staff looks for an approve action, or forges one
    page = approver_client.get(SCORECARDS)
    actions = [value for value, _ in page.context["action_form"].fields["action"].choices]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        forged = act(approver_client, SCORECARDS, "approve", [draft])
    # Then there is none: nothing is activated or scheduled
    assert actions == ["", "copy_as_draft", "submit", "backtest"]
    assert messages_of(forged) == ["No action selected."]
    assert callbacks == []
    assert sorted(Scorecard.objects.values_list("version", "status")) == [
        (1, "active"),
        (2, "draft"),
    ]
    assert not ScoreSnapshot.objects.exists()


# --- Backtest --------------------------------------------------------------------------


def test_the_backtest_action_queues_a_stored_backtest_and_shows_its_page(
    staff_client, staff, citizen, draft
):
    # When staff backtest the draft (the backtest runs as a stored run: a Celery task
    # whose report governance's admin shows; its figures are tested with its runner)
    snapshots = ScoreSnapshot.objects.count()
    response = act(staff_client, SCORECARDS, "backtest", [draft])
    # Then a backtest of the draft is queued and staff are taken to its page
    run = AnalysisRun.objects.get()
    assert (run.kind, run.status, run.scorecard, run.requested_by) == (
        "backtest",
        "queued",
        draft,
        staff,
    )
    assert response.status_code == 302
    assert response.url == reverse("admin:governance_analysisrun_change", args=[run.pk])
    # And nothing was written
    assert ScoreSnapshot.objects.count() == snapshots
    assert Scorecard.objects.get(pk=draft.pk).status == "draft"


def test_the_backtest_needs_one_scorecard(staff_client, draft):
    response = act(staff_client, SCORECARDS, "backtest", [draft, selectors.scorecard_active()])
    assert response.status_code == 302
    assert messages_of(response) == ["Select exactly one scorecard to backtest."]


# --- Disputes --------------------------------------------------------------------------


def test_uphold_asks_for_a_note_then_removes_the_record(
    staff_client, staff, disputes, citizen, django_capture_on_commit_callbacks
):
    dispute = disputes["alice"]
    # When staff choose "Uphold"
    page = act(staff_client, DISPUTES, "uphold", [dispute])
    # Then a page asks for a note, and nothing is decided yet
    assert page.status_code == 200
    assert page.templates[0].name == "admin/dispute_resolve.html"
    assert 'name="note"' in page.content.decode()
    assert Dispute.objects.get(pk=dispute.pk).status == RecordDisputeStatus.ESCALATED
    # When they submit it with a note
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            staff_client, DISPUTES, "uphold", [dispute], apply="yes", note="Paid, per receipt."
        )
    # Then the dispute is upheld by them with the note, and the claim is removed for good
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note, dispute.resolved_by) == (
        RecordDisputeStatus.UPHELD,
        "Paid, per receipt.",
        staff,
    )
    assert dispute.resolved_at is not None
    assert CreditEvent.objects.get(pk=dispute.event_id).status == EventStatus.REMOVED
    assert selectors.score_current(account=citizen).features["unpaid_claims"] == 0
    # And Bob's dispute, not selected, is still with staff
    assert Dispute.objects.get(pk=disputes["bob"].pk).status == RecordDisputeStatus.ESCALATED
    assert messages_of(response) == [
        "1 dispute(s) upheld: the records no longer count; the scores are being recomputed."
    ]


def test_reject_makes_the_record_count_again(
    staff_client, staff, disputes, citizen, django_capture_on_commit_callbacks
):
    dispute = disputes["alice"]
    # When staff reject the dispute with a note
    with django_capture_on_commit_callbacks(execute=True):
        response = act(
            staff_client, DISPUTES, "reject", [dispute], apply="yes", note="The claim stands."
        )
    # Then the dispute is rejected and the unpaid claim stands
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note, dispute.resolved_by) == (
        RecordDisputeStatus.REJECTED,
        "The claim stands.",
        staff,
    )
    assert CreditEvent.objects.get(pk=dispute.event_id).status == EventStatus.ACTIVE
    assert selectors.score_current(account=citizen).features["unpaid_claims"] == 1


def test_a_decision_needs_a_note(staff_client, disputes):
    # When staff submit the page without a note
    dispute = disputes["alice"]
    response = act(staff_client, DISPUTES, "uphold", [dispute], apply="yes", note="  ")
    # Then the page is shown again with the error, and nothing is decided
    assert response.status_code == 200
    assert response.context["form"].errors == {"note": ["This field is required."]}
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note, dispute.resolved_by) == (
        "escalated",
        "",
        None,
    )
    assert CreditEvent.objects.get(pk=dispute.event_id).status == EventStatus.DISPUTED


def test_resolved_disputes_are_skipped(staff_client, staff, disputes):
    # Given Alice's dispute already rejected
    alice, bob = disputes["alice"], disputes["bob"]
    services.dispute_resolve(dispute=alice, upheld=False, note="Earlier.", resolved_by=None)
    # When staff uphold both
    response = act(
        staff_client, DISPUTES, "uphold", [alice, bob], apply="yes", note="Not verified."
    )
    # Then Bob's is upheld, Alice's stays as it was, and staff are told
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (bob.status, bob.resolution_note, bob.resolved_by) == ("upheld", "Not verified.", staff)
    assert (alice.status, alice.resolution_note, alice.resolved_by) == (
        "rejected",
        "Earlier.",
        None,
    )
    assert CreditEvent.objects.get(pk=alice.event_id).status == EventStatus.ACTIVE
    assert messages_of(response) == [
        "1 dispute(s) upheld: the records no longer count; the scores are being recomputed.",
        "1 dispute(s) skipped: not escalated to staff, or already decided.",
    ]


def test_nothing_to_decide_when_no_selected_dispute_is_escalated(staff_client, disputes):
    alice = disputes["alice"]
    services.dispute_resolve(dispute=alice, upheld=True, note="Done.", resolved_by=None)
    response = act(staff_client, DISPUTES, "reject", [alice])
    assert response.status_code == 302
    assert messages_of(response) == [
        "None of the selected disputes is escalated to staff: nothing to do."
    ]
    alice.refresh_from_db()
    assert (alice.status, alice.resolution_note) == ("upheld", "Done.")


def test_opening_a_snapshot_shows_in_the_citizens_access_log(staff_client, staff, citizen):
    # Given a citizen's snapshot, and an access log with no staff read
    snapshot = services.score_current_ensure(account=citizen)
    before = AccessLogEntry.objects.filter(citizen=citizen).count()
    # When staff open it (the list alone reads no single citizen's file), saying why
    assert staff_client.get(reverse("admin:scoring_scoresnapshot_changelist")).status_code == 200
    assert AccessLogEntry.objects.filter(citizen=citizen).count() == before
    url = reverse("admin:scoring_scoresnapshot_change", args=[snapshot.pk])
    give_purpose(staff_client, url, "Explaining their score")
    response = staff_client.get(url)
    # Then the citizen can see that support read it, why, and which snapshot
    assert response.status_code == 200
    entry = AccessLogEntry.objects.filter(citizen=citizen).latest("id")
    assert AccessLogEntry.objects.filter(citizen=citizen).count() == before + 1
    assert (
        entry.accessor_kind,
        entry.accessor_id,
        entry.accessor_name,
        entry.purpose,
        entry.purpose_note,
    ) == ("staff", str(staff.pk), "Open Sesame support", "support_review", "Explaining their score")
    assert entry.snapshot == snapshot


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(12_000, "CNY", "120.00 CNY"), (50_000, "JPY", "50,000 JPY"), (1_234, "KWD", "1.234 KWD")],
)
def test_an_events_amount_is_money_in_its_currency(
    staff_client, citizen, record, amount, currency, shown
):
    claim = record(citizen, EventKinds.CLAIM_UNPAID, "claim:1", amount=amount, currency=currency)
    no_show = record(citizen, EventKinds.NO_SHOW, "booking:7")
    # (the record's page shows it, after staff say why; the list never does)
    pages = []
    for event in (claim, no_show):
        url = reverse("admin:scoring_creditevent_change", args=[event.pk])
        give_purpose(staff_client, url)
        pages.append(staff_client.get(url).content.decode())
    assert f'<div class="readonly">{shown}</div>' in pages[0]
    assert '<div class="readonly">-</div>' in pages[1]


def test_the_dispute_resolve_page_shows_each_record_and_what_will_be_skipped(
    staff_client, disputes
):
    # Given Alice's dispute already rejected
    alice, bob = disputes["alice"], disputes["bob"]
    services.dispute_resolve(dispute=alice, upheld=False, note="Earlier.", resolved_by=None)
    # When staff choose "Reject" for both
    page = act(staff_client, DISPUTES, "reject", [alice, bob])
    # Then the one resolve page lists both records, Alice's as skipped, and posts back
    content = page.content.decode()
    assert page.templates[0].name == "admin/dispute_resolve.html"
    assert "<th>Record</th>" in content
    assert content.count("(will be skipped)") == 1
    assert 'name="action" value="reject"' in content
    assert "Reject the escalated disputes" in content


def test_staff_cannot_decide_a_dispute_its_furnisher_has_not_answered(
    staff_client, staff, citizen, record
):
    # Given a dispute of a record a merchant furnished, open: the merchant answers it
    furnisher = uuid.UUID("00000000-0000-4000-8000-00000000f00d")
    event = record(citizen, EventKinds.NO_SHOW, "booking:8", furnisher_id=furnisher)
    dispute = services.dispute_open(citizen=citizen, event=event, reason="I was there.")
    # When staff try to uphold it, then there is nothing to decide
    response = act(staff_client, DISPUTES, "uphold", [dispute], apply="yes", note="No.")
    assert messages_of(response) == [
        "None of the selected disputes is escalated to staff: nothing to do."
    ]
    dispute.refresh_from_db()
    assert (dispute.status, dispute.resolution_note) == (RecordDisputeStatus.OPEN, "")
    # and the service refuses it too
    with pytest.raises(DisputeNotEscalated):
        services.dispute_resolve(dispute=dispute, upheld=True, note="No.", resolved_by=staff)
    # When the merchant verifies it and the citizen escalates it, staff see both sides
    services.dispute_verify(dispute=dispute, furnisher_id=furnisher, note="Never arrived.")
    services.dispute_escalate(citizen=citizen, dispute=dispute, reason="I have the key card.")
    page = act(staff_client, DISPUTES, "reject", [dispute])
    content = page.content.decode()
    assert "Never arrived." in content
    assert "I have the key card." in content
    assert "(will be skipped)" not in content
    # and the change page shows the furnisher's answer
    url = reverse("admin:scoring_dispute_change", args=[dispute.pk])
    give_purpose(staff_client, url, "Deciding their escalated dispute")
    change = staff_client.get(url)
    assert change.status_code == 200
    assert "Never arrived." in change.content.decode()
