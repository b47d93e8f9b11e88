"""A perk draft's dry-run: what the draft would decide for today's population, beside
what the active version of the same perk decides.

Each active citizen is scored as merchants read them now (the current snapshots of the
active scorecard; accounts without one are scored on today's features), and each
version's rules (``merchants.perks.rules.evaluate``) decide a deposit of ``requested``:
the larger of the two versions' maximums, the same for both so that they compare. The
report counts who would be eligible and get something waived, in full or in part, and
the amounts waived (minor units): in all, band by band (under the active scorecard) and
group by group (``governance.population``'s dimensions; small groups suppressed, as in
the audit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from django.utils import timezone

from governance.analysis import AnalysisOutcome, Progress
from governance.audit import (
    Compressed,
    GroupCodes,
    disparate_ratio,
    group_codes,
    perk_waived,
    population_scored,
)
from governance.models import AnalysisRun
from governance.population import DIMENSIONS, population_load
from merchants.perks.models import PerkChange
from merchants.perks.versions import (
    PerkTerms,
    perk_change_digest,
    perk_terms_active,
    perk_terms_of_change,
)
from scoring import selectors
from scoring.facts import BAND_CODES, BAND_LABELS


class DryRunWithoutDraft(ValueError):
    """A dry-run examines a perk draft (a pending change): none was given."""


def _totals(eligible: np.ndarray, waived: np.ndarray, requested: int) -> dict[str, int]:
    return {
        "eligible": int(np.count_nonzero(eligible)),
        "waived_any": int(np.count_nonzero(waived > 0)),
        "waived_full": int(np.count_nonzero(waived >= requested)),
        "waived_total": int(waived.sum()),
    }


def _group_figures(waived: np.ndarray) -> dict[str, Any]:
    return {
        "waiver_any": round(float(np.count_nonzero(waived > 0) / len(waived)), 4),
        "waived_mean": round(float(waived.mean())),
    }


def _waiver_ratio(groups: GroupCodes, waived: np.ndarray) -> float | None:
    """The disparate-impact ratio of getting anything waived across the shown groups
    (fairlearn, on frequency-weighted rows as in the audit)."""
    rows = groups.members
    size = len(groups.dimension.groups)
    combined = groups.codes[rows] * 2 + (waived[rows] > 0)
    weight = np.bincount(combined, minlength=size * 2)
    present = np.flatnonzero(weight)
    group, chosen = np.divmod(np.repeat(present, 2), 2)  # each row twice: see audit
    empty = np.zeros(len(group), dtype=np.int64)
    table = Compressed(
        group=group,
        selected=chosen,
        full=empty,
        band=empty,
        outcome=empty,
        weight=np.repeat(weight[present], 2) / 2,
        score_total=np.zeros(len(group)),
    )
    return disparate_ratio(table, chosen)


def dry_run_compute(
    *,
    draft: PerkTerms,
    active: PerkTerms | None,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The dry-run's report (the contract's shape) of ``draft`` beside ``active`` (None
    when the draft makes a new perk: every active figure is then 0)."""
    report = progress or (lambda percent, note="": None)
    at = at or timezone.now()
    scorecard = selectors.scorecard_active()
    population = population_load(at=at, progress=report, scores_of=scorecard)
    scored = population_scored(population, scorecard)
    report(70, "deciding")
    requested = max(draft.max_amount, active.max_amount if active is not None else 0, 1)
    count = len(population)
    draft_eligible, draft_waived = perk_waived(population, scored, draft, requested=requested)
    if active is not None:
        active_eligible, active_waived = perk_waived(
            population, scored, active, requested=requested
        )
    else:
        active_eligible = np.zeros(count, dtype=bool)
        active_waived = np.zeros(count, dtype=np.int64)
    bands = []
    for index, code in enumerate(BAND_CODES):
        rows = scored.bands == index
        bands.append(
            {
                "band": code,
                "label": BAND_LABELS[code],
                "count": int(np.count_nonzero(rows)),
                "active": _totals(active_eligible[rows], active_waived[rows], requested),
                "draft": _totals(draft_eligible[rows], draft_waived[rows], requested),
            }
        )
    dimensions = []
    for dimension in DIMENSIONS:
        groups = group_codes(population, dimension)
        rows_out = []
        for index, group in enumerate(dimension.groups):
            if not groups.shown[index]:
                rows_out.append({"key": group.key, "label": group.label, "suppressed": True})
                continue
            members = groups.codes == index
            rows_out.append(
                {
                    "key": group.key,
                    "label": group.label,
                    "suppressed": False,
                    "count": int(groups.counts[index]),
                    "active": _group_figures(active_waived[members]),
                    "draft": _group_figures(draft_waived[members]),
                }
            )
        dimensions.append(
            {
                "key": dimension.key,
                "label": dimension.label,
                "groups": rows_out,
                "ratios": {
                    "active": _waiver_ratio(groups, active_waived) if active is not None else None,
                    "draft": _waiver_ratio(groups, draft_waived),
                },
            }
        )
    report(95, "reported")
    return {
        "at": at.isoformat(),
        "population": count,
        "currency": draft.currency,
        "requested": requested,
        "perk": {
            "label": draft.label,
            "perk_id": str(draft.perk_id) if draft.perk_id is not None else None,
        },
        "active": {
            "version": active.version if active is not None else None,
            "label": active.label if active is not None else None,
        },
        "draft": {"version": None, "label": draft.label},
        "totals": {
            "active": _totals(active_eligible, active_waived, requested),
            "draft": _totals(draft_eligible, draft_waived, requested),
        },
        "bands": bands,
        "dimensions": dimensions,
    }


def dry_run_analysis(run: AnalysisRun, progress: Progress) -> AnalysisOutcome:
    """The runner of a dry-run: ``run.perk_change`` (a perk draft) against the active
    version of the same perk."""
    if run.perk_change_id is None:
        raise DryRunWithoutDraft("A dry-run needs a perk draft (a proposed perk change).")
    change = PerkChange.objects.select_related("merchant").get(pk=run.perk_change_id)
    draft = perk_terms_of_change(change)
    active = next(
        (
            terms
            for terms in perk_terms_active()
            if change.perk_id is not None and terms.perk_id == change.perk_id
        ),
        None,
    )
    progress(1, "reading the population")
    at = timezone.now()
    result = dry_run_compute(draft=draft, active=active, at=at, progress=progress)
    return AnalysisOutcome(
        result=result,
        population_at=at,
        subject_digest=perk_change_digest(change),
        inputs={
            "perk_id": result["perk"]["perk_id"],
            "active_version": result["active"]["version"],
            "population_at": result["at"],
            "population": result["population"],
        },
    )
