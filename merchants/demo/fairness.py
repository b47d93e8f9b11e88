"""The demo's governance story: scorecard v2 goes live as staff would make it.

The system ships v2 as a draft (``scoring/0016``). Here, on the seeded city, the risk
analyst audits what is live and the draft, backtests the draft, and submits it; the
approver approves it through the four-eyes path with the audit attached, only if it
meets the goal it was made for: every wealth fifth's waiver rate within 0.9 of the
highest's, for every perk, at no loss of the score's ranking of outcomes (its AUC of
no-shows and unpaid claims at least the live version's). The nightly audit and drift
check then run once, so the admin's reports, the drift baseline and the transparency
page have something to show from the first start.

Last, the analyst fits a draft from the city's outcomes (``governance.fitting``, on the
live version's facts, as the admin's form offers) and leaves it a draft, with its audit
and backtest done, for staff to read and decide on.

Run again, it does nothing more once v2 is active and a fit was made (a later draft is
left to staff).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from common.approvals import ratio_floor
from governance import analysis, fitting
from governance import approvals as governance_approvals
from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from scoring import selectors as scoring_selectors
from scoring import services as scoring_services
from scoring.fitting import FitOptions
from scoring.models import (
    BatchChunk,
    BatchChunkStatus,
    Scorecard,
    ScorecardStatus,
    SnapshotTrigger,
)
from wallet.models import User

# The draft scoring's migration ships (a migration's module name starts with a digit).
V2_NAME: str = importlib.import_module("scoring.migrations.0016_scorecard_v2_draft").NAME
WEALTH = "wealth_quintile"
WEALTH_GOAL = 0.9


@dataclass(frozen=True)
class FairnessStory:
    live_ratio: float | None
    """The live version's lowest wealth-fifth waiver ratio, over every perk."""
    draft_ratio: float | None
    live_auc: float | None
    draft_auc: float | None
    approved_version: int | None
    """The version approved now; None when nothing was (already live, or not better)."""
    fit: AnalysisRun | None = None
    """The fit from outcomes made now (done or failed); None when one was made before."""


def _finished(run: AnalysisRun) -> AnalysisRun:
    """The run done here if no worker took it (eager mode runs it on commit)."""
    analysis.analysis_execute(run.pk)
    run.refresh_from_db()
    if run.status != AnalysisStatus.DONE:
        raise RuntimeError(f"The demo's {run.get_kind_display()} failed: {run.error}")
    return run


def _activation_batch_finished() -> None:
    """The activation's batch run, done here where no worker took its chunks (eager mode
    ran them on commit; a chunk already done is skipped), so that drift has its
    baseline: the scores the new version wrote when it went live."""
    for chunk_id in (
        BatchChunk.objects.filter(run__trigger=SnapshotTrigger.SCORECARD_ACTIVATION)
        .exclude(status=BatchChunkStatus.DONE)
        .values_list("pk", flat=True)
    ):
        scoring_services.batch_chunk_run(chunk_id=chunk_id)


def wealth_ratio(result: dict[str, Any]) -> float | None:
    """The lowest wealth-fifth waiver ratio of an audit's perk subjects that are part of
    what was audited (not context)."""
    ratios = [
        dimension["ratios"].get("waiver_any")
        for subject in result["subjects"]
        if subject["key"] != "scorecard" and not subject.get("context", False)
        for dimension in subject["dimensions"]
        if dimension["key"] == WEALTH
    ]
    known = [ratio for ratio in ratios if ratio is not None]
    return min(known) if known else None


def fairness_story(*, analyst: User, approver: User) -> FairnessStory:
    live = _finished(analysis.analysis_request(kind=AnalysisKind.AUDIT, inputs={"live": True}))
    live_ratio = wealth_ratio(live.result or {})
    live_auc = (live.result or {}).get("outcome_auc")
    draft_auc = None
    draft = Scorecard.objects.filter(name=V2_NAME, status=ScorecardStatus.DRAFT).first()
    approved = None
    draft_ratio = None
    if draft is not None:
        _finished(
            governance_approvals.scorecard_analysis_request(
                kind=AnalysisKind.BACKTEST, scorecard=draft, by=analyst
            )
        )
        audit = _finished(
            governance_approvals.scorecard_analysis_request(
                kind=AnalysisKind.AUDIT, scorecard=draft, by=analyst
            )
        )
        draft_ratio = wealth_ratio(audit.result or {})
        draft_auc = (audit.result or {}).get("outcome_auc")
        fair = draft_ratio is not None and draft_ratio >= WEALTH_GOAL
        ranks = live_auc is None or (draft_auc is not None and draft_auc >= live_auc)
        if fair and ranks:
            scoring_services.scorecard_submit(scorecard=draft, by=analyst)
            justification = (
                "Seeded demo: a group's rate in the audit is under the floor (see its report); "
                "v2 meets its goal by wealth fifth and ranks outcomes at least as well as v1, "
                "whose count of stays followed wealth."
                if audit.min_ratio is not None and audit.min_ratio < ratio_floor()
                else ""
            )
            governance_approvals.scorecard_approve_audited(
                scorecard=draft, by=approver, justification=justification
            )
            approved = draft.version
            _activation_batch_finished()
            # What is live now, audited and checked for drift against its go-live.
            _finished(analysis.analysis_request(kind=AnalysisKind.AUDIT, inputs={"live": True}))
    _finished(analysis.analysis_request(kind=AnalysisKind.DRIFT, inputs={"live": True}))
    return FairnessStory(
        live_ratio=live_ratio,
        draft_ratio=draft_ratio,
        live_auc=live_auc,
        draft_auc=draft_auc,
        approved_version=approved,
        fit=fit_story(analyst=analyst),
    )


def fit_story(*, analyst: User) -> AnalysisRun | None:
    """The analyst fits a draft from outcomes on the live version's facts, once: the draft
    stays a draft, its audit and backtest done. A city too small or too young to learn
    from leaves the fit failed, with the reason on it (the seed says it); None when a fit
    was made before."""
    if AnalysisRun.objects.filter(kind=AnalysisKind.FIT).exists():
        return None
    facts = tuple(
        factor.fact
        for factor in scoring_selectors.scorecard_compiled(
            scoring_selectors.scorecard_active()
        ).factors
    )
    run = fitting.fit_request(by=analyst, facts=facts, options=FitOptions())
    analysis.analysis_execute(run.pk)  # here if no worker took it (eager mode ran it)
    run.refresh_from_db()
    for key in ("audit_run_id", "backtest_run_id"):
        ran = (run.result or {}).get(key)
        if ran is not None:
            _finished(AnalysisRun.objects.get(pk=ran))
    return run
