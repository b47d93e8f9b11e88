"""Approving a scorecard draft or a perk draft (a pending perk change) with the fairness
audit it rests on, and asking for the analyses staff read before they approve.

The rule itself (an audit of exactly what is approved, less than a day old; a written
justification when a ratio is under the floor) is checked by the approving service
below governance (``common.approvals.approval_evidence_check``), inside its transaction.
Governance finds the audit, hands it down as ``ApprovalEvidence``, and records the
``Approval`` (the audit, its lowest ratio and the justification) in the same
transaction: an approval is never without its record, nor a record without its approval.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.approvals import ApprovalEvidence, AuditRequired
from common.domain import Conflict, Forbidden
from governance.analysis import analysis_request
from governance.backtests import backtest_refusal
from governance.errors import BacktestRefused
from governance.models import (
    AnalysisKind,
    AnalysisRun,
    AnalysisStatus,
    Approval,
    ApprovalSubject,
)
from merchants.perks import services as perks_services
from merchants.perks.models import PerkChange, PerkChangeStatus
from merchants.perks.versions import perk_change_digest
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.models import Scorecard
from wallet.models import User

logger = logging.getLogger(__name__)

REQUEST_PERMISSION = "governance.request_analysisrun"

# What can be asked about each subject from its page.
SCORECARD_KINDS = (AnalysisKind.BACKTEST, AnalysisKind.AUDIT)
PERK_CHANGE_KINDS = (AnalysisKind.DRY_RUN, AnalysisKind.AUDIT)


def audit_latest(
    *, scorecard: Scorecard | None = None, perk_change: PerkChange | None = None
) -> AnalysisRun | None:
    """The latest finished audit of this scorecard or perk change (of whatever
    definition it had then: the approving service compares the digests)."""
    if (scorecard is None) == (perk_change is None):
        raise ValueError("Name one subject: a scorecard or a perk change.")
    return (
        AnalysisRun.objects.filter(
            kind=AnalysisKind.AUDIT,
            status=AnalysisStatus.DONE,
            scorecard=scorecard,
            perk_change=perk_change,
        )
        .order_by("-finished_at", "-id")
        .first()
    )


def audited_at(run: AnalysisRun) -> datetime:
    """When the audit looked at the population: its age counts from then."""
    return run.population_at or run.finished_at or run.created_at


def evidence_for(
    *,
    scorecard: Scorecard | None = None,
    perk_change: PerkChange | None = None,
    justification: str = "",
) -> ApprovalEvidence | None:
    """The latest audit of the subject as evidence for its approval; None without one."""
    run = audit_latest(scorecard=scorecard, perk_change=perk_change)
    if run is None:
        return None
    return ApprovalEvidence(
        audit_id=run.pk,
        subject_digest=run.subject_digest,
        audited_at=audited_at(run),
        min_ratio=run.min_ratio,
        justification=justification.strip(),
    )


def _may_request(by: User) -> None:
    if not by.has_perm(REQUEST_PERMISSION):
        raise Forbidden("You may not run audits, backtests or dry-runs, nor approve with them.")


@transaction.atomic
def scorecard_approve_audited(
    *, scorecard: Scorecard, by: User, justification: str = ""
) -> Approval:
    """Approve (and so activate) a scorecard draft with its latest audit attached.
    Refused, nothing changed: without ``governance.request_analysisrun``, without a
    fresh audit of exactly this definition (``audit_required``), with a ratio under the
    floor and no justification (``justification_required``), and for every reason
    ``scoring.services.scorecard_approve`` refuses (four eyes first among them)."""
    _may_request(by)
    evidence = evidence_for(scorecard=scorecard, justification=justification)
    activated = scoring_services.scorecard_approve(scorecard=scorecard, by=by, evidence=evidence)
    if evidence is None:  # the service refused it already; for the type checker
        raise AuditRequired()
    approval = Approval.objects.create(
        subject=ApprovalSubject.SCORECARD,
        scorecard=activated,
        audit_id=evidence.audit_id,
        approved_by=by,
        approved_at=activated.activated_at or timezone.now(),
        min_ratio=evidence.min_ratio,
        justification=evidence.justification,
    )
    logger.info(
        "scorecard approved with its audit",
        extra={
            "version": activated.version,
            "audit_id": evidence.audit_id,
            "min_ratio": evidence.min_ratio,
            "justified": bool(evidence.justification),
        },
    )
    return approval


@transaction.atomic
def perk_change_approve_audited(
    *, change: PerkChange, by: User, justification: str = "", note: str = ""
) -> Approval:
    """Approve a perk draft (a pending change: it goes live as the perk's next version)
    with its latest audit attached; refused as :func:`scorecard_approve_audited` is, and
    for every reason ``merchants.perks.services.perk_change_approve`` refuses."""
    _may_request(by)
    evidence = evidence_for(perk_change=change, justification=justification)
    applied = perks_services.perk_change_approve(change=change, by=by, evidence=evidence, note=note)
    if evidence is None:  # the service refused it already; for the type checker
        raise AuditRequired()
    approval = Approval.objects.create(
        subject=ApprovalSubject.PERK,
        perk_change=applied,
        audit_id=evidence.audit_id,
        approved_by=by,
        approved_at=applied.decided_at or timezone.now(),
        min_ratio=evidence.min_ratio,
        justification=evidence.justification,
    )
    logger.info(
        "perk change approved with its audit",
        extra={
            "change_id": str(applied.pk),
            "audit_id": evidence.audit_id,
            "min_ratio": evidence.min_ratio,
            "justified": bool(evidence.justification),
        },
    )
    return approval


# --- Asking for the analyses -----------------------------------------------------------


def _not_possible(detail: str) -> Conflict:
    """Asked of the wrong subject: a backtest of the active version, a dry-run of a
    scorecard, an analysis of a perk change already decided."""
    return Conflict(detail)


def scorecard_analysis_request(*, kind: str, scorecard: Scorecard, by: User) -> AnalysisRun:
    """A backtest or an audit of a scorecard, queued. Only a draft is backtested, against
    the active version: never the active version against itself
    (``backtest_refused``, in ``governance.backtests``' words)."""
    _may_request(by)
    if kind not in SCORECARD_KINDS:
        raise _not_possible(f"A scorecard is not examined by a {kind}.")
    if kind == AnalysisKind.BACKTEST:
        refusal = backtest_refusal(scorecard)
        if refusal is not None:
            raise BacktestRefused(refusal)
    return analysis_request(
        kind=kind,
        scorecard=scorecard,
        subject_digest=scoring_selectors.scorecard_digest(scorecard),
        inputs={"scorecard_version": scorecard.version, "scorecard_status": scorecard.status},
        by=by,
    )


def perk_change_analysis_request(*, kind: str, change: PerkChange, by: User) -> AnalysisRun:
    """A dry-run or an audit of a pending perk change (the perk's draft), queued."""
    _may_request(by)
    if kind not in PERK_CHANGE_KINDS:
        raise _not_possible(f"A perk change is not examined by a {kind}.")
    if change.status != PerkChangeStatus.PENDING:
        raise _not_possible("This change is no longer pending: only a draft is dry-run or audited.")
    return analysis_request(
        kind=kind,
        perk_change=change,
        subject_digest=perk_change_digest(change),
        inputs={"perk_change": str(change.pk), "perk": str(change.perk_id or "new")},
        by=by,
    )
