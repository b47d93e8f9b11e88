"""An approval rests on a fairness audit of exactly what it approves, less than a day
old, and, when a ratio of it is under the floor, on a written justification kept with
it; four eyes still hold. (The audits here are finished runs made by hand: the audit
engine has its own tests.)"""

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from common.approvals import AuditRequired, JustificationRequired
from common.domain import Conflict, Forbidden
from governance import approvals
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus, Approval
from scoring import selectors
from scoring import services as scoring_services
from scoring.errors import FourEyesRequired
from scoring.models import Scorecard
from tests.governance.audits import audit_done
from wallet.models import User

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def definition_plus(points: int) -> dict[str, Any]:
    definition = copy.deepcopy(selectors.scorecard_active().definition)
    definition["base_points"] += points
    return definition


@pytest.fixture
def analyst(member_of: Callable[[str], User]) -> User:
    return member_of("risk_analyst")


@pytest.fixture
def approver(member_of: Callable[[str], User]) -> User:
    return member_of("risk_approver")


@pytest.fixture
def draft(analyst: User) -> Scorecard:
    draft = scoring_services.scorecard_draft_create(
        name="Plus 10", definition=definition_plus(10), by=analyst
    )
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    draft.refresh_from_db()
    return draft


def statuses() -> list[tuple[int, str]]:
    return list(Scorecard.objects.order_by("version").values_list("version", "status"))


def test_an_approval_without_an_audit_is_refused(draft, approver):
    with pytest.raises(AuditRequired) as refused:
        approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert refused.value.code == "audit_required"
    # An audit still queued, or one that failed, is no audit
    for status in (AnalysisStatus.QUEUED, AnalysisStatus.FAILED):
        AnalysisRun.objects.create(
            kind=AnalysisKind.AUDIT,
            status=status,
            scorecard=draft,
            subject_digest=selectors.scorecard_digest(draft),
            created_at=timezone.now(),
        )
    with pytest.raises(AuditRequired):
        approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    # Nor is a backtest
    AnalysisRun.objects.create(
        kind=AnalysisKind.BACKTEST,
        status=AnalysisStatus.DONE,
        scorecard=draft,
        subject_digest=selectors.scorecard_digest(draft),
        created_at=timezone.now(),
        finished_at=timezone.now(),
    )
    with pytest.raises(AuditRequired):
        approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert statuses() == [(1, "active"), (2, "draft")]
    assert not Approval.objects.exists()


def test_an_audit_more_than_a_day_old_is_refused(draft, approver):
    with time_machine.travel(NOW, tick=False):
        audit_done(scorecard=draft)
    with (
        time_machine.travel(NOW + timedelta(hours=24, minutes=1), tick=False),
        pytest.raises(AuditRequired) as refused,
    ):
        approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert "more than a day old" in refused.value.detail
    assert statuses() == [(1, "active"), (2, "draft")]
    # Within the day it is enough
    with time_machine.travel(NOW + timedelta(hours=23, minutes=59), tick=False):
        approval = approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert approval.approved_at == NOW + timedelta(hours=23, minutes=59)
    assert statuses() == [(1, "retired"), (2, "active")]


def test_an_audit_of_an_earlier_definition_is_refused(draft, analyst, approver):
    # Given an audit of the draft, which the analyst then changes and submits again
    audit_done(scorecard=draft)
    scoring_services.scorecard_draft_update(
        scorecard=draft, name="Plus 20", definition=definition_plus(20), notes="", by=analyst
    )
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    # Then the audit is not of what would be approved
    with pytest.raises(AuditRequired):
        approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert statuses() == [(1, "active"), (2, "draft")]
    # An audit of the definition as it is now is
    draft.refresh_from_db()
    audit = audit_done(scorecard=draft)
    approval = approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert approval.audit == audit


def test_under_the_floor_a_justification_is_required_and_kept(draft, approver):
    audit = audit_done(scorecard=draft, min_ratio=0.62)
    for justification in ("", "   "):
        with pytest.raises(JustificationRequired) as refused:
            approvals.scorecard_approve_audited(
                scorecard=draft, by=approver, justification=justification
            )
        assert refused.value.code == "justification_required"
    assert statuses() == [(1, "active"), (2, "draft")]
    # With one, the draft goes live and the approval keeps the audit, its ratio and why
    approval = approvals.scorecard_approve_audited(
        scorecard=draft,
        by=approver,
        justification="  The lowest fifth's rate rises from 0.41 under v1; v3 follows.  ",
    )
    approval.refresh_from_db()
    assert statuses() == [(1, "retired"), (2, "active")]
    assert (approval.subject, approval.scorecard, approval.audit, approval.approved_by) == (
        "scorecard",
        draft,
        audit,
        approver,
    )
    assert approval.min_ratio == 0.62
    assert approval.justification == (
        "The lowest fifth's rate rises from 0.41 under v1; v3 follows."
    )
    draft.refresh_from_db()
    assert (draft.activated_by, draft.activated_at) == (approver, approval.approved_at)


def test_at_or_over_the_floor_no_justification_is_needed(draft, approver):
    audit_done(scorecard=draft, min_ratio=0.8)
    approval = approvals.scorecard_approve_audited(scorecard=draft, by=approver)
    assert (approval.min_ratio, approval.justification) == (0.8, "")


def test_four_eyes_still_hold_with_an_audit(member_of, analyst, approver):
    # Given a member of staff who may write and approve, who wrote the draft
    both = member_of("risk_approver", "both")
    both.user_permissions.add(*analyst.groups.get().permissions.all())
    both = User.objects.get(pk=both.pk)
    draft = scoring_services.scorecard_draft_create(
        name="Plus 10", definition=definition_plus(10), by=both
    )
    scoring_services.scorecard_submit(scorecard=draft, by=analyst)
    audit_done(scorecard=draft)
    # Then the author cannot approve it, audit or not
    with pytest.raises(FourEyesRequired):
        approvals.scorecard_approve_audited(scorecard=draft, by=both, justification="x")
    assert statuses() == [(1, "active"), (2, "draft")]
    assert not Approval.objects.exists()
    # Nor can the analyst, who may not approve at all
    with pytest.raises(Forbidden):
        approvals.scorecard_approve_audited(scorecard=draft, by=analyst)


def test_an_approver_who_may_not_ask_for_audits_may_not_approve(draft, approver):
    from django.contrib.auth.models import Permission

    from tests.security.staff import staff_with

    lone = staff_with("lone", "scoring.view_scorecard", "scoring.approve_scorecard")
    audit_done(scorecard=draft)
    with pytest.raises(Forbidden):
        approvals.scorecard_approve_audited(scorecard=draft, by=lone)
    lone.user_permissions.add(Permission.objects.get(codename="request_analysisrun"))
    lone = User.objects.get(pk=lone.pk)
    assert approvals.scorecard_approve_audited(scorecard=draft, by=lone).approved_by == lone


def test_the_lower_service_refuses_without_evidence_whoever_calls_it(draft, approver):
    audit_done(scorecard=draft)
    with pytest.raises(AuditRequired):
        scoring_services.scorecard_approve(scorecard=draft, by=approver, evidence=None)
    assert statuses() == [(1, "active"), (2, "draft")]


def test_the_latest_audit_is_the_evidence(draft):
    assert approvals.evidence_for(scorecard=draft) is None
    with time_machine.travel(NOW, tick=False):
        older = audit_done(scorecard=draft, min_ratio=0.5)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        newer = audit_done(scorecard=draft, min_ratio=0.9)
    assert approvals.audit_latest(scorecard=draft) == newer
    evidence = approvals.evidence_for(scorecard=draft, justification=" why ")
    assert evidence is not None
    assert (evidence.audit_id, evidence.min_ratio, evidence.justification) == (
        newer.pk,
        0.9,
        "why",
    )
    assert evidence.audited_at == NOW + timedelta(hours=1)
    assert older.pk != newer.pk


# --- Asking for analyses ---------------------------------------------------------------


def test_a_draft_is_backtested_and_audited_but_the_active_version_is_not_backtested(draft, analyst):
    run = approvals.scorecard_analysis_request(
        kind=AnalysisKind.BACKTEST, scorecard=draft, by=analyst
    )
    assert (run.kind, run.status, run.scorecard, run.perk_change, run.requested_by) == (
        "backtest",
        "queued",
        draft,
        None,
        analyst,
    )
    assert run.subject_digest == selectors.scorecard_digest(draft)
    assert run.inputs == {"scorecard_version": 2, "scorecard_status": "draft"}
    audit = approvals.scorecard_analysis_request(
        kind=AnalysisKind.AUDIT, scorecard=draft, by=analyst
    )
    assert (audit.kind, audit.scorecard) == ("audit", draft)
    active = selectors.scorecard_active()
    with pytest.raises(Conflict) as refused:
        approvals.scorecard_analysis_request(
            kind=AnalysisKind.BACKTEST, scorecard=active, by=analyst
        )
    assert refused.value.code == "backtest_refused"
    assert "never the active version with itself" in refused.value.detail
    # The active version may be audited
    assert (
        approvals.scorecard_analysis_request(
            kind=AnalysisKind.AUDIT, scorecard=active, by=analyst
        ).scorecard
        == active
    )
    with pytest.raises(Conflict):
        approvals.scorecard_analysis_request(kind=AnalysisKind.DRY_RUN, scorecard=draft, by=analyst)


def test_only_staff_who_may_ask_for_analyses_do(draft, member_of):
    support = member_of("support")
    with pytest.raises(Forbidden):
        approvals.scorecard_analysis_request(kind=AnalysisKind.AUDIT, scorecard=draft, by=support)
    assert not AnalysisRun.objects.exists()
