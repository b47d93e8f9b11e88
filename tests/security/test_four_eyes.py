"""Four eyes: a scorecard or a perk-rule change goes live only when a second member of
staff approves it; whoever wrote, changed or submitted it cannot, whatever their
permissions; a perk change proposed against an older state of the perk is refused."""

import copy
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import NoReverseMatch, reverse

from common.domain import Forbidden
from governance.approvals import evidence_for
from merchants.perks import services as perks_services
from merchants.perks.admin_forms import major_text
from merchants.perks.errors import PerkChangeNotPending, PerkChangeStale
from merchants.perks.models import Perk, PerkChange
from merchants.perks.rules import DEFAULT_RULES, Rules
from scoring import selectors
from scoring import services as scoring_services
from scoring.admin_table import definition_post
from scoring.errors import FourEyesRequired, ScorecardNotSubmitted
from scoring.models import Scorecard, ScoreSnapshot
from tests.governance.audits import audit_done
from tests.merchants.perks.changes import audited, rules_post_data
from tests.security.staff import signed_in, staff_with

pytestmark = pytest.mark.django_db

SCORECARDS = reverse("admin:scoring_scorecard_changelist")

ANALYST = (
    "scoring.view_scorecard",
    "scoring.add_scorecard",
    "scoring.change_scorecard",
    "scoring.submit_scorecard",
)
# An approval rests on a fairness audit the approver may ask for.
APPROVER = ("scoring.view_scorecard", "scoring.approve_scorecard", "governance.request_analysisrun")
OPS = ("perks.view_perk", "perks.view_perkchange", "perks.add_perkchange")
PERK_APPROVER = ("perks.view_perk", "perks.view_perkchange", "perks.approve_perkchange")


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def definition_plus(points: int) -> dict[str, Any]:
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] += points
    return definition


def scorecards() -> list[tuple[int, str, Any]]:
    return list(
        Scorecard.objects.order_by("version").values_list("version", "status", "activated_by")
    )


def act(client: Any, action: str, scorecard: Scorecard) -> Any:
    return client.post(SCORECARDS, {"action": action, "_selected_action": [scorecard.pk]})


# --- Scorecards ------------------------------------------------------------------------


def test_an_analyst_cannot_activate_a_scorecard_alone(django_capture_on_commit_callbacks):
    # Given an analyst who writes a draft of 150 more points for everyone and submits it
    analyst = staff_with("analyst", *ANALYST)
    client = signed_in(analyst)
    created = client.post(
        reverse("admin:scoring_scorecard_add"),
        {"name": "Plus 150", "notes": "", **definition_post(definition_plus(150))},
    )
    assert created.status_code == 302
    draft = Scorecard.objects.get(version=2)
    assert (draft.created_by, draft.updated_by) == (analyst, analyst)
    submitted = act(client, "submit", draft)
    draft.refresh_from_db()
    assert (submitted.status_code, draft.submitted_by) == (302, analyst)
    # When they try to approve it themselves: the action is not theirs to choose
    page = client.get(SCORECARDS)
    actions = [value for value, _ in page.context["action_form"].fields["action"].choices]
    assert "approve" not in actions
    assert "activate" not in actions
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        forged = act(client, "approve", draft)
    # Then nothing is activated, and the service refuses them too
    assert forged.status_code == 302
    assert messages_of(forged) == ["No action selected."]
    with pytest.raises(Forbidden) as refused:
        scoring_services.scorecard_approve(scorecard=draft, by=analyst, evidence=None)
    assert refused.value.code == "permission_denied"
    assert callbacks == []
    assert scorecards() == [(1, "active", None), (2, "draft", None)]
    assert not ScoreSnapshot.objects.exists()


def test_the_author_cannot_approve_their_own_draft_even_with_the_permission(
    django_capture_on_commit_callbacks,
):
    # Given a member of staff who may write and approve, and writes a draft that an
    # analyst submits
    both = staff_with("both", *ANALYST, *APPROVER)
    analyst = staff_with("analyst", *ANALYST)
    draft = scoring_services.scorecard_draft_create(
        name="Plus 150", definition=definition_plus(150), by=both
    )
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    audit_done(scorecard=draft)
    # When the author approves it, with a fresh audit of it (the approve page is the
    # governance admin's; its service refuses)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(FourEyesRequired) as refused_author,
    ):
        scoring_services.scorecard_approve(
            scorecard=draft, by=both, evidence=evidence_for(scorecard=draft)
        )
    # Then it is refused, with the reason, and nothing changed
    assert str(refused_author.value.detail) == (
        "You wrote, changed or submitted this change: another member of staff must approve it."
    )
    assert callbacks == []
    assert scorecards() == [(1, "active", None), (2, "draft", None)]
    # And so is the submitter, and anyone who edited it before it was submitted
    approver_who_submitted = staff_with("submitter", *ANALYST, *APPROVER)
    editor = staff_with("editor", *ANALYST, *APPROVER)
    scoring_services.scorecard_draft_update(
        scorecard=draft, name="Plus 140", definition=definition_plus(140), notes="", by=editor
    )
    scoring_services.scorecard_draft_update(
        scorecard=draft, name="Plus 150", definition=definition_plus(150), notes="", by=analyst
    )
    scoring_services.scorecard_submit(scorecard=draft, by=approver_who_submitted)
    evidence = evidence_for(scorecard=draft)
    for author in (both, approver_who_submitted, editor):
        with pytest.raises(FourEyesRequired) as refused:
            scoring_services.scorecard_approve(scorecard=draft, by=author, evidence=evidence)
        assert refused.value.code == "four_eyes_required"
    assert scorecards() == [(1, "active", None), (2, "draft", None)]


def test_an_edit_after_submission_must_be_submitted_again():
    analyst = staff_with("analyst", *ANALYST)
    approver = staff_with("approver", *APPROVER)
    draft = scoring_services.scorecard_draft_create(
        name="Plus 10", definition=definition_plus(10), by=analyst
    )
    # Never submitted (though audited)
    audit_done(scorecard=draft)
    with pytest.raises(ScorecardNotSubmitted) as refused:
        scoring_services.scorecard_approve(
            scorecard=draft, by=approver, evidence=evidence_for(scorecard=draft)
        )
    assert refused.value.code == "scorecard_not_submitted"
    # Submitted, then changed: the submission is withdrawn
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    client = signed_in(analyst)
    client.post(
        reverse("admin:scoring_scorecard_change", args=[draft.pk]),
        {"name": "Plus 150", "notes": "", **definition_post(definition_plus(150))},
    )
    draft.refresh_from_db()
    assert (draft.name, draft.submitted_by, draft.submitted_at) == ("Plus 150", None, None)
    audit_done(scorecard=draft)
    with pytest.raises(ScorecardNotSubmitted):
        scoring_services.scorecard_approve(
            scorecard=draft, by=approver, evidence=evidence_for(scorecard=draft)
        )
    assert scorecards() == [(1, "active", None), (2, "draft", None)]


def test_a_second_member_of_staff_approves_and_activates(django_capture_on_commit_callbacks):
    # Given an analyst's submitted draft
    analyst = staff_with("analyst", *ANALYST)
    approver = staff_with("approver", *APPROVER)
    draft = scoring_services.scorecard_draft_create(
        name="Plus 10", definition=definition_plus(10), by=analyst
    )
    act(signed_in(analyst), "submit", draft)
    audit_done(scorecard=draft)
    # When an approver who did not write it approves it, with a fresh audit of it (the
    # approve page is the governance admin's)
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.scorecard_approve(
            scorecard=draft, by=approver, evidence=evidence_for(scorecard=draft)
        )
    # Then it is the active version, activated by the approver; version 1 is retired
    assert scorecards() == [(1, "retired", None), (2, "active", approver.pk)]
    draft.refresh_from_db()
    assert (draft.created_by, draft.submitted_by, draft.activated_by) == (
        analyst,
        analyst,
        approver,
    )
    # And the scorecard's page says who did what
    page = signed_in(approver).get(reverse("admin:scoring_scorecard_change", args=[draft.pk]))
    content = page.content.decode()
    assert "Four eyes" in content
    assert content.count("by analyst") >= 2  # created, submitted
    assert "by approver" in content  # activated


# --- Perk changes ----------------------------------------------------------------------


@pytest.fixture
def hotel():
    return perks_services.merchant_onboard(name="Harbour Hotel", category="hotel")


def stricter_rules() -> dict[str, Any]:
    rules = copy.deepcopy(DEFAULT_RULES)
    rules["conditions"] = [
        {"fact": "score", "op": ">=", "value": 700, "message": "A score of 700 is needed."}
    ]
    return rules


def propose(client: Any, perk: Perk, *, max_amount: int = 100_000, rules: Any = None) -> Any:
    data = {
        "perk": perk.pk,
        "max_amount": major_text(max_amount, "CNY"),
        "is_active": "on",
        **rules_post_data(rules or perk.rules),
        "booking_max_days_ahead": perk.booking_max_days_ahead,
        "booking_max_nights": perk.booking_max_nights,
        "claim_window_days": perk.claim_window_days,
        "note": "Fewer waivers this season.",
    }
    return client.post(f"{reverse('admin:perks_perkchange_add')}?perk={perk.pk}", data)


def decide(client: Any, change: PerkChange, view: str, note: str = "") -> Any:
    return client.post(reverse(f"admin:perks_perkchange_{view}", args=[change.pk]), {"note": note})


def approve(change: PerkChange, by: Any, note: str = "") -> PerkChange:
    """Approve with an audit of exactly the change's terms (as governance's page does)."""
    return perks_services.perk_change_approve(
        change=change, by=by, evidence=audited(change), note=note
    )


def test_a_perk_change_goes_live_only_when_a_second_member_of_staff_approves(hotel):
    # Given merchant ops who propose a lower maximum and stricter rules
    perk = hotel.perks.get()
    before = Perk.objects.values().get(pk=perk.pk)
    ops = staff_with("ops", *OPS)
    proposed = propose(signed_in(ops), perk, rules=stricter_rules())
    assert proposed.status_code == 302
    change = PerkChange.objects.get()
    assert (change.status, change.proposed_by, change.base_updated_at) == (
        "pending",
        ops,
        perk.updated_at,
    )
    # Then the perk is unchanged until it is approved
    assert Perk.objects.values().get(pk=perk.pk) == before
    # And the perks admin offers no approval (governance does, with the audit)
    with pytest.raises(NoReverseMatch):
        reverse("admin:perks_perkchange_approve", args=[change.pk])
    # When the proposer tries to approve it: refused (no permission), nothing changed
    with pytest.raises(Forbidden, match=r"You may not approve perk changes\."):
        approve(change, ops)
    # When an approver who proposed it tries: refused (four eyes)
    both = staff_with("both", *OPS, "perks.approve_perkchange")
    propose(signed_in(both), perk, max_amount=90_000)
    own = PerkChange.objects.get(proposed_by=both)
    with pytest.raises(FourEyesRequired):
        approve(own, both)
    assert Perk.objects.values().get(pk=perk.pk) == before
    assert set(PerkChange.objects.values_list("status", flat=True)) == {"pending"}
    # When a second member of staff approves the first change
    approver = staff_with("approver", *PERK_APPROVER)
    approve(change, approver, "Agreed with the hotel.")
    # Then it is live, recorded as theirs
    perk.refresh_from_db()
    change.refresh_from_db()
    assert (perk.max_amount, perk.rules) == (100_000, Rules.from_data(stricter_rules()).as_data())
    assert (change.status, change.decided_by, change.decision_note) == (
        "applied",
        approver,
        "Agreed with the hotel.",
    )
    # And the audit trail of the perk names the approver
    assert perk.history.latest("history_date").history_user == approver


def test_a_change_proposed_before_another_was_applied_is_refused_as_stale(hotel):
    # Given two changes proposed against the same state of the perk
    perk = hotel.perks.get()
    first_ops, second_ops = staff_with("ops1", *OPS), staff_with("ops2", *OPS)
    approver = staff_with("approver", *PERK_APPROVER)
    propose(signed_in(first_ops), perk, max_amount=100_000)
    propose(signed_in(second_ops), perk, max_amount=150_000, rules=stricter_rules())
    first = PerkChange.objects.get(proposed_by=first_ops)
    second = PerkChange.objects.get(proposed_by=second_ops)
    # When the first is approved, then the second
    approve(first, approver)
    after_first = Perk.objects.values().get(pk=perk.pk)
    # Then the second is refused: it would undo the first; the perk is as the first left it
    with pytest.raises(PerkChangeStale) as refused:
        approve(second, approver)
    assert refused.value.code == "perk_change_stale"
    assert refused.value.detail == (
        "The perk was changed after this change was proposed: it would undo that change. "
        "Reject it and propose it again from the perk as it is now."
    )
    assert Perk.objects.values().get(pk=perk.pk) == after_first
    assert after_first["max_amount"] == 100_000
    second.refresh_from_db()
    assert (second.status, second.decided_by) == ("pending", None)
    # And it can be rejected, with a note, after which it cannot be approved
    decide(signed_in(approver), second, "reject", "Stale: propose again.")
    second.refresh_from_db()
    assert (second.status, second.decision_note) == ("rejected", "Stale: propose again.")
    with pytest.raises(PerkChangeNotPending):
        approve(second, approver)
    assert Perk.objects.values().get(pk=perk.pk) == after_first


def test_a_rejection_needs_a_note_and_the_proposer_may_withdraw(hotel):
    perk = hotel.perks.get()
    before = Perk.objects.values().get(pk=perk.pk)
    ops = staff_with("ops", *OPS)
    propose(signed_in(ops), perk, max_amount=1_000)
    change = PerkChange.objects.get()
    # Without a note: nothing changes
    refused = decide(signed_in(ops), change, "reject", "  ")
    assert messages_of(refused) == ["Nothing was changed: Say why."]
    change.refresh_from_db()
    assert change.status == "pending"
    # The proposer turns their own change down: withdrawn, the perk untouched
    decide(signed_in(ops), change, "reject", "Wrong amount.")
    change.refresh_from_db()
    assert (change.status, change.decided_by, change.decision_note) == (
        "withdrawn",
        ops,
        "Wrong amount.",
    )
    assert Perk.objects.values().get(pk=perk.pk) == before


def test_a_new_perk_is_created_only_on_approval(hotel):
    # Given a rental merchant with its perk deactivated, and a proposal of a new one
    rental = perks_services.merchant_onboard(name="Lake Cars", category="rental")
    old = rental.perks.get()
    ops = staff_with("ops", *OPS)
    approver = staff_with("approver", *PERK_APPROVER)
    propose(signed_in(ops), old, max_amount=old.max_amount, rules=DEFAULT_RULES)  # no change
    assert not PerkChange.objects.exists()  # nothing to change: refused
    approve(
        perks_services.perk_change_propose(
            perk=old,
            merchant=rental,
            kind=old.kind,
            max_amount=old.max_amount,
            rules=old.rules,
            is_active=False,
            bounds=perks_services.StayBounds.of(old),
            by=ops,
        ),
        approver,
    )
    data = {
        "merchant": rental.pk,
        "kind": "deposit_waiver",
        "max_amount": "300.00",
        "is_active": "on",
        **rules_post_data(DEFAULT_RULES),
        "booking_max_days_ahead": 30,
        "booking_max_nights": 7,
        "claim_window_days": 5,
    }
    assert signed_in(ops).post(reverse("admin:perks_perkchange_add"), data).status_code == 302
    change = PerkChange.objects.get(perk__isnull=True)
    assert Perk.objects.filter(merchant=rental).count() == 1
    # When a second member of staff approves it
    approve(change, approver)
    # Then the perk exists, active, as proposed
    change.refresh_from_db()
    created = Perk.objects.get(merchant=rental, is_active=True)
    assert change.perk == created
    assert (created.max_amount, created.booking_max_nights) == (30_000, 7)
