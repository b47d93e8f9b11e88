"""Finished audits made by hand, in the shape ``governance.audit.audit_compute``
returns, for the tests of approvals and of the report pages: the audit engine is
tested on its own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from governance.models import AnalysisKind, AnalysisRun, AnalysisStatus
from merchants.perks.models import PerkChange
from merchants.perks.versions import perk_change_digest
from scoring.models import Scorecard
from scoring.selectors import scorecard_digest

FLOOR = 0.8
QUINTILES = ("Lowest fifth", "Second fifth", "Middle fifth", "Fourth fifth", "Highest fifth")


def _group(key: str, label: str, rate: float, *, count: int = 40) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "suppressed": False,
        "count": count,
        "mean_score": 600.0 + 200 * rate,
        "bands": {
            "poor": round(0.5 - rate / 2, 4),
            "fair": 0.2,
            "good": round(0.3 + rate / 4, 4),
            "very_good": round(rate / 4, 4),
            "excellent": 0.0,
        },
        "good_or_better": rate,
        "no_show_rate": 0.05,
        "unpaid_claim_rate": None,
    }


def audit_result(
    *, min_ratio: float | None, subject_key: str = "scorecard", label: str = "Scorecard"
) -> dict[str, Any]:
    """An audit whose wealth dimension's ratio is ``min_ratio`` (the lowest fifth's rate
    over the highest's), the other dimensions at 1.0, one group suppressed."""
    top = 0.6
    low = top * (min_ratio if min_ratio is not None else 1.0)
    wealth = [
        _group(f"q{n}", name, rate)
        for n, (name, rate) in enumerate(
            zip(QUINTILES, (low, top, top, top, top), strict=True), start=1
        )
    ]
    identity = [
        _group("0", "None", top),
        {"key": "1", "label": "Phone", "suppressed": True},
        _group("2", "Document", top),
    ]
    flagged = min_ratio is not None and min_ratio < FLOOR
    dimensions = [
        {
            "key": "wealth_quintile",
            "label": "Wealth (average wallet balance over 90 days)",
            "groups": wealth,
            "ratios": {"good_or_better": min_ratio},
            "error_rate_difference": {"no_show": 0.01, "unpaid_claim": None},
            "flagged": flagged,
        },
        {
            "key": "identity_level",
            "label": "Identity verification",
            "groups": identity,
            "ratios": {"good_or_better": 1.0},
            "error_rate_difference": {"no_show": 0.0, "unpaid_claim": None},
            "flagged": False,
        },
    ]
    return {
        "at": timezone.now().isoformat(),
        "population": 240,
        "floor": FLOOR,
        "min_group_size": 20,
        "scorecard": {"version": 2, "name": "Draft", "status": "draft"},
        "outcome_window_days": 365,
        "subjects": [
            {
                "key": subject_key,
                "label": label,
                "perk_version": None,
                "draft": True,
                "rate_keys": ["good_or_better"],
                "dimensions": dimensions,
                "min_ratio": min_ratio,
                "flagged": flagged,
            }
        ],
        "factor_points_by_wealth": [
            {
                "factor": "bookings_completed",
                "label": "Bookings completed",
                "max_points": 60,
                "mean_points": {"q1": 12.0, "q2": 20.0, "q3": 30.0, "q4": 40.0, "q5": 48.0},
                "ratio": 0.25,
                "proxy": True,
            },
            {
                "factor": "on_time_share",
                "label": "Bills paid on time",
                "max_points": 100,
                "mean_points": {"q1": 80.0, "q2": 81.0, "q3": 80.0, "q4": 79.0, "q5": 80.0},
                "ratio": 1.0,
                "proxy": False,
            },
        ],
        "min_ratio": min_ratio,
        "flagged": flagged,
    }


def audit_done(
    *,
    scorecard: Scorecard | None = None,
    perk_change: PerkChange | None = None,
    min_ratio: float | None = 0.95,
    digest: str | None = None,
    at: datetime | None = None,
) -> AnalysisRun:
    """A finished audit of the scorecard or the perk change as it is now (its digest),
    done ``at`` (now by default)."""
    at = at or timezone.now()
    if digest is None:
        digest = (
            scorecard_digest(scorecard)
            if scorecard is not None
            else perk_change_digest(perk_change)  # type: ignore[arg-type]
        )
    key = "scorecard" if scorecard is not None else f"perk:{getattr(perk_change, 'perk_id', '')}"
    return AnalysisRun.objects.create(
        kind=AnalysisKind.AUDIT,
        status=AnalysisStatus.DONE,
        scorecard=scorecard,
        perk_change=perk_change,
        subject_digest=digest,
        inputs={"test": True},
        population_at=at,
        progress=100,
        result=audit_result(min_ratio=min_ratio, subject_key=key),
        min_ratio=min_ratio,
        flagged=min_ratio is not None and min_ratio < FLOOR,
        created_at=at,
        started_at=at,
        finished_at=at,
    )
